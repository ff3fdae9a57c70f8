/* test_api.c - the JSON side of the API without HTTP: parsing a submission (every bad field
 * named), the one error shape, the error table and the verdict reply of moderatorctl check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "engine.h"
#include "error.h"

static mod_ruleset *g_rules;

static int group_setup(void **state)
{
    (void)state;
    mod_error err;
    const char *dir = getenv("MODERATORD_TEST_RULES");
    return ruleset_load(dir ? dir : "tests/unit/rules", &g_rules, NULL, &err);
}

static int group_teardown(void **state)
{
    (void)state;
    ruleset_unref(g_rules);
    engine_thread_cleanup();
    return 0;
}

/* Parses body and expects failure with code, the message containing want. */
static void expect_refused(const char *body, size_t len, err_code code, const char *want)
{
    api_comment c;
    mod_error err = {0};
    assert_int_equal(api_comment_parse(body, len, &c, &err), -1);
    assert_int_equal(err.code, code);
    if (!strstr(err.message, want))
        fail_msg("message \"%s\" does not name \"%s\" (body %s)", err.message, want, body);
    assert_null(c.doc); /* nothing left to free after a refusal */
}

static void test_parse_full_submission(void **state)
{
    (void)state;
    const char *body = "{\"text\": \"you are an idiot\", \"id\": 1234, \"site\": \"news.example\","
                       " \"thread\": \"https://news.example/a\", \"parent_id\": \"c-9\","
                       " \"author\": {\"id\": \"u1\", \"name\": \"Ann\", \"email\": \"a@x.org\","
                       " \"url\": null}, \"ip\": \"198.51.100.7\", \"user_agent\": \"UA\","
                       " \"parent_author\": \"Bob\", \"mentions\": [\"carol\", \"dave\"],"
                       " \"unknown\": {\"ignored\": true}}";
    api_comment c;
    mod_error err = {0};
    assert_int_equal(api_comment_parse(body, strlen(body), &c, &err), 0);
    assert_string_equal(c.text, "you are an idiot");
    assert_int_equal(c.text_len, 16);
    assert_string_equal(c.id, "1234"); /* an integer id is kept as text */
    assert_string_equal(c.site, "news.example");
    assert_string_equal(c.thread, "https://news.example/a");
    assert_string_equal(c.parent_id, "c-9");
    assert_string_equal(c.author_id, "u1");
    assert_string_equal(c.author_name, "Ann");
    assert_string_equal(c.author_email, "a@x.org");
    assert_null(c.author_url); /* null counts as absent */
    assert_string_equal(c.ip, "198.51.100.7");
    assert_string_equal(c.user_agent, "UA");
    /* participants: the parent's author, then the mentions */
    assert_int_equal(c.n_participants, 3);
    assert_string_equal(c.participants[0], "Bob");
    assert_string_equal(c.participants[1], "carol");
    assert_string_equal(c.participants[2], "dave");
    assert_int_equal(c.n_mentions, 2);
    assert_string_equal(c.mentions[0], "carol");
    api_comment_free(&c);
}

static void test_parse_text_unicode_and_nul(void **state)
{
    (void)state;
    const char body[] = "{\"text\": \"caf\\u00e9 \\ud83d\\ude00 ok\"}";
    api_comment c;
    mod_error err = {0};
    assert_int_equal(api_comment_parse(body, sizeof body - 1, &c, &err), 0);
    assert_int_equal(c.text_len, 13); /* "café" 5 bytes, the emoji 4, spaces and "ok" 4 */
    assert_memory_equal(c.text, "caf\xc3\xa9 \xf0\x9f\x98\x80 ok", 13);
    api_comment_free(&c);
    /* A NUL inside the text is refused, not silently cut. */
    const char nul[] = "{\"text\": \"a\\u0000b\"}";
    expect_refused(nul, sizeof nul - 1, ERR_BAD_JSON, "malformed JSON");
}

static void test_parse_refusals_name_the_field(void **state)
{
    (void)state;
    expect_refused("", 0, ERR_BAD_JSON, "empty");
    expect_refused("{\"text\": ", 9, ERR_BAD_JSON, "malformed JSON");
    expect_refused("[1, 2]", 6, ERR_BAD_JSON, "JSON object");
    expect_refused("{}", 2, ERR_BAD_FIELD, "\"text\" is required");
    expect_refused("{\"text\": 5}", 11, ERR_BAD_FIELD, "\"text\" must be a string");
    expect_refused("{\"text\": \"x\", \"site\": 3}", 24, ERR_BAD_FIELD, "\"site\"");
    expect_refused("{\"text\": \"x\", \"id\": [1]}", 24, ERR_BAD_FIELD, "\"id\" must be a string");
    expect_refused("{\"text\": \"x\", \"author\": \"ann\"}", 30, ERR_BAD_FIELD,
                   "\"author\" must be an object");
    expect_refused("{\"text\": \"x\", \"author\": {\"email\": 1}}", 37, ERR_BAD_FIELD,
                   "\"author.email\"");
    expect_refused("{\"text\": \"x\", \"mentions\": \"bob\"}", 32, ERR_BAD_FIELD,
                   "\"mentions\" must be an array");
    expect_refused("{\"text\": \"x\", \"mentions\": [\"a\", 2]}", 35, ERR_BAD_FIELD,
                   "\"mentions[1]\"");
    const char bad_utf8[] = "{\"text\": \"caf\xc3\x28\"}";
    expect_refused(bad_utf8, sizeof bad_utf8 - 1, ERR_BAD_UTF8, "UTF-8");
    const char overlong[] = "{\"text\": \"\xc0\xaf\"}";
    expect_refused(overlong, sizeof overlong - 1, ERR_BAD_UTF8, "UTF-8");
}

static void test_error_reply_shape(void **state)
{
    (void)state;
    api_reply rep = {0};
    api_error(&rep, ERR_BAD_FIELD, "\"%s\" must be a string", "text");
    assert_int_equal(rep.status, 400);
    assert_non_null(rep.body);
    json_error_t je;
    json_t *o = json_loadb(rep.body, rep.body_len, 0, &je);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "error")), "bad_field");
    assert_string_equal(json_string_value(json_object_get(o, "message")),
                        "\"text\" must be a string");
    assert_int_equal(json_object_size(o), 2);
    json_decref(o);
    /* A second error replaces the first (no leak, one body). */
    api_error(&rep, ERR_TOO_LARGE, "the body is over %d bytes", 65536);
    assert_int_equal(rep.status, 413);
    assert_non_null(strstr(rep.body, "\"too_large\""));
    api_reply_free(&rep);
}

static void test_error_table(void **state)
{
    (void)state;
    static const struct {
        err_code code;
        unsigned status;
        const char *name;
    } want[] = {
        {ERR_BAD_JSON, 400, "bad_json"},       {ERR_BAD_FIELD, 400, "bad_field"},
        {ERR_BAD_UTF8, 400, "bad_utf8"},       {ERR_UNAUTHORIZED, 401, "unauthorized"},
        {ERR_FORBIDDEN, 403, "forbidden"},     {ERR_NOT_FOUND, 404, "not_found"},
        {ERR_METHOD, 405, "method_not_allowed"}, {ERR_CONFLICT, 409, "conflict"},
        {ERR_TOO_LARGE, 413, "too_large"},     {ERR_MEDIA_TYPE, 415, "unsupported_media_type"},
        {ERR_STORE, 503, "store_unavailable"}, {ERR_INTERNAL, 500, "internal"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(err_http_status(want[i].code), want[i].status);
        assert_string_equal(err_name(want[i].code), want[i].name);
    }
    /* An out-of-range code is an internal error, never a crash or a 2xx. */
    assert_int_equal(err_http_status((err_code)999), 500);
    assert_string_equal(err_name((err_code)999), "internal");
}

/* A message too long for its buffer is cut where a character ends: it goes into JSON. */
static void test_err_set_cuts_whole_characters(void **state)
{
    (void)state;
    static const struct {
        const char *ch;
        size_t kept; /* bytes left of 511 once the cut character is dropped */
    } cases[] = {{"x", 511}, {"\xC3\xA9", 510}, {"\xE2\x80\x99", 510}, {"\xF0\x9F\x98\x80", 508}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[1400] = "";
        while (strlen(text) + strlen(cases[i].ch) < sizeof text)
            strcat(text, cases[i].ch);
        mod_error e = {0};
        assert_int_equal(err_set(&e, ERR_RULES, "%s", text), -1);
        assert_int_equal(e.code, ERR_RULES);
        assert_int_equal(strlen(e.message), cases[i].kept);
        assert_true(utf8_valid(e.message, strlen(e.message)));
        assert_memory_equal(e.message, text, cases[i].kept);
    }
}

static void test_bearer_key(void **state)
{
    (void)state;
    static const struct {
        const char *header, *key;
    } cases[] = {
        {"Bearer mk_abc", "mk_abc"},
        {"bearer   mk_abc \t", "mk_abc"},
        {"  BEARER\tmk_abc", NULL}, /* the scheme ends at a space */
        {"\tBearer mk_abc", "mk_abc"},
        {"Bearer ", ""},
        {"Basic dXNlcjpwYXNz", ""},
        {"mk_abc", ""},
        {"", ""},
        {NULL, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t n = 99;
        const char *key = api_bearer_key(cases[i].header, &n);
        const char *want = cases[i].key ? cases[i].key : "";
        assert_int_equal(n, strlen(want));
        if (!*want) {
            assert_null(key);
        } else {
            assert_memory_equal(key, want, n);
            assert_ptr_equal(key, strstr(cases[i].header, want)); /* inside the header, no copy */
        }
    }
    /* any length: whether a key is too long to be one is api_authorize_key's to say */
    size_t n;
    char header[600] = "Bearer ";
    memset(header + 7, 'k', 500);
    assert_non_null(api_bearer_key(header, &n));
    assert_int_equal(n, 500);
}

static void test_check_json_matches_engine(void **state)
{
    (void)state;
    const char *text = "you are a fucking idiot";
    mod_input in = {.text = text, .len = strlen(text)};
    mod_result res;
    mod_error err;
    assert_int_equal(engine_check(g_rules, &in, &res, &err), 0);
    char *json = api_check_json(g_rules, &res, 0);
    assert_non_null(json);
    json_error_t je;
    json_t *o = json_loads(json, 0, &je);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "verdict")),
                        verdict_name(res.verdict));
    assert_string_equal(json_string_value(json_object_get(o, "ruleset")),
                        ruleset_version(g_rules));
    json_t *matches = json_object_get(o, "matches");
    assert_int_equal(json_array_size(matches), res.n_matches);
    for (size_t i = 0; i < res.n_matches; i++) {
        json_t *m = json_array_get(matches, i);
        assert_string_equal(json_string_value(json_object_get(m, "rule")), res.matches[i].rule);
        assert_int_equal(json_integer_value(json_object_get(m, "start")), res.matches[i].start);
        assert_int_equal(json_integer_value(json_object_get(m, "end")), res.matches[i].end);
        assert_string_equal(json_string_value(json_object_get(m, "text")), res.matches[i].text);
    }
    json_t *cats = json_object_get(o, "categories");
    assert_true(json_number_value(json_object_get(cats, "profanity")) > 0);
    assert_true(json_number_value(json_object_get(cats, "personal_attack")) > 0);
    json_decref(o);
    free(json);
    engine_result_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_full_submission),
        cmocka_unit_test(test_parse_text_unicode_and_nul),
        cmocka_unit_test(test_parse_refusals_name_the_field),
        cmocka_unit_test(test_error_reply_shape),
        cmocka_unit_test(test_error_table),
        cmocka_unit_test(test_err_set_cuts_whole_characters),
        cmocka_unit_test(test_bearer_key),
        cmocka_unit_test(test_check_json_matches_engine),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
