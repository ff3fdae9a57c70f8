/* test_rules.c - unit tests for ruleset_load: rule sets written to temporary directories, their
 * version, rule counts, policy and examples, and the diagnostics of broken rule files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "error.h"
#include "ruleset.h"


/* ---- temporary rule directories ---- */

typedef struct {
    const char *name, *content;
} file_spec;

static const char lexicon_ok[] =
    "# shared sets\n"
    "@you = you, your, u\n"
    "@insult = idiot, moron,\n"
    "    loser\n"
    "@group = immigrants, migrants\n"
    "@dehumanize = vermin\n"
    "@reporting = said, reported\n";

static const char profanity_ok[] =
    "# expect hold: \"what the fuck\"\n"
    "fuck    4   fuck*\n"
    "shit    3   shit\n"
    "ass     3   ass*\n"
    "# expect accept: \"Scunthorpe United won\"\n";

static const char personal_attack_ok[] =
    "# an insult aimed at the addressee\n"
    "# expect block: \"you are a fucking idiot\"\n"
    "# expect accept: \"an idiot proof design\"\n"
    "\n"
    "you_insult   4   @you ~4 @insult\n"
    "mention_insult   4   @mention ~3 @insult\n";

static const char ethnic_slur_ok[] =
    "# expect block: \"immigrants are vermin\"\n"
    "group_dehumanize   8   @group ..3 @dehumanize  unless @reporting ~8\n";

static const char allow_ok[] = "scunthorpe\nchink in the armor\n";

static const char policy_ok[] =
    "# category         hold   block\n"
    "profanity          3      10\n"
    "personal_attack    4      8\n"
    "ethnic_slur        5      9\n"
    "total              6      12\n"
    "strikes            window=30d  probation=3  ban=5\n";

/* The valid set, with one file replaced (or added) by override (NULL content: left out). */
static void valid_set(file_spec *out, size_t *n, const char *name, const char *content)
{
    static const file_spec base[] = {
        {"lexicon.rules", lexicon_ok},   {"profanity.rules", profanity_ok},
        {"personal_attack.rules", personal_attack_ok}, {"ethnic_slur.rules", ethnic_slur_ok},
        {"allow.list", allow_ok},        {"policy.conf", policy_ok},
    };
    *n = 0;
    int replaced = 0;
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) {
        if (name && strcmp(base[i].name, name) == 0) {
            replaced = 1;
            if (content)
                out[(*n)++] = (file_spec){name, content};
        } else {
            out[(*n)++] = base[i];
        }
    }
    if (name && !replaced && content)
        out[(*n)++] = (file_spec){name, content};
}

static void write_file(const char *dir, const char *name, const char *content)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(content, 1, strlen(content), f), strlen(content));
    assert_int_equal(fclose(f), 0);
}

static char *make_dir(const file_spec *files, size_t n)
{
    char *dir = strdup("/tmp/test_rules.XXXXXX");
    assert_non_null(dir);
    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < n; i++)
        write_file(dir, files[i].name, files[i].content);
    return dir;
}

static void remove_dir(char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

/* A load of the valid set with one file replaced. */
typedef struct {
    int rc;
    mod_ruleset *rs;
    rule_diags diags;
    mod_error err;
} load_result;

static load_result load_files(const file_spec *files, size_t n)
{
    load_result r = {0};
    char *dir = make_dir(files, n);
    r.rc = ruleset_load(dir, &r.rs, &r.diags, &r.err);
    remove_dir(dir);
    if (r.rc == 0)
        assert_non_null(r.rs);
    return r;
}

static load_result load_with(const char *name, const char *content)
{
    file_spec files[8];
    size_t n;
    valid_set(files, &n, name, content);
    return load_files(files, n);
}

static void load_free(load_result *r)
{
    if (r->rc == 0)
        ruleset_unref(r->rs);
    diags_free(&r->diags);
}

/* Whether the rule (its "category.name") fires on text under the loaded set. */
static int fires(const load_result *r, const char *text, const char *rule)
{
    assert_int_equal(r->rc, 0);
    mod_input in = {.text = text, .len = strlen(text)};
    mod_result res;
    mod_error err = {0};
    assert_int_equal(engine_check(r->rs, &in, &res, &err), 0);
    int found = 0;
    for (size_t i = 0; i < res.n_matches; i++)
        found |= strcmp(res.matches[i].rule, rule) == 0;
    engine_result_free(&res);
    return found;
}

/* The diagnostic of a severity at file:line whose message contains needle, or fails. */
static const rule_diag *find_diag(const load_result *r, diag_severity sev, const char *file,
                                  int line, const char *needle)
{
    for (size_t i = 0; i < r->diags.count; i++) {
        const rule_diag *d = &r->diags.items[i];
        if (d->severity == sev && strcmp(d->file, file) == 0 && d->line == line &&
            strstr(d->message, needle))
            return d;
    }
    for (size_t i = 0; i < r->diags.count; i++) {
        char *s = diag_format(&r->diags.items[i]);
        print_error("  have: %s\n", s ? s : "?");
        free(s);
    }
    fail_msg("no %s at %s:%d containing \"%s\"", sev == DIAG_ERROR ? "error" : "warning", file,
             line, needle);
    return NULL;
}

/* A load that must fail with exactly one error at file:line:col whose message holds needle; err
 * names it as file:line:col. */
static void expect_one_error(const char *name, const char *content, const char *file, int line,
                             int col, const char *needle)
{
    load_result r = load_with(name, content);
    assert_int_equal(r.rc, -1);
    assert_int_equal(r.err.code, ERR_RULES);
    assert_int_equal(diags_errors(&r.diags), 1);
    const rule_diag *d = find_diag(&r, DIAG_ERROR, file, line, needle);
    assert_int_equal(d->col, col);
    assert_non_null(d->message);
    char where[128];
    snprintf(where, sizeof where, "%s:%d:%d: error: ", file, line, col);
    assert_non_null(strstr(r.err.message, where));
    assert_non_null(strstr(r.err.message, needle));
    char *formatted = diag_format(d);
    assert_non_null(formatted);
    assert_int_equal(strncmp(formatted, where, strlen(where)), 0);
    free(formatted);
    load_free(&r);
}

/* ---- a valid set ---- */

static void test_valid_set_loads(void **state)
{
    (void)state;
    load_result r = load_with(NULL, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(diags_errors(&r.diags), 0);
    for (size_t i = 0; i < r.diags.count; i++) /* and no warnings either */
        fail_msg("unexpected diagnostic: %s", r.diags.items[i].message);
    assert_true(ruleset_version_valid(ruleset_version(r.rs)));
    assert_int_equal(ruleset_rule_count(r.rs, CAT_PROFANITY), 3);
    assert_int_equal(ruleset_rule_count(r.rs, CAT_PERSONAL_ATTACK), 2);
    assert_int_equal(ruleset_rule_count(r.rs, CAT_ETHNIC_SLUR), 1);
    assert_int_equal(ruleset_rule_count(r.rs, CAT__COUNT), 0);

    /* the files it was built from, byte for byte */
    size_t nf = 0;
    const rule_file *files = ruleset_files(r.rs, &nf);
    assert_int_equal(nf, 6);
    int seen = 0;
    for (size_t i = 0; i < nf; i++)
        if (strcmp(files[i].name, "profanity.rules") == 0) {
            seen = 1;
            assert_int_equal(files[i].len, strlen(profanity_ok));
            assert_memory_equal(files[i].content, profanity_ok, files[i].len);
        }
    assert_true(seen);

    /* reference counting: the set outlives one unref after a ref */
    assert_ptr_equal(ruleset_ref(r.rs), r.rs);
    ruleset_unref(r.rs);
    assert_true(ruleset_version_valid(ruleset_version(r.rs)));
    load_free(&r);
}

static void test_category_names(void **state)
{
    (void)state;
    assert_string_equal(category_name(CAT_PROFANITY), "profanity");
    assert_string_equal(category_name(CAT_PERSONAL_ATTACK), "personal_attack");
    assert_string_equal(category_name(CAT_ETHNIC_SLUR), "ethnic_slur");
    assert_int_equal(category_from_name("personal_attack"), CAT_PERSONAL_ATTACK);
    assert_int_equal(category_from_name("ethnic_slur"), CAT_ETHNIC_SLUR);
    assert_int_equal(category_from_name("lexicon"), -1);
    assert_int_equal(category_from_name("total"), -1);
}

static void test_version_tracks_content(void **state)
{
    (void)state;
    load_result a = load_with(NULL, NULL);
    load_result b = load_with(NULL, NULL); /* same content, another directory */
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);
    assert_true(ruleset_version_valid(ruleset_version(a.rs)));
    assert_string_equal(ruleset_version(a.rs), ruleset_version(b.rs));

    /* one more comment line in one file: another version */
    char *changed = malloc(sizeof profanity_ok + 32);
    assert_non_null(changed);
    snprintf(changed, sizeof profanity_ok + 32, "%s# a comment\n", profanity_ok);
    load_result c = load_with("profanity.rules", changed);
    assert_int_equal(c.rc, 0);
    assert_true(ruleset_version_valid(ruleset_version(c.rs)));
    assert_string_not_equal(ruleset_version(a.rs), ruleset_version(c.rs));

    /* one changed weight: another version again */
    char *reweighted = strdup(profanity_ok);
    assert_non_null(reweighted);
    char *w = strstr(reweighted, "shit    3");
    assert_non_null(w);
    w[8] = '2';
    load_result d = load_with("profanity.rules", reweighted);
    assert_int_equal(d.rc, 0);
    assert_string_not_equal(ruleset_version(a.rs), ruleset_version(d.rs));
    assert_string_not_equal(ruleset_version(c.rs), ruleset_version(d.rs));

    /* and back to the original content: the original version */
    load_result e = load_with("profanity.rules", profanity_ok);
    assert_int_equal(e.rc, 0);
    assert_string_equal(ruleset_version(a.rs), ruleset_version(e.rs));

    /* a file of another kind in the directory is not part of the set */
    load_result f = load_with("README.md", "notes\n");
    assert_int_equal(f.rc, 0);
    assert_string_equal(ruleset_version(a.rs), ruleset_version(f.rs));

    free(changed);
    free(reweighted);
    load_free(&a);
    load_free(&b);
    load_free(&c);
    load_free(&d);
    load_free(&e);
    load_free(&f);
}

/* ---- errors ---- */

static void test_error_unknown_set(void **state)
{
    (void)state;
    expect_one_error("profanity.rules", "fuck 4 fuck\nbad  3  @nosuch\n", "profanity.rules", 2, 9,
                     "unknown set @nosuch");
}

/* "^ PATTERN": the pattern's first word begins a sentence (after . ! ? ; : or a new line). */
static void test_sentence_start(void **state)
{
    (void)state;
    load_result r = load_with("profanity.rules", "fuck 4 fuck\ncmd 8 ^ kill him\n");
    static const char *const starts[] = {"kill him", "Kill him!", "ok. kill him",
                                         "first line\nkill him", "\"Kill him,\" he wrote",
                                         "what now? kill him"};
    for (size_t i = 0; i < sizeof starts / sizeof *starts; i++)
        if (!fires(&r, starts[i], "profanity.cmd"))
            fail_msg("\"%s\": ^ kill him did not fire", starts[i]);
    static const char *const inside[] = {"they tried to kill him", "fine, kill him",
                                         "why not kill him", "kill kill him"};
    for (size_t i = 0; i < sizeof inside / sizeof *inside; i++)
        if (fires(&r, inside[i], "profanity.cmd"))
            fail_msg("\"%s\": ^ kill him fired inside a sentence", inside[i]);
    load_free(&r);

    expect_one_error("profanity.rules", "fuck 4 fuck\ncmd 8 kill ^ him\n", "profanity.rules", 2, 12,
                     "'^' (the start of a sentence) can only begin a pattern");
    expect_one_error("profanity.rules", "fuck 4 fuck\ncmd 8 ^\n", "profanity.rules", 2, 7,
                     "empty pattern");
    expect_one_error("profanity.rules", "fuck 4 fuck\ncmd 8 ^kill him\n", "profanity.rules", 2, 7,
                     "'^' must stand alone");
}

/* "unless @SET ..N" counts a guard term only before the match; "~N" on either side. */
static void test_guard_before(void **state)
{
    (void)state;
    /* one rule per set: two rules on the same word would count once, and hide each other */
    load_result r = load_with("profanity.rules", "@neg = not, dont\nbefore 3 idiot unless @neg ..2\n");
    load_result a = load_with("profanity.rules", "@neg = not, dont\naround 3 idiot unless @neg ~2\n");
    assert_false(fires(&r, "you are not an idiot", "profanity.before"));
    assert_false(fires(&a, "you are not an idiot", "profanity.around"));
    assert_true(fires(&r, "these idiots dont learn", "profanity.before"));
    assert_false(fires(&a, "these idiots dont learn", "profanity.around"));
    assert_true(fires(&r, "not that he is an idiot", "profanity.before")); /* 3 words between */
    assert_true(fires(&a, "idiot. not that i mind", "profanity.around")); /* another sentence */
    load_free(&r);
    load_free(&a);
}

/* An allowed phrase matches inflections like a rule word, unless "=" keeps a word to its form. */
static void test_allow_exact_form(void **state)
{
    (void)state;
    file_spec files[8];
    size_t n;
    valid_set(files, &n, "allow.list", "scunthorpe\nto =fool\nfool around\n");
    for (size_t i = 0; i < n; i++)
        if (strcmp(files[i].name, "profanity.rules") == 0)
            files[i].content = "fool 4 fool\n";
    load_result r = load_files(files, n);
    assert_int_equal(r.rc, 0);
    assert_false(fires(&r, "stop trying to fool us", "profanity.fool"));
    assert_true(fires(&r, "he sold it to fools", "profanity.fool"));     /* "=": not fools */
    assert_false(fires(&r, "they fooled around all day", "profanity.fool")); /* inflected */
    assert_true(fires(&r, "what a fool", "profanity.fool"));
    load_free(&r);
}

static void test_error_bad_weight(void **state)
{
    (void)state;
    expect_one_error("profanity.rules", "fuck 4 fuck\nshit lots shit\n", "profanity.rules", 2, 6,
                     "bad weight \"lots\"");
    expect_one_error("profanity.rules", "fuck -1 fuck\n", "profanity.rules", 1, 6,
                     "bad weight \"-1\"");
    expect_one_error("profanity.rules", "fuck 5000 fuck\n", "profanity.rules", 1, 6,
                     "bad weight \"5000\"");
}

static void test_error_missing_pattern(void **state)
{
    (void)state;
    /* the column points at the last field written */
    expect_one_error("profanity.rules", "fuck 4 fuck\n\nshit 3\n", "profanity.rules", 3, 6,
                     "a rule needs a name, a weight and a pattern");
    expect_one_error("profanity.rules", "fuck 4 fuck\nshit 3   # no pattern\n", "profanity.rules",
                     2, 6, "a rule needs a name, a weight and a pattern");
}

static void test_error_duplicate_rule_name(void **state)
{
    (void)state;
    expect_one_error("profanity.rules", "fuck 4 fuck\nshit 3 shit\n\n  # again\nfuck 2 frick\n",
                     "profanity.rules", 5, 1, "rule profanity.fuck is already defined at "
                                              "profanity.rules:1");
}

static void test_error_bad_distance(void **state)
{
    (void)state;
    expect_one_error("personal_attack.rules", "you_insult 4 @you ~99 @insult\n",
                     "personal_attack.rules", 1, 19, "bad distance \"~99\"");
    expect_one_error("personal_attack.rules", "you_insult 4 @you ..x @insult\n",
                     "personal_attack.rules", 1, 19, "bad distance \"..x\"");
    /* a distance must stand between two elements */
    expect_one_error("personal_attack.rules", "you_insult 4 ~3 @insult\n",
                     "personal_attack.rules", 1, 14, "a distance must stand between two elements");
}

/* "unless @SET [~N] except @SET": an except without a guard, a set or with a distance. */
static void test_error_except(void **state)
{
    (void)state;
    expect_one_error("ethnic_slur.rules", "g 8 @group ..3 @dehumanize except @reporting\n",
                     "ethnic_slur.rules", 1, 28, "'except' must follow a guard");
    expect_one_error("ethnic_slur.rules", "g 8 @group ..3 @dehumanize unless @reporting except\n",
                     "ethnic_slur.rules", 1, 46, "'except' needs a @set after it");
    expect_one_error("ethnic_slur.rules",
                     "g 8 @group ..3 @dehumanize unless @reporting except @group ~3\n",
                     "ethnic_slur.rules", 1, 60, "write: unless @set ~N except @set");
    expect_one_error("ethnic_slur.rules",
                     "g 8 @group ..3 @dehumanize unless @reporting except @nope\n",
                     "ethnic_slur.rules", 1, 53, "unknown set @nope");
    /* the valid form loads, and two guards may each have one */
    load_result r = load_with("ethnic_slur.rules",
                              "g 8 @group ..3 @dehumanize  unless @reporting ~8 except @group "
                              "unless @you except @insult\n");
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.diags.count, 0);
    load_free(&r);
}

/* Limits are refused, not cut short: 33 elements, 9 guards, a line over 4095 bytes. */
static void test_error_limits(void **state)
{
    (void)state;
    char rule[8192];
    int n = snprintf(rule, sizeof rule, "long 3");
    for (int i = 0; i < 33; i++)
        n += snprintf(rule + n, sizeof rule - (size_t)n, " @insult ~1");
    snprintf(rule + n - 3, sizeof rule - (size_t)n + 3, "\n"); /* drop the last " ~1" */
    /* the 33rd @insult stands at column 8 + 32 * 11 */
    expect_one_error("personal_attack.rules", rule, "personal_attack.rules", 1, 8 + 32 * 11,
                     "a pattern has at most 32 elements");
    n = snprintf(rule, sizeof rule, "guarded 3 @insult");
    for (int i = 0; i < 9; i++)
        n += snprintf(rule + n, sizeof rule - (size_t)n, " unless @you");
    snprintf(rule + n, sizeof rule - (size_t)n, "\n");
    expect_one_error("personal_attack.rules", rule, "personal_attack.rules", 1, 18 + 8 * 12 + 8,
                     "a rule has at most 8 guards");
    /* 32 elements and 8 guards load, and the rule fires on 32 insults in a row, not on 31 */
    n = snprintf(rule, sizeof rule, "long 3");
    for (int i = 0; i < 32; i++)
        n += snprintf(rule + n, sizeof rule - (size_t)n, " @insult");
    for (int i = 0; i < 8; i++)
        n += snprintf(rule + n, sizeof rule - (size_t)n, " unless @you");
    snprintf(rule + n, sizeof rule - (size_t)n, "\n");
    load_result r = load_with("personal_attack.rules", rule);
    assert_int_equal(r.rc, 0);
    char text[1024] = "";
    for (int i = 0; i < 32; i++)
        strcat(text, i % 2 ? "moron " : "idiot ");
    assert_true(fires(&r, text, "personal_attack.long"));
    text[strlen(text) - strlen("moron ")] = '\0';
    assert_false(fires(&r, text, "personal_attack.long"));
    load_free(&r);
    /* a line longer than 4095 bytes, even a comment, is an error at its line */
    char *lines = malloc(5200);
    n = snprintf(lines, 5200, "idiot 3 idiot\n# ");
    memset(lines + n, 'x', 4100);
    snprintf(lines + n + 4100, 5200 - (size_t)n - 4100, "\nmoron 3 moron\n");
    expect_one_error("personal_attack.rules", lines, "personal_attack.rules", 2, 4096,
                     "line is longer than 4095 bytes");
    /* and the last line, without its newline */
    n = snprintf(lines, 5200, "idiot 3 idiot\nmoron 3 ");
    memset(lines + n, 'x', 4100);
    lines[n + 4100] = '\0';
    expect_one_error("personal_attack.rules", lines, "personal_attack.rules", 2, 4096,
                     "line is longer than 4095 bytes");
    free(lines);
}

static void test_error_star_inside_word(void **state)
{
    (void)state;
    expect_one_error("profanity.rules", "fuck 4 fuck\nshit 3 sh*t\n", "profanity.rules", 2, 8,
                     "'*' may only end a word");
    /* leading star only */
    expect_one_error("profanity.rules", "fuck 4 *fuck\n", "profanity.rules", 1, 8,
                     "'*' may only end a word");
    /* in a set as well */
    static char lex[sizeof lexicon_ok + 32];
    snprintf(lex, sizeof lex, "%s@bad = idiot, mo*ron\n", lexicon_ok);
    expect_one_error("lexicon.rules", lex, "lexicon.rules", 8, 15, "'*' may only end a word");
}

static void test_error_unknown_policy_category(void **state)
{
    (void)state;
    expect_one_error("policy.conf",
                     "profanity 3 10\nprofanty 3 10\npersonal_attack 4 8\n", "policy.conf", 2, 1,
                     "unknown category \"profanty\"");
}

static void test_error_block_below_hold(void **state)
{
    (void)state;
    expect_one_error("policy.conf", "profanity 3 10\npersonal_attack 8 4\n", "policy.conf", 2, 1,
                     "the block score (4) is below the hold score (8)");
    expect_one_error("policy.conf", "total 6 5\n", "policy.conf", 1, 1,
                     "below the hold score");
}

static void test_error_malformed_example(void **state)
{
    (void)state;
    /* unknown verdict, missing colon, missing quotes */
    expect_one_error("profanity.rules", "# expect blok: \"what the fuck\"\nfuck 4 fuck\n",
                     "profanity.rules", 1, 10, "malformed example");
    expect_one_error("profanity.rules", "fuck 4 fuck\n# expect hold \"what the fuck\"\n",
                     "profanity.rules", 2, 10, "malformed example");
    expect_one_error("personal_attack.rules",
                     "you_insult 4 @you ~4 @insult\n  # expect block: you idiot\n",
                     "personal_attack.rules", 2, 12, "malformed example");
    /* in policy.conf too */
    expect_one_error("policy.conf", "profanity 3 10\n# expect maybe: \"x\"\n", "policy.conf", 2,
                     10, "malformed example");
}

static void test_several_errors_in_one_file(void **state)
{
    (void)state;
    static const char broken[] = "fuck 4 fuck\n"          /* 1 ok */
                                 "bad1 3 @nosuch\n"       /* 2 unknown set */
                                 "bad2 x shit\n"          /* 3 bad weight */
                                 "bad3 3\n"               /* 4 missing pattern */
                                 "fuck 2 frick\n"         /* 5 duplicate */
                                 "bad5 3 shit ~99 crap\n" /* 6 bad distance */
                                 "bad6 3 f*ck\n"          /* 7 star */
                                 "# expect blok: \"x\"\n" /* 8 malformed example */
                                 "shit 3 shit\n";         /* 9 ok */
    load_result r = load_with("profanity.rules", broken);
    assert_int_equal(r.rc, -1);
    assert_int_equal(r.err.code, ERR_RULES);
    assert_int_equal(diags_errors(&r.diags), 7);
    static const struct {
        int line, col;
        const char *needle;
    } want[] = {
        {2, 8, "unknown set @nosuch"}, {3, 6, "bad weight"},   {4, 6, "a rule needs"},
        {5, 1, "already defined"},     {6, 13, "bad distance"}, {7, 8, "'*' may only"},
        {8, 10, "malformed example"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const rule_diag *d = find_diag(&r, DIAG_ERROR, "profanity.rules", want[i].line,
                                       want[i].needle);
        assert_int_equal(d->col, want[i].col);
    }
    /* err names the first one */
    assert_non_null(strstr(r.err.message, "profanity.rules:2:8:"));
    load_free(&r);

    /* errors in several files are all reported too */
    file_spec files[8];
    size_t n;
    valid_set(files, &n, "profanity.rules", "fuck 4 @nosuch\n");
    for (size_t i = 0; i < n; i++)
        if (strcmp(files[i].name, "policy.conf") == 0)
            files[i].content = "profanity 3 10\nbogus 1 2\n";
    r = load_files(files, n);
    assert_int_equal(r.rc, -1);
    assert_int_equal(diags_errors(&r.diags), 2);
    find_diag(&r, DIAG_ERROR, "profanity.rules", 1, "unknown set");
    find_diag(&r, DIAG_ERROR, "policy.conf", 2, "unknown category");
    load_free(&r);
}

static void test_error_rules_in_lexicon_and_bad_dir(void **state)
{
    (void)state;
    static char lex[sizeof lexicon_ok + 32];
    snprintf(lex, sizeof lex, "%sidiot 3 idiot\n", lexicon_ok);
    expect_one_error("lexicon.rules", lex, "lexicon.rules", 8, 1, "only set definitions");

    mod_ruleset *rs = NULL;
    rule_diags d = {0};
    mod_error err = {0};
    assert_int_equal(ruleset_load("/nonexistent/moderatord-rules", &rs, &d, &err), -1);
    assert_null(rs);
    assert_int_equal(err.code, ERR_RULES);
    assert_non_null(strstr(err.message, "/nonexistent/moderatord-rules"));
    assert_true(diags_errors(&d) >= 1);
    diags_free(&d);
    /* diags may be NULL */
    assert_int_equal(ruleset_load("/nonexistent/moderatord-rules", &rs, NULL, &err), -1);
}

/* ---- warnings ---- */

static void test_warning_extend_undefined_set(void **state)
{
    (void)state;
    static const char prof[] = "@swears += frick, frack\nfrick 1 @swears\nfuck 4 fuck\n";
    load_result r = load_with("profanity.rules", prof);
    assert_int_equal(r.rc, 0); /* a warning does not fail the load */
    assert_int_equal(diags_errors(&r.diags), 0);
    const rule_diag *d = find_diag(&r, DIAG_WARNING, "profanity.rules", 1, "'+='");
    assert_int_equal(d->col, 1);
    assert_non_null(strstr(d->message, "@swears"));
    char *s = diag_format(d);
    assert_non_null(s);
    assert_non_null(strstr(s, "profanity.rules:1:1: warning: "));
    free(s);
    assert_int_equal(ruleset_rule_count(r.rs, CAT_PROFANITY), 2);
    /* the set it created holds both terms */
    assert_true(fires(&r, "oh frick", "profanity.frick"));
    assert_true(fires(&r, "oh frack", "profanity.frick"));
    assert_false(fires(&r, "oh frock", "profanity.frick"));
    load_free(&r);

    /* and '+=' on a set defined earlier is silent; the set gets the terms, keeping its own */
    static const char prof2[] = "@insult += jerk\nfuck 4 fuck\n";
    r = load_with("profanity.rules", prof2);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.diags.count, 0);
    assert_true(fires(&r, "you are a jerk", "personal_attack.you_insult"));
    assert_true(fires(&r, "you are a loser", "personal_attack.you_insult"));
    load_free(&r);
}

static void test_warning_no_policy(void **state)
{
    (void)state;
    load_result r = load_with("policy.conf", NULL);
    assert_int_equal(r.rc, 0);
    find_diag(&r, DIAG_WARNING, "policy.conf", 0, "no policy.conf");
    /* defaults */
    const policy_config *pc = ruleset_policy(r.rs);
    for (int c = 0; c < CAT__COUNT; c++) {
        assert_true(pc->hold[c] > 0);
        assert_true(pc->block[c] >= pc->hold[c]);
    }
    assert_true(pc->total_block >= pc->total_hold);
    assert_int_equal(pc->strike_window_s, 30L * 86400);
    load_free(&r);
}

/* ---- examples ---- */

static void test_examples_parsed(void **state)
{
    (void)state;
    load_result r = load_with(NULL, NULL);
    assert_int_equal(r.rc, 0);
    size_t n = 0;
    const rule_example *ex = ruleset_examples(r.rs, &n);
    assert_int_equal(n, 5);
    static const struct {
        const char *file;
        int line;
        const char *expected, *text, *rule;
    } want[] = {
        {"ethnic_slur.rules", 1, "block", "immigrants are vermin", "ethnic_slur.group_dehumanize"},
        {"personal_attack.rules", 2, "block", "you are a fucking idiot",
         "personal_attack.you_insult"},
        {"personal_attack.rules", 3, "accept", "an idiot proof design",
         "personal_attack.you_insult"},
        {"profanity.rules", 1, "hold", "what the fuck", "profanity.fuck"},
        /* at the end of the file: a file-level example */
        {"profanity.rules", 5, "accept", "Scunthorpe United won", NULL},
    };
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        const rule_example *found = NULL;
        for (size_t i = 0; i < n; i++)
            if (strcmp(ex[i].file, want[w].file) == 0 && ex[i].line == want[w].line)
                found = &ex[i];
        if (!found)
            fail_msg("no example at %s:%d", want[w].file, want[w].line);
        assert_string_equal(found->expected, want[w].expected);
        assert_string_equal(found->text, want[w].text);
        if (want[w].rule)
            assert_string_equal(found->rule, want[w].rule);
        else
            assert_null(found->rule);
        assert_int_not_equal(verdict_from_name(found->expected), -1);
    }
    load_free(&r);
}

static void test_example_details(void **state)
{
    (void)state;
    /* quotes inside the text, a '#' inside it, indentation, and examples over two rules */
    static const char prof[] = "  # expect hold: \"he said \"fuck\" # twice\"\n"
                               "#expect accept:\"fine\"\n"
                               "# just a comment: expect nothing\n"
                               "fuck 4 fuck\n"
                               "# expect hold: \"shit\"\n"
                               "@more = crap\n"
                               "shit 3 shit\n";
    load_result r = load_with("profanity.rules", prof);
    assert_int_equal(r.rc, 0);
    size_t n = 0;
    const rule_example *ex = ruleset_examples(r.rs, &n);
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ex[i].file, "profanity.rules") != 0)
            continue;
        seen++;
        if (ex[i].line == 1) {
            assert_string_equal(ex[i].expected, "hold");
            assert_string_equal(ex[i].text, "he said \"fuck\" # twice");
            assert_string_equal(ex[i].rule, "profanity.fuck");
        } else if (ex[i].line == 2) {
            assert_string_equal(ex[i].expected, "accept");
            assert_string_equal(ex[i].text, "fine");
            assert_string_equal(ex[i].rule, "profanity.fuck");
        } else if (ex[i].line == 5) {
            assert_string_equal(ex[i].text, "shit");
            assert_string_equal(ex[i].rule, "profanity.shit");
        } else {
            fail_msg("unexpected example at line %d", ex[i].line);
        }
    }
    assert_int_equal(seen, 3);
    load_free(&r);
}

/* ---- policy ---- */

static void test_policy_values(void **state)
{
    (void)state;
    load_result r = load_with(NULL, NULL);
    assert_int_equal(r.rc, 0);
    const policy_config *pc = ruleset_policy(r.rs);
    assert_true(pc->hold[CAT_PROFANITY] == 3);
    assert_true(pc->block[CAT_PROFANITY] == 10);
    assert_true(pc->hold[CAT_PERSONAL_ATTACK] == 4);
    assert_true(pc->block[CAT_PERSONAL_ATTACK] == 8);
    assert_true(pc->hold[CAT_ETHNIC_SLUR] == 5);
    assert_true(pc->block[CAT_ETHNIC_SLUR] == 9);
    assert_true(pc->total_hold == 6);
    assert_true(pc->total_block == 12);
    assert_int_equal(pc->strike_window_s, 2592000);
    assert_int_equal(pc->probation_strikes, 3);
    assert_int_equal(pc->ban_strikes, 5);
    load_free(&r);

    /* other units, fractional scores, and hold == block */
    r = load_with("policy.conf", "profanity 2.5 2.5\n"
                                 "personal_attack 1 7.5\n"
                                 "ethnic_slur 3 8\n"
                                 "total 4 12\n"
                                 "strikes window=12h probation=2 ban=4\n");
    assert_int_equal(r.rc, 0);
    pc = ruleset_policy(r.rs);
    assert_true(pc->hold[CAT_PROFANITY] == 2.5);
    assert_true(pc->block[CAT_PROFANITY] == 2.5);
    assert_true(pc->block[CAT_PERSONAL_ATTACK] == 7.5);
    assert_int_equal(pc->strike_window_s, 12 * 3600);
    assert_int_equal(pc->probation_strikes, 2);
    assert_int_equal(pc->ban_strikes, 4);
    load_free(&r);

    r = load_with("policy.conf", "strikes window=90m\n");
    assert_int_equal(r.rc, 0);
    assert_int_equal(ruleset_policy(r.rs)->strike_window_s, 90 * 60);
    load_free(&r);

    /* a bad strikes setting is an error */
    expect_one_error("policy.conf", "strikes window=30d probation=3 bans=5\n", "policy.conf", 1,
                     1, "unknown setting \"bans\"");
    expect_one_error("policy.conf", "strikes window\n", "policy.conf", 1, 1,
                     "bad strikes setting");
}

/* ---- regressions: bugs that were fixed, kept so they stay fixed ---- */

/* README: "@NAME += extra, terms  # add to a set defined earlier (in any file)" and lexicon.rules
 * holds "shared term sets used by the other files". Set definitions are read file by file in
 * name order, so ethnic_slur.rules is read before lexicon.rules: `@group += ...` there creates
 * @group (with a warning) and lexicon.rules' own `@group = ...` then fails as a redefinition;
 * a set inside a set (`@x = @insult`) fails as unknown. */
static void test_regression_lexicon_read_after_ethnic_slur(void **state)
{
    (void)state;
    static const char eth[] = "@group += asylum seekers\n"
                              "@slur_insult = @insult\n"
                              "group_dehumanize 8 @group ..3 @dehumanize\n"
                              "slur_insult 2 @slur_insult\n";
    load_result r = load_with("ethnic_slur.rules", eth);
    for (size_t i = 0; i < r.diags.count; i++) {
        char *s = diag_format(&r.diags.items[i]);
        print_message("  %s\n", s ? s : "?");
        free(s);
    }
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.diags.count, 0);
    /* @group has lexicon.rules' terms and the added one; @slur_insult has @insult's */
    assert_true(fires(&r, "asylum seekers are vermin", "ethnic_slur.group_dehumanize"));
    assert_true(fires(&r, "immigrants are vermin", "ethnic_slur.group_dehumanize"));
    assert_true(fires(&r, "what a moron", "ethnic_slur.slur_insult"));
    assert_true(fires(&r, "what a loser", "ethnic_slur.slur_insult"));
    load_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_set_loads),
        cmocka_unit_test(test_category_names),
        cmocka_unit_test(test_version_tracks_content),
        cmocka_unit_test(test_error_unknown_set),
        cmocka_unit_test(test_sentence_start),
        cmocka_unit_test(test_allow_exact_form),
        cmocka_unit_test(test_guard_before),
        cmocka_unit_test(test_error_bad_weight),
        cmocka_unit_test(test_error_missing_pattern),
        cmocka_unit_test(test_error_duplicate_rule_name),
        cmocka_unit_test(test_error_bad_distance),
        cmocka_unit_test(test_error_except),
        cmocka_unit_test(test_error_limits),
        cmocka_unit_test(test_error_star_inside_word),
        cmocka_unit_test(test_error_unknown_policy_category),
        cmocka_unit_test(test_error_block_below_hold),
        cmocka_unit_test(test_error_malformed_example),
        cmocka_unit_test(test_several_errors_in_one_file),
        cmocka_unit_test(test_error_rules_in_lexicon_and_bad_dir),
        cmocka_unit_test(test_warning_extend_undefined_set),
        cmocka_unit_test(test_warning_no_policy),
        cmocka_unit_test(test_examples_parsed),
        cmocka_unit_test(test_example_details),
        cmocka_unit_test(test_policy_values),
        cmocka_unit_test(test_regression_lexicon_read_after_ethnic_slur),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    engine_thread_cleanup();
    return failed;
}
