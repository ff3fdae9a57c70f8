/* akismet.c - Akismet's REST API 1.1 for WordPress and the other clients that speak it: form-encoded
 * comment-check, submit-spam, submit-ham and verify-key, plain-text answers ("true"/"false",
 * "valid"/"invalid") and Akismet's headers. The key comes from api_key (or key), or, as Akismet's
 * older clients send it, from the Host name's first label (KEY.host). */
#include "api_compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

#define AKISMET_THANKS "Thanks for making the web a better place."

static void akismet_text(api_reply *rep, unsigned status, const char *text)
{
    api_reply_free(rep);
    rep->status = status;
    rep->content_type = "text/plain; charset=utf-8";
    rep->body = strdup(text);
    rep->body_len = rep->body ? strlen(text) : 0;
}

/* Akismet's way of saying what went wrong: a short body and X-akismet-debug-help. */
static void akismet_problem(api_reply *rep, unsigned status, const char *body, const char *help)
{
    akismet_text(rep, status, body);
    api_reply_header(rep, "X-akismet-debug-help", help);
}

static void akismet_fail(api_reply *rep, const mod_error *err)
{
    akismet_problem(rep, err->code == ERR_STORE ? 503 : 500, "error", err->message);
}

typedef struct {
    compat_field *f;
    int n;
} akismet_form;

/* Reads the form; on failure the reply is filled. */
static int akismet_read(const api_request *req, api_reply *rep, akismet_form *form)
{
    form->f = NULL;
    form->n = 0;
    if (!api_is_media_type(req->content_type, "application/x-www-form-urlencoded")) {
        char help[200];
        snprintf(help, sizeof help,
                 "Send the fields form-encoded (Content-Type: application/x-www-form-urlencoded), "
                 "not %.80s.", req->content_type ? req->content_type : "without a Content-Type");
        akismet_problem(rep, 415, "Unsupported Media Type", help);
        return -1;
    }
    form->n = compat_form_parse(req->body ? req->body : "", req->body_len, &form->f);
    if (form->n < 0) {
        akismet_problem(rep, 400, "Bad Request", "The form body has a malformed %-escape.");
        return -1;
    }
    for (int i = 0; i < form->n; i++)
        if (!utf8_valid(form->f[i].value, form->f[i].value_len) ||
            strlen(form->f[i].value) != form->f[i].value_len) {
            char help[160];
            snprintf(help, sizeof help, "The field %.60s is not valid UTF-8 text.",
                     utf8_valid(form->f[i].name, strlen(form->f[i].name)) ? form->f[i].name : "?");
            akismet_problem(rep, 400, "Bad Request", help);
            compat_form_free(form->f, form->n);
            form->f = NULL;
            form->n = 0;
            return -1;
        }
    return 0;
}

static const char *akismet_get(const akismet_form *form, const char *name)
{
    const char *v = compat_form_get(form->f, form->n, name);
    return v && *v ? v : NULL;
}

/* The key: api_key, key, the Host name's first label, or Authorization: Bearer. Returns 0 when a
 * cms key checks out; otherwise fills Akismet's answer ("invalid", as Akismet says it, with 200)
 * or a server error, and returns -1. */
static int akismet_auth(api_ctx *ctx, api_request *req, const akismet_form *form, api_reply *rep)
{
    char hostkey[128];
    const char *key = akismet_get(form, "api_key");
    if (!key)
        key = akismet_get(form, "key");
    if (!key && compat_host_key(req->host, hostkey, sizeof hostkey) == 0)
        key = hostkey;
    size_t len = key ? strlen(key) : 0;
    if (!key)
        key = api_bearer_key(req->authorization, &len);
    mod_error err = {0};
    if (key && api_authorize_key(ctx, req, key, len, API_ROLE_CMS, &err) == 0)
        return 0;
    if (!key || err.code == ERR_UNAUTHORIZED || err.code == ERR_FORBIDDEN) {
        akismet_problem(rep, 200, "invalid",
                        !key ? "Empty \"api_key\" value: send api_key, or use KEY.host as the host."
                        : err.code == ERR_FORBIDDEN
                            ? "This key has no cms role."
                            : "Invalid key: not a moderatord cms key, or revoked.");
        metrics_compat_event("akismet", "invalid_key");
        return -1;
    }
    akismet_fail(rep, &err);
    return -1;
}

/* A comment's identity across comment-check, submit-spam and submit-ham (Akismet asks clients to
 * send the same fields to all three): SHA-256 over the fields that do not change between them. */
static void akismet_ext_id(const akismet_form *form, char out[74])
{
    static const char *const keyed[] = {"blog", "permalink", "user_ip", "comment_author",
                                        "comment_author_email", "comment_content"};
    size_t total = 0;
    for (size_t i = 0; i < sizeof keyed / sizeof keyed[0]; i++) {
        const char *v = akismet_get(form, keyed[i]);
        total += (v ? strlen(v) : 0) + 24;
    }
    char *buf = malloc(total + 1), *p = buf;
    char hash[65] = "";
    if (buf) {
        for (size_t i = 0; i < sizeof keyed / sizeof keyed[0]; i++) {
            const char *v = akismet_get(form, keyed[i]);
            size_t n = v ? strlen(v) : 0;
            p += sprintf(p, "%zu:", n); /* length-prefixed: no two field lists hash alike */
            memcpy(p, v ? v : "", n);
            p += n;
        }
        compat_sha256_hex(buf, (size_t)(p - buf), hash);
        free(buf);
    }
    snprintf(out, 74, "akismet:%.32s", hash);
}

static void akismet_verdict_headers(api_reply *rep, const char *verdict, const char *id,
                                    const char *rules)
{
    api_reply_header(rep, "X-Moderatord-Verdict", verdict);
    if (id) {
        api_reply_header(rep, "X-Moderatord-Id", id);
        api_reply_header(rep, "X-akismet-guid", id);
    }
    if (rules && *rules)
        api_reply_header(rep, "X-Moderatord-Rules", rules);
}

/* comment-check's answer: "true" for hold and block (spam to Akismet's clients: kept out of
 * sight), "false" for accept; blatant (block) also says X-akismet-pro-tip: discard. */
static void akismet_answer(api_reply *rep, mod_verdict v, const char *id, const char *rules)
{
    akismet_text(rep, 200, v == VERDICT_ACCEPT ? "false" : "true");
    if (v == VERDICT_BLOCK)
        api_reply_header(rep, "X-akismet-pro-tip", "discard");
    akismet_verdict_headers(rep, verdict_name(v), id, rules);
}

api_status compat_akismet_check(api_ctx *ctx, api_request *req, api_reply *rep)
{
    akismet_form form;
    if (akismet_read(req, rep, &form) != 0)
        return API_DONE;
    api_status ret = API_DONE;
    mod_ruleset *rs = NULL;
    mod_result res;
    memset(&res, 0, sizeof res);
    char *matches = NULL;
    if (akismet_auth(ctx, req, &form, rep) != 0)
        goto done;
    static const char *const required[] = {"blog", "user_ip"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!akismet_get(&form, required[i])) {
            char body[80];
            snprintf(body, sizeof body, "Missing required field: %s.", required[i]);
            akismet_problem(rep, 400, body, body);
            goto done;
        }

    /* A client retrying the same comment gets the verdict already on record. */
    char ext[74];
    akismet_ext_id(&form, ext);
    const char *blog = akismet_get(&form, "blog");
    mod_error err = {0};
    comment_record old = {0};
    int found = store_find_comment(api_store(ctx), blog, ext, &old, &err);
    if (found < 0) {
        akismet_fail(rep, &err);
        goto done;
    }
    if (found == 0) {
        int v = verdict_from_name(old.verdict);
        akismet_answer(rep, v < 0 ? VERDICT_HOLD : (mod_verdict)v, old.id, NULL);
        comment_record_free(&old);
        goto done;
    }

    const char *text = akismet_get(&form, "comment_content");
    if (!text)
        text = "";
    if (!(rs = api_ruleset_acquire(ctx))) {
        err_set(&err, ERR_RULES, "no rule set is loaded");
        akismet_fail(rep, &err);
        goto done;
    }
    comment_record rec = {
        .site = (char *)blog,
        .ext_id = ext,
        .thread = (char *)akismet_get(&form, "permalink"),
        .author_name = (char *)akismet_get(&form, "comment_author"),
        .author_email = (char *)akismet_get(&form, "comment_author_email"),
        .author_url = (char *)akismet_get(&form, "comment_author_url"),
        .ip = (char *)akismet_get(&form, "user_ip"),
        .user_agent = (char *)akismet_get(&form, "user_agent"),
        .text = (char *)text,
    };
    mod_input in = {.text = text, .len = strlen(text)};
    char id[33], rules[400];
    /* The engine, then the author's sanction: a banned author's comment is spam. */
    if (compat_verdict(ctx, rs, &in, &rec, &res, id, &matches, &err) != 0) {
        akismet_fail(rep, &err);
        goto done;
    }
    compat_rule_names(&res, rules, sizeof rules);
    api_reply prepared = {0};
    akismet_answer(&prepared, res.verdict, id, rules);
    /* WordPress waits up to 15 s for Akismet: no budget, the answer follows the commit. */
    ret = compat_store_and_reply(ctx, req, rep, &rec, &prepared, akismet_fail, 0, "akismet");
done:
    free(matches);
    engine_result_free(&res);
    if (rs)
        ruleset_unref(rs);
    compat_form_free(form.f, form.n);
    return ret;
}

/* submit-spam / submit-ham: a moderator's correction, kept as a "feedback" event on the comment
 * comment-check stored (found by its guid, or by the same fields), or unattached when none. */
static api_status akismet_submit(api_ctx *ctx, api_request *req, api_reply *rep, const char *label)
{
    akismet_form form;
    if (akismet_read(req, rep, &form) != 0)
        return API_DONE;
    comment_record rec = {0};
    char *data = NULL;
    if (akismet_auth(ctx, req, &form, rep) != 0)
        goto done;
    mod_error err = {0};
    int found = 1;
    const char *guid = akismet_get(&form, "guid");
    if (guid) {
        if (store_get_comment(api_store(ctx), guid, &rec, &err) == 0)
            found = 0;
        else if (err.code != ERR_NOT_FOUND) {
            akismet_fail(rep, &err);
            goto done;
        }
    }
    if (found != 0) {
        char ext[74];
        akismet_ext_id(&form, ext);
        found = store_find_comment(api_store(ctx), akismet_get(&form, "blog"), ext, &rec, &err);
        if (found < 0) {
            akismet_fail(rep, &err);
            goto done;
        }
    }
    const char *text = akismet_get(&form, "comment_content");
    char hash[65];
    compat_sha256_hex(text ? text : "", text ? strlen(text) : 0, hash);
    /* The label and what the engine had said; the text itself is on the record already. */
    size_t cap = 512 + (found == 0 ? strlen(rec.verdict) : 0);
    data = malloc(cap);
    if (!data) {
        err_set(&err, ERR_INTERNAL, "out of memory");
        akismet_fail(rep, &err);
        goto done;
    }
    snprintf(data, cap, "{\"label\":\"%s\",\"source\":\"akismet\",\"text_sha256\":\"%s\"%s%s%s}",
             label, hash, found == 0 ? ",\"verdict\":\"" : "", found == 0 ? rec.verdict : "",
             found == 0 ? "\"" : "");
    if (store_event_add(api_store(ctx), "feedback", found == 0 ? rec.id : NULL, req->key_name,
                        data, NULL, &err) != 0) {
        log_msg("akismet: feedback not recorded: %s", err.message);
        akismet_fail(rep, &err);
        goto done;
    }
    metrics_compat_event("akismet", found == 0 ? "feedback" : "feedback_unmatched");
    akismet_text(rep, 200, AKISMET_THANKS);
    if (found == 0)
        api_reply_header(rep, "X-Moderatord-Id", rec.id);
done:
    free(data);
    comment_record_free(&rec);
    compat_form_free(form.f, form.n);
    return API_DONE;
}

api_status compat_akismet_submit_spam(api_ctx *ctx, api_request *req, api_reply *rep)
{
    return akismet_submit(ctx, req, rep, "spam");
}

api_status compat_akismet_submit_ham(api_ctx *ctx, api_request *req, api_reply *rep)
{
    return akismet_submit(ctx, req, rep, "ham");
}

api_status compat_akismet_verify_key(api_ctx *ctx, api_request *req, api_reply *rep)
{
    akismet_form form;
    if (akismet_read(req, rep, &form) != 0)
        return API_DONE;
    if (akismet_auth(ctx, req, &form, rep) == 0)
        akismet_text(rep, 200, "valid");
    compat_form_free(form.f, form.n);
    return API_DONE;
}
