/* api_admin.h - the admin side of the API: GET /v1/rules, POST /v1/rules/reload, POST /v1/check
 * (dry runs, live or any kept version), GET /v1/comments/{id}?explain=1; and rule-set versions as
 * the JSON the store keeps, so any past version can be rebuilt exactly. Uses jansson. */
#ifndef MODERATORD_API_ADMIN_H
#define MODERATORD_API_ADMIN_H

#include <jansson.h>

#include "api.h"
#include "reload.h"
#include "ruleset.h"
#include "store.h"

/* Gives the admin routes the reloader (NULL: GET /v1/rules shows no reload history and
 * POST /v1/rules/reload answers 503). Call before serving; api_admin_shutdown after. */
void api_admin_init(reloader *r);
/* Frees the cache of rebuilt versions. */
void api_admin_shutdown(void);

/* A rule set's files as kept in the store: [{"name": ..., "content": ...}] in name order. NULL
 * with err when a file is not valid UTF-8 (or out of memory). Caller frees. */
char *api_ruleset_files_json(const mod_ruleset *rs, mod_error *err);

/* A reference to rule-set version: the live set for NULL, "" or "live", else the kept version,
 * rebuilt from the store (a few are cached). ERR_NOT_FOUND if it was never kept. Release with
 * ruleset_unref. When live is not NULL, *live says whether it is the live set. */
mod_ruleset *api_admin_version(api_ctx *ctx, store *st, const char *version, int *live,
                               mod_error *err);

/*
 * A stored comment with its explanation: for each match, the rule line and the lines of the sets
 * it names, as written in the version that made the verdict (kept in the store, so it is shown
 * even after the files changed); and the verdict re-checked with that version. Pass ctx NULL
 * outside the daemon (only kept versions are used then). NULL with err when out of memory;
 * caller releases.
 */
json_t *api_explain(api_ctx *ctx, store *st, const comment_record *rec, mod_error *err);

/* Routes (see the table in http.c). */
api_status api_rules_get(api_ctx *ctx, api_request *req, api_reply *rep);     /* GET /v1/rules */
api_status api_rules_reload(api_ctx *ctx, api_request *req, api_reply *rep);  /* POST /v1/rules/reload */
api_status api_check_post(api_ctx *ctx, api_request *req, api_reply *rep);    /* POST /v1/check */
/* Whether the request asks for explain (?explain=1, true or yes). */
int api_wants_explain(const api_request *req);

#endif
