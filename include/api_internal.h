/* api_internal.h - what the API's files share at the jansson level: the JSON helpers of api.c and
 * the hooks api.c calls into api_admin.c and api_moderation.c. Only the API's files (api*.c and
 * the protocols of api_compat.h) and moderatorctl include it. */
#ifndef MODERATORD_API_INTERNAL_H
#define MODERATORD_API_INTERNAL_H

#include <jansson.h>

#include "api.h"
#include "engine.h"

/* ---- api.c ---- */

/* A JSON string (bytes that are not UTF-8 become '?'), or null for NULL. */
json_t *api_str(const char *s);
/* obj as reply text, compact or indented, numbers to 10 significant digits (takes obj; NULL
 * for NULL or out of memory). Caller frees. */
char *api_dump(json_t *obj, int pretty);
/* Serializes obj into rep with status (takes obj): json_dumps flags, a static content_type, and
 * the body of the 500 sent instead when out of memory. */
void api_reply_dump(api_reply *rep, unsigned status, json_t *obj, size_t flags,
                    const char *content_type, const char *oom);
/* api_reply_dump as application/json, compact or indented, in the replies' number format. */
void api_reply_json(api_reply *rep, unsigned status, json_t *obj, int pretty);
/* The one error shape, {"error": err_name(code), "message": msg}, followed by extra's members
 * (takes extra; may be NULL), with the status err_http_status(code). */
void api_error_json(api_reply *rep, err_code code, const char *msg, json_t *extra);
/* A new server id: 128 random bits as 32 hex characters. 0, or -1 when the kernel gives none. */
int api_new_id(char out[33]);
/* Fills the verdict half of a new comment record from the engine's result: verdict, state,
 * score, categories, matches (JSON, still the caller's) and the rule-set version. */
void api_record_verdict(comment_record *rec, const mod_result *res, const mod_ruleset *rs,
                        char *matches_json);
/* A request body that must be one JSON object: NULL with err ERR_BAD_JSON (empty, malformed, not
 * an object) or ERR_BAD_UTF8. Caller releases. */
json_t *api_json_object(const char *body, size_t len, mod_error *err);
/* Whether a Content-Type is the media type want (case-insensitive), parameters allowed. */
int api_is_media_type(const char *ct, const char *want);
/* "application/json", parameters allowed. */
int api_is_json_type(const char *ct);
/* Reads a comment submission from a JSON request: -1 with the error reply (415, 400) filled. */
int api_comment_read(const api_request *req, api_reply *rep, api_comment *c);
/* A record's stored matches, or [] if the column is missing or unreadable. */
json_t *api_record_matches(const comment_record *rec);
/* A stored record as GET /v1/comments/{id} shows it, before the moderation fields. */
json_t *api_record(const comment_record *rec);
/* api_check_json's object: the verdict of a result that is not stored. Caller releases. */
json_t *api_check(const mod_ruleset *rs, const mod_result *res);
/* {"profanity": {"hold", "block"}, ..., "total": {...}} */
json_t *api_thresholds(const policy_config *pol);

/* ---- api_admin.c ---- */

/* The "explain" member of GET /v1/comments/{id}?explain=1: the rule lines behind the stored
 * verdict, as written in its rule-set version, and a re-check with that version. */
json_t *api_comment_explain(api_ctx *ctx, const comment_record *rec);

/* ---- api_moderation.c ---- */

/*
 * The author sanction step of POST /v1/comments, after the engine: one indexed read of the
 * author's sanction and strikes. A banned author's comment is blocked ("author_banned"), one on
 * probation is held ("author_probation") when the engine alone would have let it through more
 * leniently; *reason stays NULL when the engine's verdict stands. *sanction (caller releases) is
 * the author's sanction when they are under one. Returns 0, or -1 with err when the store fails.
 */
int api_sanction_apply(api_ctx *ctx, const mod_ruleset *rs, const char *author_id,
                       const char *author_email, mod_verdict *verdict, const char **reason,
                       json_t **sanction, mod_error *err);

/* Publishes rs's strike window and thresholds to the store (logs a failure). */
void api_strike_policy_publish(store *st, const mod_ruleset *rs);

/* The full record of GET /v1/comments/{id}: api_record plus cursor, reports, the author's
 * record and the history (every event naming the comment). NULL with err on failure. */
json_t *api_moderation_record(api_ctx *ctx, const comment_record *rec, mod_error *err);

#endif
