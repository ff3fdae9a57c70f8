/* coral.c - Coral's external moderation phase: POST /v1/integrations/coral/phase receives the
 * request Coral signs (X-Coral-Signature: sha256=HMAC of the body under the phase's secret) and
 * answers with Coral's documented reply: 204 to let the comment through, or 200 with a status
 * (REJECTED for block, SYSTEM_WITHHELD for hold) and FLAG actions, within a time budget. */
#include "api_compat.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

/* A string member of an object, or NULL. */
static const char *coral_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

api_status compat_coral_phase(api_ctx *ctx, api_request *req, api_reply *rep)
{
    char *const *secrets;
    size_t n_secrets;
    if (!compat_coral_secrets(&secrets, &n_secrets)) {
        api_error(rep, ERR_NOT_FOUND,
                  "the Coral integration is off: start moderatord with --coral-secret-file");
        return API_DONE;
    }
    /* The signature first, over the raw bytes: nothing of an unsigned body is parsed or kept. */
    const char *sig = req->header ? req->header(req->conn, "X-Coral-Signature") : NULL;
    if (!compat_coral_verify(sig, req->body, req->body_len, secrets, n_secrets)) {
        metrics_compat_event("coral", sig ? "bad_signature" : "missing_signature");
        api_error(rep, ERR_UNAUTHORIZED, "%s",
                  sig ? "X-Coral-Signature does not match the body under the configured secret"
                      : "no X-Coral-Signature header: Coral signs every phase request");
        api_reply_header(rep, "WWW-Authenticate", "X-Coral-Signature");
        return API_DONE;
    }
    snprintf(req->key_name, sizeof req->key_name, "coral"); /* for the access log */

    api_status ret = API_DONE;
    mod_ruleset *rs = NULL;
    mod_result res;
    memset(&res, 0, sizeof res);
    char *text = NULL, *matches = NULL;
    json_t *reply = NULL;
    mod_error err = {0};
    if (!utf8_valid(req->body ? req->body : "", req->body_len)) {
        api_error(rep, ERR_BAD_UTF8, "the body is not valid UTF-8");
        return API_DONE;
    }
    json_error_t je;
    json_t *doc = req->body ? json_loadb(req->body, req->body_len, 0, &je) : NULL;
    if (!json_is_object(doc)) {
        api_error(rep, ERR_BAD_JSON, "expected Coral's moderation request, a JSON object");
        goto done;
    }
    json_t *comment = json_object_get(doc, "comment");
    json_t *body = json_is_object(comment) ? json_object_get(comment, "body") : NULL;
    if (!json_is_string(body)) {
        api_error(rep, ERR_BAD_FIELD, "\"comment.body\" is required and must be a string");
        goto done;
    }
    /* The phase may be set to send HTML: scored as the text a reader sees. */
    size_t text_len;
    if (!(text = compat_html_text(json_string_value(body), json_string_length(body), &text_len,
                                  NULL))) {
        api_error(rep, ERR_INTERNAL, "out of memory");
        goto done;
    }
    json_t *author = json_object_get(doc, "author");
    json_t *story = json_object_get(doc, "story");
    json_t *site = json_object_get(doc, "site");

    if (!(rs = api_ruleset_acquire(ctx))) {
        api_error(rep, ERR_RULES, "no rule set is loaded");
        goto done;
    }
    const char *domain = coral_str(doc, "tenantDomain");
    comment_record rec = {
        .site = (char *)(domain ? domain : coral_str(site, "id")),
        .thread = (char *)coral_str(story, "id"),
        .parent_id = (char *)coral_str(comment, "parentID"),
        .author_id = (char *)coral_str(author, "id"),
        .text = text,
    };
    mod_input in = {.text = text, .len = text_len};
    char id[33];
    /* The engine, then the author's sanction: a banned author's comment is rejected. */
    if (compat_verdict(ctx, rs, &in, &rec, &res, id, &matches, &err) != 0) {
        api_error_from(rep, &err);
        goto done;
    }

    /* Coral's reply: 204 = no opinion (the comment goes on through Coral's pipeline); otherwise a
     * status that ends the pipeline, with a FLAG so moderators see why. Coral strips members it
     * does not know, so ours ride along under "moderatord" for anyone reading the body. */
    api_reply prepared = {0};
    if (res.verdict == VERDICT_ACCEPT) {
        prepared.status = 204;
        prepared.content_type = "application/json";
    } else {
        json_t *rules = json_array();
        for (size_t i = 0; i < res.n_matches; i++)
            json_array_append_new(rules, json_string(res.matches[i].rule));
        reply = json_pack("{s:s,s:[{s:s,s:s}],s:{s:s,s:s,s:o}}", "status",
                          res.verdict == VERDICT_BLOCK ? "REJECTED" : "SYSTEM_WITHHELD", "actions",
                          "actionType", "FLAG", "reason", "COMMENT_DETECTED_TOXIC", "moderatord",
                          "id", id, "verdict", verdict_name(res.verdict), "rules", rules);
        char *s = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
        if (!s) {
            api_error(rep, ERR_INTERNAL, "out of memory");
            goto done;
        }
        prepared.status = 200;
        prepared.content_type = "application/json";
        prepared.body = s;
        prepared.body_len = strlen(s);
    }
    api_reply_header(&prepared, "X-Moderatord-Verdict", verdict_name(res.verdict));
    api_reply_header(&prepared, "X-Moderatord-Id", id);
    ret = compat_store_and_reply(ctx, req, rep, &rec, &prepared, api_error_from,
                                 compat_coral_budget_ms(), "coral");
done:
    json_decref(reply);
    free(matches);
    free(text);
    engine_result_free(&res);
    if (rs)
        ruleset_unref(rs);
    json_decref(doc);
    return ret;
}
