/* test_lint.c - unit tests for the rule-set lint (duplicates, shadowed rules, rules that can never
 * match, allow-list entries that mask nothing, unused sets, characters), rule lookups for
 * explanations, and building a rule set from files held in memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "lint.h"
#include "ruleset.h"

static const char policy[] = "profanity 3 10\npersonal_attack 3 8\nethnic_slur 3 8\ntotal 4 12\n";

/* Builds a set from (name, content) pairs, NULL-terminated; fails the test if it does not load. */
static mod_ruleset *build(const char *const *pairs)
{
    rule_file files[16];
    size_t n = 0;
    for (; pairs[2 * n]; n++)
        files[n] = (rule_file){.name = (char *)pairs[2 * n], .content = (char *)pairs[2 * n + 1],
                               .len = strlen(pairs[2 * n + 1])};
    mod_ruleset *rs = NULL;
    rule_diags d = {0};
    mod_error err = {0};
    if (ruleset_build(files, n, &rs, &d, &err) != 0)
        fail_msg("ruleset_build: %s", err.message);
    diags_free(&d);
    return rs;
}

/* Lints and returns the diagnostics, sorted. */
static rule_diags lint(const char *const *pairs)
{
    mod_ruleset *rs = build(pairs);
    rule_diags d = {0};
    ruleset_lint(rs, &d);
    diags_sort(&d);
    ruleset_unref(rs);
    return d;
}

/* The diagnostic at file:line whose message holds needle, or NULL. */
static const rule_diag *find(const rule_diags *d, const char *file, int line, const char *needle)
{
    for (size_t i = 0; i < d->count; i++)
        if (!strcmp(d->items[i].file, file) && d->items[i].line == line &&
            strstr(d->items[i].message, needle))
            return &d->items[i];
    return NULL;
}

static void dump(const rule_diags *d)
{
    for (size_t i = 0; i < d->count; i++) {
        char *s = diag_format(&d->items[i]);
        print_message("  %s\n", s);
        free(s);
    }
}

static void expect(const rule_diags *d, const char *file, int line, int col, const char *needle)
{
    const rule_diag *it = find(d, file, line, needle);
    if (!it) {
        dump(d);
        fail_msg("no warning at %s:%d with \"%s\"", file, line, needle);
    }
    assert_int_equal(it->severity, DIAG_WARNING);
    if (col)
        assert_int_equal(it->col, col);
    assert_non_null(it->hint);
}

static void test_clean_set_has_no_warnings(void **state)
{
    (void)state;
    const char *files[] = {
        "profanity.rules", "# expect hold: \"what the fuck\"\nfuck 4 fuck*\nshit 3 shit\n",
        "personal_attack.rules", "@you = you, your\nyou_idiot 4 @you ~3 idiot\n",
        "allow.list", "scunthorpe\n",
        "policy.conf", policy,
        NULL};
    const char *with_cunt[] = {
        "profanity.rules", "fuck 4 fuck*\ncunt 5 *cunt*\n",
        "personal_attack.rules", "@you = you, your\nyou_idiot 4 @you ~3 idiot\n",
        "allow.list", "scunthorpe\n",
        "policy.conf", policy,
        NULL};
    rule_diags d = lint(files);
    /* scunthorpe masks nothing here: no rule reads any part of it. */
    expect(&d, "allow.list", 1, 1, "masks nothing");
    assert_int_equal(d.count, 1);
    diags_free(&d);
    d = lint(with_cunt);
    if (d.count) {
        dump(&d);
        fail_msg("expected no warnings");
    }
    diags_free(&d);
}

static void test_duplicates(void **state)
{
    (void)state;
    const char *files[] = {
        "profanity.rules", "shit 3 shit\nshit_again   3   shit\n",
        "personal_attack.rules", "shit_pa 2 shit\n",
        "policy.conf", policy,
        NULL};
    rule_diags d = lint(files);
    expect(&d, "profanity.rules", 2, 18, "duplicates profanity.shit (profanity.rules:1)");
    /* The same words in another category count in both: said so, once. */
    expect(&d, "profanity.rules", 1, 0, "same pattern as personal_attack.shit_pa");
    diags_free(&d);
}

static void test_shadowed_rules(void **state)
{
    (void)state;
    const char *files[] = {
        "profanity.rules",
        "@fk = fuck, fuck*\nsmall 2 fuckhead\nbig 5 @fk\nsame 5 fucker\nguarded 9 fuck* unless @fk\n",
        "policy.conf", policy,
        NULL};
    rule_diags d = lint(files);
    expect(&d, "profanity.rules", 2, 9, "profanity.small never counts");
    assert_non_null(strstr(find(&d, "profanity.rules", 2, "never counts")->message,
                           "profanity.big (profanity.rules:3, weight 5)"));
    expect(&d, "profanity.rules", 4, 0, "profanity.same adds nothing");
    /* A rule with a guard does not always fire, so it shadows nothing. */
    assert_null(find(&d, "profanity.rules", 3, "never counts"));
    diags_free(&d);

    /* Nor does one that fires only at the start of a sentence; and "^ shit" is another pattern
     * than "shit", not a duplicate. */
    const char *started[] = {
        "profanity.rules", "first 9 ^ shit\nanywhere 3 shit\ncrap 2 crap\nfirst_crap 9 ^ crap\n",
        "policy.conf", policy,
        NULL};
    const char *unstarted[] = {
        "profanity.rules", "first 9 shit\nanywhere 3 shit\ncrap 2 crap\nfirst_crap 9 crap\n",
        "policy.conf", policy,
        NULL};
    d = lint(unstarted); /* without "^": the same rules are duplicates */
    expect(&d, "profanity.rules", 2, 0, "duplicates profanity.first");
    expect(&d, "profanity.rules", 4, 0, "duplicates profanity.crap");
    diags_free(&d);
    d = lint(started);
    if (d.count) {
        dump(&d);
        fail_msg("a \"^\" rule was taken for a duplicate or a shadow");
    }
    diags_free(&d);
    /* ... and it hides no other problem of the rule that shares its words */
    const char *vetoed[] = {
        "profanity.rules", "@own = shit\nfirst 9 ^ shit\nveto 3 shit unless @own ~2\n",
        "policy.conf", policy,
        NULL};
    d = lint(vetoed);
    expect(&d, "profanity.rules", 3, 0, "rule profanity.veto can never match: its guard");
    diags_free(&d);
}

static void test_rules_that_never_match(void **state)
{
    (void)state;
    const char *files[] = {
        "profanity.rules",
        "@self = idiotic\n@empty =\n"
        "veto 3 idiotic unless @self ~2\n"
        "masked 3 scunthorpe\n"
        "nothing 3 @empty\n"
        "fk 5 fuck\n"
        "letters 3 f.u.c.k\n",
        "allow.list", "scunthorpe\n",
        "policy.conf", policy,
        NULL};
    rule_diags d = lint(files);
    expect(&d, "profanity.rules", 3, 8, "can never match: its guard 'unless @self'");
    expect(&d, "profanity.rules", 4, 10, "allow.list holds \"scunthorpe\"");
    expect(&d, "profanity.rules", 5, 11, "set @empty has no terms");
    const rule_diag *letters = find(&d, "profanity.rules", 7, "never counts on its own words");
    if (!letters) {
        dump(&d);
        fail_msg("f.u.c.k is read as fuck: expected a warning");
    }
    assert_non_null(strstr(letters->hint, "single letters"));
    diags_free(&d);
}

static void test_allow_list(void **state)
{
    (void)state;
    const char *files[] = {
        "profanity.rules", "cunt 5 *cunt*\nfuck 4 fuck\n",
        "allow.list", "# places\nscunthorpe\nfoobarbaz\n  Scunthorpe  \nfukushima\nfucking austria\n",
        "policy.conf", policy,
        NULL};
    rule_diags d = lint(files);
    expect(&d, "allow.list", 3, 1, "\"foobarbaz\" masks nothing");
    expect(&d, "allow.list", 4, 3, "already allowed at line 2");
    assert_null(find(&d, "allow.list", 2, "masks nothing"));  /* *cunt* */
    assert_null(find(&d, "allow.list", 6, "masks nothing"));  /* an inflection of fuck */
    /* fukushima: no rule word here reads it, not even as a misspelling of "fuck": it masks
     * nothing, like foobarbaz */
    expect(&d, "allow.list", 5, 1, "\"fukushima\" masks nothing");
    diags_free(&d);
}

static void test_sets_weights_and_characters(void **state)
{
    (void)state;
    const char *files[] = {
        "profanity.rules",
        "@unused = zzz\n"
        "zero 0 bollocks\n"
        "inv 3 fu\xe2\x80\x8b" "ck\n"
        "sym 3 ab\xf0\x9f\x92\xa9" "cd\n",
        "policy.conf", policy,
        NULL};
    rule_diags d = lint(files);
    expect(&d, "profanity.rules", 1, 1, "set @unused is never used");
    expect(&d, "profanity.rules", 2, 6, "weight 0");
    expect(&d, "profanity.rules", 3, 9, "invisible character U+200B");
    expect(&d, "profanity.rules", 4, 9, "U+1F4A9 is not a letter or digit");
    diags_free(&d);
}

static void test_sort(void **state)
{
    (void)state;
    rule_diags d = {0};
    d.items = calloc(3, sizeof *d.items);
    d.count = d.cap = 3;
    d.items[0] = (rule_diag){DIAG_WARNING, strdup("b.rules"), 2, 1, strdup("x"), NULL};
    d.items[1] = (rule_diag){DIAG_WARNING, strdup("a.rules"), 9, 3, strdup("y"), NULL};
    d.items[2] = (rule_diag){DIAG_ERROR, strdup("a.rules"), 9, 3, strdup("z"), NULL};
    diags_sort(&d);
    assert_string_equal(d.items[0].message, "z"); /* the error first on the same spot */
    assert_string_equal(d.items[1].message, "y");
    assert_string_equal(d.items[2].file, "b.rules");
    diags_free(&d);
}

static void test_rule_info(void **state)
{
    (void)state;
    const char *files[] = {
        "lexicon.rules", "@you = you, your\n@insult = idiot,\n    moron\n@neg = not\n",
        "personal_attack.rules", "# an example\nyou_insult 4 @you ~3 @insult unless @neg ~2\n",
        "policy.conf", policy,
        NULL};
    mod_ruleset *rs = build(files);
    rule_info info;
    assert_int_equal(ruleset_rule_info(rs, "personal_attack.you_insult", &info), 0);
    assert_string_equal(info.file, "personal_attack.rules");
    assert_int_equal(info.line, 2);
    assert_string_equal(info.source, "you_insult 4 @you ~3 @insult unless @neg ~2");
    assert_int_equal(info.n_sets, 3);
    assert_string_equal(info.sets[1].name, "@insult");
    assert_string_equal(info.sets[1].file, "lexicon.rules");
    assert_int_equal(info.sets[1].line, 2);
    assert_int_equal(info.sets[2].unless, 1);
    assert_int_equal(ruleset_rule_info(rs, "personal_attack.nope", &info), -1);
    ruleset_unref(rs);
}

/* A set built from files in memory is the set (and version) loaded from a directory of them,
 * whatever order the files come in. */
static void test_build_matches_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_lint.XXXXXX";
    assert_non_null(mkdtemp(dir));
    const char *names[] = {"profanity.rules", "allow.list", "policy.conf"};
    const char *contents[] = {"fuck 4 fuck*\n# expect hold: \"fuck this\"\n", "scunthorpe\n",
                              policy};
    for (int i = 0; i < 3; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(contents[i], f);
        fclose(f);
    }
    mod_ruleset *loaded = NULL, *built = NULL;
    mod_error err = {0};
    assert_int_equal(ruleset_load(dir, &loaded, NULL, &err), 0);
    rule_file files[3];
    for (int i = 0; i < 3; i++)
        files[i] = (rule_file){.name = (char *)names[i], .content = (char *)contents[i],
                               .len = strlen(contents[i])};
    assert_int_equal(ruleset_build(files, 3, &built, NULL, &err), 0);
    assert_string_equal(ruleset_version(loaded), ruleset_version(built));
    size_t n;
    const rule_file *kept = ruleset_files(built, &n);
    assert_int_equal(n, 3);
    assert_string_equal(kept[0].name, "allow.list"); /* kept in name order */

    /* Read errors and files given twice are errors. */
    rule_file twice[2] = {files[0], files[0]};
    mod_ruleset *none = NULL;
    rule_diags d = {0};
    assert_int_equal(ruleset_build(twice, 2, &none, &d, &err), -1);
    assert_null(none);
    assert_int_equal(diags_errors(&d), 1);
    diags_free(&d);
    ruleset_unref(loaded);
    ruleset_unref(built);
    for (int i = 0; i < 3; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

static int teardown_group(void **state)
{
    (void)state;
    engine_thread_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_set_has_no_warnings),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_shadowed_rules),
        cmocka_unit_test(test_rules_that_never_match),
        cmocka_unit_test(test_allow_list),
        cmocka_unit_test(test_sets_weights_and_characters),
        cmocka_unit_test(test_sort),
        cmocka_unit_test(test_rule_info),
        cmocka_unit_test(test_build_matches_load),
    };
    return cmocka_run_group_tests_name("lint", tests, NULL, teardown_group);
}
