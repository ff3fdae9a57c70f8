/* reload.h - rule-set reloads. SIGHUP, a change in the rules directory (inotify, debounced) and
 * POST /v1/rules/reload all go to one thread, which builds the new set beside the live one, keeps
 * its files in the store with a "reload" event, and swaps it in with api_swap_ruleset. A set that
 * does not build never replaces the live one; the error stays visible until a reload succeeds.
 * No request thread ever waits for a build. */
#ifndef MODERATORD_RELOAD_H
#define MODERATORD_RELOAD_H

#include <stddef.h>

#include "api.h"
#include "ruleset.h"
#include "store.h"

typedef struct {
    const char *rules_dir;
    const char *thresholds; /* NULL or "": rules_dir/policy.conf */
    int watch;              /* reload on changes in the rules directory (inotify) */
    unsigned delay_ms;      /* quiet time after the last change before a watched reload */
    int strict;             /* failing examples make a set fail to load */
} reload_config;

/*
 * Builds the rule set cfg names: the files of the rules directory, with the thresholds file read
 * as its policy.conf when one is set (diagnostics name the thresholds file by its path). Every
 * file must be UTF-8 (each version is kept in the store as text). The examples in the files are
 * run: a failure is a warning, or an error with cfg->strict. With lint, ruleset_lint's warnings
 * are added too. Returns 0 with *out, or -1 with every problem in diags and the first in err.
 */
int reload_build(const reload_config *cfg, int lint, mod_ruleset **out, rule_diags *diags,
                 mod_error *err);

/* The outcome of one reload attempt. Strings are owned by the struct. */
typedef struct {
    int ok;              /* the files built (and the set is live, if it changed) */
    int changed;         /* a new version went live */
    char version[17];    /* the live version after the attempt */
    char previous[17];   /* the live version before it */
    char at[32];         /* when it finished, ISO-8601 UTC */
    char trigger[16];    /* "start", "SIGHUP", "inotify", "api" */
    char actor[128];     /* the API key's name, or the trigger */
    char *error;         /* the first error as file:line:col: message (hint); NULL when ok */
    char **diags;        /* every diagnostic of the attempt, formatted */
    size_t n_diags, warnings;
    long examples_passed, examples_failed;
    double build_ms;
} reload_result;

void reload_result_free(reload_result *r);

typedef struct reloader reloader;

/*
 * Starts the reload thread for api, whose live set was built from cfg. The live version's files
 * are kept in the store with a "reload" event (trigger "start") first: -1 with err if the store
 * refuses. cfg's strings are copied.
 */
int reload_start(const reload_config *cfg, api_ctx *api, store *st, reloader **out,
                 mod_error *err);
/* Stops the thread; a pending API reload is answered with an error first. */
void reload_stop(reloader *r);

/* Asks for a reload and returns at once (SIGHUP). */
void reload_request(reloader *r, const char *trigger);

/* Asks for a reload now; done(ctx, result) is called on the reload thread once it is over (for
 * POST /v1/rules/reload, whose request stays suspended meanwhile). Returns -1 when stopping. */
typedef void (*reload_done_fn)(void *ctx, const reload_result *res);
int reload_async(reloader *r, const char *trigger, const char *actor, reload_done_fn done,
                 void *ctx);

/* What GET /v1/rules shows besides the live set itself. Strings owned by the struct. */
typedef struct {
    char live_since[32];     /* when the live version went live */
    char live_trigger[16];
    reload_result last;      /* the last attempt */
    reload_result last_error;/* the last failed attempt (ok = 1, at = "" when none yet) */
    long attempts, failures;
    int watching;            /* inotify is on the rules directory */
    char *rules_dir, *thresholds;
    mod_ruleset *live;       /* the live set, taken with the rest (released by _free) */
} reload_status;

void reload_status_get(reloader *r, reload_status *out);
void reload_status_free(reload_status *s);

#endif
