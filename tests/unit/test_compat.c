/* test_compat.c - unit tests for the drop-in protocols' pure parts (api_compat.c, perspective.c)
 * and the metrics exposition: forms, keys in host names, Coral's signature, HTML to text with its
 * offset map, UTF-16 offsets, the attribute mapping and the calibration table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_compat.h"
#include "metrics.h"

static void test_form_parse(void **state)
{
    (void)state;
    compat_field *f;
    const char body[] = "api_key=mk_1&comment_content=caf%C3%A9+au+lait&empty=&flag&a%26b=c%3Dd";
    int n = compat_form_parse(body, strlen(body), &f);
    assert_int_equal(n, 5);
    assert_string_equal(compat_form_get(f, n, "api_key"), "mk_1");
    assert_string_equal(compat_form_get(f, n, "comment_content"), "café au lait");
    assert_string_equal(compat_form_get(f, n, "empty"), "");
    assert_string_equal(compat_form_get(f, n, "flag"), "");
    assert_string_equal(compat_form_get(f, n, "a&b"), "c=d");
    assert_null(compat_form_get(f, n, "missing"));
    compat_form_free(f, n);

    /* %00 decodes to a NUL byte inside the value: value_len tells (callers refuse such values) */
    n = compat_form_parse("x=a%00b", 7, &f);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].value_len, 3);
    compat_form_free(f, n);

    assert_int_equal(compat_form_parse("a=%zz", 5, &f), -1);
    assert_int_equal(compat_form_parse("a=%4", 4, &f), -1);
    assert_int_equal(compat_form_parse("", 0, &f), 0);
    compat_form_free(f, 0);
}

static void test_host_key(void **state)
{
    (void)state;
    char k[128];
    assert_int_equal(compat_host_key("mk_ab12.rest.example.com", k, sizeof k), 0);
    assert_string_equal(k, "mk_ab12");
    assert_int_equal(compat_host_key("MK_AB12.localhost:8080", k, sizeof k), 0);
    assert_string_equal(k, "mk_ab12");
    assert_int_equal(compat_host_key("127.0.0.1:8080", k, sizeof k), -1);
    assert_int_equal(compat_host_key("localhost:8080", k, sizeof k), -1);
    assert_int_equal(compat_host_key("mk_ab12", k, sizeof k), -1); /* one label: no key */
    assert_int_equal(compat_host_key("mk_a%b.example", k, sizeof k), -1);
    assert_int_equal(compat_host_key(NULL, k, sizeof k), -1);
    assert_int_equal(compat_host_key("mk_abcdef.example", k, 4), -1); /* does not fit */
}

static void test_coral_verify(void **state)
{
    (void)state;
    /* HMAC-SHA256("key", "The quick brown fox") from openssl dgst -sha256 -hmac key */
    const char *body = "The quick brown fox";
    const char *good = "sha256=203d1e5cedd2d18f8c5a3beff0bd9c1ebcb97097dfcb288c46b00c9227fde2c0";
    char *one[] = {"key"}, *two[] = {"old", "key"}, *other[] = {"nope"};
    assert_int_equal(compat_coral_verify(good, body, strlen(body), one, 1), 1);
    assert_int_equal(compat_coral_verify(good, body, strlen(body), two, 2), 1);
    assert_int_equal(compat_coral_verify(good, body, strlen(body), other, 1), 0);
    char multi[300];
    snprintf(multi, sizeof multi, "sha256=%064d, %s", 0, good);
    assert_int_equal(compat_coral_verify(multi, body, strlen(body), one, 1), 1);
    /* upper-case hex is the same signature */
    char upper[100];
    snprintf(upper, sizeof upper, "%s", good);
    for (char *p = upper + 7; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    assert_int_equal(compat_coral_verify(upper, body, strlen(body), one, 1), 1);
    /* wrong body, truncated, another algorithm, garbage, nothing */
    assert_int_equal(compat_coral_verify(good, "The quick brown fox!", 20, one, 1), 0);
    assert_int_equal(compat_coral_verify("sha256=203d1e5c", body, strlen(body), one, 1), 0);
    assert_int_equal(compat_coral_verify("sha1=203d1e5cedd2d18f8c5a3beff0bd9c1ebcb97097", body,
                                         strlen(body), one, 1), 0);
    assert_int_equal(compat_coral_verify("sha256=zz3d1e5cedd2d18f8c5a3beff0bd9c1ebcb97097dfcb288c"
                                         "46b00c9227fde2c0", body, strlen(body), one, 1), 0);
    assert_int_equal(compat_coral_verify("", body, strlen(body), one, 1), 0);
    assert_int_equal(compat_coral_verify(NULL, body, strlen(body), one, 1), 0);
    assert_int_equal(compat_coral_verify(good, body, strlen(body), one, 0), 0);
}

static void test_html_text(void **state)
{
    (void)state;
    const char *html = "<p>Tom &amp; Jerry</p><p>caf&eacute; &#x1F600; <b>idiot</b></p>";
    size_t len, *map;
    char *t = compat_html_text(html, strlen(html), &len, &map);
    assert_non_null(t);
    /* &eacute; is not among the entities we decode: kept as written */
    assert_string_equal(t, "Tom & Jerry\ncaf&eacute; \xF0\x9F\x98\x80 idiot");
    assert_int_equal(len, strlen(t));
    const char *w = strstr(t, "idiot");
    size_t b = map[w - t];
    assert_memory_equal(html + b, "idiot", 5);
    const char *amp = strchr(t, '&');
    assert_memory_equal(html + map[amp - t], "&amp;", 5);
    assert_int_equal(map[len], strlen(html));
    free(t);
    free(map);

    const char *h2 = "a<br/>b &lt;3 &#0; &#xD800; &bogus";
    t = compat_html_text(h2, strlen(h2), &len, NULL);
    assert_string_equal(t, "a\nb <3 &#0; &#xD800; &bogus");
    free(t);

    /* the engine's decoder: the same names and numbers, and no sign or blank inside a number */
    const char *h3 = "it&#39;s &#x2019; &shy;&#+39; &# 39; &#x110000;";
    t = compat_html_text(h3, strlen(h3), &len, &map);
    assert_string_equal(t, "it's \xE2\x80\x99 \xC2\xAD&#+39; &# 39; &#x110000;");
    const char *q = strstr(t, "\xE2");
    for (int k = 0; k < 3; k++) /* each byte of the character maps to its reference */
        assert_memory_equal(h3 + map[q - t + k], "&#x2019;", 8);
    free(t);
    free(map);
}

/* Each rule once, compared by whole name: "profanity.fuck" is not inside "profanity.fuck_you". */
static void test_rule_names(void **state)
{
    (void)state;
    mod_match m[4] = {{.rule = "profanity.fuck_you"}, {.rule = "profanity.fuck"},
                      {.rule = "profanity.fuck_you"}, {.rule = "ethnic_slur.kill_group"}};
    mod_result res = {.matches = m, .n_matches = 4};
    char out[128];
    compat_rule_names(&res, out, sizeof out);
    assert_string_equal(out, "profanity.fuck_you,profanity.fuck,ethnic_slur.kill_group");
    compat_rule_names(&res, out, 30); /* what does not fit is left out whole */
    assert_string_equal(out, "profanity.fuck_you");
    compat_rule_names(NULL, out, sizeof out);
    assert_string_equal(out, "");
}

static void test_offsets(void **state)
{
    (void)state;
    const char *s = "\xF0\x9F\x98\x80 caf\xC3\xA9 idiot"; /* "😀 café idiot" */
    size_t len = strlen(s);
    /* code point 7 is 'i': 1 emoji + space + 4 + space */
    assert_int_equal(compat_utf16_offset(s, len, 7), 8); /* the emoji is two UTF-16 units */
    assert_int_equal(compat_byte_offset(s, len, 7), 11);
    assert_int_equal(compat_utf16_offset(s, len, (size_t)-1), 13);
    assert_int_equal(compat_byte_offset(s, len, 100), len);
}

static mod_match match(const char *rule, mod_category cat, double w)
{
    mod_match m;
    memset(&m, 0, sizeof m);
    m.rule = rule;
    m.category = cat;
    m.weight = w;
    return m;
}

static void test_features_and_probabilities(void **state)
{
    (void)state;
    policy_config pol;
    memset(&pol, 0, sizeof pol);
    for (int c = 0; c < CAT__COUNT; c++) {
        pol.hold[c] = 3;
        pol.block[c] = 8;
    }
    pol.total_hold = 4;
    pol.total_block = 12;
    mod_match ms[] = {match("personal_attack.threat_harm", CAT_PERSONAL_ATTACK, 8),
                      match("personal_attack.insult_word", CAT_PERSONAL_ATTACK, 3),
                      match("profanity.fuck", CAT_PROFANITY, 4)};
    mod_result res;
    memset(&res, 0, sizeof res);
    res.matches = ms;
    res.n_matches = 3;
    res.categories[CAT_PERSONAL_ATTACK] = 11;
    res.categories[CAT_PROFANITY] = 4;
    res.score = 15;
    double f[PA__COUNT];
    perspective_features(&pol, &res, f);
    assert_float_equal(f[PA_TOXICITY], 15.0 / 4, 1e-9);     /* total / total_hold */
    assert_float_equal(f[PA_SEVERE_TOXICITY], 11.0 / 8, 1e-9);
    assert_float_equal(f[PA_THREAT], 8.0 / 3, 1e-9);
    assert_float_equal(f[PA_INSULT], 3.0 / 3, 1e-9);         /* without the threat */
    assert_float_equal(f[PA_PROFANITY], 4.0 / 3, 1e-9);
    assert_float_equal(f[PA_IDENTITY_ATTACK], 0, 1e-9);
    assert_true(perspective_rule_is_threat("ethnic_slur.kill_group"));
    assert_false(perspective_rule_is_threat("personal_attack.insult_word"));
    assert_float_equal(perspective_match_feature(&pol, &ms[0], PA_INSULT), 0, 1e-9);
    assert_float_equal(perspective_match_feature(&pol, &ms[1], PA_INSULT), 1, 1e-9);

    /* every attribute: a probability, non-decreasing in its feature */
    for (int a = 0; a < PA__COUNT; a++) {
        double prev = -1;
        for (double x = 0; x <= 10; x += 0.01) {
            double p = perspective_probability((perspective_attr)a, x);
            assert_true(p >= 0 && p <= 1);
            assert_true(p >= prev - 1e-12);
            prev = p;
        }
        assert_int_equal(perspective_attr_from_name(perspective_attr_name((perspective_attr)a)), a);
    }
    /* Coral's default threshold falls on our hold threshold */
    assert_true(perspective_probability(PA_TOXICITY, 0.999) <= 0.8);
    assert_true(perspective_probability(PA_TOXICITY, 1.0) > 0.8);
    assert_true(perspective_probability(PA_TOXICITY, 0) < 0.2);
    assert_int_equal(perspective_attr_from_name("FLIRTATION"), -1);
}

static void test_metrics_render(void **state)
{
    (void)state;
    metrics_request("POST", "/v1/comments", 200, 0.003);
    metrics_request("POST", "/v1/comments", 200, 0.2);
    metrics_request("GET", NULL, 404, 0.0001);
    metrics_request("POST", "/v1/comments", 0, 0.1); /* no reply queued */
    double cats[CAT__COUNT] = {4, 0, 0};
    metrics_verdict(VERDICT_BLOCK, cats);
    metrics_writer_batch(NULL, 3, 0.004);
    metrics_reload_failed();
    metrics_compat_event("coral", "bad_signature");
    metrics_compat_event("coral", "bad_signature");
    char *t = metrics_render("ver\"si\\on\n", 7, 9);
    assert_non_null(t);
    assert_non_null(strstr(t, "# TYPE moderatord_http_requests_total counter\n"));
    assert_non_null(strstr(t, "moderatord_http_requests_total{route=\"/v1/comments\",method=\"POST\","
                              "status=\"200\"} 2\n"));
    assert_non_null(strstr(t, "moderatord_http_requests_total{route=\"/v1/comments\",method=\"POST\","
                              "status=\"500\"} 1\n"));
    assert_non_null(strstr(t, "{route=\"unmatched\",method=\"-\",status=\"404\"} 1\n"));
    assert_non_null(strstr(t, "moderatord_http_request_duration_seconds_bucket{route=\"/v1/comments\","
                              "method=\"POST\",le=\"0.005\"} 1\n"));
    assert_non_null(strstr(t, "moderatord_http_request_duration_seconds_bucket{route=\"/v1/comments\","
                              "method=\"POST\",le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(t, "moderatord_verdicts_total{verdict=\"block\"} 1\n"));
    assert_non_null(strstr(t, "category=\"profanity\"} 1\n"));
    assert_non_null(strstr(t, "moderatord_writer_batch_size_bucket{le=\"4\"} 1\n"));
    assert_non_null(strstr(t, "moderatord_writer_batch_size_sum 3\n"));
    assert_non_null(strstr(t, "moderatord_queue_depth 7\n"));
    assert_non_null(strstr(t, "moderatord_ruleset_info{version=\"ver\\\"si\\\\on\\n\"} 1\n"));
    assert_non_null(strstr(t, "moderatord_rules_reloads_total{result=\"failed\"} 1\n"));
    assert_non_null(strstr(t, "{integration=\"coral\",event=\"bad_signature\"} 2\n"));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_parse),
        cmocka_unit_test(test_host_key),
        cmocka_unit_test(test_coral_verify),
        cmocka_unit_test(test_html_text),
        cmocka_unit_test(test_rule_names),
        cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_features_and_probabilities),
        cmocka_unit_test(test_metrics_render),
    };
    return cmocka_run_group_tests_name("compat", tests, NULL, NULL);
}
