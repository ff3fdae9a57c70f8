/* api_moderation.h - the moderators' routes: the queue, decisions, reports, the decisions feed and
 * author sanctions (JSON in api_moderation.c, state in store_moderation.c). */
#ifndef MODERATORD_API_MODERATION_H
#define MODERATORD_API_MODERATION_H

#include "api.h"

/* GET /v1/queue?status=&site=&thread=&category=&limit=&after=  (moderator)
 * Oldest first with keyset pagination: "next" is the cursor to pass as after, null at the end. */
api_status api_queue_get(api_ctx *ctx, api_request *req, api_reply *rep);

/* POST /v1/comments/{id}/decision {"decision": "approve"|"reject", "reason", "expected_state"}
 * (moderator). 409 with the current "state" when the comment is no longer in expected_state or
 * the transition is not allowed. Replies with the comment as GET shows it, plus "decision". */
api_status api_decision_post(api_ctx *ctx, api_request *req, api_reply *rep);

/* POST /v1/comments/{id}/report {"reason", "reporter"} (cms): a reader flagged a published
 * comment. 409 when the comment is not published. */
api_status api_report_post(api_ctx *ctx, api_request *req, api_reply *rep);

/* GET /v1/decisions?since=CURSOR&limit=N (cms): decisions in commit order, with "next". */
api_status api_decisions_get(api_ctx *ctx, api_request *req, api_reply *rep);

/* GET /v1/authors/{author} (moderator): sanction, strikes, comment counts and sanction history. */
api_status api_author_get(api_ctx *ctx, api_request *req, api_reply *rep);

/* POST /v1/authors/{author}/sanction {"action": "ban"|"probation"|"clear", "reason", "until"}
 * (moderator). until: ISO-8601 UTC or a duration such as "7d"; absent or null = no expiry. */
api_status api_author_sanction_post(api_ctx *ctx, api_request *req, api_reply *rep);

/* The record GET /v1/comments/{id} returns, for moderatorctl show (strike thresholds as the
 * daemon last published them). Caller frees; NULL with err on failure. */
char *api_moderation_record_json(store *st, const comment_record *rec, int pretty,
                                 mod_error *err);

#endif
