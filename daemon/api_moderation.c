/* api_moderation.c - the moderators' routes in JSON: the queue, decisions, reports, the decisions
 * feed, author records and sanctions, and the sanction step of POST /v1/comments. The state and
 * its rules live in store_moderation.c; this file validates input and shapes replies. */
#include "api_moderation.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "log.h"
#include "store_moderation.h"

#define AM_DEFAULT_LIMIT 50
#define AM_MAX_LIMIT 200
#define AM_FEED_DEFAULT 100
#define AM_FEED_MAX 1000
#define AM_MAX_REASON 1000 /* characters, not bytes: reasons are for people */
#define AM_KEY_LEN 512

/* ---- small helpers ---- */

/* An optional non-negative integer argument within [min, max]. */
static int am_arg_long(const api_request *req, const char *name, long long min, long long max,
                       long long *out, mod_error *err)
{
    const char *v = api_arg(req, name);
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max)
        return err_set(err, ERR_BAD_FIELD, "\"%s\" must be an integer from %lld to %lld", name,
                       min, max);
    *out = n;
    return 0;
}

static long am_utf8_chars(const char *s)
{
    long n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* The request body as a JSON object (an empty body is {} when allow_empty). NULL with err. */
static json_t *am_body(const api_request *req, int allow_empty, mod_error *err)
{
    int empty = !req->body || req->body_len == 0;
    if (empty && allow_empty)
        return json_object();
    /* An empty body is named as such whatever its Content-Type. */
    if (!empty && !api_is_json_type(req->content_type)) {
        err_set(err, ERR_MEDIA_TYPE, "Content-Type must be application/json, not %s",
                req->content_type ? req->content_type : "missing");
        return NULL;
    }
    return api_json_object(req->body, req->body_len, err);
}

/* An optional string field (null = absent). */
static int am_field(json_t *doc, const char *name, const char **out, mod_error *err)
{
    json_t *v = json_object_get(doc, name);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return err_set(err, ERR_BAD_FIELD, "\"%s\" must be a string", name);
    *out = json_string_value(v);
    return 0;
}

/* A reason: optional unless required, trimmed of nothing, at most AM_MAX_REASON characters. */
static int am_reason(json_t *doc, int required, const char *what, const char **out,
                     mod_error *err)
{
    if (am_field(doc, "reason", out, err) < 0)
        return -1;
    if (*out && !**out)
        *out = NULL;
    if (!*out && required)
        return err_set(err, ERR_BAD_FIELD, "\"reason\" is required to %s", what);
    if (*out && am_utf8_chars(*out) > AM_MAX_REASON)
        return err_set(err, ERR_BAD_FIELD, "\"reason\" is longer than %d characters",
                       AM_MAX_REASON);
    if (*out && strlen(*out) != json_string_length(json_object_get(doc, "reason")))
        return err_set(err, ERR_BAD_FIELD, "\"reason\" must not contain NUL characters");
    return 0;
}

static json_t *am_iso(long long ms)
{
    if (!ms)
        return json_null();
    char iso[32];
    store_ms_iso(ms, iso);
    return json_string(iso);
}

/* A new reference to obj[key], or null. */
static json_t *am_get(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return v ? json_incref(v) : json_null();
}

/* Decisions a moderator may take on a comment in state. */
static json_t *am_allowed(const char *state)
{
    json_t *a = json_array();
    static const char *const decisions[] = {"approve", "reject"};
    for (size_t i = 0; i < 2; i++)
        if (store_transition(state, decisions[i]))
            json_array_append_new(a, json_string(decisions[i]));
    return a;
}

/* The live rule set's policy, kept alive by the reference the caller holds. */
static const policy_config *am_policy(const mod_ruleset *rs)
{
    return rs ? ruleset_policy(rs) : NULL;
}

static json_t *am_strike_policy(const policy_config *pol)
{
    if (!pol)
        return json_null();
    return json_pack("{s:I,s:i,s:i}", "window_s", (json_int_t)pol->strike_window_s, "probation",
                     pol->probation_strikes, "ban", pol->ban_strikes);
}

/* ---- authors ---- */

static json_t *am_sanction_json(const author_sanction *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string(author_status_name(a->status)));
    json_object_set_new(o, "source", api_str(a->source));
    json_object_set_new(o, "strikes", json_integer(a->strikes));
    if (a->source && strcmp(a->source, "manual") == 0) {
        json_object_set_new(o, "reason", api_str(a->reason));
        json_object_set_new(o, "until", am_iso(a->until_ms));
        json_object_set_new(o, "set_by", api_str(a->set_by));
    }
    return o;
}

static json_t *am_event_json(const store_event *e)
{
    json_t *data = e->data ? json_loads(e->data, 0, NULL) : NULL;
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer(e->seq));
    json_object_set_new(o, "at", api_str(e->at));
    json_object_set_new(o, "type", api_str(e->type));
    json_object_set_new(o, "actor", api_str(e->actor));
    json_object_set_new(o, "comment_id", api_str(e->comment_id));
    json_object_set_new(o, "data", data ? data : json_null());
    return o;
}

static json_t *am_author_json(const author_record *r, const policy_config *pol)
{
    const author_sanction *a = &r->sanction;
    json_t *o = json_object();
    json_object_set_new(o, "key", api_str(r->key));
    json_object_set_new(o, "status", json_string(author_status_name(a->status)));
    json_object_set_new(o, "source", api_str(a->source));
    json_object_set_new(o, "strikes", json_integer(a->strikes));
    json_object_set_new(o, "strike_policy", am_strike_policy(pol));
    if (a->action) {
        json_t *s = json_object();
        json_object_set_new(s, "action", api_str(a->action));
        json_object_set_new(s, "reason", api_str(a->reason));
        json_object_set_new(s, "until", am_iso(a->until_ms));
        json_object_set_new(s, "set_by", api_str(a->set_by));
        json_object_set_new(s, "set_at", api_str(a->set_at));
        json_object_set_new(s, "active", json_boolean(a->active));
        json_object_set_new(o, "sanction", s);
    } else {
        json_object_set_new(o, "sanction", json_null());
    }
    json_object_set_new(o, "strikes_reset_at", am_iso(a->strikes_reset_ms));
    json_t *counts = json_object();
    json_object_set_new(counts, "total", json_integer(r->total));
    for (int i = 0; i < STORE_N_STATES; i++)
        json_object_set_new(counts, store_states[i], json_integer(r->comments[i]));
    json_object_set_new(o, "comments", counts);
    if (r->strikes) {
        json_t *arr = json_array();
        for (size_t i = 0; i < r->n_strikes; i++)
            json_array_append_new(arr, json_pack("{s:o,s:o,s:o}", "comment_id",
                                                 api_str(r->strikes[i].comment_id), "source",
                                                 api_str(r->strikes[i].source), "at",
                                                 am_iso(r->strikes[i].at_ms)));
        json_object_set_new(o, "recent_strikes", arr);
        json_t *hist = json_array();
        for (size_t i = 0; i < r->n_history; i++)
            json_array_append_new(hist, am_event_json(&r->history[i]));
        json_object_set_new(o, "history", hist);
    }
    return o;
}

/* The author record for a key, or json null for anonymous comments. NULL with err. */
static json_t *am_author_for(store *st, const char *key, const policy_config *pol, int detail,
                             mod_error *err)
{
    if (!key)
        return json_null();
    author_record r;
    if (store_author_record(st, key, pol, detail, &r, err) != 0)
        return NULL;
    json_t *o = am_author_json(&r, pol);
    author_record_free(&r);
    return o;
}

int api_sanction_apply(api_ctx *ctx, const mod_ruleset *rs, const char *author_id,
                       const char *author_email, mod_verdict *verdict, const char **reason,
                       json_t **sanction, mod_error *err)
{
    *reason = NULL;
    *sanction = NULL;
    char buf[AM_KEY_LEN];
    const char *key = store_author_key(author_id, author_email, buf, sizeof buf);
    if (!key)
        return 0; /* anonymous: no record to hold against them */
    author_sanction a;
    if (store_author_sanction(api_store(ctx), key, am_policy(rs), store_now_ms(), &a, err) != 0)
        return -1;
    if (a.status == AUTHOR_BANNED && *verdict != VERDICT_BLOCK) {
        *verdict = VERDICT_BLOCK;
        *reason = "author_banned";
    } else if (a.status == AUTHOR_PROBATION && *verdict == VERDICT_ACCEPT) {
        *verdict = VERDICT_HOLD;
        *reason = "author_probation";
    }
    if (a.status != AUTHOR_OK)
        *sanction = am_sanction_json(&a);
    author_sanction_free(&a);
    return 0;
}

void api_strike_policy_publish(store *st, const mod_ruleset *rs)
{
    if (!st || !rs)
        return;
    mod_error err = {0};
    if (store_strike_policy_set(st, ruleset_policy(rs), &err) != 0)
        log_at(LOGL_ERROR, "store: cannot save the strike policy: %s", err.message);
}

/* ---- comments ---- */

static json_t *am_reports_json(const store_comment_mod *m)
{
    json_t *recent = json_array();
    for (size_t i = 0; i < m->n_recent; i++) {
        const store_report_entry *e = &m->recent_reports[i];
        json_array_append_new(recent, json_pack("{s:o,s:o,s:o,s:o}", "at", api_str(e->at), "by",
                                                api_str(e->actor), "reporter",
                                                api_str(e->reporter), "reason",
                                                api_str(e->reason)));
    }
    return json_pack("{s:I,s:o}", "count", (json_int_t)m->reports, "recent", recent);
}

/* api_record plus the moderation fields of m; author is taken. With history 0 the events are
 * left out (queue items). */
static json_t *am_comment_json(const comment_record *rec, const store_comment_mod *m,
                               json_t *author, int history)
{
    json_t *o = api_record(rec);
    json_object_set_new(o, "cursor", json_integer(m->cursor));
    json_object_set_new(o, "allowed_decisions", am_allowed(rec->state));
    json_object_set_new(o, "reports", am_reports_json(m));
    json_object_set_new(o, "author_record", author);
    if (history) {
        json_t *h = json_array();
        for (size_t i = 0; i < m->n_history; i++)
            json_array_append_new(h, am_event_json(&m->history[i]));
        json_object_set_new(o, "history", h);
    }
    return o;
}

/* One comment with its history and author record, each read now. */
static json_t *am_comment(store *st, const comment_record *rec, const policy_config *pol,
                          mod_error *err)
{
    store_comment_mod m;
    if (store_comment_mod_get(st, rec->id, 1, &m, err) != 0)
        return NULL;
    json_t *author = am_author_for(st, m.author_key, pol, 0, err);
    json_t *o = author ? am_comment_json(rec, &m, author, 1) : NULL;
    store_comment_mod_free(&m);
    return o;
}

json_t *api_moderation_record(api_ctx *ctx, const comment_record *rec, mod_error *err)
{
    mod_ruleset *rs = api_ruleset_acquire(ctx);
    json_t *o = am_comment(api_store(ctx), rec, am_policy(rs), err);
    if (rs)
        ruleset_unref(rs);
    return o;
}

char *api_moderation_record_json(store *st, const comment_record *rec, int pretty,
                                 mod_error *err)
{
    policy_config pol = {0};
    store_strike_policy_get(st, &pol); /* the daemon's, as it last published them */
    json_t *o = am_comment(st, rec, &pol, err);
    if (!o)
        return NULL;
    char *s = api_dump(o, pretty);
    if (!s)
        err_set(err, ERR_INTERNAL, "out of memory");
    return s;
}

/* ---- GET /v1/queue ---- */

api_status api_queue_get(api_ctx *ctx, api_request *req, api_reply *rep)
{
    mod_error err = {0};
    store_queue_query q = {.state = api_arg(req, "status"), .category = -1,
                           .limit = AM_DEFAULT_LIMIT};
    if (!q.state || !*q.state)
        q.state = "held";
    if (store_state_index(q.state) < 0) {
        api_error(rep, ERR_BAD_FIELD, "\"status\" must be one of held, reported, rejected, "
                                      "accepted, approved, blocked");
        return API_DONE;
    }
    q.site = api_arg(req, "site");
    q.thread = api_arg(req, "thread");
    if (q.site && !*q.site)
        q.site = NULL;
    if (q.thread && !*q.thread)
        q.thread = NULL;
    const char *cat = api_arg(req, "category");
    if (cat && *cat && (q.category = category_from_name(cat)) < 0) {
        api_error(rep, ERR_BAD_FIELD,
                  "\"category\" must be profanity, personal_attack or ethnic_slur");
        return API_DONE;
    }
    long long limit = AM_DEFAULT_LIMIT, after = 0;
    if (am_arg_long(req, "limit", 1, AM_MAX_LIMIT, &limit, &err) < 0 ||
        am_arg_long(req, "after", 0, (long long)1 << 62, &after, &err) < 0) {
        api_error_from(rep, &err);
        return API_DONE;
    }
    q.limit = (size_t)limit;
    q.after = after;

    store_queue_item *items = NULL;
    size_t n = 0;
    long total = 0;
    if (store_queue_list(api_store(ctx), &q, &items, &n, &total, &err) != 0) {
        api_error_from(rep, &err);
        return API_DONE;
    }
    mod_ruleset *rs = api_ruleset_acquire(ctx);
    const policy_config *pol = am_policy(rs);
    json_t *authors = json_object(); /* one record per author per page */
    json_t *arr = json_array();
    int failed = 0;
    for (size_t i = 0; i < n && !failed; i++) {
        const char *key = items[i].mod.author_key;
        json_t *author = key ? json_object_get(authors, key) : NULL;
        if (author) {
            json_incref(author);
        } else {
            author = am_author_for(api_store(ctx), key, pol, 0, &err);
            if (!author) {
                failed = 1;
                break;
            }
            if (key)
                json_object_set(authors, key, author);
        }
        /* the page's own snapshot: no store read per item */
        json_array_append_new(arr, am_comment_json(&items[i].rec, &items[i].mod, author, 0));
    }
    json_decref(authors);
    if (failed) {
        json_decref(arr);
        if (rs)
            ruleset_unref(rs);
        store_queue_free(items, n);
        api_error_from(rep, &err);
        return API_DONE;
    }
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string(q.state));
    json_object_set_new(o, "items", arr);
    json_object_set_new(o, "next", n == q.limit ? json_integer(items[n - 1].mod.cursor) : json_null());
    json_object_set_new(o, "total", json_integer(total));
    json_object_set_new(o, "limit", json_integer((json_int_t)q.limit));
    json_object_set_new(o, "thresholds", pol ? api_thresholds(pol) : json_null());
    json_object_set_new(o, "strike_policy", am_strike_policy(pol));
    if (rs)
        ruleset_unref(rs);
    store_queue_free(items, n);
    api_reply_json(rep, 200, o, 0);
    return API_DONE;
}

/* ---- decisions and reports ---- */

/* 409 with the state the comment is in now, so the client can refresh and decide again. */
static void am_conflict(api_reply *rep, const mod_error *err, const char *state,
                        const char *expected)
{
    json_t *o = json_object();
    json_object_set_new(o, "state", api_str(state));
    if (expected)
        json_object_set_new(o, "expected_state", api_str(expected));
    json_object_set_new(o, "allowed_decisions", am_allowed(state));
    api_error_json(rep, ERR_CONFLICT, err->message, o);
}

/* Replies with the comment as it is now (GET's shape) plus extra under name. */
static void am_reply_comment(api_ctx *ctx, api_reply *rep, const char *id, const char *name,
                             json_t *extra)
{
    comment_record rec;
    mod_error err = {0};
    json_t *o = NULL;
    if (store_get_comment(api_store(ctx), id, &rec, &err) == 0) {
        o = api_moderation_record(ctx, &rec, &err);
        comment_record_free(&rec);
    }
    if (!o) {
        json_decref(extra);
        api_error_from(rep, &err);
        return;
    }
    json_object_set_new(o, name, extra);
    api_reply_json(rep, 200, o, 0);
}

api_status api_decision_post(api_ctx *ctx, api_request *req, api_reply *rep)
{
    const char *id = req->n_params > 0 ? req->params[0] : "";
    mod_error err = {0};
    json_t *doc = am_body(req, 0, &err);
    if (!doc) {
        api_error_from(rep, &err);
        return API_DONE;
    }
    const char *decision = NULL, *expected = NULL, *reason = NULL;
    if (am_field(doc, "decision", &decision, &err) < 0 ||
        am_field(doc, "expected_state", &expected, &err) < 0)
        goto bad;
    if (!decision || (strcmp(decision, "approve") != 0 && strcmp(decision, "reject") != 0)) {
        err_set(&err, ERR_BAD_FIELD, "\"decision\" must be \"approve\" or \"reject\"");
        goto bad;
    }
    if (!expected) {
        err_set(&err, ERR_BAD_FIELD, "\"expected_state\" is required: the state the moderator "
                                     "saw (held, reported, ...), so decisions cannot collide");
        goto bad;
    }
    if (am_reason(doc, strcmp(decision, "reject") == 0, "reject a comment", &reason, &err) < 0)
        goto bad;

    store_change ch;
    if (store_decide(api_store(ctx), id, decision, expected, reason, req->key_name, &ch, &err) !=
        0) {
        if (err.code == ERR_CONFLICT)
            am_conflict(rep, &err, ch.before, expected);
        else
            api_error_from(rep, &err);
        json_decref(doc);
        return API_DONE;
    }
    log_msg("decision: %s %s (%s -> %s) by %s", decision, id, ch.before, ch.after, req->key_name);
    json_t *d = json_object();
    json_object_set_new(d, "seq", json_integer(ch.seq));
    json_object_set_new(d, "decision", json_string(decision));
    json_object_set_new(d, "previous_state", json_string(ch.before));
    json_object_set_new(d, "state", json_string(ch.after));
    json_object_set_new(d, "reason", api_str(reason));
    json_object_set_new(d, "moderator", api_str(req->key_name));
    json_decref(doc);
    am_reply_comment(ctx, rep, id, "decision", d);
    return API_DONE;
bad:
    json_decref(doc);
    api_error_from(rep, &err);
    return API_DONE;
}

api_status api_report_post(api_ctx *ctx, api_request *req, api_reply *rep)
{
    const char *id = req->n_params > 0 ? req->params[0] : "";
    mod_error err = {0};
    json_t *doc = am_body(req, 1, &err);
    if (!doc) {
        api_error_from(rep, &err);
        return API_DONE;
    }
    const char *reason = NULL, *reporter = NULL;
    if (am_reason(doc, 0, "report", &reason, &err) < 0 ||
        am_field(doc, "reporter", &reporter, &err) < 0) {
        json_decref(doc);
        api_error_from(rep, &err);
        return API_DONE;
    }
    if (reporter && !*reporter)
        reporter = NULL;
    store_change ch;
    if (store_report(api_store(ctx), id, reporter, reason, req->key_name, &ch, &err) != 0) {
        if (err.code == ERR_CONFLICT)
            api_error_json(rep, ERR_CONFLICT, err.message,
                           json_pack("{s:o}", "state", api_str(ch.before)));
        else
            api_error_from(rep, &err);
        json_decref(doc);
        return API_DONE;
    }
    json_decref(doc);
    json_t *o = json_object();
    json_object_set_new(o, "id", api_str(id));
    json_object_set_new(o, "state", json_string(ch.after));
    json_object_set_new(o, "previous_state", json_string(ch.before));
    json_object_set_new(o, "reports", json_integer(ch.reports));
    json_object_set_new(o, "duplicate", json_boolean(ch.duplicate));
    json_object_set_new(o, "seq", ch.seq ? json_integer(ch.seq) : json_null());
    if (ch.duplicate) { /* the count did not move; say what it is */
        store_comment_mod m;
        if (store_comment_mod_get(api_store(ctx), id, 0, &m, &err) == 0) {
            json_object_set_new(o, "reports", json_integer(m.reports));
            store_comment_mod_free(&m);
        }
    }
    api_reply_json(rep, 200, o, 0);
    return API_DONE;
}

/* ---- GET /v1/decisions ---- */

api_status api_decisions_get(api_ctx *ctx, api_request *req, api_reply *rep)
{
    mod_error err = {0};
    long long since = 0, limit = AM_FEED_DEFAULT;
    if (am_arg_long(req, "since", 0, (long long)1 << 62, &since, &err) < 0 ||
        am_arg_long(req, "limit", 1, AM_FEED_MAX, &limit, &err) < 0) {
        api_error_from(rep, &err);
        return API_DONE;
    }
    store_feed_entry *e = NULL;
    size_t n = 0;
    if (store_decisions_since(api_store(ctx), (long)since, (size_t)limit, &e, &n, &err) != 0) {
        api_error_from(rep, &err);
        return API_DONE;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *data = e[i].data ? json_loads(e[i].data, 0, NULL) : NULL;
        json_t *o = json_object();
        json_object_set_new(o, "cursor", json_integer(e[i].seq));
        json_object_set_new(o, "at", api_str(e[i].at));
        json_object_set_new(o, "id", api_str(e[i].comment_id));
        json_object_set_new(o, "site", api_str(e[i].site));
        json_object_set_new(o, "external_id", api_str(e[i].ext_id));
        json_object_set_new(o, "decision", am_get(data, "decision"));
        json_object_set_new(o, "state", am_get(data, "after"));
        json_object_set_new(o, "previous_state",
                            am_get(data, "before"));
        json_object_set_new(o, "reason", am_get(data, "reason"));
        json_object_set_new(o, "moderator", api_str(e[i].actor));
        json_decref(data);
        json_array_append_new(arr, o);
    }
    long long next = n ? e[n - 1].seq : since;
    store_feed_free(e, n);
    json_t *o = json_object();
    json_object_set_new(o, "decisions", arr);
    json_object_set_new(o, "next", json_integer(next));
    json_object_set_new(o, "more", json_boolean(n == (size_t)limit));
    api_reply_json(rep, 200, o, 0);
    return API_DONE;
}

/* ---- authors ---- */

api_status api_author_get(api_ctx *ctx, api_request *req, api_reply *rep)
{
    char buf[AM_KEY_LEN];
    const char *key = store_author_resolve(api_store(ctx), req->n_params ? req->params[0] : "",
                                           buf, sizeof buf);
    mod_error err = {0};
    mod_ruleset *rs = api_ruleset_acquire(ctx);
    json_t *o = am_author_for(api_store(ctx), key, am_policy(rs), 1, &err);
    if (rs)
        ruleset_unref(rs);
    if (!o)
        api_error_from(rep, &err);
    else
        api_reply_json(rep, 200, o, 0);
    return API_DONE;
}

api_status api_author_sanction_post(api_ctx *ctx, api_request *req, api_reply *rep)
{
    char buf[AM_KEY_LEN];
    const char *key = store_author_resolve(api_store(ctx), req->n_params ? req->params[0] : "",
                                           buf, sizeof buf);
    mod_error err = {0};
    json_t *doc = am_body(req, 0, &err);
    if (!doc) {
        api_error_from(rep, &err);
        return API_DONE;
    }
    const char *action = NULL, *reason = NULL, *until = NULL;
    long long until_ms = 0;
    if (am_field(doc, "action", &action, &err) < 0 || am_field(doc, "until", &until, &err) < 0)
        goto bad;
    if (action && strcmp(action, "unban") == 0)
        action = "clear";
    if (!action || (strcmp(action, "ban") != 0 && strcmp(action, "probation") != 0 &&
                    strcmp(action, "clear") != 0)) {
        err_set(&err, ERR_BAD_FIELD, "\"action\" must be \"ban\", \"probation\" or \"clear\"");
        goto bad;
    }
    int clear = strcmp(action, "clear") == 0;
    if (am_reason(doc, !clear, clear ? "lift a sanction" : "sanction an author", &reason, &err) < 0)
        goto bad;
    if (until && *until) {
        if (clear) {
            err_set(&err, ERR_BAD_FIELD, "\"until\" has no meaning when clearing a sanction");
            goto bad;
        }
        if (store_time_parse(until, store_now_ms(), &until_ms, &err) < 0)
            goto bad;
    }
    long seq = 0;
    if (store_sanction_set(api_store(ctx), key, action, reason, until_ms, req->key_name, &seq,
                           &err) != 0)
        goto bad;
    log_msg("sanction: %s %s by %s", action, key, req->key_name);
    json_decref(doc);
    mod_ruleset *rs = api_ruleset_acquire(ctx);
    json_t *o = am_author_for(api_store(ctx), key, am_policy(rs), 1, &err);
    if (rs)
        ruleset_unref(rs);
    if (!o) {
        api_error_from(rep, &err);
        return API_DONE;
    }
    json_object_set_new(o, "seq", json_integer(seq));
    api_reply_json(rep, 200, o, 0);
    return API_DONE;
bad:
    json_decref(doc);
    api_error_from(rep, &err);
    return API_DONE;
}
