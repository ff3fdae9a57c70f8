/* main.c - moderatord: flags, start-up order (rules, store, API, HTTP), signals, orderly stop. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_admin.h"
#include "api_compat.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "reload.h"
#include "ruleset.h"
#include "static.h"
#include "store.h"

/* Loads the rules as configured (the thresholds file in place of policy.conf), printing every
 * diagnostic as file:line:col: message (hint); with lint, the lint warnings too. Returns the set,
 * or NULL when it does not load. */
static mod_ruleset *main_load_rules(const reload_config *rc, int lint, FILE *out)
{
    mod_ruleset *rs = NULL;
    rule_diags diags = {0};
    mod_error err = {0};
    int rc_load = reload_build(rc, lint, &rs, &diags, &err);
    diags_print(&diags, out);
    if (rc_load != 0 && diags_errors(&diags) == 0)
        fprintf(out, "%s: %s\n", rc->rules_dir, err.message); /* e.g. the directory is missing */
    diags_free(&diags);
    return rc_load == 0 ? rs : NULL;
}

int main(int argc, char **argv)
{
    /* Settings: built-in defaults, then the config file, then the flags (config.c). */
    config cfg;
    config_defaults(&cfg);
    config_action action;
    config_errors errs = {0};
    int bad = config_from_args(argc, argv, &cfg, &action, &errs) != 0;
    for (size_t i = 0; i < errs.count; i++)
        fprintf(stderr, "moderatord: %s\n", errs.items[i]);
    config_errors_free(&errs);
    if (action == CONFIG_HELP) {
        config_usage(stdout);
        config_free(&cfg);
        return 0;
    }
    int check_only = action == CONFIG_CHECK;
    if (bad) {
        fprintf(stderr, "moderatord: the settings have errors (moderatord -h lists them)\n");
        config_free(&cfg);
        return check_only ? 1 : 2;
    }
    log_set_level((log_level)cfg.log_level);
    const char *rules = cfg.rules, *db = cfg.db;
    size_t max_body = cfg.max_body;
    compat_config compat = {.coral_budget_ms = cfg.coral_budget_ms,
                            .perspective_budget_ms = cfg.perspective_budget_ms};
    reload_config rcfg = {.rules_dir = cfg.rules, .thresholds = cfg.thresholds,
                          .watch = cfg.watch_rules, .delay_ms = cfg.reload_delay,
                          .strict = cfg.rules_strict};

    char host[256];
    unsigned port;
    mod_error err = {0};
    if (http_parse_listen(cfg.listen, host, sizeof host, &port, &err) != 0) {
        fprintf(stderr, "moderatord: listen: %s\n", err.message);
        config_free(&cfg);
        return check_only ? 1 : 2;
    }

    if (cfg.coral_secret_file[0] &&
        compat_load_coral_secrets(&compat, cfg.coral_secret_file, &err) != 0) {
        fprintf(stderr, "moderatord: coral_secret_file: %s\n", err.message);
        compat_config_free(&compat);
        config_free(&cfg);
        return check_only ? 1 : 2;
    }

    if (check_only) {
        /* The same checks as `moderatorctl rules lint`: every error and warning. */
        compat_config_free(&compat);
        if (cfg.config_file)
            fprintf(stderr, "settings read from %s\n", cfg.config_file);
        mod_ruleset *rs = main_load_rules(&rcfg, 1, stderr);
        config_free(&cfg);
        if (!rs)
            return 1;
        ruleset_unref(rs);
        engine_thread_cleanup();
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

    log_msg("moderatord starting: rules %s, db %s%s%s", rules, db,
            cfg.config_file ? ", settings " : "", cfg.config_file ? cfg.config_file : "");
    mod_ruleset *rs = main_load_rules(&rcfg, 0, stderr);
    if (!rs) {
        log_at(LOGL_ERROR, "rules do not load; not starting");
        compat_config_free(&compat);
        config_free(&cfg);
        return 1;
    }
    log_msg("rules loaded: version %s", ruleset_version(rs));

    /* From here on every way out goes through the same teardown, in the order a running daemon
     * stops: no new requests, in-flight ones answered (each after its commit, an API reload after
     * its build), then the reload thread, the writer drained, the rule set freed. */
    int rc = 1, compat_started = 0;
    store *st = NULL;
    api_ctx *api = NULL;
    reloader *reload = NULL;
    http_server *srv = NULL;
    if (store_open(db, 1, &st, &err) != 0) {
        log_at(LOGL_ERROR, "cannot open the store %s: %s", db, err.message);
        goto out;
    }
    if (!(api = api_new(st, rs))) {
        log_at(LOGL_ERROR, "out of memory");
        goto out;
    }
    rs = NULL; /* the API holds it now */
    /* The live version's files go into the store before any verdict names it; from here on the
     * reload thread owns rule-set changes (SIGHUP, the rules directory, POST /v1/rules/reload). */
    if (reload_start(&rcfg, api, st, &reload, &err) != 0) {
        log_at(LOGL_ERROR, "rules: %s", err.message);
        goto out;
    }
    api_admin_init(reload);
    if (static_set_root(cfg.web, &err) != 0) /* the API works without the page */
        log_msg("review page unavailable (/moderate answers 404): %s", err.message);
    store_set_batch_observer(st, metrics_writer_batch, NULL);
    if (compat_start(&compat, &err) != 0) {
        log_at(LOGL_ERROR, "%s", err.message);
        goto out;
    }
    compat_started = 1;
    http_config hc = {.listen = cfg.listen, .max_body = max_body, .threads = cfg.threads,
                      .conn_limit = cfg.max_connections,
                      .per_ip_limit = cfg.max_connections_per_ip,
                      .timeout_s = cfg.connection_timeout};
    if (http_start(&hc, api, &srv, &err) != 0) {
        log_at(LOGL_ERROR, "%s", err.message);
        goto out;
    }
    printf("listening on %s\n", http_address(srv));
    fflush(stdout);
    log_msg("listening on %s (max body %zu bytes, log level %s)", http_address(srv), max_body,
            log_level_name((log_level)cfg.log_level));

    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            log_msg("SIGHUP: reloading rules from %s", rules);
            reload_request(reload, "SIGHUP");
            continue;
        }
        log_msg("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
        break;
    }

    http_stop(srv, 5000);
    rc = 0;
out:
    if (compat_started)
        compat_stop(); /* wakes any reply still waiting on its budget */
    if (reload)
        reload_stop(reload);
    store_close(st);
    api_admin_shutdown();
    api_free(api);
    if (rs)
        ruleset_unref(rs);
    compat_config_free(&compat);
    config_free(&cfg);
    if (rc == 0)
        log_msg("stopped");
    return rc;
}
