/* main.c - moderatord: flags, start-up order (rules, store, API, HTTP), signals, orderly stop. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_compat.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "ruleset.h"
#include "static.h"
#include "store.h"

#define MAIN_DEFAULT_LISTEN "127.0.0.1:8080"
#define MAIN_DEFAULT_DB "/var/lib/moderatord/moderatord.db"
#define MAIN_DEFAULT_RULES "/etc/moderatord/rules"

static void main_usage(FILE *f)
{
    fprintf(f,
            "usage: moderatord [--listen ADDR:PORT] [--db PATH] [--rules DIR] [--max-body BYTES]\n"
            "                  [--web DIR] [-n]\n"
            "  --listen ADDR:PORT  address to serve on (default " MAIN_DEFAULT_LISTEN
            "; port 0 = any free port)\n"
            "  --db PATH           SQLite database (default " MAIN_DEFAULT_DB ")\n"
            "  --rules DIR         rules directory (default " MAIN_DEFAULT_RULES ")\n"
            "  --max-body BYTES    largest request body accepted, e.g. 65536 or 64K (default 64K)\n"
            "  --web DIR           the review page's files, served at /moderate from DIR/moderate\n"
            "                      (default ./" STATIC_DEFAULT_WEB ")\n"
            "  --coral-secret-file PATH  Coral's phase signing secret(s), one per line; turns on\n"
            "                      POST /v1/integrations/coral/phase\n"
            "  --coral-budget-ms MS        answer a Coral phase within MS (default 500; 0 = wait\n"
            "                      for the commit)\n"
            "  --perspective-budget-ms MS  the same for comments:analyze (default 600)\n"
            "  -n                  check the configuration and rules, print the result, exit\n"
            "  -h, --help          this help\n"
            "Signals: SIGTERM/SIGINT stop after the requests in flight; SIGHUP reloads the rules.\n");
}

/* "65536", "64K", "1M". Returns 0 on success. */
static int main_parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-')
        return -1;
    if (*end == 'K' || *end == 'k')
        n *= 1024, end++;
    else if (*end == 'M' || *end == 'm')
        n *= 1024 * 1024, end++;
    if (*end || n == 0 || n > 1024ULL * 1024 * 1024)
        return -1;
    *out = (size_t)n;
    return 0;
}

/* Loads the rules, printing every diagnostic (errors and warnings) as file:line:col: message.
 * Returns the set, or NULL when it does not load. */
static mod_ruleset *main_load_rules(const char *dir, FILE *out)
{
    mod_ruleset *rs = NULL;
    rule_diags diags = {0};
    mod_error err = {0};
    int rc = ruleset_load(dir, &rs, &diags, &err);
    for (size_t i = 0; i < diags.count; i++) {
        char *line = diag_format(&diags.items[i]);
        if (line) {
            fprintf(out, "%s\n", line);
            free(line);
        }
    }
    if (rc != 0 && diags_errors(&diags) == 0)
        fprintf(out, "%s: %s\n", dir, err.message); /* e.g. the directory itself is missing */
    diags_free(&diags);
    return rc == 0 ? rs : NULL;
}

/* SIGHUP: builds the new set beside the live one and swaps it in; a broken edit keeps the old.
 * (Issue 5 adds inotify, POST /v1/rules/reload and keeping the last error for GET /v1/rules.) */
static void main_reload(api_ctx *api, const char *dir)
{
    log_msg("SIGHUP: reloading rules from %s", dir);
    mod_ruleset *rs = main_load_rules(dir, stderr);
    if (!rs) {
        log_msg("reload failed; still serving the previous rule set");
        metrics_reload_failed();
        return;
    }
    log_msg("rules reloaded: version %s", ruleset_version(rs));
    metrics_reload_succeeded();
    api_swap_ruleset(api, rs);
}

int main(int argc, char **argv)
{
    const char *listen = MAIN_DEFAULT_LISTEN, *db = MAIN_DEFAULT_DB, *rules = MAIN_DEFAULT_RULES;
    size_t max_body = HTTP_DEFAULT_MAX_BODY;
    const char *web = STATIC_DEFAULT_WEB;
    int check_only = 0;
    const char *coral_secret_file = NULL;
    compat_config compat = {.coral_budget_ms = COMPAT_DEFAULT_CORAL_BUDGET_MS,
                            .perspective_budget_ms = COMPAT_DEFAULT_PERSPECTIVE_BUDGET_MS};
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'}, {"db", required_argument, NULL, 'd'},
        {"rules", required_argument, NULL, 'r'},  {"max-body", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},         {"web", required_argument, NULL, 'w'},
        {"coral-secret-file", required_argument, NULL, 'C'},
        {"coral-budget-ms", required_argument, NULL, 'B'},
        {"perspective-budget-ms", required_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "nh", opts, NULL)) != -1) {
        switch (c) {
        case 'l': listen = optarg; break;
        case 'd': db = optarg; break;
        case 'r': rules = optarg; break;
        case 'w': web = optarg; break;
        case 'C': coral_secret_file = optarg; break;
        case 'B':
        case 'P': {
            char *end;
            errno = 0;
            unsigned long ms = strtoul(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-' || ms > 600000) {
                fprintf(stderr, "moderatord: --%s: \"%s\" is not milliseconds (0-600000)\n",
                        c == 'B' ? "coral-budget-ms" : "perspective-budget-ms", optarg);
                return 2;
            }
            if (c == 'B')
                compat.coral_budget_ms = (unsigned)ms;
            else
                compat.perspective_budget_ms = (unsigned)ms;
            break;
        }
        case 'b':
            if (main_parse_size(optarg, &max_body) != 0) {
                fprintf(stderr, "moderatord: --max-body: \"%s\" is not a size in bytes\n", optarg);
                return 2;
            }
            break;
        case 'n': check_only = 1; break;
        case 'h': main_usage(stdout); return 0;
        default: main_usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "moderatord: unexpected argument \"%s\"\n", argv[optind]);
        main_usage(stderr);
        return 2;
    }

    char host[256];
    unsigned port;
    mod_error err = {0};
    if (http_parse_listen(listen, host, sizeof host, &port, &err) != 0) {
        fprintf(stderr, "moderatord: --listen: %s\n", err.message);
        return check_only ? 1 : 2;
    }

    if (coral_secret_file && compat_load_coral_secrets(&compat, coral_secret_file, &err) != 0) {
        fprintf(stderr, "moderatord: --coral-secret-file: %s\n", err.message);
        compat_config_free(&compat);
        return check_only ? 1 : 2;
    }

    if (check_only) {
        compat_config_free(&compat);
        mod_ruleset *rs = main_load_rules(rules, stderr);
        if (!rs)
            return 1;
        ruleset_unref(rs);
        printf("configuration OK\n");
        return 0;
    }

    /* Signals go to this thread only (sigwait below): every thread started from here inherits
     * the mask, so no request thread is interrupted. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    log_msg("moderatord starting: rules %s, db %s", rules, db);
    mod_ruleset *rs = main_load_rules(rules, stderr);
    if (!rs) {
        log_msg("rules do not load; not starting");
        return 1;
    }
    log_msg("rules loaded: version %s", ruleset_version(rs));

    store *st = NULL;
    if (store_open(db, 1, &st, &err) != 0) {
        log_msg("cannot open the store %s: %s", db, err.message);
        ruleset_unref(rs);
        return 1;
    }
    api_ctx *api = api_new(st, rs);
    if (!api) {
        log_msg("out of memory");
        ruleset_unref(rs);
        store_close(st);
        return 1;
    }
    if (static_set_root(web, &err) != 0) /* the API works without the page */
        log_msg("review page unavailable (/moderate answers 404): %s", err.message);
    store_set_batch_observer(st, metrics_writer_batch, NULL);
    if (compat_start(&compat, &err) != 0) {
        log_msg("%s", err.message);
        api_free(api);
        store_close(st);
        compat_config_free(&compat);
        return 1;
    }
    http_config hc = {.listen = listen, .max_body = max_body};
    http_server *srv = NULL;
    if (http_start(&hc, api, &srv, &err) != 0) {
        log_msg("%s", err.message);
        compat_stop();
        api_free(api);
        store_close(st);
        compat_config_free(&compat);
        return 1;
    }
    printf("listening on %s\n", http_address(srv));
    fflush(stdout);
    log_msg("listening on %s (max body %zu bytes)", http_address(srv), max_body);

    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            main_reload(api, rules);
            continue;
        }
        log_msg("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
        break;
    }

    /* Order matters: no new requests, in-flight ones answered (each after its commit), then the
     * writer drained, then the rule set released. */
    http_stop(srv, 5000);
    compat_stop(); /* wakes any reply still waiting on its budget */
    store_close(st);
    api_free(api);
    compat_config_free(&compat);
    log_msg("stopped");
    return 0;
}
