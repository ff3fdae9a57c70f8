/* ctl_admin.c - moderatorctl for admins: lint a rules directory, compare two rule sets on a file
 * of comments, list and show kept versions, explain a stored verdict, and the audit trail's
 * verify, export and prune. */
#include "ctl_admin.h"

#include <errno.h>
#include <limits.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "api_admin.h"
#include "api_internal.h" /* api_dump: the number format of the replies */
#include "ctl_common.h"
#include "engine.h"
#include "lint.h"
#include "reload.h"
#include "store.h"
#include "store_moderation.h"

void ctl_admin_usage(FILE *f)
{
    fprintf(f,
            "  rules lint [DIR] [--thresholds FILE] [--strict] [--fail-on-warnings]\n"
            "                        every error and warning in the rule files, file:line:col\n"
            "  rules diff OLD NEW --on FILE.jsonl [--limit N]\n"
            "                        comments whose verdict changes from OLD to NEW (each a rules\n"
            "                        directory or a kept version)\n"
            "  rules versions        the kept rule-set versions, with their verdict counts\n"
            "  rules show VERSION [FILE]  the files of a kept version\n"
            "  explain ID [--json]   a stored verdict with the rule lines that made it, as written\n"
            "                        in its version, re-checked with that version\n"
            "  audit verify [--anchor SEQ:HASH] [--file EXPORT.jsonl]\n"
            "                        check the hash chain (or an export) and every comment against\n"
            "                        its verdict event; names the first event altered or removed\n"
            "  audit export [--since TIME] [--after SEQ] [--out FILE]\n"
            "                        events as JSON lines (TIME: 2024-05-01, ISO-8601, or 7d/12h)\n"
            "  audit prune --older-than DAYS [--dry-run]\n"
            "                        remove texts and personal data of older comments; the chain\n"
            "                        stays verifiable\n");
}

int ctl_admin_command(int argc, char **argv)
{
    const char *cmd = argv[0];
    if (!strcmp(cmd, "explain") || !strcmp(cmd, "audit"))
        return 1;
    return !strcmp(cmd, "rules") && argc >= 2 &&
           (!strcmp(argv[1], "lint") || !strcmp(argv[1], "diff") ||
            !strcmp(argv[1], "versions") || !strcmp(argv[1], "show"));
}

/* ---- rules lint ---- */

static int ctl_rules_lint(const char *rules, int argc, char **argv)
{
    const char *dir = rules, *thresholds = NULL;
    int strict = 0, fail_warn = 0;
    const ctl_opt opts[] = {{"--thresholds", &thresholds, NULL},
                            {"--strict", NULL, &strict},
                            {"--fail-on-warnings", NULL, &fail_warn},
                            {"-W", NULL, &fail_warn}};
    const char *pos[1] = {NULL};
    if (ctl_opts("rules lint",
                 "rules lint [DIR] [--thresholds FILE] [--strict] [--fail-on-warnings]", argc,
                 argv, pos, 1, 0, opts, sizeof opts / sizeof opts[0]))
        return 2;
    if (pos[0])
        dir = pos[0];
    if (!thresholds)
        thresholds = ctl_settings_thresholds(dir);
    reload_config cfg = {.rules_dir = dir, .thresholds = thresholds, .strict = strict};
    mod_ruleset *rs = NULL;
    rule_diags d = {0};
    mod_error err = {0};
    int rc = reload_build(&cfg, 1, &rs, &d, &err);
    diags_print(&d, stdout);
    size_t errors = diags_errors(&d), warnings = d.count - errors;
    if (rc != 0 && errors == 0) {
        printf("%s: %s\n", dir, err.message);
        errors = 1;
    }
    if (rs) {
        size_t total = 0;
        for (int c = 0; c < CAT__COUNT; c++)
            total += ruleset_rule_count(rs, (mod_category)c);
        printf("rules lint: %s: %zu error%s, %zu warning%s (version %s, %zu rules)\n", dir,
               errors, errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s",
               ruleset_version(rs), total);
        ruleset_unref(rs);
    } else {
        printf("rules lint: %s: %zu error%s, %zu warning%s: the rules do not load\n", dir, errors,
               errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
    }
    diags_free(&d);
    engine_thread_cleanup();
    return errors || (fail_warn && warnings) ? 1 : 0;
}

/* ---- loading OLD / NEW ---- */

/* A rules directory, or a version kept in the database. */
static mod_ruleset *ctl_load_set(const char *db, const char *what, store **st)
{
    struct stat sb;
    mod_error err = {0};
    if (stat(what, &sb) == 0 && S_ISDIR(sb.st_mode))
        return ctl_load_rules(what);
    if (!ruleset_version_valid(what)) {
        fprintf(stderr, "moderatorctl: \"%s\" is neither a rules directory nor a version "
                        "(16 hex digits)\n", what);
        return NULL;
    }
    if (!*st && ctl_open_db(db, st) != 0)
        return NULL;
    mod_ruleset *rs = api_admin_version(NULL, *st, what, NULL, &err);
    if (!rs)
        fprintf(stderr, "moderatorctl: %s: %s\n", what, err.message);
    return rs;
}

/* ---- rules diff ---- */

/* Parses one line and checks it with both sets. Returns 0, or -1 with err and nothing to free. */
static int ctl_diff_check(const mod_ruleset *a, const mod_ruleset *b, const char *line,
                          size_t len, api_comment *c, mod_result *ra, mod_result *rb,
                          mod_error *err)
{
    if (api_comment_parse(line, len, c, err) != 0)
        return -1;
    mod_input mi = {.text = c->text, .len = c->text_len, .participants = c->participants,
                    .n_participants = c->n_participants};
    if (engine_check(a, &mi, ra, err) == 0) {
        if (engine_check(b, &mi, rb, err) == 0)
            return 0;
        engine_result_free(ra);
    }
    api_comment_free(c);
    return -1;
}

static int ctl_rules_diff(const char *db, int argc, char **argv)
{
    static const char usage[] = "rules diff OLD NEW --on FILE.jsonl [--limit N]\n"
                                "  OLD, NEW: a rules directory or a kept version (rules versions)";
    const char *pos[2] = {NULL, NULL}, *file = NULL, *limit_s = NULL;
    const ctl_opt opts[] = {{"--on", &file, NULL}, {"--limit", &limit_s, NULL}};
    if (ctl_opts("rules diff", usage, argc, argv, pos, 2, 2, opts, sizeof opts / sizeof opts[0]))
        return 2;
    if (!file) {
        fprintf(stderr, "moderatorctl: rules diff: --on FILE.jsonl is required\nusage: "
                        "moderatorctl %s\n", usage);
        return 2;
    }
    long long limit = -1;
    if (limit_s && ctl_number("rules diff", "--limit", limit_s, 0, LONG_MAX, &limit))
        return 2;
    const char *old = pos[0], *new = pos[1];
    FILE *in = strcmp(file, "-") ? fopen(file, "r") : stdin;
    if (!in) {
        fprintf(stderr, "moderatorctl: %s: %s\n", file, strerror(errno));
        return 1;
    }
    store *st = NULL;
    mod_ruleset *a = ctl_load_set(db, old, &st), *b = a ? ctl_load_set(db, new, &st) : NULL;
    if (!a || !b) {
        if (a)
            ruleset_unref(a);
        if (st)
            store_close(st);
        if (in != stdin)
            fclose(in);
        return 1;
    }
    long rows = 0, changed = 0, skipped = 0, moves[3][3] = {{0}};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    while ((len = getline(&line, &cap, in)) > 0) {
        lineno++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!len)
            continue;
        api_comment c;
        mod_result ra, rb;
        mod_error err = {0};
        if (ctl_diff_check(a, b, line, (size_t)len, &c, &ra, &rb, &err) != 0) {
            fprintf(stderr, "%s:%ld: skipped: %s\n", file, lineno, err.message);
            skipped++;
            continue;
        }
        rows++;
        if (ra.verdict != rb.verdict) {
            changed++;
            moves[ra.verdict][rb.verdict]++;
            if (limit < 0 || changed <= limit) {
                char *la = ctl_rule_names(&ra), *lb = ctl_rule_names(&rb), id[64];
                if (c.id)
                    snprintf(id, sizeof id, "%s", c.id);
                else
                    snprintf(id, sizeof id, "line %ld", lineno);
                printf("%s: %s -> %s  [%s] -> [%s]  %.*s%s\n", id, verdict_name(ra.verdict),
                       verdict_name(rb.verdict), la ? la : "", lb ? lb : "",
                       (int)(c.text_len > 120 ? 120 : c.text_len), c.text,
                       c.text_len > 120 ? "..." : "");
                free(la);
                free(lb);
            }
        }
        engine_result_free(&ra);
        engine_result_free(&rb);
        api_comment_free(&c);
    }
    free(line);
    if (in != stdin)
        fclose(in);
    printf("rules diff: %s (%s) -> %s (%s) on %s: %ld comments, %ld verdicts change", old,
           ruleset_version(a), new, ruleset_version(b), file, rows, changed);
    const char *sep = " (";
    for (int x = 0; x < 3; x++)
        for (int y = 0; y < 3; y++)
            if (moves[x][y]) {
                printf("%s%ld %s->%s", sep, moves[x][y], verdict_name((mod_verdict)x),
                       verdict_name((mod_verdict)y));
                sep = ", ";
            }
    printf("%s%s\n", changed ? ")" : "", skipped ? "; some lines were skipped" : "");
    ruleset_unref(a);
    ruleset_unref(b);
    if (st)
        store_close(st);
    engine_thread_cleanup();
    return 0;
}

/* ---- rules versions / show ---- */

static int ctl_rules_versions(const char *db)
{
    store *st;
    if (ctl_open_db(db, &st) != 0)
        return 1;
    store_ruleset_info *v = NULL;
    size_t n = 0;
    mod_error err = {0};
    int rc = store_ruleset_list(st, 1, &v, &n, &err);
    store_close(st);
    if (rc != 0) {
        fprintf(stderr, "moderatorctl: rules versions: %s\n", err.message);
        return 1;
    }
    printf("%-16s  %-24s  %s\n", "VERSION", "FIRST LOADED", "VERDICTS");
    for (size_t i = 0; i < n; i++)
        printf("%-16s  %-24s  %ld\n", v[i].version, v[i].loaded_at ? v[i].loaded_at : "-",
               v[i].comments);
    store_ruleset_list_free(v, n);
    return 0;
}

static int ctl_rules_show(const char *db, int argc, char **argv)
{
    if (argc < 1 || argc > 2) {
        fprintf(stderr, "usage: moderatorctl rules show VERSION [FILE]\n");
        return 2;
    }
    store *st;
    if (ctl_open_db(db, &st) != 0)
        return 1;
    char *files = NULL, *loaded = NULL;
    mod_error err = {0};
    int rc = store_ruleset_get(st, argv[0], &files, &loaded, &err);
    store_close(st);
    if (rc != 0) {
        fprintf(stderr, "moderatorctl: rules show: %s\n", err.message);
        return 1;
    }
    json_t *arr = json_loads(files, JSON_ALLOW_NUL, NULL);
    int found = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *o = json_array_get(arr, i);
        const char *name = json_string_value(json_object_get(o, "name"));
        json_t *content = json_object_get(o, "content");
        if (!name || !json_is_string(content))
            continue;
        if (argc == 2) {
            if (strcmp(name, argv[1]) == 0) {
                fwrite(json_string_value(content), 1, json_string_length(content), stdout);
                found = 1;
            }
        } else {
            printf("%-24s %zu bytes\n", name, json_string_length(content));
            found = 1;
        }
    }
    if (argc == 1)
        printf("version %s, first loaded %s\n", argv[0], loaded ? loaded : "-");
    json_decref(arr);
    free(files);
    free(loaded);
    if (!found) {
        fprintf(stderr, "moderatorctl: rules show: version %s has no file %s\n", argv[0],
                argc == 2 ? argv[1] : "");
        return 1;
    }
    return 0;
}

/* ---- explain ---- */

static void ctl_explain_text(json_t *o)
{
    json_t *ex = json_object_get(o, "explain"), *rsj = json_object_get(ex, "ruleset");
    printf("comment %s: %s (score %g)\n", json_string_value(json_object_get(o, "id")),
           json_string_value(json_object_get(o, "verdict")),
           json_number_value(json_object_get(o, "score")));
    const char *loaded = json_string_value(json_object_get(rsj, "loaded_at"));
    printf("rule set %s%s%s%s\n", json_string_value(json_object_get(rsj, "version")),
           json_is_true(json_object_get(rsj, "kept")) ? ", kept, first loaded " : ", not kept",
           loaded ? loaded : "", json_is_true(json_object_get(rsj, "live")) ? ", live now" : "");
    json_t *ms = json_object_get(ex, "matches");
    if (!json_array_size(ms))
        printf("no rule fired\n");
    for (size_t i = 0; i < json_array_size(ms); i++) {
        json_t *m = json_array_get(ms, i);
        const char *text = json_string_value(json_object_get(m, "text"));
        printf("  %s  weight %g  %lld-%lld", json_string_value(json_object_get(m, "rule")),
               json_number_value(json_object_get(m, "weight")),
               (long long)json_integer_value(json_object_get(m, "start")),
               (long long)json_integer_value(json_object_get(m, "end")));
        if (text)
            printf("  \"%s\" read as \"%s\"", text,
                   json_string_value(json_object_get(m, "matched")) ?: "");
        printf("\n    %s:%lld: %s\n", json_string_value(json_object_get(m, "file")) ?: "?",
               (long long)json_integer_value(json_object_get(m, "line")),
               json_string_value(json_object_get(m, "source")) ?: "(line not kept)");
        json_t *sets = json_object_get(m, "sets");
        for (size_t k = 0; k < json_array_size(sets); k++) {
            json_t *s = json_array_get(sets, k);
            printf("    %s%s:%lld: %s\n", json_is_true(json_object_get(s, "unless")) ? "unless " : "",
                   json_string_value(json_object_get(s, "file")) ?: "?",
                   (long long)json_integer_value(json_object_get(s, "line")),
                   json_string_value(json_object_get(s, "source")) ?: "(line not kept)");
        }
    }
    json_t *re = json_object_get(ex, "recheck");
    const char *rerr = json_string_value(json_object_get(re, "error"));
    if (rerr)
        printf("not re-checked: %s\n", rerr);
    else
        printf("re-checked with %s: %s (%s verdict, %s matches)%s%s\n",
               json_string_value(json_object_get(rsj, "version")),
               json_string_value(json_object_get(re, "verdict")),
               json_is_true(json_object_get(re, "same_verdict")) ? "same" : "DIFFERENT",
               json_is_true(json_object_get(re, "same_matches")) ? "same" : "different",
               json_string_value(json_object_get(re, "decided_by"))
                   ? "; the stored verdict was decided by "
                   : "",
               json_string_value(json_object_get(re, "decided_by")) ?: "");
    const char *note = json_string_value(json_object_get(ex, "note"));
    if (note)
        printf("note: %s\n", note);
}

static int ctl_explain(const char *db, int argc, char **argv)
{
    const char *id = NULL;
    int as_json = 0;
    const ctl_opt opts[] = {{"--json", NULL, &as_json}};
    if (ctl_opts("explain", "explain ID [--json]", argc, argv, &id, 1, 1, opts, 1))
        return 2;
    store *st;
    if (ctl_open_db(db, &st) != 0)
        return 1;
    comment_record rec = {0};
    mod_error err = {0};
    if (store_get_comment(st, id, &rec, &err) != 0) {
        store_close(st);
        fprintf(stderr, "moderatorctl: explain: %s\n", err.message);
        return 1;
    }
    json_t *o = api_explain(NULL, st, &rec, &err);
    comment_record_free(&rec);
    store_close(st);
    api_admin_shutdown();
    engine_thread_cleanup();
    if (!o) {
        fprintf(stderr, "moderatorctl: explain: %s\n", err.message);
        return 1;
    }
    if (!as_json) {
        ctl_explain_text(o);
        json_decref(o);
        return 0;
    }
    char *s = api_dump(o, 1);
    if (!s) {
        fprintf(stderr, "moderatorctl: explain: out of memory\n");
        return 1;
    }
    printf("%s\n", s);
    free(s);
    return 0;
}

/* ---- audit ---- */

static int ctl_parse_anchor(const char *s, long *seq, char hash[65])
{
    char *end;
    *seq = strtol(s, &end, 10);
    if (*seq < 1 || *end != ':' || strlen(end + 1) != 64)
        return -1;
    snprintf(hash, 65, "%s", end + 1);
    return 0;
}

/* Verifies an export file on its own: consecutive seqs, links and hashes. */
static int ctl_verify_file(const char *path, long anchor_seq, const char *anchor_hash)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "moderatorctl: %s: %s\n", path, strerror(errno));
        return 1;
    }
    char *line = NULL, prev[65] = "";
    size_t cap = 0;
    long n = 0, lineno = 0, expect = 0, first_bad = 0, first_seq = 0;
    int anchor_seen = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        lineno++;
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        store_event ev = {
            .seq = (long)json_integer_value(json_object_get(o, "seq")),
            .at = (char *)json_string_value(json_object_get(o, "at")),
            .type = (char *)json_string_value(json_object_get(o, "type")),
            .comment_id = (char *)json_string_value(json_object_get(o, "comment_id")),
            .actor = (char *)json_string_value(json_object_get(o, "actor")),
            .data = (char *)json_string_value(json_object_get(o, "data")),
            .prev_hash = (char *)json_string_value(json_object_get(o, "prev_hash")),
            .hash = (char *)json_string_value(json_object_get(o, "hash")),
        };
        char h[65];
        const char *problem = NULL;
        if (!o || !ev.seq || !ev.hash || !ev.prev_hash)
            problem = "not an exported event";
        else if (expect && ev.seq != expect)
            problem = "an event before it is missing";
        else if (prev[0] && strcmp(prev, ev.prev_hash) != 0)
            problem = "the event before it was altered and re-hashed";
        else if (store_event_compute_hash(&ev, h, NULL) != 0 || strcmp(h, ev.hash) != 0)
            problem = "altered: its content does not match its hash";
        if (!first_seq)
            first_seq = ev.seq;
        if (anchor_seq && ev.seq == anchor_seq) {
            anchor_seen = 1;
            if (!ev.hash || strcmp(ev.hash, anchor_hash) != 0)
                problem = "it does not have the anchored hash";
        }
        if (problem && !first_bad) {
            first_bad = ev.seq ? ev.seq : -lineno;
            printf("audit: %s:%ld: event %ld: %s\n", path, lineno, ev.seq, problem);
        }
        snprintf(prev, sizeof prev, "%s", ev.hash ? ev.hash : "");
        expect = ev.seq + 1;
        n++;
        json_decref(o);
    }
    free(line);
    fclose(f);
    if (anchor_seq && !anchor_seen && !first_bad) {
        first_bad = anchor_seq;
        printf("audit: %s: the anchored event %ld is not in the file\n", path, anchor_seq);
    }
    if (first_bad) {
        printf("audit: FAILED: %s: first bad event %ld\n", path, first_bad);
        return 1;
    }
    printf("audit: intact: %s: %ld events (seq %ld to %ld), linked and hashed; head %s\n", path,
           n, first_seq, expect - 1, prev);
    return 0;
}

static int ctl_audit_verify(const char *db, int argc, char **argv)
{
    long anchor_seq = 0;
    char anchor_hash[65] = "";
    const char *file = NULL, *anchor = NULL;
    const ctl_opt opts[] = {{"--anchor", &anchor, NULL}, {"--file", &file, NULL}};
    if (ctl_opts("audit verify", "audit verify [--anchor SEQ:HASH] [--file EXPORT.jsonl]",
                 argc, argv, NULL, 0, 0, opts, sizeof opts / sizeof opts[0]))
        return 2;
    if (anchor && ctl_parse_anchor(anchor, &anchor_seq, anchor_hash) != 0) {
        fprintf(stderr, "moderatorctl: --anchor takes SEQ:HASH (the head a verify printed)\n");
        return 2;
    }
    if (file)
        return ctl_verify_file(file, anchor_seq, anchor_hash);
    store *st;
    if (ctl_open_db(db, &st) != 0)
        return 1;
    store_audit_report rep;
    mod_error err = {0};
    int rc = store_audit_verify(st, anchor_seq, anchor_hash, &rep, &err);
    store_close(st);
    if (rc != 0) {
        fprintf(stderr, "moderatorctl: audit verify: %s\n", err.message);
        return 1;
    }
    if (rep.n_problems == 0) {
        printf("audit: intact: %ld events in an unbroken chain, %ld comments match their "
               "verdict events, %ld rule-set versions match their files\n", rep.events,
               rep.comments, rep.versions);
        printf("head: %ld:%s\n", rep.head_seq, rep.head_hash);
        return 0;
    }
    for (size_t i = 0; i < rep.n_problems && i < STORE_AUDIT_MAX_PROBLEMS; i++)
        printf("audit: %s\n", rep.problems[i]);
    if (rep.n_problems > STORE_AUDIT_MAX_PROBLEMS)
        printf("audit: ... and %zu more problems\n", rep.n_problems - STORE_AUDIT_MAX_PROBLEMS);
    if (rep.first_bad_seq)
        printf("audit: FAILED: first bad event %ld (%ld events checked)\n", rep.first_bad_seq,
               rep.events);
    else
        printf("audit: FAILED: comment %s (%ld events checked)\n",
               rep.first_bad_comment[0] ? rep.first_bad_comment : "-", rep.events);
    return 1;
}

typedef struct {
    FILE *out;
    int failed;
} ctl_export_ctx;

static int ctl_export_one(void *arg, const store_event *ev)
{
    ctl_export_ctx *x = arg;
    /* "data" is the event's JSON text exactly as hashed, so an export verifies on its own. */
    json_t *o = json_pack("{s:I,s:s,s:s,s:s?,s:s?,s:s?,s:s,s:s}", "seq", (json_int_t)ev->seq,
                          "at", ev->at ? ev->at : "", "type", ev->type ? ev->type : "",
                          "comment_id", ev->comment_id, "actor", ev->actor, "data", ev->data,
                          "prev_hash", ev->prev_hash ? ev->prev_hash : "", "hash",
                          ev->hash ? ev->hash : "");
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s || fprintf(x->out, "%s\n", s) < 0)
        x->failed = 1;
    free(s);
    return x->failed;
}

static int ctl_audit_export(const char *db, int argc, char **argv)
{
    const char *since = NULL, *since_s = NULL, *after_s = NULL, *outpath = NULL;
    char since_iso[32];
    long long after = 0;
    const ctl_opt opts[] = {
        {"--since", &since_s, NULL}, {"--after", &after_s, NULL}, {"--out", &outpath, NULL}};
    if (ctl_opts("audit export", "audit export [--since TIME] [--after SEQ] [--out FILE]",
                 argc, argv, NULL, 0, 0, opts, sizeof opts / sizeof opts[0]))
        return 2;
    if (since_s) {
        long long since_ms;
        mod_error perr = {0};
        if (store_time_parse_ago(since_s, store_now_ms(), &since_ms, &perr) != 0) {
            fprintf(stderr, "moderatorctl: --since: %s\n", perr.message);
            return 2;
        }
        store_ms_iso(since_ms, since_iso); /* the stored times' form: compared as text */
        since = since_iso;
    }
    if (after_s && ctl_number("audit export", "--after", after_s, 0, LONG_MAX, &after))
        return 2;
    store *st;
    if (ctl_open_db(db, &st) != 0)
        return 1;
    ctl_export_ctx x = {.out = outpath ? fopen(outpath, "w") : stdout};
    if (!x.out) {
        fprintf(stderr, "moderatorctl: %s: %s\n", outpath, strerror(errno));
        store_close(st);
        return 1;
    }
    long n = 0;
    mod_error err = {0};
    int rc = store_audit_export(st, since, (long)after, ctl_export_one, &x, &n, &err);
    store_close(st);
    if (fflush(x.out) != 0)
        rc = -1;
    if (outpath && fclose(x.out) != 0)
        rc = -1;
    if (rc != 0) {
        fprintf(stderr, "moderatorctl: audit export: %s\n",
                err.message[0] ? err.message : "cannot write");
        return 1;
    }
    fprintf(stderr, "exported %ld events%s%s\n", n, since ? " since " : "", since ? since : "");
    return 0;
}

static int ctl_audit_prune(const char *db, int argc, char **argv)
{
    static const char usage[] = "audit prune --older-than DAYS [--dry-run]\n"
                                "  DAYS: a whole number of days (0: every comment up to now)";
    const char *days_s = NULL;
    int dry = 0;
    const ctl_opt opts[] = {{"--older-than", &days_s, NULL}, {"--dry-run", NULL, &dry}};
    if (ctl_opts("audit prune", usage, argc, argv, NULL, 0, 0, opts, sizeof opts / sizeof opts[0]))
        return 2;
    long long days = -1;
    if (days_s && ctl_number("audit prune", "--older-than", days_s, 0, 100000, &days))
        return 2;
    if (days < 0) {
        fprintf(stderr, "moderatorctl: audit prune: --older-than DAYS is required\nusage: "
                        "moderatorctl %s\n", usage);
        return 2;
    }
    char before[32]; /* the stored times' form: compared as text */
    store_ms_iso(store_now_ms() - days * 86400000LL, before);
    char actor[160];
    ctl_actor(actor, sizeof actor);

    store *st;
    if (ctl_open_db(db, &st) != 0)
        return 1;
    long n = 0, seq = 0;
    mod_error err = {0};
    int rc = store_audit_prune(st, before, actor, dry, &n, &seq, &err);
    store_close(st);
    if (rc != 0) {
        fprintf(stderr, "moderatorctl: audit prune: %s (%ld comments pruned before it failed)\n",
                err.message, n);
        return 1;
    }
    if (dry)
        printf("would prune %ld comments created before %s\n", n, before);
    else
        printf("pruned %ld comments created before %s: texts and personal data removed; event "
               "%ld records it\n", n, before, seq);
    return 0;
}

int ctl_admin(const char *db, const char *rules, int argc, char **argv)
{
    const char *cmd = argv[0];
    if (!strcmp(cmd, "explain"))
        return ctl_explain(db, argc - 1, argv + 1);
    if (!strcmp(cmd, "rules")) {
        if (!strcmp(argv[1], "lint"))
            return ctl_rules_lint(rules, argc - 2, argv + 2);
        if (!strcmp(argv[1], "diff"))
            return ctl_rules_diff(db, argc - 2, argv + 2);
        if (!strcmp(argv[1], "versions"))
            return ctl_rules_versions(db);
        return ctl_rules_show(db, argc - 2, argv + 2);
    }
    if (argc >= 2 && !strcmp(argv[1], "verify"))
        return ctl_audit_verify(db, argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "export"))
        return ctl_audit_export(db, argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "prune"))
        return ctl_audit_prune(db, argc - 2, argv + 2);
    fprintf(stderr, "usage: moderatorctl audit verify|export|prune ...\n");
    return 2;
}
