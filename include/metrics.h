/* metrics.h - Prometheus metrics: lock-free counters and histograms that any thread may bump, and
 * GET /metrics in the text exposition format 0.0.4. Counting never allocates, locks or fails. */
#ifndef MODERATORD_METRICS_H
#define MODERATORD_METRICS_H

#include "api.h"
#include "engine.h"

/* One answered HTTP request. route is the route table's pattern ("/v1/comments/{id}"), never the
 * raw path, or NULL for a request that matched no route; seconds from first byte to reply. */
void metrics_request(const char *method, const char *route, unsigned status, double seconds);

/* One verdict made by the engine (any route): counted by verdict, and by category for every
 * category that scored. */
void metrics_verdict(mod_verdict verdict, const double categories[CAT__COUNT]);

/* One group commit of the store's writer: jobs it carried and BEGIN..COMMIT time. Has the shape of
 * store_batch_fn, so main registers it with store_set_batch_observer. */
void metrics_writer_batch(void *arg, long jobs, double seconds);

/* Rule reloads (SIGHUP, API, file watch): whoever reloads calls one of these. */
void metrics_reload_failed(void);
void metrics_reload_succeeded(void);

/* Events of the drop-in integrations (api_compat): integration is "perspective", "akismet" or
 * "coral"; event is a short fixed word such as "bad_signature" or "budget_exceeded". Both must be
 * static strings from a small fixed set (they become label values). */
void metrics_compat_event(const char *integration, const char *event);

/* GET /metrics. */
api_status metrics_handler(api_ctx *ctx, api_request *req, api_reply *rep);

/* The whole exposition as text (the body of GET /metrics); held < 0 leaves that gauge out.
 * Caller frees. NULL when out of memory. */
char *metrics_render(const char *ruleset_version, long held, long comments);

#endif
