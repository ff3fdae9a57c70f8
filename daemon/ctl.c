/* ctl.c - moderatorctl: API keys, stored records, and the engine run in-process on stdin
 * (same rules, same JSON as the daemon), plus the eval/cases drivers from eval.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "api_moderation.h"
#include "ctl_admin.h"
#include "ctl_common.h"
#include "ctl_moderation.h"
#include "engine.h"
#include "eval.h"
#include "ruleset.h"
#include "store.h"

#define CTL_DEFAULT_DB "/var/lib/moderatord/moderatord.db"
#define CTL_DEFAULT_RULES "rules"
#define CTL_MAX_INPUT (16u * 1024u * 1024u)

static void ctl_usage(FILE *f)
{
    fprintf(f,
            "usage: moderatorctl [--config FILE] [--db PATH] [--rules DIR] COMMAND\n"
            "  key add --role cms|moderator|admin [--name NAME]   create a key (printed last, once)\n"
            "  key list                                         list keys\n"
            "  key revoke ID|NAME                               revoke a key\n"
            "  show ID                                          a stored comment as JSON\n"
            "  check [--json]        score stdin (plain text, or {\"text\":..,\"parent_author\":..,\n"
            "                        \"mentions\":[..]}) with the rules, in-process\n"
            "  cases PATH...         run table-driven case files (*.cases) in-process\n"
            "  rules test [DIR]      run the examples inside the rule files\n"
            "  eval FILE.jsonl ...   measure the rules on labeled comments (see eval -h)\n");
    ctl_moderation_usage(f);
    ctl_admin_usage(f);
    fprintf(f, "defaults: --db " CTL_DEFAULT_DB ", --rules ./" CTL_DEFAULT_RULES "; the db, rules\n"
               "and thresholds of the daemon's settings (--config FILE, or the default\n"
               "/etc/moderatord/moderatord.conf when it exists) replace them\n");
}

/* ---- keys ---- */

static int ctl_key_add(const char *db, int argc, char **argv)
{
    const char *role = NULL, *name = NULL;
    const ctl_opt opts[] = {{"--role", &role, NULL}, {"--name", &name, NULL}};
    if (ctl_opts("key add", "key add --role cms|moderator|admin [--name NAME]", argc, argv, NULL,
                 0, 0, opts, 2))
        return 2;
    if (!role) {
        fprintf(stderr, "moderatorctl: key add needs --role cms|moderator|admin\n");
        return 2;
    }
    /* The name is the actor in every event the key causes, and events are JSON text. */
    int name_ok = !name || utf8_valid(name, strlen(name));
    for (const char *c = name; name_ok && c && *c; c++)
        name_ok = (unsigned char)*c >= 0x20 && *c != 0x7f;
    if (!name_ok) {
        fprintf(stderr, "moderatorctl: key add: a key's name is UTF-8 text without control "
                        "characters\n");
        return 2;
    }
    char defname[64];
    if (!name) {
        /* Every key has a name (it is the actor in the audit trail); make one up. */
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        char ts[32];
        strftime(ts, sizeof ts, "%Y%m%dT%H%M%S", &tm);
        snprintf(defname, sizeof defname, "%s-%s", role, ts);
        name = defname;
    }
    store *st;
    if (ctl_open_db(db, &st) != 0)
        return 1;
    char *key = NULL;
    mod_error err = {0};
    int rc = store_key_add(st, role, name, &key, &err);
    store_close(st);
    if (rc != 0) {
        fprintf(stderr, "moderatorctl: key add: %s\n", err.message);
        return 1;
    }
    printf("added %s key \"%s\"; it is shown only this once:\n%s\n", role, name, key);
    free(key);
    return 0;
}

static int ctl_key_list(const char *db)
{
    store *st;
    if (ctl_open_db(db, &st) != 0)
        return 1;
    api_key_info *keys = NULL;
    size_t n = 0;
    mod_error err = {0};
    int rc = store_key_list(st, &keys, &n, &err);
    store_close(st);
    if (rc != 0) {
        fprintf(stderr, "moderatorctl: key list: %s\n", err.message);
        return 1;
    }
    printf("%-5s %-24s %-10s %-25s %s\n", "ID", "NAME", "ROLE", "CREATED", "REVOKED");
    for (size_t i = 0; i < n; i++)
        printf("%-5ld %-24s %-10s %-25s %s\n", keys[i].id, keys[i].name ? keys[i].name : "",
               keys[i].role ? keys[i].role : "", keys[i].created_at ? keys[i].created_at : "",
               keys[i].revoked_at ? keys[i].revoked_at : "-");
    api_key_list_free(keys, n);
    return 0;
}

static int ctl_key_revoke(const char *db, const char *which)
{
    store *st;
    if (ctl_open_db(db, &st) != 0)
        return 1;
    mod_error err = {0};
    int rc = store_key_revoke(st, which, &err);
    store_close(st);
    if (rc != 0) {
        fprintf(stderr, "moderatorctl: key revoke: %s\n", err.message);
        return 1;
    }
    printf("revoked key %s\n", which);
    return 0;
}

static int ctl_key(const char *db, int argc, char **argv)
{
    if (argc >= 1 && !strcmp(argv[0], "add"))
        return ctl_key_add(db, argc - 1, argv + 1);
    if (argc == 1 && !strcmp(argv[0], "list"))
        return ctl_key_list(db);
    if (argc == 2 && !strcmp(argv[0], "revoke"))
        return ctl_key_revoke(db, argv[1]);
    fprintf(stderr, "moderatorctl: usage: key add --role ROLE [--name NAME] | key list | "
                    "key revoke ID|NAME\n");
    return 2;
}

/* ---- records ---- */

static int ctl_show(const char *db, const char *id)
{
    store *st;
    if (ctl_open_db(db, &st) != 0)
        return 1;
    comment_record rec = {0};
    mod_error err = {0};
    int rc = store_get_comment(st, id, &rec, &err);
    if (rc != 0) {
        store_close(st);
        fprintf(stderr, "moderatorctl: show: %s\n",
                err.code == ERR_NOT_FOUND ? "no comment with that id" : err.message);
        return 1;
    }
    /* As GET /v1/comments/{id} shows it: with state, reports, author record and history. */
    char *json = api_moderation_record_json(st, &rec, 1, &err);
    store_close(st);
    comment_record_free(&rec);
    if (!json) {
        fprintf(stderr, "moderatorctl: show: %s\n", err.message);
        return 1;
    }
    printf("%s\n", json);
    free(json);
    return 0;
}

/* ---- check ---- */

static char *ctl_read_stdin(size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, stdin);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            if (cap >= CTL_MAX_INPUT) {
                fprintf(stderr, "moderatorctl: check: input larger than %u bytes\n", CTL_MAX_INPUT);
                free(buf);
                return NULL;
            }
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                return NULL;
            }
            buf = b;
            cap *= 2;
        }
    }
    *len = n;
    return buf;
}

static void ctl_print_result(const mod_ruleset *rs, const mod_result *res)
{
    printf("verdict: %s\n", verdict_name(res->verdict));
    printf("score: %g (", res->score);
    for (int c = 0; c < CAT__COUNT; c++)
        printf("%s%s %g", c ? ", " : "", category_name((mod_category)c), res->categories[c]);
    printf(")\n");
    const policy_config *pol = ruleset_policy(rs);
    printf("thresholds (hold/block):");
    for (int c = 0; c < CAT__COUNT; c++)
        printf(" %s %g/%g", category_name((mod_category)c), pol->hold[c], pol->block[c]);
    printf(" total %g/%g\n", pol->total_hold, pol->total_block);
    printf("ruleset: %s\n", ruleset_version(rs));
    printf("matches: %zu\n", res->n_matches);
    for (size_t i = 0; i < res->n_matches; i++) {
        const mod_match *m = &res->matches[i];
        printf("  %s  %s  %g  %zu-%zu  \"%s\"  (%s)", m->rule, category_name(m->category),
               m->weight, m->start, m->end, m->text ? m->text : "", m->matched ? m->matched : "");
        if (m->ctx_text)
            printf("  aimed by %zu-%zu \"%s\"", m->ctx_start, m->ctx_end, m->ctx_text);
        printf("  %s:%d\n", m->file ? m->file : "?", m->line);
    }
}

static int ctl_check(const char *rules, int argc, char **argv)
{
    int json_out = 0;
    const ctl_opt opts[] = {{"--json", NULL, &json_out}};
    if (ctl_opts("check", "check [--json] < COMMENT (plain text, or JSON)", argc, argv, NULL, 0, 0,
                 opts, 1))
        return 2;
    size_t len = 0;
    char *input = ctl_read_stdin(&len);
    if (!input)
        return 1;

    api_comment c = {0};
    mod_input in = {0};
    mod_error err = {0};
    size_t skip = 0;
    while (skip < len && (input[skip] == ' ' || input[skip] == '\t' || input[skip] == '\n' ||
                          input[skip] == '\r'))
        skip++;
    if (skip < len && input[skip] == '{') {
        if (api_comment_parse(input, len, &c, &err) != 0) {
            fprintf(stderr, "moderatorctl: check: %s: %s\n", err_name(err.code), err.message);
            free(input);
            return 1;
        }
        in.text = c.text;
        in.len = c.text_len;
        in.participants = c.participants;
        in.n_participants = c.n_participants;
    } else {
        /* A line from echo or a file ends in a newline that is not part of the comment. */
        while (len && (input[len - 1] == '\n' || input[len - 1] == '\r'))
            len--;
        in.text = input;
        in.len = len;
    }

    int rc = 1;
    mod_ruleset *rs = ctl_load_rules(rules);
    if (!rs)
        goto out;
    mod_result res;
    memset(&res, 0, sizeof res);
    if (engine_check(rs, &in, &res, &err) != 0) {
        fprintf(stderr, "moderatorctl: check: %s: %s\n", err_name(err.code), err.message);
        goto out;
    }
    if (json_out) {
        char *json = api_check_json(rs, &res, 1);
        if (json)
            printf("%s\n", json);
        free(json);
    } else {
        ctl_print_result(rs, &res);
    }
    engine_result_free(&res);
    rc = 0;
out:
    if (rs)
        ruleset_unref(rs);
    api_comment_free(&c);
    free(input);
    engine_thread_cleanup();
    return rc;
}

/* ---- dispatch ---- */

int main(int argc, char **argv)
{
    const char *db = NULL, *rules = NULL, *config_file = NULL; /* NULL: not given */
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc) {
            db = argv[++i];
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            config_file = argv[++i];
        } else if (!strcmp(argv[i], "--rules") && i + 1 < argc) {
            rules = argv[++i];
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            ctl_usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "moderatorctl: unknown option \"%s\"\n", argv[i]);
            ctl_usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        ctl_usage(stderr);
        return 2;
    }
    /* Like --help: answers even when the settings file cannot be read. */
    if (!strcmp(argv[i], "help")) {
        ctl_usage(stdout);
        return 0;
    }
    /* The daemon's settings file: the same database, rules and thresholds as moderatord. */
    if (ctl_read_settings(config_file, &db, &rules) != 0)
        return 2;
    if (!db)
        db = CTL_DEFAULT_DB;
    if (!rules)
        rules = CTL_DEFAULT_RULES;
    const char *cmd = argv[i];
    int cargc = argc - i;
    char **cargv = argv + i;

    if (!strcmp(cmd, "key"))
        return ctl_key(db, cargc - 1, cargv + 1);
    if (!strcmp(cmd, "show") && cargc == 2)
        return ctl_show(db, cargv[1]);
    if (!strcmp(cmd, "check"))
        return ctl_check(rules, cargc - 1, cargv + 1);
    if (!strcmp(cmd, "eval"))
        return ctl_eval(rules, cargc, cargv);
    if (!strcmp(cmd, "cases"))
        return ctl_cases(rules, cargc, cargv);
    if (!strcmp(cmd, "rules") && cargc >= 2 && !strcmp(cargv[1], "test"))
        return ctl_rules_test(cargc >= 3 ? cargv[2] : rules);
    if (ctl_moderation_command(cmd)) /* queue, approve, reject, ban, probation, unban, author */
        return ctl_moderation(db, cargc, cargv);
    if (ctl_admin_command(cargc, cargv)) /* rules lint|diff|versions|show, explain, audit */
        return ctl_admin(db, rules, cargc, cargv);
    fprintf(stderr, "moderatorctl: unknown command \"%s\"\n", cmd);
    ctl_usage(stderr);
    return 2;
}
