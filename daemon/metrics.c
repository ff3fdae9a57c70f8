/* metrics.c - Prometheus metrics: fixed tables of C11 atomic counters bumped from any thread with
 * relaxed increments (no locks on the request path), rendered on GET /metrics in the text
 * exposition format 0.0.4 (HELP and TYPE lines, cumulative histogram buckets, escaped labels). */
#include "metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

/* ---- histograms ---- */

#define METRICS_MAX_BUCKETS 16

typedef struct {
    atomic_ulong counts[METRICS_MAX_BUCKETS + 1]; /* per bucket, not cumulative; last is +Inf */
    atomic_ulong sum_ns;                          /* sum of observations in nanoseconds/units */
} metrics_hist;

/* Request and commit latency, seconds. */
static const double metrics_latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define METRICS_N_LATENCY (sizeof metrics_latency_bounds / sizeof metrics_latency_bounds[0])
/* Writer batch sizes, jobs per transaction. */
static const double metrics_batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
#define METRICS_N_BATCH (sizeof metrics_batch_bounds / sizeof metrics_batch_bounds[0])

_Static_assert(METRICS_N_LATENCY <= METRICS_MAX_BUCKETS, "too many latency buckets");
_Static_assert(METRICS_N_BATCH <= METRICS_MAX_BUCKETS, "too many batch buckets");

/* scale: what one unit of the observed value is stored as in sum_ns (1e9 for seconds, 1 for
 * counts), so the sum stays an integer that atomics can add. */
static void metrics_observe(metrics_hist *h, const double *bounds, size_t n, double v, double scale)
{
    size_t i = 0;
    while (i < n && v > bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    if (v > 0)
        atomic_fetch_add_explicit(&h->sum_ns, (unsigned long)(v * scale + 0.5),
                                  memory_order_relaxed);
}

/* ---- requests by route ---- */

#define METRICS_MAX_ROUTES 64
#define METRICS_STATUS_MIN 100
#define METRICS_STATUS_MAX 599

typedef struct {
    atomic_int state; /* 0 free, 1 being claimed, 2 ready (method and route readable) */
    const char *method, *route;
    atomic_ulong status[METRICS_STATUS_MAX - METRICS_STATUS_MIN + 1];
    metrics_hist latency;
} metrics_route;

static metrics_route metrics_routes[METRICS_MAX_ROUTES];

/* The slot for (method, route): found, or claimed. Slots are never freed, and method and route
 * point at the route table's static strings, so a ready slot can be read without a lock. */
static metrics_route *metrics_route_slot(const char *method, const char *route)
{
    for (size_t i = 0; i < METRICS_MAX_ROUTES; i++) {
        metrics_route *r = &metrics_routes[i];
        int st = atomic_load_explicit(&r->state, memory_order_acquire);
        if (st == 0) {
            int expect = 0;
            if (atomic_compare_exchange_strong(&r->state, &expect, 1)) {
                r->method = method;
                r->route = route;
                atomic_store_explicit(&r->state, 2, memory_order_release);
                return r;
            }
            st = expect;
        }
        while (st == 1) /* another thread is filling it in: a few stores away */
            st = atomic_load_explicit(&r->state, memory_order_acquire);
        if (strcmp(r->method, method) == 0 && strcmp(r->route, route) == 0)
            return r;
    }
    return NULL; /* more routes than slots: not counted rather than mislabelled */
}

void metrics_request(const char *method, const char *route, unsigned status, double seconds)
{
    metrics_route *r = metrics_route_slot(route ? method : "-", route ? route : "unmatched");
    if (!r)
        return;
    if (status < METRICS_STATUS_MIN || status > METRICS_STATUS_MAX)
        status = 500; /* no reply was queued (connection error): counted as a server failure */
    atomic_fetch_add_explicit(&r->status[status - METRICS_STATUS_MIN], 1, memory_order_relaxed);
    metrics_observe(&r->latency, metrics_latency_bounds, METRICS_N_LATENCY, seconds, 1e9);
}

/* ---- verdicts, writer, reloads, integrations ---- */

static atomic_ulong metrics_verdicts[3];
static atomic_ulong metrics_verdict_cats[3][CAT__COUNT];
static metrics_hist metrics_batch_sizes, metrics_commit_latency;
static atomic_ulong metrics_reloads[2]; /* [0] failed, [1] succeeded */

void metrics_verdict(mod_verdict verdict, const double categories[CAT__COUNT])
{
    if ((unsigned)verdict > VERDICT_BLOCK)
        return;
    atomic_fetch_add_explicit(&metrics_verdicts[verdict], 1, memory_order_relaxed);
    for (int c = 0; c < CAT__COUNT; c++)
        if (categories[c] > 0)
            atomic_fetch_add_explicit(&metrics_verdict_cats[verdict][c], 1, memory_order_relaxed);
}

void metrics_writer_batch(void *arg, long jobs, double seconds)
{
    (void)arg;
    metrics_observe(&metrics_batch_sizes, metrics_batch_bounds, METRICS_N_BATCH, (double)jobs, 1);
    metrics_observe(&metrics_commit_latency, metrics_latency_bounds, METRICS_N_LATENCY, seconds,
                    1e9);
}

void metrics_reload_failed(void)
{
    atomic_fetch_add_explicit(&metrics_reloads[0], 1, memory_order_relaxed);
}

void metrics_reload_succeeded(void)
{
    atomic_fetch_add_explicit(&metrics_reloads[1], 1, memory_order_relaxed);
}

#define METRICS_MAX_COMPAT 32

typedef struct {
    atomic_int state;
    const char *integration, *event;
    atomic_ulong count;
} metrics_compat;

static metrics_compat metrics_compats[METRICS_MAX_COMPAT];

void metrics_compat_event(const char *integration, const char *event)
{
    for (size_t i = 0; i < METRICS_MAX_COMPAT; i++) {
        metrics_compat *m = &metrics_compats[i];
        int st = atomic_load_explicit(&m->state, memory_order_acquire);
        if (st == 0) {
            int expect = 0;
            if (atomic_compare_exchange_strong(&m->state, &expect, 1)) {
                m->integration = integration;
                m->event = event;
                atomic_store_explicit(&m->state, 2, memory_order_release);
                atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
                return;
            }
            st = expect;
        }
        while (st == 1)
            st = atomic_load_explicit(&m->state, memory_order_acquire);
        if (strcmp(m->integration, integration) == 0 && strcmp(m->event, event) == 0) {
            atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
            return;
        }
    }
}

/* ---- exposition ---- */

typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} metrics_buf;

static void metrics_printf(metrics_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void metrics_printf(metrics_buf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if (b->p && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

/* A label value with \, " and newline escaped as the format requires. */
static void metrics_label(metrics_buf *b, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '\\')
            metrics_printf(b, "\\\\");
        else if (*s == '"')
            metrics_printf(b, "\\\"");
        else if (*s == '\n')
            metrics_printf(b, "\\n");
        else
            metrics_printf(b, "%c", *s);
    }
}

static void metrics_head(metrics_buf *b, const char *name, const char *type, const char *help)
{
    metrics_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Writes one histogram's _bucket/_sum/_count lines; labels is "" or `route="x",` style text that
 * already ends with a comma. */
static void metrics_hist_lines(metrics_buf *b, const char *name, const char *labels,
                               const metrics_hist *h, const double *bounds, size_t n, double scale)
{
    unsigned long cum = 0;
    for (size_t i = 0; i <= n; i++) {
        cum += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
        if (i < n)
            metrics_printf(b, "%s_bucket{%sle=\"%g\"} %lu\n", name, labels, bounds[i], cum);
        else
            metrics_printf(b, "%s_bucket{%sle=\"+Inf\"} %lu\n", name, labels, cum);
    }
    size_t ll = strlen(labels);
    char trimmed[512];
    snprintf(trimmed, sizeof trimmed, "%.*s", ll ? (int)ll - 1 : 0, labels); /* drop the comma */
    double sum = (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / scale;
    metrics_printf(b, "%s_sum%s%s%s %.9g\n", name, ll ? "{" : "", trimmed, ll ? "}" : "", sum);
    metrics_printf(b, "%s_count%s%s%s %lu\n", name, ll ? "{" : "", trimmed, ll ? "}" : "", cum);
}

static time_t metrics_start_time;

__attribute__((constructor)) static void metrics_init(void)
{
    metrics_start_time = time(NULL);
}

char *metrics_render(const char *ruleset_version, long held, long comments)
{
    metrics_buf b = {0};
    static const char *const verdicts[] = {"accept", "hold", "block"};

    metrics_head(&b, "moderatord_http_requests_total", "counter",
                 "HTTP requests answered, by route pattern, method and status code.");
    for (size_t i = 0; i < METRICS_MAX_ROUTES; i++) {
        metrics_route *r = &metrics_routes[i];
        if (atomic_load_explicit(&r->state, memory_order_acquire) != 2)
            continue;
        for (unsigned s = METRICS_STATUS_MIN; s <= METRICS_STATUS_MAX; s++) {
            unsigned long n =
                atomic_load_explicit(&r->status[s - METRICS_STATUS_MIN], memory_order_relaxed);
            if (!n)
                continue;
            metrics_printf(&b, "moderatord_http_requests_total{route=\"");
            metrics_label(&b, r->route);
            metrics_printf(&b, "\",method=\"");
            metrics_label(&b, r->method);
            metrics_printf(&b, "\",status=\"%u\"} %lu\n", s, n);
        }
    }

    metrics_head(&b, "moderatord_http_request_duration_seconds", "histogram",
                 "Time from a request's first byte to its reply, by route pattern.");
    for (size_t i = 0; i < METRICS_MAX_ROUTES; i++) {
        metrics_route *r = &metrics_routes[i];
        if (atomic_load_explicit(&r->state, memory_order_acquire) != 2)
            continue;
        metrics_buf lb = {0};
        metrics_printf(&lb, "route=\"");
        metrics_label(&lb, r->route);
        metrics_printf(&lb, "\",method=\"");
        metrics_label(&lb, r->method);
        metrics_printf(&lb, "\",");
        if (!lb.oom)
            metrics_hist_lines(&b, "moderatord_http_request_duration_seconds", lb.p, &r->latency,
                               metrics_latency_bounds, METRICS_N_LATENCY, 1e9);
        free(lb.p);
    }

    metrics_head(&b, "moderatord_verdicts_total", "counter",
                 "Verdicts made by the engine, by verdict.");
    for (int v = 0; v < 3; v++)
        metrics_printf(&b, "moderatord_verdicts_total{verdict=\"%s\"} %lu\n", verdicts[v],
                       atomic_load_explicit(&metrics_verdicts[v], memory_order_relaxed));
    metrics_head(&b, "moderatord_verdict_categories_total", "counter",
                 "Verdicts in which a category scored above zero, by verdict and category.");
    for (int v = 0; v < 3; v++)
        for (int c = 0; c < CAT__COUNT; c++)
            metrics_printf(&b,
                           "moderatord_verdict_categories_total{verdict=\"%s\",category=\"%s\"} %lu\n",
                           verdicts[v], category_name((mod_category)c),
                           atomic_load_explicit(&metrics_verdict_cats[v][c], memory_order_relaxed));

    metrics_head(&b, "moderatord_writer_batch_size", "histogram",
                 "Jobs committed together by the store's writer in one transaction.");
    metrics_hist_lines(&b, "moderatord_writer_batch_size", "", &metrics_batch_sizes,
                       metrics_batch_bounds, METRICS_N_BATCH, 1);
    metrics_head(&b, "moderatord_writer_commit_seconds", "histogram",
                 "Time of one writer transaction, BEGIN to COMMIT (fsync included).");
    metrics_hist_lines(&b, "moderatord_writer_commit_seconds", "", &metrics_commit_latency,
                       metrics_latency_bounds, METRICS_N_LATENCY, 1e9);

    if (held >= 0) {
        metrics_head(&b, "moderatord_queue_depth", "gauge",
                     "Comments held for a moderator (state held), waiting in the queue.");
        metrics_printf(&b, "moderatord_queue_depth %ld\n", held);
    }
    if (comments >= 0) {
        metrics_head(&b, "moderatord_comments_stored", "gauge", "Comments in the store.");
        metrics_printf(&b, "moderatord_comments_stored %ld\n", comments);
    }

    metrics_head(&b, "moderatord_ruleset_info", "gauge",
                 "The live rule set: its version is the label, the value is always 1.");
    metrics_printf(&b, "moderatord_ruleset_info{version=\"");
    metrics_label(&b, ruleset_version ? ruleset_version : "");
    metrics_printf(&b, "\"} 1\n");

    metrics_head(&b, "moderatord_rules_reloads_total", "counter",
                 "Rule reloads, by result; a failed reload keeps the previous rule set live.");
    metrics_printf(&b, "moderatord_rules_reloads_total{result=\"failed\"} %lu\n",
                   atomic_load_explicit(&metrics_reloads[0], memory_order_relaxed));
    metrics_printf(&b, "moderatord_rules_reloads_total{result=\"succeeded\"} %lu\n",
                   atomic_load_explicit(&metrics_reloads[1], memory_order_relaxed));

    metrics_head(&b, "moderatord_integration_events_total", "counter",
                 "Notable events of the drop-in integrations (Perspective, Akismet, Coral).");
    for (size_t i = 0; i < METRICS_MAX_COMPAT; i++) {
        metrics_compat *m = &metrics_compats[i];
        if (atomic_load_explicit(&m->state, memory_order_acquire) != 2)
            continue;
        metrics_printf(&b, "moderatord_integration_events_total{integration=\"");
        metrics_label(&b, m->integration);
        metrics_printf(&b, "\",event=\"");
        metrics_label(&b, m->event);
        metrics_printf(&b, "\"} %lu\n", atomic_load_explicit(&m->count, memory_order_relaxed));
    }

    metrics_head(&b, "process_start_time_seconds", "gauge",
                 "Start time of the process since the Unix epoch, in seconds.");
    metrics_printf(&b, "process_start_time_seconds %lld\n", (long long)metrics_start_time);

    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

api_status metrics_handler(api_ctx *ctx, api_request *req, api_reply *rep)
{
    (void)req;
    mod_ruleset *rs = api_ruleset_acquire(ctx);
    store *st = api_store(ctx);
    long held = st ? store_comment_count_state(st, "held") : -1;
    long comments = st ? store_comment_count(st) : -1;
    char *text = metrics_render(rs ? ruleset_version(rs) : NULL, held, comments);
    if (rs)
        ruleset_unref(rs);
    if (!text) {
        api_error(rep, ERR_INTERNAL, "out of memory rendering metrics");
        return API_DONE;
    }
    free(rep->body);
    rep->status = 200;
    rep->content_type = "text/plain; version=0.0.4; charset=utf-8";
    rep->body = text;
    rep->body_len = strlen(text);
    return API_DONE;
}
