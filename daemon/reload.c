/* reload.c - the reload thread: SIGHUP, inotify on the rules directory (debounced, so an editor's
 * burst of writes is one reload) and API requests; builds beside the live set, keeps the version
 * in the store, swaps it in, and remembers the outcome for GET /v1/rules. */
#include "reload.h"

#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "api_admin.h"
#include "api_internal.h" /* api_str */
#include "engine.h"
#include "lint.h"
#include "log.h"
#include "metrics.h"

/* ---- building ---- */

/* Byte offset of the first invalid UTF-8 sequence, or -1. */
static long reload_bad_utf8(const char *s, size_t len)
{
    if (utf8_valid(s, len))
        return -1;
    size_t i = 0;
    while (i < len) {
        size_t n = 1;
        while (n <= 4 && i + n <= len && !utf8_valid(s + i, n))
            n++;
        if (n > 4 || i + n > len)
            return (long)i;
        i += n;
    }
    return 0;
}

/* The examples in the files, scored: failures are warnings, or errors when strict. */
static void reload_examples(const mod_ruleset *rs, int strict, rule_diags *d, long *passed,
                            long *failed)
{
    size_t n;
    const rule_example *ex = ruleset_examples(rs, &n);
    *passed = *failed = 0;
    for (size_t i = 0; i < n; i++) {
        mod_input in = {.text = ex[i].text, .len = strlen(ex[i].text)};
        mod_result res;
        mod_error err;
        if (engine_check(rs, &in, &res, &err) != 0)
            continue;
        const char *got = verdict_name(res.verdict);
        if (strcmp(got, ex[i].expected) == 0) {
            (*passed)++;
        } else {
            (*failed)++;
            diags_add(d, strict ? DIAG_ERROR : DIAG_WARNING, ex[i].file, ex[i].line, 1,
                        "moderatorctl check shows which rules fire",
                        "example expects %s, the rules give %s: \"%s\"", ex[i].expected, got,
                        ex[i].text);
        }
        engine_result_free(&res);
    }
}

static int reload_build_counted(const reload_config *cfg, int lint, mod_ruleset **out,
                                rule_diags *diags, mod_error *err, long *passed, long *failed)
{
    size_t errors_before = diags_errors(diags);
    rule_file *files = NULL;
    size_t n = 0;
    if (ruleset_read_dir(cfg->rules_dir, &files, &n, diags, err) < 0) {
        diags_fill_hints(diags);
        return -1;
    }
    int have_thresholds = cfg->thresholds && *cfg->thresholds;
    if (have_thresholds) {
        /* The thresholds file stands in for policy.conf: same name in the set (and in the
         * version's hash), so a version is the same whichever way its thresholds came. */
        size_t len = 0;
        char *content = rule_file_read(cfg->thresholds, &len);
        if (!content) {
            diags_add(diags, DIAG_ERROR, cfg->thresholds, 0, 0, "check the file's permissions",
                      "cannot read: %s", strerror(errno));
        } else {
            size_t k = 0;
            while (k < n && strcmp(files[k].name, "policy.conf") != 0)
                k++;
            if (k == n) {
                rule_file *p = realloc(files, (n + 1) * sizeof *p);
                if (!p)
                    abort();
                files = p;
                files[n++] = (rule_file){.name = strdup("policy.conf")};
            } else {
                free(files[k].content);
            }
            files[k].content = content;
            files[k].len = len;
        }
    }
    for (size_t i = 0; i < n; i++) {
        long bad = reload_bad_utf8(files[i].content, files[i].len);
        if (bad < 0)
            continue;
        int line = 1, col = 1;
        for (long b = 0; b < bad; b++, col++)
            if (files[i].content[b] == '\n')
                line++, col = 0;
        const char *name = have_thresholds && !strcmp(files[i].name, "policy.conf")
                               ? cfg->thresholds
                               : files[i].name;
        diags_add(diags, DIAG_ERROR, name, line, col, "save the file as UTF-8",
                    "not valid UTF-8: every version's files are kept in the store as text");
    }
    mod_ruleset *rs = NULL;
    int rc = ruleset_build(files, n, &rs, diags, err);
    rule_files_free(files, n);
    if (have_thresholds)
        for (size_t i = 0; i < diags->count; i++)
            if (diags->items[i].file && !strcmp(diags->items[i].file, "policy.conf")) {
                char *p = strdup(cfg->thresholds);
                if (p) {
                    free(diags->items[i].file);
                    diags->items[i].file = p;
                }
            }
    if (rc == 0) {
        reload_examples(rs, cfg->strict, diags, passed, failed);
        if (lint)
            ruleset_lint(rs, diags);
    }
    diags_fill_hints(diags);
    diags_sort(diags);
    if (rc == 0 && diags_errors(diags) > errors_before) {
        ruleset_unref(rs);
        rs = NULL;
        rc = -1;
    }
    if (rc != 0) {
        diags_first_error(diags, err);
        return -1;
    }
    *out = rs;
    return 0;
}

int reload_build(const reload_config *cfg, int lint, mod_ruleset **out, rule_diags *diags,
                 mod_error *err)
{
    long passed, failed;
    rule_diags local = {0};
    int rc = reload_build_counted(cfg, lint, out, diags ? diags : &local, err, &passed, &failed);
    diags_free(&local);
    return rc;
}

/* ---- results ---- */

void reload_result_free(reload_result *r)
{
    if (!r)
        return;
    free(r->error);
    for (size_t i = 0; i < r->n_diags; i++)
        free(r->diags[i]);
    free(r->diags);
    memset(r, 0, sizeof *r);
}

static void reload_result_copy(reload_result *dst, const reload_result *src)
{
    *dst = *src;
    dst->error = src->error ? strdup(src->error) : NULL;
    dst->diags = src->n_diags ? calloc(src->n_diags, sizeof *dst->diags) : NULL;
    if (!dst->diags)
        dst->n_diags = 0;
    for (size_t i = 0; i < dst->n_diags; i++)
        dst->diags[i] = strdup(src->diags[i]);
}

static void reload_now(char out[32])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static double reload_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- the reloader ---- */

typedef struct reload_waiter {
    struct reload_waiter *next;
    reload_done_fn done;
    void *ctx;
    char actor[128];
} reload_waiter;

struct reloader {
    reload_config cfg;
    char *rules_dir, *thresholds;
    api_ctx *api;
    store *st;
    pthread_t thread;
    int started;
    int wake_fd;   /* eventfd: a request or stop */
    int ino_fd;    /* inotify, -1 when not watching */
    int wd_dir, wd_parent, wd_thresholds;
    char dir_base[NAME_MAX + 1], thr_base[NAME_MAX + 1];

    pthread_mutex_t lock; /* guards everything below */
    int stopping;
    int requested;        /* SIGHUP */
    char requested_by[16];
    reload_waiter *waiters;
    reload_result last, last_error;
    char live_since[32], live_trigger[16];
    long attempts, failures;
};

static void reload_wake(reloader *r)
{
    uint64_t one = 1;
    ssize_t w = write(r->wake_fd, &one, sizeof one);
    (void)w; /* the counter only saturates: a wake-up is never lost */
}

/* Is name one of the files a rule set is read from? */
static int reload_rule_name(const char *name)
{
    size_t l = strlen(name);
    if (name[0] == '.')
        return 0; /* editors' swap and backup files */
    return (l > 6 && !strcmp(name + l - 6, ".rules")) || !strcmp(name, "allow.list") ||
           !strcmp(name, "policy.conf");
}

/* (Re)arms the watches; the rules directory may have been replaced (a deploy swapping it). */
static void reload_watch(reloader *r)
{
    if (r->ino_fd < 0)
        return;
    const uint32_t files = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                           IN_ATTRIB;
    int wd = inotify_add_watch(r->ino_fd, r->rules_dir,
                               files | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
    if (wd < 0 && r->wd_dir >= 0)
        log_at(LOGL_WARNING, "rules: cannot watch %s: %s", r->rules_dir, strerror(errno));
    r->wd_dir = wd;
    if (r->wd_parent < 0) {
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s", r->rules_dir);
        r->wd_parent = inotify_add_watch(r->ino_fd, dirname(tmp),
                                         IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM |
                                             IN_ONLYDIR);
    }
    if (r->thresholds && r->wd_thresholds < 0) {
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s", r->thresholds);
        r->wd_thresholds = inotify_add_watch(r->ino_fd, dirname(tmp), files | IN_ONLYDIR);
    }
}

/* Reads inotify events; returns 1 when one concerns the rules. */
static int reload_drain_inotify(reloader *r)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    int relevant = 0;
    for (;;) {
        ssize_t n = read(r->ino_fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            const char *name = ev->len ? ev->name : "";
            if (ev->wd == r->wd_dir) {
                if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
                    r->wd_dir = -1; /* re-armed before the next build */
                    relevant = 1;
                } else if (reload_rule_name(name)) {
                    relevant = 1;
                }
            } else if (ev->wd == r->wd_parent && !strcmp(name, r->dir_base)) {
                relevant = 1; /* the directory itself was replaced */
                r->wd_dir = -1;
            } else if (ev->wd == r->wd_thresholds && !strcmp(name, r->thr_base)) {
                relevant = 1;
            }
            p += sizeof *ev + ev->len;
        }
    }
    return relevant;
}

/* An event's data packed by json_pack's fmt, as compact JSON with keys in the order given. NULL
 * with the reason in err when it cannot be (text that is not UTF-8, or no memory). */
static char *reload_event_json(mod_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_error_t jerr;
    json_t *obj = json_vpack_ex(&jerr, 0, fmt, ap);
    va_end(ap);
    char *out = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(obj);
    if (!out)
        err_set(err, ERR_INTERNAL, "cannot encode the event: %s", obj ? "out of memory" : jerr.text);
    return out;
}

/* Keeps rs's files in the store with a "reload" event describing the attempt. */
static int reload_record(reloader *r, const mod_ruleset *rs, const reload_result *res,
                         mod_error *err)
{
    char *files = api_ruleset_files_json(rs, err);
    if (!files)
        return -1;
    char *data = reload_event_json(
        err, "{s:b, s:s, s:s, s:s, s:s?, s:{s:I, s:I, s:I}, s:I}", "ok", 1, "trigger",
        res->trigger, "by", res->actor, "version", ruleset_version(rs), "previous",
        res->previous[0] ? res->previous : NULL, "rules", category_name(CAT_PROFANITY),
        (json_int_t)ruleset_rule_count(rs, CAT_PROFANITY), category_name(CAT_PERSONAL_ATTACK),
        (json_int_t)ruleset_rule_count(rs, CAT_PERSONAL_ATTACK), category_name(CAT_ETHNIC_SLUR),
        (json_int_t)ruleset_rule_count(rs, CAT_ETHNIC_SLUR), "examples_failed",
        (json_int_t)res->examples_failed);
    int rc = data ? store_ruleset_record(r->st, ruleset_version(rs), files, res->actor, data, err)
                  : -1;
    free(data);
    free(files);
    return rc;
}

/* A failed attempt goes into the chain too: someone tried to change the rules. */
static void reload_record_failure(reloader *r, const reload_result *res)
{
    mod_error err = {0};
    /* the error may quote a rule file's bytes: api_str keeps the event whatever they are */
    char *data = reload_event_json(&err, "{s:b, s:s, s:s, s:s, s:o}", "ok", 0, "trigger",
                                   res->trigger, "by", res->actor, "live", res->version, "error",
                                   api_str(res->error ? res->error : ""));
    if (!data || store_event_add(r->st, "reload", NULL, res->actor, data, NULL, &err) != 0)
        log_at(LOGL_ERROR, "rules: cannot record the failed reload: %s", err.message);
    free(data);
}

/* One attempt: build, keep, swap. Runs on the reload thread (or in reload_start). */
static void reload_attempt(reloader *r, const char *trigger, const char *actor,
                           reload_result *res)
{
    memset(res, 0, sizeof *res);
    snprintf(res->trigger, sizeof res->trigger, "%s", trigger);
    snprintf(res->actor, sizeof res->actor, "%s", actor && *actor ? actor : trigger);
    mod_ruleset *live = api_ruleset_acquire(r->api);
    snprintf(res->previous, sizeof res->previous, "%s", live ? ruleset_version(live) : "");
    snprintf(res->version, sizeof res->version, "%s", res->previous);

    double t0 = reload_ms();
    rule_diags diags = {0};
    mod_error err = {0};
    mod_ruleset *rs = NULL, *swap = NULL;
    int first = !strcmp(trigger, "start");
    int rc = first ? 0
                   : reload_build_counted(&r->cfg, 0, &rs, &diags, &err, &res->examples_passed,
                                          &res->examples_failed);
    res->build_ms = reload_ms() - t0;
    if (first) {
        rs = live ? ruleset_ref(live) : NULL;
        res->previous[0] = '\0';
    }
    res->diags = diags.count ? calloc(diags.count, sizeof *res->diags) : NULL;
    for (size_t i = 0; res->diags && i < diags.count; i++) {
        res->diags[res->n_diags++] = diag_format(&diags.items[i]);
        res->warnings += diags.items[i].severity == DIAG_WARNING;
    }
    diags_free(&diags);

    if (rc == 0 && rs) {
        res->ok = 1;
        if (first || !live || strcmp(ruleset_version(rs), ruleset_version(live)) != 0) {
            /* Kept before it goes live: every verdict it makes can be explained. */
            if (reload_record(r, rs, res, &err) != 0) {
                res->ok = 0;
                char *e = NULL;
                if (asprintf(&e, "cannot keep version %s in the store: %s", ruleset_version(rs),
                             err.message) < 0)
                    e = NULL;
                res->error = e;
            } else {
                res->changed = !first;
                snprintf(res->version, sizeof res->version, "%s", ruleset_version(rs));
                if (!first)
                    swap = ruleset_ref(rs); /* swapped below, with the status */
            }
        }
    } else {
        res->error = strdup(err.message[0] ? err.message : "the rule files do not load");
    }
    if (rs)
        ruleset_unref(rs);
    if (live)
        ruleset_unref(live);
    reload_now(res->at);

    if (!res->ok && !first)
        reload_record_failure(r, res);
    pthread_mutex_lock(&r->lock);
    /* The live set and what GET /v1/rules says about it change in one step. */
    if (swap)
        api_swap_ruleset(r->api, swap);
    r->attempts++;
    reload_result_free(&r->last);
    reload_result_copy(&r->last, res);
    if (!res->ok) {
        r->failures++;
        reload_result_free(&r->last_error);
        reload_result_copy(&r->last_error, res);
    }
    if (res->changed || first) {
        snprintf(r->live_since, sizeof r->live_since, "%s", res->at);
        snprintf(r->live_trigger, sizeof r->live_trigger, "%s", trigger);
    }
    pthread_mutex_unlock(&r->lock);

    if (first)
        return;
    if (res->ok)
        metrics_reload_succeeded();
    else
        metrics_reload_failed();
    if (!res->ok) {
        log_at(LOGL_ERROR, "rules: reload failed (%s); still serving version %s: %s", trigger,
               res->version, res->error ? res->error : "");
        for (size_t i = 0; i < res->n_diags; i++)
            log_at(LOGL_WARNING, "rules: %s", res->diags[i]);
    } else if (res->changed) {
        log_msg("rules: reloaded (%s, by %s): version %s replaces %s in %.0f ms%s", trigger,
                res->actor, res->version, res->previous, res->build_ms,
                res->warnings ? " (see warnings below)" : "");
        for (size_t i = 0; i < res->n_diags; i++)
            log_at(LOGL_WARNING, "rules: %s", res->diags[i]);
    } else {
        log_msg("rules: reload (%s): files unchanged, version %s stays", trigger, res->version);
    }
}

static void *reload_main(void *arg)
{
    reloader *r = arg;
    int pending = 0; /* a watched change waits for quiet */
    double last_change = 0;
    for (;;) {
        int timeout = -1;
        if (pending) {
            double left = last_change + r->cfg.delay_ms - reload_ms();
            timeout = left > 0 ? (int)left + 1 : 0;
        }
        struct pollfd pf[2] = {{.fd = r->wake_fd, .events = POLLIN},
                               {.fd = r->ino_fd, .events = POLLIN}};
        int np = poll(pf, r->ino_fd >= 0 ? 2 : 1, timeout);
        if (np < 0 && errno != EINTR) {
            log_at(LOGL_ERROR, "rules: poll: %s", strerror(errno));
            timeout = 100;
        }
        if (np > 0 && (pf[0].revents & POLLIN)) {
            uint64_t v;
            ssize_t rd = read(r->wake_fd, &v, sizeof v);
            (void)rd;
        }
        if (np > 0 && r->ino_fd >= 0 && (pf[1].revents & POLLIN) && reload_drain_inotify(r)) {
            pending = 1;
            last_change = reload_ms();
        }

        pthread_mutex_lock(&r->lock);
        int stopping = r->stopping, requested = r->requested;
        char by[16];
        snprintf(by, sizeof by, "%s", r->requested_by);
        r->requested = 0;
        reload_waiter *waiters = r->waiters;
        r->waiters = NULL;
        pthread_mutex_unlock(&r->lock);

        if (stopping) {
            reload_result res = {0};
            res.error = strdup("the server is stopping");
            for (reload_waiter *w = waiters, *next; w; w = next) {
                next = w->next;
                w->done(w->ctx, &res);
                free(w);
            }
            reload_result_free(&res);
            break;
        }
        int due = pending && reload_ms() >= last_change + r->cfg.delay_ms;
        if (!waiters && !requested && !due)
            continue;
        if (r->ino_fd >= 0 && r->wd_dir < 0)
            reload_watch(r);
        /* API requests first (someone waits for the answer); one build serves all at once. */
        const char *trigger = waiters ? "api" : requested ? by : "inotify";
        reload_result res;
        reload_attempt(r, trigger, waiters ? waiters->actor : NULL, &res);
        pending = 0;
        for (reload_waiter *w = waiters, *next; w; w = next) {
            next = w->next;
            w->done(w->ctx, &res);
            free(w);
        }
        reload_result_free(&res);
    }
    return NULL;
}

int reload_start(const reload_config *cfg, api_ctx *api, store *st, reloader **out,
                 mod_error *err)
{
    *out = NULL;
    reloader *r = calloc(1, sizeof *r);
    if (!r)
        return err_set(err, ERR_INTERNAL, "out of memory");
    r->rules_dir = strdup(cfg->rules_dir);
    r->thresholds = cfg->thresholds && *cfg->thresholds ? strdup(cfg->thresholds) : NULL;
    r->cfg = *cfg;
    r->cfg.rules_dir = r->rules_dir;
    r->cfg.thresholds = r->thresholds;
    r->api = api;
    r->st = st;
    r->ino_fd = r->wd_dir = r->wd_parent = r->wd_thresholds = -1;
    pthread_mutex_init(&r->lock, NULL);
    r->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!r->rules_dir || r->wake_fd < 0) {
        reload_stop(r);
        return err_set(err, ERR_INTERNAL, "cannot start the reloader: %s", strerror(errno));
    }
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", r->rules_dir);
    snprintf(r->dir_base, sizeof r->dir_base, "%s", basename(tmp));
    if (r->thresholds) {
        snprintf(tmp, sizeof tmp, "%s", r->thresholds);
        snprintf(r->thr_base, sizeof r->thr_base, "%s", basename(tmp));
    }

    reload_result first;
    reload_attempt(r, "start", "start", &first);
    int ok = first.ok;
    if (!ok)
        err_set(err, ERR_STORE, "%s", first.error ? first.error : "cannot keep the rule set");
    reload_result_free(&first);
    if (!ok) {
        reload_stop(r);
        return -1;
    }

    if (cfg->watch) {
        r->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (r->ino_fd < 0)
            log_at(LOGL_WARNING, "rules: inotify: %s; reload with SIGHUP or the API",
                   strerror(errno));
        r->wd_dir = 0; /* so a failure to watch is logged */
        reload_watch(r);
        if (r->ino_fd >= 0 && r->wd_dir < 0) {
            close(r->ino_fd);
            r->ino_fd = -1;
        }
    }
    if (pthread_create(&r->thread, NULL, reload_main, r) != 0) {
        reload_stop(r);
        return err_set(err, ERR_INTERNAL, "cannot start the reload thread");
    }
    r->started = 1;
    *out = r;
    return 0;
}

void reload_stop(reloader *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stopping = 1;
    pthread_mutex_unlock(&r->lock);
    if (r->started) {
        reload_wake(r);
        pthread_join(r->thread, NULL);
    }
    if (r->ino_fd >= 0)
        close(r->ino_fd);
    if (r->wake_fd >= 0)
        close(r->wake_fd);
    reload_result_free(&r->last);
    reload_result_free(&r->last_error);
    pthread_mutex_destroy(&r->lock);
    free(r->rules_dir);
    free(r->thresholds);
    free(r);
}

void reload_request(reloader *r, const char *trigger)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->requested = 1;
    snprintf(r->requested_by, sizeof r->requested_by, "%s", trigger ? trigger : "SIGHUP");
    pthread_mutex_unlock(&r->lock);
    reload_wake(r);
}

int reload_async(reloader *r, const char *trigger, const char *actor, reload_done_fn done,
                 void *ctx)
{
    (void)trigger; /* API reloads are reported as "api", with the key's name as actor */
    reload_waiter *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    w->done = done;
    w->ctx = ctx;
    snprintf(w->actor, sizeof w->actor, "%s", actor ? actor : "api");
    pthread_mutex_lock(&r->lock);
    if (r->stopping) {
        pthread_mutex_unlock(&r->lock);
        free(w);
        return -1;
    }
    w->next = r->waiters;
    r->waiters = w;
    pthread_mutex_unlock(&r->lock);
    reload_wake(r);
    return 0;
}

void reload_status_get(reloader *r, reload_status *out)
{
    memset(out, 0, sizeof *out);
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    snprintf(out->live_since, sizeof out->live_since, "%s", r->live_since);
    snprintf(out->live_trigger, sizeof out->live_trigger, "%s", r->live_trigger);
    reload_result_copy(&out->last, &r->last);
    reload_result_copy(&out->last_error, &r->last_error);
    out->attempts = r->attempts;
    out->failures = r->failures;
    out->watching = r->ino_fd >= 0 && r->wd_dir >= 0;
    out->rules_dir = strdup(r->rules_dir);
    out->thresholds = r->thresholds ? strdup(r->thresholds) : NULL;
    out->live = api_ruleset_acquire(r->api);
    pthread_mutex_unlock(&r->lock);
}

void reload_status_free(reload_status *s)
{
    if (s->live)
        ruleset_unref(s->live);
    reload_result_free(&s->last);
    reload_result_free(&s->last_error);
    free(s->rules_dir);
    free(s->thresholds);
    memset(s, 0, sizeof *s);
}
