/* api.c - the JSON API: parses submissions, runs the engine, hands verdicts to the store and turns
 * records into replies (jansson). It never sees the HTTP library: http.c passes plain structs. */
#include "api.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "api_admin.h"
#include "api_internal.h"
#include "log.h"
#include "metrics.h"

/* Replies print numbers with at most 10 significant digits: scores are sums of small weights, and
 * 0.30000000000000004 helps no one. */
#define API_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10))
#define API_PRETTY_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(10))

struct api_ctx {
    store *st;
    pthread_mutex_t lock; /* guards rs: a reload swaps it while requests take references */
    mod_ruleset *rs;
};

/* What POST /v1/comments keeps while its record waits for the writer. The writer thread only
 * notes the outcome: the reply is built back on the request's thread (api_comment_resumed), so the
 * one writer spends its time committing, not formatting JSON. */
typedef enum { API_WAITING = 0, API_COMMITTED, API_ANSWERED } api_outcome;

typedef struct {
    mod_ruleset *rs; /* the set the verdict was made with; its thresholds go into the reply */
    api_reply *rep;
    api_outcome outcome;
    char id[33];
    mod_verdict verdict;
    double score, categories[CAT__COUNT];
    json_t *matches;
    char created_at[40];
    const char *reason; /* static: "author_banned" / "author_probation" when a sanction decided */
    json_t *sanction;   /* the author's sanction, when they are under one (api_moderation.c) */
} api_state;

static const char *const api_role_names[] = {
    [API_ROLE_PUBLIC] = "public",
    [API_ROLE_CMS] = "cms",
    [API_ROLE_MODERATOR] = "moderator",
    [API_ROLE_ADMIN] = "admin",
};

const char *api_role_name(api_role role)
{
    return (unsigned)role <= API_ROLE_ADMIN ? api_role_names[role] : "?";
}

static int api_role_from_name(const char *name)
{
    for (int r = API_ROLE_CMS; r <= API_ROLE_ADMIN; r++)
        if (name && strcmp(name, api_role_names[r]) == 0)
            return r;
    return -1;
}

/* ---- context and the live rule set ---- */

api_ctx *api_new(store *st, mod_ruleset *rs)
{
    api_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    ctx->st = st;
    ctx->rs = rs;
    pthread_mutex_init(&ctx->lock, NULL);
    api_strike_policy_publish(st, rs); /* the strike thresholds the store applies */
    return ctx;
}

void api_free(api_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->rs)
        ruleset_unref(ctx->rs);
    pthread_mutex_destroy(&ctx->lock);
    free(ctx);
}

void api_swap_ruleset(api_ctx *ctx, mod_ruleset *rs)
{
    pthread_mutex_lock(&ctx->lock);
    mod_ruleset *old = ctx->rs;
    ctx->rs = rs;
    pthread_mutex_unlock(&ctx->lock);
    api_strike_policy_publish(ctx->st, rs);
    /* Outside the lock: freeing a large set must not stall requests taking the new one. */
    if (old)
        ruleset_unref(old);
}

mod_ruleset *api_ruleset_acquire(api_ctx *ctx)
{
    pthread_mutex_lock(&ctx->lock);
    mod_ruleset *rs = ctx->rs ? ruleset_ref(ctx->rs) : NULL;
    pthread_mutex_unlock(&ctx->lock);
    return rs;
}

void api_request_resumed(api_request *req, api_reply *rep)
{
    if (req->state_resumed)
        req->state_resumed(req, rep);
}

void api_request_done(api_request *req)
{
    if (req->state && req->state_free)
        req->state_free(req->state);
    req->state = NULL;
    req->state_free = NULL;
}

/* ---- replies ---- */

void api_reply_free(api_reply *rep)
{
    free(rep->body);
    rep->body = NULL;
    rep->body_len = 0;
    for (size_t i = 0; i < rep->n_headers; i++)
        free((char *)rep->headers[i].value);
    rep->n_headers = 0;
}

void api_reply_header(api_reply *rep, const char *name, const char *value)
{
    if (rep->n_headers >= API_MAX_HEADERS)
        return;
    char *v = strdup(value);
    if (!v)
        return;
    rep->headers[rep->n_headers].name = name;
    rep->headers[rep->n_headers].value = v;
    rep->n_headers++;
}

/* A JSON string from text that may hold bytes a client sent (ids from the URL): jansson refuses
 * invalid UTF-8, so such bytes become '?' rather than losing the whole reply. */
json_t *api_str(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    char *copy = strdup(s);
    if (!copy)
        return json_null();
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j ? j : json_null();
}

char *api_dump(json_t *o, int pretty)
{
    char *s = o ? json_dumps(o, pretty ? API_PRETTY_FLAGS : API_DUMP_FLAGS) : NULL;
    json_decref(o);
    return s;
}

void api_reply_dump(api_reply *rep, unsigned status, json_t *obj, size_t flags,
                    const char *content_type, const char *oom)
{
    char *s = obj ? json_dumps(obj, flags) : NULL;
    json_decref(obj);
    free(rep->body);
    rep->content_type = content_type;
    if (!s) {
        /* Out of memory: a fixed reply needs no allocation. */
        rep->status = 500;
        rep->body = strdup(oom);
        rep->body_len = rep->body ? strlen(oom) : 0;
        return;
    }
    rep->status = status;
    rep->body = s;
    rep->body_len = strlen(s);
}

void api_reply_json(api_reply *rep, unsigned status, json_t *obj, int pretty)
{
    api_reply_dump(rep, status, obj, pretty ? API_PRETTY_FLAGS : API_DUMP_FLAGS,
                   "application/json", "{\"error\":\"internal\",\"message\":\"out of memory\"}");
}

void api_error_json(api_reply *rep, err_code code, const char *msg, json_t *extra)
{
    json_t *o = json_object();
    if (o) {
        json_object_set_new(o, "error", json_string(err_name(code)));
        json_object_set_new(o, "message", api_str(msg));
        if (extra)
            json_object_update(o, extra); /* keeps extra's order */
    }
    json_decref(extra);
    api_reply_json(rep, err_http_status(code), o, 0);
}

void api_error(api_reply *rep, err_code code, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    api_error_json(rep, code, msg, NULL);
}

void api_error_from(api_reply *rep, const mod_error *err)
{
    /* A failure that left err unset must not go out as a 200 with an error body. */
    api_error(rep, err->code == ERR_NONE ? ERR_INTERNAL : err->code, "%s", err->message);
}

/* ---- authentication ---- */

const char *api_bearer_key(const char *authorization, size_t *len)
{
    const char *h = authorization;
    *len = 0;
    if (!h)
        return NULL;
    while (*h == ' ' || *h == '\t')
        h++;
    if (strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ' || *h == '\t')
        h++;
    size_t n = strlen(h);
    while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
        n--;
    *len = n;
    return n ? h : NULL;
}

int api_authorize(api_ctx *ctx, api_request *req, api_role need, api_reply *rep)
{
    req->role = API_ROLE_PUBLIC;
    req->key_id = 0;
    req->key_name[0] = '\0';
    if (need == API_ROLE_PUBLIC)
        return 0;

    const char *h = req->authorization;
    if (!h || !*h) {
        api_error(rep, ERR_UNAUTHORIZED,
                  "no API key: send the header \"Authorization: Bearer KEY\"");
        api_reply_header(rep, "WWW-Authenticate", "Bearer");
        return -1;
    }
    size_t n;
    const char *key = api_bearer_key(h, &n);
    if (!key) {
        api_error(rep, ERR_UNAUTHORIZED, "the Authorization header must be \"Bearer KEY\"");
        api_reply_header(rep, "WWW-Authenticate", "Bearer");
        return -1;
    }
    mod_error err = {0};
    if (api_authorize_key(ctx, req, key, n, need, &err) != 0) {
        api_error_from(rep, &err);
        if (err.code == ERR_UNAUTHORIZED)
            api_reply_header(rep, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        return -1;
    }
    return 0;
}

int api_authorize_key(api_ctx *ctx, api_request *req, const char *key, size_t len, api_role need,
                      mod_error *err)
{
    req->role = API_ROLE_PUBLIC;
    req->key_id = 0;
    req->key_name[0] = '\0';
    if (!key || !len)
        return err_set(err, ERR_UNAUTHORIZED, "no API key");
    char copy[256]; /* keys are far shorter: a longer one is no key */
    if (len >= sizeof copy)
        return err_set(err, ERR_UNAUTHORIZED, "unknown or revoked API key");
    memcpy(copy, key, len);
    copy[len] = '\0';
    api_key_info ki = {0};
    mod_error lerr = {0};
    int found = store_key_lookup(ctx->st, copy, &ki, &lerr);
    explicit_bzero(copy, sizeof copy);
    if (found != 0) {
        if (lerr.code == ERR_UNAUTHORIZED)
            return err_set(err, ERR_UNAUTHORIZED, "unknown or revoked API key");
        log_at(LOGL_ERROR, "key lookup failed: %s", lerr.message);
        return err_set(err, ERR_STORE, "cannot check the API key: the store is unavailable");
    }
    int role = api_role_from_name(ki.role);
    if (role < 0 || (role != API_ROLE_ADMIN && role != (int)need)) {
        err_set(err, ERR_FORBIDDEN, "this route needs a %s key; key \"%s\" has role %s",
                api_role_name(need), ki.name ? ki.name : "", ki.role ? ki.role : "?");
        api_key_info_free(&ki);
        return -1;
    }
    req->role = (api_role)role;
    req->key_id = ki.id;
    snprintf(req->key_name, sizeof req->key_name, "%s", ki.name ? ki.name : "");
    api_key_info_free(&ki);
    return 0;
}

store *api_store(api_ctx *ctx)
{
    return ctx->st;
}

const char *api_arg(const api_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_args; i++)
        if (strcmp(req->args[i].name, name) == 0)
            return req->args[i].value;
    return NULL;
}

/* ---- parsing a submission ---- */

/* An optional string field. With numbuf, an integer is accepted too and written out as text (CMS
 * comment ids are often numbers). null counts as absent. */
static int api_opt_str(json_t *obj, const char *key, const char *name, char *numbuf,
                       const char **out, mod_error *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        *out = json_string_value(v);
        return 0;
    }
    if (numbuf && json_is_integer(v)) {
        snprintf(numbuf, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        *out = numbuf;
        return 0;
    }
    return err_set(err, ERR_BAD_FIELD, "\"%s\" must be a string%s", name,
                   numbuf ? " or an integer" : "");
}

json_t *api_json_object(const char *body, size_t len, mod_error *err)
{
    if (!body || len == 0) {
        err_set(err, ERR_BAD_JSON, "the body is empty; expected a JSON object");
        return NULL;
    }
    /* jansson refuses invalid UTF-8 like any syntax error; checking first gives it its own code. */
    if (!utf8_valid(body, len)) {
        err_set(err, ERR_BAD_UTF8, "the body is not valid UTF-8");
        return NULL;
    }
    json_error_t je;
    json_t *doc = json_loadb(body, len, 0, &je);
    if (!doc) {
        if (json_error_code(&je) == json_error_invalid_utf8)
            err_set(err, ERR_BAD_UTF8, "the body is not valid UTF-8: %s", je.text);
        else
            err_set(err, ERR_BAD_JSON, "malformed JSON at line %d, column %d: %s", je.line,
                    je.column, je.text);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        err_set(err, ERR_BAD_JSON, "the body must be a JSON object");
        return NULL;
    }
    return doc;
}

int api_comment_parse(const char *body, size_t len, api_comment *out, mod_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *doc = api_json_object(body, len, err);
    if (!doc)
        return -1;
    out->doc = doc;

    json_t *text = json_object_get(doc, "text");
    if (!text) {
        api_comment_free(out);
        return err_set(err, ERR_BAD_FIELD, "\"text\" is required");
    }
    if (!json_is_string(text)) {
        api_comment_free(out);
        return err_set(err, ERR_BAD_FIELD, "\"text\" must be a string");
    }
    out->text = json_string_value(text);
    out->text_len = json_string_length(text);

    if (api_opt_str(doc, "id", "id", out->num_buf[0], &out->id, err) ||
        api_opt_str(doc, "site", "site", NULL, &out->site, err) ||
        api_opt_str(doc, "thread", "thread", out->num_buf[1], &out->thread, err) ||
        api_opt_str(doc, "parent_id", "parent_id", out->num_buf[2], &out->parent_id, err) ||
        api_opt_str(doc, "ip", "ip", NULL, &out->ip, err) ||
        api_opt_str(doc, "user_agent", "user_agent", NULL, &out->user_agent, err) ||
        api_opt_str(doc, "parent_author", "parent_author", NULL, &out->parent_author, err))
        goto fail;

    json_t *author = json_object_get(doc, "author");
    if (author && !json_is_null(author)) {
        if (!json_is_object(author)) {
            err_set(err, ERR_BAD_FIELD, "\"author\" must be an object");
            goto fail;
        }
        if (api_opt_str(author, "id", "author.id", NULL, &out->author_id, err) ||
            api_opt_str(author, "name", "author.name", NULL, &out->author_name, err) ||
            api_opt_str(author, "email", "author.email", NULL, &out->author_email, err) ||
            api_opt_str(author, "url", "author.url", NULL, &out->author_url, err))
            goto fail;
    }

    json_t *mentions = json_object_get(doc, "mentions");
    size_t n_mentions = 0;
    if (mentions && !json_is_null(mentions)) {
        if (!json_is_array(mentions)) {
            err_set(err, ERR_BAD_FIELD, "\"mentions\" must be an array of strings");
            goto fail;
        }
        n_mentions = json_array_size(mentions);
    }
    out->participants = calloc(n_mentions + 1, sizeof *out->participants);
    if (!out->participants) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto fail;
    }
    if (out->parent_author && *out->parent_author)
        out->participants[out->n_participants++] = out->parent_author;
    out->mentions = out->participants + out->n_participants;
    for (size_t i = 0; i < n_mentions; i++) {
        json_t *m = json_array_get(mentions, i);
        if (!json_is_string(m)) {
            err_set(err, ERR_BAD_FIELD, "\"mentions[%zu]\" must be a string", i);
            goto fail;
        }
        out->participants[out->n_participants++] = json_string_value(m);
        out->n_mentions++;
    }
    return 0;

fail:
    api_comment_free(out);
    return -1;
}

void api_comment_free(api_comment *c)
{
    free(c->participants);
    json_decref(c->doc);
    memset(c, 0, sizeof *c);
}

/* ---- verdicts and records as JSON ---- */

static json_t *api_categories(const double *cats)
{
    json_t *o = json_object();
    for (int c = 0; c < CAT__COUNT; c++)
        json_object_set_new(o, category_name((mod_category)c), json_real(cats[c]));
    return o;
}

json_t *api_thresholds(const policy_config *pol)
{
    json_t *o = json_object();
    for (int c = 0; c < CAT__COUNT; c++)
        json_object_set_new(o, category_name((mod_category)c),
                            json_pack("{s:f,s:f}", "hold", pol->hold[c], "block", pol->block[c]));
    json_object_set_new(o, "total",
                        json_pack("{s:f,s:f}", "hold", pol->total_hold, "block", pol->total_block));
    return o;
}

static json_t *api_matches(const mod_result *res)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < res->n_matches; i++) {
        const mod_match *m = &res->matches[i];
        json_t *o = json_object();
        json_object_set_new(o, "rule", api_str(m->rule));
        json_object_set_new(o, "category", json_string(category_name(m->category)));
        json_object_set_new(o, "weight", json_real(m->weight));
        json_object_set_new(o, "start", json_integer((json_int_t)m->start));
        json_object_set_new(o, "end", json_integer((json_int_t)m->end));
        json_object_set_new(o, "text", api_str(m->text));
        json_object_set_new(o, "matched", api_str(m->matched));
        json_object_set_new(o, "file", api_str(m->file));
        json_object_set_new(o, "line", json_integer(m->line));
        if (m->ctx_text)
            json_object_set_new(o, "context",
                                json_pack("{s:I,s:I,s:o}", "start", (json_int_t)m->ctx_start, "end",
                                          (json_int_t)m->ctx_end, "text", api_str(m->ctx_text)));
        json_array_append_new(arr, o);
    }
    return arr;
}

char *api_matches_json(const mod_result *res, int with_text)
{
    json_t *arr = api_matches(res);
    for (size_t i = 0; !with_text && i < json_array_size(arr); i++) {
        json_t *m = json_array_get(arr, i);
        json_object_del(m, "text");
        json_object_del(m, "matched");
        json_object_del(json_object_get(m, "context"), "text");
    }
    char *s = arr ? json_dumps(arr, API_DUMP_FLAGS) : NULL;
    json_decref(arr);
    return s;
}

json_t *api_record_matches(const comment_record *rec)
{
    json_t *m = rec->matches_json ? json_loads(rec->matches_json, 0, NULL) : NULL;
    if (!json_is_array(m)) {
        json_decref(m);
        m = json_array();
    }
    return m;
}

/* The reply of POST /v1/comments. Takes matches. pol may be NULL (no thresholds known). */
static json_t *api_verdict(const char *id, const char *verdict, const char *state, double score,
                           const double *cats, json_t *matches, const char *ruleset,
                           const char *reason, const policy_config *pol, const char *created_at,
                           int duplicate)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", api_str(id));
    json_object_set_new(o, "verdict", api_str(verdict));
    json_object_set_new(o, "state", api_str(state));
    json_object_set_new(o, "score", json_real(score));
    json_object_set_new(o, "categories", api_categories(cats));
    if (pol)
        json_object_set_new(o, "thresholds", api_thresholds(pol));
    json_object_set_new(o, "matches", matches);
    json_object_set_new(o, "ruleset", api_str(ruleset));
    json_object_set_new(o, "reason", api_str(reason));
    json_object_set_new(o, "created_at", api_str(created_at));
    json_object_set_new(o, "duplicate", json_boolean(duplicate));
    return o;
}

static json_t *api_verdict_from_record(const comment_record *rec, const policy_config *pol,
                                       int duplicate)
{
    return api_verdict(rec->id, rec->verdict, rec->state, rec->score, rec->categories,
                       api_record_matches(rec), rec->ruleset, rec->reason, pol, rec->created_at,
                       duplicate);
}

json_t *api_record(const comment_record *rec)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", api_str(rec->id));
    json_object_set_new(o, "site", api_str(rec->site));
    json_object_set_new(o, "external_id", api_str(rec->ext_id));
    json_object_set_new(o, "thread", api_str(rec->thread));
    json_object_set_new(o, "parent_id", api_str(rec->parent_id));
    json_t *a = json_object();
    json_object_set_new(a, "id", api_str(rec->author_id));
    json_object_set_new(a, "name", api_str(rec->author_name));
    json_object_set_new(a, "email", api_str(rec->author_email));
    json_object_set_new(a, "url", api_str(rec->author_url));
    json_object_set_new(o, "author", a);
    json_object_set_new(o, "ip", api_str(rec->ip));
    json_object_set_new(o, "user_agent", api_str(rec->user_agent));
    json_object_set_new(o, "text", api_str(rec->text));
    json_object_set_new(o, "verdict", api_str(rec->verdict));
    json_object_set_new(o, "state", api_str(rec->state));
    json_object_set_new(o, "score", json_real(rec->score));
    json_object_set_new(o, "categories", api_categories(rec->categories));
    json_object_set_new(o, "matches", api_record_matches(rec));
    json_object_set_new(o, "ruleset", api_str(rec->ruleset));
    json_object_set_new(o, "reason", api_str(rec->reason));
    json_object_set_new(o, "created_at", api_str(rec->created_at));
    json_object_set_new(o, "updated_at", api_str(rec->updated_at));
    return o;
}

json_t *api_check(const mod_ruleset *rs, const mod_result *res)
{
    return api_verdict(NULL, verdict_name(res->verdict), NULL, res->score, res->categories,
                       api_matches(res), ruleset_version(rs), NULL, ruleset_policy(rs), NULL, 0);
}

char *api_check_json(const mod_ruleset *rs, const mod_result *res, int pretty)
{
    return api_dump(api_check(rs, res), pretty);
}

/* ---- routes ---- */

api_status api_healthz(api_ctx *ctx, api_request *req, api_reply *rep)
{
    (void)req;
    mod_ruleset *rs = api_ruleset_acquire(ctx);
    json_t *o = json_pack("{s:s,s:o}", "status", "ok", "ruleset",
                          rs ? api_str(ruleset_version(rs)) : json_null());
    if (rs)
        ruleset_unref(rs);
    api_reply_json(rep, 200, o, 0);
    return API_DONE;
}

int api_comment_read(const api_request *req, api_reply *rep, api_comment *c)
{
    mod_error err = {0};
    if (!api_is_json_type(req->content_type)) {
        api_error(rep, ERR_MEDIA_TYPE, "Content-Type must be application/json, not %s",
                  req->content_type ? req->content_type : "missing");
        return -1;
    }
    if (api_comment_parse(req->body, req->body_len, c, &err) != 0) {
        api_error_from(rep, &err);
        return -1;
    }
    return 0;
}

int api_is_media_type(const char *ct, const char *want)
{
    if (!ct)
        return 0;
    while (*ct == ' ')
        ct++;
    size_t n = strlen(want);
    if (strncasecmp(ct, want, n) != 0)
        return 0;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

/* "application/json", with parameters such as "; charset=utf-8" allowed. */
int api_is_json_type(const char *ct)
{
    return api_is_media_type(ct, "application/json");
}

/* The state a new comment starts in: "accepted" | "held" | "blocked". */
static const char *api_state_of(mod_verdict v)
{
    switch (v) {
    case VERDICT_HOLD:
        return "held";
    case VERDICT_BLOCK:
        return "blocked";
    default:
        return "accepted";
    }
}

void api_record_verdict(comment_record *rec, const mod_result *res, const mod_ruleset *rs,
                        char *matches_json)
{
    rec->verdict = (char *)verdict_name(res->verdict);
    rec->state = (char *)api_state_of(res->verdict);
    rec->score = res->score;
    memcpy(rec->categories, res->categories, sizeof rec->categories);
    rec->matches_json = matches_json;
    rec->ruleset = (char *)ruleset_version(rs);
}

int api_new_id(char out[33])
{
    unsigned char raw[16];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)n;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof raw; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[32] = '\0';
    return 0;
}

/* Runs on the store's writer thread once the record is committed (or failed): fills the reply and
 * wakes the suspended connection. Only now may the client learn the verdict. */
static void api_comment_stored(void *arg, int rc, const comment_record *stored, int existed,
                               const mod_error *err)
{
    api_request *req = arg;
    api_state *s = req->state;
    if (rc != 0 || !stored) {
        log_at(LOGL_ERROR, "store: comment not committed: %s", err ? err->message : "unknown error");
        api_error(s->rep, ERR_STORE, "the verdict could not be stored: %s",
                  err ? err->message : "unknown error");
        s->outcome = API_ANSWERED;
    } else if (existed) {
        /* A concurrent retry with the same (site, id) won: answer with its record (rare). */
        api_reply_json(s->rep, 200, api_verdict_from_record(stored, ruleset_policy(s->rs), 1), 0);
        s->outcome = API_ANSWERED;
    } else {
        snprintf(s->created_at, sizeof s->created_at, "%s",
                 stored->created_at ? stored->created_at : "");
        s->outcome = API_COMMITTED;
    }
    req->resume(req->conn);
}

static void api_state_free(void *arg)
{
    api_state *s = arg;
    if (s->rs)
        ruleset_unref(s->rs);
    json_decref(s->matches);
    json_decref(s->sanction);
    free(s);
}

/* The reply of a committed comment, built on the request's thread. */
static void api_comment_resumed(api_request *req, api_reply *rep)
{
    api_state *s = req->state;
    if (!s || s->outcome != API_COMMITTED)
        return; /* the reply is already filled */
    json_t *o = api_verdict(s->id, verdict_name(s->verdict), api_state_of(s->verdict), s->score,
                            s->categories, json_incref(s->matches), ruleset_version(s->rs),
                            s->reason, ruleset_policy(s->rs), s->created_at, 0);
    if (o && s->sanction)
        json_object_set(o, "sanction", s->sanction);
    api_reply_json(rep, 200, o, 0);
    s->outcome = API_ANSWERED;
}

api_status api_comment_post(api_ctx *ctx, api_request *req, api_reply *rep)
{
    api_comment c;
    mod_error err = {0};
    if (api_comment_read(req, rep, &c) != 0)
        return API_DONE;

    api_state *s = calloc(1, sizeof *s);
    if (!s) {
        api_comment_free(&c);
        api_error(rep, ERR_INTERNAL, "out of memory");
        return API_DONE;
    }
    s->rep = rep;
    req->state = s;
    req->state_free = api_state_free;
    req->state_resumed = api_comment_resumed;
    s->rs = api_ruleset_acquire(ctx);
    if (!s->rs) {
        api_comment_free(&c);
        api_error(rep, ERR_RULES, "no rule set is loaded");
        return API_DONE;
    }

    /* A CMS retrying after a timeout gets the verdict it missed, not a second record. */
    if (c.id) {
        comment_record old = {0};
        int found = store_find_comment(ctx->st, c.site, c.id, &old, &err);
        if (found == 0) {
            api_reply_json(rep, 200, api_verdict_from_record(&old, ruleset_policy(s->rs), 1), 0);
            comment_record_free(&old);
            api_comment_free(&c);
            return API_DONE;
        }
        if (found < 0) {
            log_at(LOGL_ERROR, "store: lookup of %s/%s failed: %s", c.site ? c.site : "", c.id, err.message);
            api_error(rep, ERR_STORE, "the store is unavailable: %s", err.message);
            api_comment_free(&c);
            return API_DONE;
        }
    }

    mod_input in = {
        .text = c.text,
        .len = c.text_len,
        .participants = c.participants,
        .n_participants = c.n_participants,
    };
    mod_result res;
    memset(&res, 0, sizeof res);
    if (engine_check(s->rs, &in, &res, &err) != 0) {
        api_error_from(rep, &err);
        api_comment_free(&c);
        return API_DONE;
    }
    metrics_verdict(res.verdict, res.categories);
    /* Author sanctions, after the engine: one indexed read; a ban blocks, probation holds. */
    if (api_sanction_apply(ctx, s->rs, c.author_id, c.author_email, &res.verdict, &s->reason,
                           &s->sanction, &err) != 0) {
        log_at(LOGL_ERROR, "store: sanction lookup failed: %s", err.message);
        api_error(rep, ERR_STORE, "the store is unavailable: %s", err.message);
        engine_result_free(&res);
        api_comment_free(&c);
        return API_DONE;
    }

    s->matches = api_matches(&res);
    char *matches = s->matches ? json_dumps(s->matches, API_DUMP_FLAGS) : NULL;
    if (api_new_id(s->id) != 0 || !matches) {
        free(matches);
        engine_result_free(&res);
        api_comment_free(&c);
        api_error(rep, ERR_INTERNAL, "cannot make a comment id");
        return API_DONE;
    }

    /* The store copies the record; these pointers only need to live through the call. */
    s->verdict = res.verdict;
    s->score = res.score;
    memcpy(s->categories, res.categories, sizeof s->categories);
    comment_record rec = {
        .id = s->id,
        .site = (char *)c.site,
        .ext_id = (char *)c.id,
        .thread = (char *)c.thread,
        .parent_id = (char *)c.parent_id,
        .author_id = (char *)c.author_id,
        .author_name = (char *)c.author_name,
        .author_email = (char *)c.author_email,
        .author_url = (char *)c.author_url,
        .ip = (char *)c.ip,
        .user_agent = (char *)c.user_agent,
        .text = (char *)c.text,
        .reason = (char *)s->reason,
    };
    api_record_verdict(&rec, &res, s->rs, matches);

    /* Suspend before queueing: the writer may finish and resume before store_submit_comment
     * returns. From here on rep belongs to the writer's callback. */
    req->suspend(req->conn);
    if (store_submit_comment(ctx->st, &rec, api_comment_stored, req) != 0) {
        api_error(rep, ERR_STORE, "the store is not accepting writes (shutting down?)");
        req->resume(req->conn);
    }
    free(matches);
    engine_result_free(&res);
    api_comment_free(&c);
    return API_PENDING;
}

api_status api_comment_get(api_ctx *ctx, api_request *req, api_reply *rep)
{
    const char *id = req->n_params > 0 ? req->params[0] : "";
    comment_record rec = {0};
    mod_error err = {0};
    if (store_get_comment(ctx->st, id, &rec, &err) != 0) {
        if (err.code == ERR_NOT_FOUND)
            api_error(rep, ERR_NOT_FOUND, "no comment with id \"%s\"", id);
        else
            api_error(rep, ERR_STORE, "the store is unavailable: %s", err.message);
        return API_DONE;
    }
    /* The record with its moderation side: state, reports, author, full history. */
    json_t *o = api_moderation_record(ctx, &rec, &err);
    if (o && api_wants_explain(req)) /* ?explain=1: the rule lines behind the verdict */
        json_object_set_new(o, "explain", api_comment_explain(ctx, &rec));
    comment_record_free(&rec);
    if (!o) {
        api_error_from(rep, &err);
        return API_DONE;
    }
    api_reply_json(rep, 200, o, 0);
    return API_DONE;
}
