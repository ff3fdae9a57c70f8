/* eval.c - the engine measured in-process: labeled JSONL figures, rule-set comparisons,
 * table-driven cases and the examples inside rule files. */
#include "eval.h"

#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_common.h"
#include "engine.h"

typedef struct {
    char *id, *text, *expected;
    int label[4]; /* profanity, insult, identity_attack, toxic: -1 unknown, 0, 1 */
    size_t len;
} eval_row;

static const char *const label_names[4] = {"profanity", "insult", "identity_attack", "toxic"};
/* Which category each label is measured against (toxic: any flag). */
static const int label_category[4] = {CAT_PROFANITY, CAT_PERSONAL_ATTACK, CAT_ETHNIC_SLUR, -1};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void free_rows(eval_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].id);
        free(rows[i].text);
        free(rows[i].expected);
    }
    free(rows);
}

static eval_row *read_rows(const char *path, size_t *count)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "moderatorctl: %s: cannot open\n", path);
        return NULL;
    }
    size_t cap = 0, n = 0;
    eval_row *rows = NULL;
    int oom = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    long lineno = 0;
    while (!oom && (len = getline(&line, &lcap, f)) > 0) {
        lineno++;
        if (len <= 1)
            continue;
        json_error_t je;
        json_t *o = json_loadb(line, (size_t)len, 0, &je);
        const char *text = o ? json_string_value(json_object_get(o, "text")) : NULL;
        const char *exp = o ? json_string_value(json_object_get(o, "expected")) : NULL;
        if (!text || !exp || verdict_from_name(exp) < 0) {
            fprintf(stderr, "%s:%ld: skipped: needs \"text\" and \"expected\"\n", path, lineno);
            json_decref(o);
            continue;
        }
        if (n == cap) {
            eval_row *grown = realloc(rows, (cap ? cap * 2 : 1024) * sizeof *rows);
            if (!grown) {
                oom = 1;
                json_decref(o);
                break;
            }
            rows = grown;
            cap = cap ? cap * 2 : 1024;
        }
        eval_row *r = &rows[n++];
        memset(r, 0, sizeof *r);
        r->text = strdup(text); /* no NUL inside: json_loadb refuses \u0000 without a flag */
        r->len = strlen(text);
        r->expected = strdup(exp);
        const char *id = json_string_value(json_object_get(o, "id"));
        if (id)
            r->id = strdup(id);
        else if (asprintf(&r->id, "line %ld", lineno) < 0)
            r->id = NULL;
        oom = !r->text || !r->expected || !r->id;
        json_t *labels = json_object_get(o, "labels");
        for (int k = 0; k < 4; k++) {
            json_t *v = json_object_get(labels, label_names[k]);
            r->label[k] = json_is_integer(v) ? (int)json_integer_value(v) != 0 : -1;
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    if (oom) {
        fprintf(stderr, "moderatorctl: %s: out of memory\n", path);
        free_rows(rows, n);
        return NULL;
    }
    *count = n;
    return rows ? rows : calloc(1, sizeof *rows); /* an empty file is no error */
}

typedef struct {
    mod_verdict verdict;
    double cat[CAT__COUNT];
    char *rules; /* space-separated rule names */
} row_result;

static double ratio(double a, double b) { return b > 0 ? a / b : 0; }

static void print_prf(const char *name, long tp, long fp, long fn)
{
    double p = ratio((double)tp, (double)(tp + fp)), r = ratio((double)tp, (double)(tp + fn));
    printf("  %-16s precision %.3f  recall %.3f  f1 %.3f  (tp %ld fp %ld fn %ld)\n", name, p, r,
           ratio(2 * p * r, p + r), tp, fp, fn);
}

/* One pass of the engine, timed as a whole (a clock read per row would be a measurable share of
 * a short comment). Each result is freed, part of its cost; with out, the verdict, scores and
 * rule names are kept first, so the pass that scores the rows is also the one timed cold. */
static double engine_pass(const mod_ruleset *rs, const eval_row *rows, size_t n,
                          row_result *out)
{
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        mod_input in = {.text = rows[i].text, .len = rows[i].len};
        mod_result res;
        mod_error err;
        int ok = engine_check(rs, &in, &res, &err) == 0;
        if (out) {
            out[i].verdict = ok ? res.verdict : VERDICT_ACCEPT;
            if (ok)
                memcpy(out[i].cat, res.categories, sizeof out[i].cat);
            out[i].rules = ok ? ctl_rule_names(&res) : strdup("");
        }
        if (ok)
            engine_result_free(&res);
    }
    return now_s() - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int ctl_eval(const char *rules_dir, int argc, char **argv)
{
    const char *compare = NULL, *errors = NULL, *file = NULL, *limit_s = NULL, *repeat_s = NULL;
    const ctl_opt opts[] = {{"--rules", &rules_dir, NULL},  {"--compare", &compare, NULL},
                            {"--errors", &errors, NULL},    {"--limit", &limit_s, NULL},
                            {"--repeat", &repeat_s, NULL}};
    if (ctl_opts("eval",
                 "eval FILE.jsonl [--rules DIR] [--compare DIR2] [--errors fp|fn|all] [--limit N] "
                 "[--repeat N]",
                 argc - 1, argv + 1, &file, 1, 1, opts, sizeof opts / sizeof opts[0]))
        return 2;
    if (errors && strcmp(errors, "fp") && strcmp(errors, "fn") && strcmp(errors, "all")) {
        fprintf(stderr, "moderatorctl: eval: --errors takes fp, fn or all, not \"%s\"\n", errors);
        return 2;
    }
    long long limit = 50, repeat = 5;
    if ((limit_s && ctl_number("eval", "--limit", limit_s, 0, LONG_MAX, &limit)) ||
        (repeat_s && ctl_number("eval", "--repeat", repeat_s, 1, 1000, &repeat)))
        return 2;
    size_t n = 0;
    eval_row *rows = read_rows(file, &n);
    if (!rows)
        return 1;
    mod_ruleset *rs = ctl_load_rules(rules_dir);
    if (!rs) {
        free_rows(rows, n);
        return 1;
    }
    row_result *res = calloc(n ? n : 1, sizeof *res);
    double *warm_runs = calloc((size_t)repeat, sizeof *warm_runs);
    if (!res || !warm_runs) {
        fprintf(stderr, "moderatorctl: eval: out of memory\n");
        free(res);
        free(warm_runs);
        free_rows(rows, n);
        ruleset_unref(rs);
        return 1;
    }
    /* The first pass meets cold caches and scores the rows. */
    double secs = engine_pass(rs, rows, n, res), warm = 0;
    /* Further passes measure the steady state, where every word is already cached; the
     * median of them is reported (machines are noisy). */
    for (long k = 0; k < repeat; k++)
        warm_runs[k] = engine_pass(rs, rows, n, NULL);
    qsort(warm_runs, (size_t)repeat, sizeof *warm_runs, cmp_double);
    warm = warm_runs[repeat / 2];
    free(warm_runs);

    long conf[3][3] = {{0}};
    long tp = 0, fp = 0, fn = 0, tn = 0, block_total = 0, block_hit = 0;
    long ctp[4] = {0}, cfp[4] = {0}, cfn[4] = {0};
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        int e = verdict_from_name(rows[i].expected), p = (int)res[i].verdict;
        conf[e][p]++;
        bytes += rows[i].len;
        int bad = e != VERDICT_ACCEPT, flagged = p != VERDICT_ACCEPT;
        tp += bad && flagged;
        fp += !bad && flagged;
        fn += bad && !flagged;
        tn += !bad && !flagged;
        if (e == VERDICT_BLOCK) {
            block_total++;
            block_hit += p == VERDICT_BLOCK;
        }
        for (int k = 0; k < 4; k++) {
            if (rows[i].label[k] < 0)
                continue;
            int pred = label_category[k] < 0 ? flagged : res[i].cat[label_category[k]] > 0;
            ctp[k] += rows[i].label[k] && pred;
            cfp[k] += !rows[i].label[k] && pred;
            cfn[k] += rows[i].label[k] && !pred;
        }
    }
    printf("%s: %zu comments, rules %s (%s)\n", file, n, rules_dir, ruleset_version(rs));
    printf("confusion (rows expected, columns verdict):\n");
    printf("  %-10s %8s %8s %8s\n", "", "accept", "hold", "block");
    for (int e = 0; e < 3; e++)
        printf("  %-10s %8ld %8ld %8ld\n", verdict_name((mod_verdict)e), conf[e][0], conf[e][1],
               conf[e][2]);
    double p = ratio((double)tp, (double)(tp + fp)), r = ratio((double)tp, (double)(tp + fn));
    printf("flagged vs accept: precision %.3f  recall %.3f  f1 %.3f\n", p, r,
           ratio(2 * p * r, p + r));
    printf("block recall: %.3f (%ld of %ld)\n", ratio((double)block_hit, (double)block_total),
           block_hit, block_total);
    printf("false-positive rate: %.4f (%ld of %ld clean)\n", ratio((double)fp, (double)(fp + tn)),
           fp, fp + tn);
    printf("per label (where labeled):\n");
    for (int k = 0; k < 4; k++)
        if (ctp[k] + cfp[k] + cfn[k])
            print_prf(label_names[k], ctp[k], cfp[k], cfn[k]);
    printf("speed (one thread): %.0f comments/s, %.1f MB/s first pass (cold caches); "
           "%.0f comments/s, %.1f MB/s warm (median of %lld)\n",
           ratio((double)n, secs), ratio((double)bytes / 1e6, secs), ratio((double)n, warm),
           ratio((double)bytes / 1e6, warm), repeat);

    if (errors) {
        long shown = 0;
        for (size_t i = 0; i < n && shown < limit; i++) {
            int bad = strcmp(rows[i].expected, "accept") != 0;
            int flagged = res[i].verdict != VERDICT_ACCEPT;
            int is_fp = !bad && flagged, is_fn = bad && !flagged;
            if ((!strcmp(errors, "fp") && is_fp) || (!strcmp(errors, "fn") && is_fn) ||
                (!strcmp(errors, "all") && (is_fp || is_fn))) {
                printf("%s %s expected %s got %s [%s]: %s\n", is_fp ? "FP" : "FN", rows[i].id,
                       rows[i].expected, verdict_name(res[i].verdict), res[i].rules,
                       rows[i].text);
                shown++;
            }
        }
    }

    int rc = 0;
    if (compare) {
        mod_ruleset *rs2 = ctl_load_rules(compare);
        row_result *other = rs2 ? calloc(n ? n : 1, sizeof *other) : NULL;
        if (!other) {
            if (rs2)
                fprintf(stderr, "moderatorctl: eval: out of memory\n");
            ruleset_unref(rs2);
            rc = 1;
        } else {
            engine_pass(rs2, rows, n, other);
            long changed = 0, better = 0, worse = 0;
            for (size_t i = 0; i < n; i++) {
                if (other[i].verdict == res[i].verdict)
                    continue;
                changed++;
                int e = verdict_from_name(rows[i].expected);
                int was = (e != VERDICT_ACCEPT) == (res[i].verdict != VERDICT_ACCEPT);
                int now = (e != VERDICT_ACCEPT) == (other[i].verdict != VERDICT_ACCEPT);
                better += now && !was;
                worse += was && !now;
                printf("changed %s: %s -> %s (expected %s) [%s] -> [%s]: %s\n", rows[i].id,
                       verdict_name(res[i].verdict), verdict_name(other[i].verdict),
                       rows[i].expected, res[i].rules, other[i].rules, rows[i].text);
            }
            printf("compare %s (%s) -> %s (%s): %ld verdicts change, %ld now right, %ld now "
                   "wrong\n",
                   rules_dir, ruleset_version(rs), compare, ruleset_version(rs2), changed, better,
                   worse);
            for (size_t i = 0; i < n; i++)
                free(other[i].rules);
            free(other);
            ruleset_unref(rs2);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(res[i].rules);
    free(res);
    free_rows(rows, n);
    ruleset_unref(rs);
    engine_thread_cleanup();
    return rc;
}

/* ---- table-driven cases ---- */

/* Checks one case; prints a line for a failure. Returns 1 when it passes. */
static int check_case(const mod_ruleset *rs, const char *where, const char *expected,
                      const char *text, const char *rules)
{
    mod_input in = {.text = text, .len = strlen(text)};
    mod_result res;
    mod_error err;
    if (engine_check(rs, &in, &res, &err) < 0) {
        printf("FAIL %s: error %s\n", where, err.message);
        return 0;
    }
    int ok = strcmp(verdict_name(res.verdict), expected) == 0;
    char want[1024];
    snprintf(want, sizeof want, "%s", rules ? rules : "");
    char *save = NULL;
    for (char *r = strtok_r(want, " \t", &save); r; r = strtok_r(NULL, " \t", &save)) {
        if (!strcmp(r, "-")) {
            ok &= res.n_matches == 0;
            continue;
        }
        int found = 0;
        for (size_t m = 0; m < res.n_matches; m++)
            found |= !strcmp(res.matches[m].rule, r);
        ok &= found;
    }
    if (!ok) {
        char *fired = ctl_rule_names(&res);
        printf("FAIL %s: expected %s [%s], got %s [%s]: %s\n", where, expected,
               rules ? rules : "", verdict_name(res.verdict), fired ? fired : "", text);
        free(fired);
    }
    engine_result_free(&res);
    return ok;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static void run_case_file(const mod_ruleset *rs, const char *path, long *pass, long *fail)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("FAIL %s: cannot open\n", path);
        (*fail)++;
        return;
    }
    char line[8192];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = trim(line);
        if (!*p || *p == '#')
            continue;
        char *bar1 = strchr(p, '|'), *bar2 = bar1 ? strrchr(p, '|') : NULL;
        char where[600];
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (!bar1 || bar2 == bar1) {
            printf("FAIL %s: expected VERDICT | text | rules\n", where);
            (*fail)++;
            continue;
        }
        *bar1 = *bar2 = '\0';
        if (check_case(rs, where, trim(p), trim(bar1 + 1), trim(bar2 + 1)))
            (*pass)++;
        else
            (*fail)++;
    }
    fclose(f);
}

int ctl_cases(const char *rules_dir, int argc, char **argv)
{
    long pass = 0, fail = 0;
    const char **paths = calloc((size_t)argc, sizeof *paths);
    const ctl_opt opts[] = {{"--rules", &rules_dir, NULL}};
    if (!paths || ctl_opts("cases", "cases [--rules DIR] PATH...", argc - 1, argv + 1, paths,
                           argc - 1, 1, opts, 1)) {
        free(paths);
        return 2;
    }
    mod_ruleset *rs = ctl_load_rules(rules_dir); /* after every option: --rules may come last */
    if (!rs) {
        free(paths);
        return 1;
    }
    for (int i = 0; i < argc - 1 && paths[i]; i++) {
        DIR *d = opendir(paths[i]);
        if (!d) {
            run_case_file(rs, paths[i], &pass, &fail);
            continue;
        }
        struct dirent *de;
        char *names[256];
        int nn = 0;
        while ((de = readdir(d)) && nn < 256) {
            size_t l = strlen(de->d_name);
            if (l > 6 && !strcmp(de->d_name + l - 6, ".cases"))
                names[nn++] = strdup(de->d_name);
        }
        closedir(d);
        for (int k = 0; k < nn; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", paths[i], names[k]);
            run_case_file(rs, path, &pass, &fail);
            free(names[k]);
        }
    }
    printf("cases: %ld passed, %ld failed\n", pass, fail);
    free(paths);
    ruleset_unref(rs);
    engine_thread_cleanup();
    return fail ? 1 : 0;
}

int ctl_rules_test(const char *rules_dir)
{
    mod_ruleset *rs = ctl_load_rules(rules_dir);
    if (!rs)
        return 1;
    size_t n;
    const rule_example *ex = ruleset_examples(rs, &n);
    long pass = 0, fail = 0;
    for (size_t i = 0; i < n; i++) {
        char where[600];
        snprintf(where, sizeof where, "%s/%s:%d%s%s", rules_dir, ex[i].file, ex[i].line,
                 ex[i].rule ? " " : "", ex[i].rule ? ex[i].rule : "");
        if (check_case(rs, where, ex[i].expected, ex[i].text, NULL))
            pass++;
        else
            fail++;
    }
    printf("rule examples: %ld passed, %ld failed\n", pass, fail);
    ruleset_unref(rs);
    engine_thread_cleanup();
    return fail ? 1 : 0;
}
