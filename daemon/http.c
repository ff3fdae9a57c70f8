/* http.c - libmicrohttpd glue: the route table, body limits, per-request state, suspend/resume
 * for requests waiting on the store, and the access log. Knows no JSON: replies come from api.c. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api_admin.h"
#include "api_compat.h"
#include "api_moderation.h"
#include "log.h"
#include "metrics.h"
#include "static.h"

/* One route: pattern segments are literal, "{name}" (one segment, passed to the handler in
 * req->params) or a final "{*}" (the rest of the path). */
typedef struct {
    const char *method;
    const char *pattern;
    api_handler handler;
    api_role role;
} http_route;

static const http_route http_routes[] = {
    {"GET", "/healthz", api_healthz, API_ROLE_PUBLIC},
    {"POST", "/v1/comments", api_comment_post, API_ROLE_CMS},
    {"GET", "/v1/comments/{id}", api_comment_get, API_ROLE_MODERATOR},
    /* The drop-in protocols authenticate in their handlers, each its own way and with its
     * own error shape: Perspective's key in ?key= (or the usual header), Akismet's in the form or
     * the Host name, Coral's HMAC signature over the body. /metrics is public like /healthz. */
    {"POST", "/v1alpha1/comments:analyze", compat_perspective_analyze, API_ROLE_PUBLIC},
    {"POST", "/v1alpha1/comments:suggestscore", compat_perspective_suggest, API_ROLE_PUBLIC},
    {"POST", "/1.1/comment-check", compat_akismet_check, API_ROLE_PUBLIC},
    {"POST", "/1.1/submit-spam", compat_akismet_submit_spam, API_ROLE_PUBLIC},
    {"POST", "/1.1/submit-ham", compat_akismet_submit_ham, API_ROLE_PUBLIC},
    {"POST", "/1.1/verify-key", compat_akismet_verify_key, API_ROLE_PUBLIC},
    {"POST", "/v1/integrations/coral/phase", compat_coral_phase, API_ROLE_PUBLIC},
    {"GET", "/metrics", metrics_handler, API_ROLE_PUBLIC},
    /* Moderation (api_moderation.c) and the review page (static.c; the page itself
     * asks for a moderator key and sends it with every API call). */
    {"GET", "/v1/queue", api_queue_get, API_ROLE_MODERATOR},
    {"POST", "/v1/comments/{id}/decision", api_decision_post, API_ROLE_MODERATOR},
    {"POST", "/v1/comments/{id}/report", api_report_post, API_ROLE_CMS},
    {"GET", "/v1/decisions", api_decisions_get, API_ROLE_CMS},
    {"GET", "/v1/authors/{author}", api_author_get, API_ROLE_MODERATOR},
    {"POST", "/v1/authors/{author}/sanction", api_author_sanction_post, API_ROLE_MODERATOR},
    {"GET", "/moderate", static_moderate, API_ROLE_PUBLIC},
    {"GET", "/moderate/{*}", static_moderate, API_ROLE_PUBLIC},
    /* The rule set and its reloads, dry runs (api_admin.c). GET /v1/comments/{id}?explain=1
     * is api_comment_get adding api_comment_explain. */
    {"GET", "/v1/rules", api_rules_get, API_ROLE_MODERATOR},
    {"POST", "/v1/rules/reload", api_rules_reload, API_ROLE_ADMIN},
    {"POST", "/v1/check", api_check_post, API_ROLE_ADMIN},
};
#define HTTP_N_ROUTES (sizeof http_routes / sizeof http_routes[0])

#define HTTP_MAX_ARGS 32
/* A chunked body (no Content-Length) found too large is read and dropped up to this much, so the
 * client still gets its 413; past it the connection is cut. */
#define HTTP_DISCARD_LIMIT (4u * 1024u * 1024u)

struct http_server {
    struct MHD_Daemon *d;
    api_ctx *api;
    size_t max_body;
    atomic_int closing;
    atomic_long in_flight; /* requests between their first access call and completion */
    atomic_long suspended; /* of which waiting for the store */
    char address[300];
};

typedef enum {
    HC_READING, /* headers seen, body arriving */
    HC_DISCARD, /* chunked body over the cap: dropping the rest, 413 at the end */
    HC_ERROR,   /* refused before the body: reply ready, sent on the last call */
    HC_PENDING, /* handler suspended the connection; the reply comes from another thread */
    HC_DONE,    /* reply queued */
} http_phase;

/* Per-request state: made on the first access call, freed in the completed callback. */
typedef struct {
    http_server *srv;
    struct MHD_Connection *conn;
    const http_route *route;
    http_phase phase;
    int suspended; /* counted in srv->suspended until resumed */
    unsigned status;
    struct timespec t0;
    char method[16];
    char *path;
    char remote[INET6_ADDRSTRLEN];
    char *params[API_MAX_PARAMS];
    api_pair args[HTTP_MAX_ARGS];
    size_t n_args;
    char *body;
    size_t len, cap, discarded;
    api_request req;
    api_reply rep;
} http_conn;

/* ---- routing ---- */

/* Matches path against pattern; with caps, copies the {name} segments (caller frees). */
static int http_match(const char *pat, const char *path, char **caps, size_t *n_caps)
{
    size_t n = 0;
    for (;;) {
        if (*pat != '/' || *path != '/')
            goto no;
        pat++;
        path++;
        const char *pe = strchrnul(pat, '/');
        const char *se = strchrnul(path, '/');
        if (pe - pat == 3 && strncmp(pat, "{*}", 3) == 0 && *pe == '\0') {
            se = path + strlen(path); /* the rest, slashes included */
        } else if (pat[0] == '{' && pe[-1] == '}') {
            if (se == path)
                goto no; /* a parameter is never empty */
        } else if (pe - pat != se - path || strncmp(pat, path, (size_t)(pe - pat)) != 0) {
            goto no;
        }
        if (pat[0] == '{') {
            if (n >= API_MAX_PARAMS)
                goto no;
            if (caps && !(caps[n] = strndup(path, (size_t)(se - path))))
                goto no;
            n++;
        }
        pat = pe;
        path = se;
        if (!*pat && !*path)
            break;
    }
    if (n_caps)
        *n_caps = n;
    return 1;
no:
    if (caps)
        for (size_t i = 0; i < n; i++) {
            free(caps[i]);
            caps[i] = NULL;
        }
    return 0;
}

/* Finds the route for method and path: 0 found, ERR_NOT_FOUND, or ERR_METHOD with the methods the
 * path allows in allow. */
static err_code http_route_find(const char *method, const char *path, const http_route **out,
                                char *allow, size_t allow_len)
{
    /* HEAD is GET without a body; libmicrohttpd drops the body itself. */
    const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
    int path_known = 0;
    allow[0] = '\0';
    for (size_t i = 0; i < HTTP_N_ROUTES; i++) {
        if (!http_match(http_routes[i].pattern, path, NULL, NULL))
            continue;
        if (strcmp(http_routes[i].method, m) == 0) {
            *out = &http_routes[i];
            return ERR_NONE;
        }
        path_known = 1;
        size_t used = strlen(allow);
        snprintf(allow + used, allow_len - used, "%s%s", used ? ", " : "", http_routes[i].method);
    }
    return path_known ? ERR_METHOD : ERR_NOT_FOUND;
}

/* ---- replies ---- */

static enum MHD_Result http_send(http_conn *hc)
{
    api_reply *rep = &hc->rep;
    struct MHD_Response *r;
    if (rep->body) {
        r = MHD_create_response_from_buffer(rep->body_len, rep->body, MHD_RESPMEM_MUST_FREE);
        if (r)
            rep->body = NULL; /* the response owns it now */
    } else {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!r)
        return MHD_NO;
    rep->body_len = 0;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            rep->content_type ? rep->content_type : "application/json");
    for (size_t i = 0; i < rep->n_headers; i++)
        MHD_add_response_header(r, rep->headers[i].name, rep->headers[i].value);
    if (atomic_load(&hc->srv->closing))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    hc->status = rep->status ? rep->status : 500;
    hc->phase = HC_DONE;
    enum MHD_Result ret = MHD_queue_response(hc->conn, hc->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Answers with the one JSON error shape. */
static enum MHD_Result http_fail(http_conn *hc, err_code code, const char *msg)
{
    api_error(&hc->rep, code, "%s", msg);
    return http_send(hc);
}

/* Refuses a request before its body. With no body coming the reply waits for the last call, so
 * the connection stays open for the next request; with a body it goes out now and libmicrohttpd
 * closes the connection instead of reading an upload nobody wants. */
static enum MHD_Result http_refuse(http_conn *hc)
{
    struct MHD_Connection *c = hc->conn;
    if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH) ||
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        return http_send(hc);
    hc->phase = HC_ERROR;
    return MHD_YES;
}

static enum MHD_Result http_refuse_msg(http_conn *hc, err_code code, const char *msg)
{
    api_error(&hc->rep, code, "%s", msg);
    return http_refuse(hc);
}

/* ---- the handler hooks api.c calls ---- */

static void http_suspend(void *arg)
{
    http_conn *hc = arg;
    hc->phase = HC_PENDING;
    hc->suspended = 1;
    atomic_fetch_add(&hc->srv->suspended, 1);
    MHD_suspend_connection(hc->conn);
}

static void http_resume(void *arg)
{
    http_conn *hc = arg;
    MHD_resume_connection(hc->conn);
}

/* ---- per-request state ---- */

static enum MHD_Result http_arg_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    http_conn *hc = cls;
    if (hc->n_args >= HTTP_MAX_ARGS)
        return MHD_NO;
    hc->args[hc->n_args].name = key;
    hc->args[hc->n_args].value = value ? value : "";
    hc->n_args++;
    return MHD_YES;
}

static void http_remote(http_conn *hc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(hc->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    strcpy(hc->remote, "-");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, hc->remote,
                  sizeof hc->remote);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, hc->remote,
                  sizeof hc->remote);
}

static const char *http_header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* req->header: any request header, for handlers that need more than the usual three. */
static const char *http_req_header(void *conn, const char *name)
{
    return http_header(((http_conn *)conn)->conn, name);
}

/* First call for a request: route, authenticate and check the announced size before any body is
 * read, so a refused request costs no upload. */
static enum MHD_Result http_begin(http_conn *hc, const char *url, const char *method)
{
    http_server *srv = hc->srv;
    struct MHD_Connection *c = hc->conn;
    snprintf(hc->method, sizeof hc->method, "%s", method);
    hc->path = strdup(url);
    http_remote(hc);
    if (!hc->path)
        return MHD_NO;

    if (atomic_load(&srv->closing))
        return http_refuse_msg(hc, ERR_STORE, "the server is shutting down");

    char allow[64], msg[256];
    err_code rc = http_route_find(method, url, &hc->route, allow, sizeof allow);
    if (rc == ERR_NOT_FOUND)
        return http_refuse_msg(hc, ERR_NOT_FOUND, "no such route");
    if (rc == ERR_METHOD) {
        snprintf(msg, sizeof msg, "method %s is not allowed here; allowed: %s", hc->method, allow);
        api_error(&hc->rep, ERR_METHOD, "%s", msg);
        api_reply_header(&hc->rep, MHD_HTTP_HEADER_ALLOW, allow);
        return http_refuse(hc);
    }

    api_request *req = &hc->req;
    req->method = hc->method;
    req->path = hc->path;
    http_match(hc->route->pattern, url, hc->params, &req->n_params);
    for (size_t i = 0; i < req->n_params; i++)
        req->params[i] = hc->params[i];
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, http_arg_cb, hc);
    req->args = hc->args;
    req->n_args = hc->n_args;
    req->authorization = http_header(c, MHD_HTTP_HEADER_AUTHORIZATION);
    req->content_type = http_header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
    req->host = http_header(c, MHD_HTTP_HEADER_HOST);
    req->header = http_req_header;
    req->remote_addr = hc->remote;
    req->suspend = http_suspend;
    req->resume = http_resume;
    req->conn = hc;

    if (api_authorize(srv->api, req, hc->route->role, &hc->rep) != 0)
        return http_refuse(hc);

    const char *cl = http_header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        errno = 0;
        char *end;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || end == cl || n > srv->max_body) {
            snprintf(msg, sizeof msg, "the body is larger than %zu bytes", srv->max_body);
            return http_fail(hc, ERR_TOO_LARGE, msg);
        }
        if (n > 0 && !(hc->body = malloc((size_t)n)))
            return MHD_NO;
        hc->cap = (size_t)n;
    }
    hc->phase = HC_READING;
    return MHD_YES;
}

/* Keeps a body chunk, or switches to discarding once the body passes the cap. */
static enum MHD_Result http_body_chunk(http_conn *hc, const char *data, size_t n)
{
    size_t max = hc->srv->max_body;
    if (hc->phase == HC_READING && n > max - hc->len) {
        hc->phase = HC_DISCARD;
        hc->discarded = hc->len;
        free(hc->body);
        hc->body = NULL;
        hc->len = hc->cap = 0;
    }
    if (hc->phase == HC_DISCARD) {
        hc->discarded += n;
        return hc->discarded > HTTP_DISCARD_LIMIT ? MHD_NO : MHD_YES;
    }
    if (hc->len + n > hc->cap) {
        size_t cap = hc->cap ? hc->cap : 4096;
        while (cap < hc->len + n)
            cap *= 2;
        if (cap > max)
            cap = max;
        char *b = realloc(hc->body, cap);
        if (!b)
            return MHD_NO;
        hc->body = b;
        hc->cap = cap;
    }
    memcpy(hc->body + hc->len, data, n);
    hc->len += n;
    return MHD_YES;
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version,
                                   const char *upload_data, size_t *upload_data_size,
                                   void **con_cls)
{
    (void)version;
    http_server *srv = cls;
    http_conn *hc = *con_cls;
    if (!hc) {
        hc = calloc(1, sizeof *hc);
        if (!hc)
            return MHD_NO;
        hc->srv = srv;
        hc->conn = conn;
        clock_gettime(CLOCK_MONOTONIC, &hc->t0);
        *con_cls = hc;
        atomic_fetch_add(&srv->in_flight, 1);
        return http_begin(hc, url, method);
    }

    switch (hc->phase) {
    case HC_DONE:
        *upload_data_size = 0;
        return MHD_YES;
    case HC_ERROR:
        if (*upload_data_size) { /* cannot happen: refused requests have no body */
            *upload_data_size = 0;
            return MHD_YES;
        }
        return http_send(hc);
    case HC_PENDING:
        /* Resumed: the writer has committed (or failed) and filled the reply. */
        hc->suspended = 0;
        atomic_fetch_sub(&srv->suspended, 1);
        api_request_resumed(&hc->req, &hc->rep);
        return http_send(hc);
    case HC_READING:
    case HC_DISCARD:
        break;
    }

    if (*upload_data_size) {
        enum MHD_Result r = http_body_chunk(hc, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return r;
    }

    /* The last call: the whole body is here. */
    if (hc->phase == HC_DISCARD) {
        char msg[128];
        snprintf(msg, sizeof msg, "the body is larger than %zu bytes", srv->max_body);
        return http_fail(hc, ERR_TOO_LARGE, msg);
    }
    hc->req.body = hc->body;
    hc->req.body_len = hc->len;
    if (hc->route->handler(srv->api, &hc->req, &hc->rep) == API_PENDING)
        return MHD_YES; /* suspended; answered when resumed */
    return http_send(hc);
}

static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    http_server *srv = cls;
    http_conn *hc = *con_cls;
    if (!hc)
        return;
    *con_cls = NULL;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - hc->t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - hc->t0.tv_nsec) / 1e6;
    static const char *const why[] = {
        [MHD_REQUEST_TERMINATED_COMPLETED_OK] = "",
        [MHD_REQUEST_TERMINATED_WITH_ERROR] = " (connection error)",
        [MHD_REQUEST_TERMINATED_TIMEOUT_REACHED] = " (timeout)",
        [MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN] = " (shutdown)",
        [MHD_REQUEST_TERMINATED_READ_ERROR] = " (read error)",
        [MHD_REQUEST_TERMINATED_CLIENT_ABORT] = " (client closed)",
    };
    const char *reason = (unsigned)toe < sizeof why / sizeof why[0] && why[toe] ? why[toe] : "";
    /* Paths are cut at 200 bytes: a hostile URL should not flood the log. The key's name says
     * which client it was (never the key itself). */
    char status[16] = "-";
    if (hc->status)
        snprintf(status, sizeof status, "%u", hc->status);
    log_msg("%s %s %.200s %s %.2fms%s%s%s", hc->remote, hc->method, hc->path ? hc->path : "-",
            status, ms, hc->req.key_name[0] ? " key=" : "", hc->req.key_name, reason);
    /* Labelled by route pattern, never by the raw path: a hostile URL must not mint new series. */
    metrics_request(hc->route ? hc->route->method : "-", hc->route ? hc->route->pattern : NULL,
                    hc->status, ms / 1e3);

    if (hc->suspended) /* resumed but closed before its reply went out */
        atomic_fetch_sub(&srv->suspended, 1);
    api_request_done(&hc->req);
    api_reply_free(&hc->rep);
    for (size_t i = 0; i < API_MAX_PARAMS; i++)
        free(hc->params[i]);
    free(hc->body);
    free(hc->path);
    free(hc);
    atomic_fetch_sub(&srv->in_flight, 1);
}

static void http_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    log_msg("libmicrohttpd: %s", buf);
}

/* ---- start and stop ---- */

int http_parse_listen(const char *listen, char *host, size_t host_len, unsigned *port,
                      mod_error *err)
{
    const char *colon, *h = listen;
    size_t hl;
    if (!listen || !*listen)
        return err_set(err, ERR_BAD_REQUEST, "listen address is empty; expected ADDR:PORT");
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':')
            return err_set(err, ERR_BAD_REQUEST, "bad listen address \"%s\": expected [ADDR]:PORT",
                           listen);
        h = listen + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon)
            return err_set(err, ERR_BAD_REQUEST, "bad listen address \"%s\": expected ADDR:PORT",
                           listen);
        hl = (size_t)(colon - listen);
    }
    if (hl == 0 || hl >= host_len)
        return err_set(err, ERR_BAD_REQUEST, "bad listen address \"%s\": no host", listen);
    char *end;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || p > 65535)
        return err_set(err, ERR_BAD_REQUEST, "bad listen address \"%s\": port must be 0-65535",
                       listen);
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (unsigned)p;
    return 0;
}

static unsigned http_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

int http_start(const http_config *cfg, api_ctx *api, http_server **out, mod_error *err)
{
    char host[256];
    unsigned port;
    if (http_parse_listen(cfg->listen, host, sizeof host, &port, err) != 0)
        return -1;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE}, *ai = NULL;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", port);
    int gai = getaddrinfo(host, portstr, &hints, &ai);
    if (gai != 0)
        return err_set(err, ERR_BAD_REQUEST, "cannot resolve listen address %s: %s", host,
                       gai_strerror(gai));

    http_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        freeaddrinfo(ai);
        return err_set(err, ERR_INTERNAL, "out of memory");
    }
    srv->api = api;
    srv->max_body = cfg->max_body ? cfg->max_body : HTTP_DEFAULT_MAX_BODY;

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    unsigned threads = cfg->threads ? cfg->threads : http_cpus();
    srv->d = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, http_access, srv,
        MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL, /* first, so it sees every message */
        MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, cfg->conn_limit ? cfg->conn_limit : 1000u,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_ip_limit ? cfg->per_ip_limit : 256u,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s ? cfg->timeout_s : 30u,
        MHD_OPTION_NOTIFY_COMPLETED, http_completed, srv,
        MHD_OPTION_END);
    int family = ai->ai_family;
    freeaddrinfo(ai);
    if (!srv->d) {
        free(srv);
        return err_set(err, ERR_INTERNAL, "cannot listen on %s (address in use, or not local?)",
                       cfg->listen);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned real_port = di ? di->port : port;
    snprintf(srv->address, sizeof srv->address, family == AF_INET6 ? "[%s]:%u" : "%s:%u", host,
             real_port);
    *out = srv;
    return 0;
}

const char *http_address(const http_server *srv)
{
    return srv->address;
}

static void http_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void http_stop(http_server *srv, unsigned grace_ms)
{
    if (!srv)
        return;
    /* New requests are refused from here on (503, Connection: close). The listener stays open
     * until MHD_stop_daemon: MHD_quiesce_daemon on an epoll daemon races with its own polling
     * thread over removing the listen socket, and libmicrohttpd 0.9.75 aborts the process when
     * it loses (MHD_PANIC "Failed to remove listen FD from epoll set"). */
    atomic_store(&srv->closing, 1);
    /* libmicrohttpd must not stop with suspended connections, and a suspended request is one whose
     * verdict is being committed: wait for those however long the writer takes. */
    unsigned waited = 0;
    while (atomic_load(&srv->in_flight) > 0 &&
           (waited < grace_ms || atomic_load(&srv->suspended) > 0)) {
        http_sleep_ms(10);
        waited += 10;
    }
    if (atomic_load(&srv->in_flight) > 0)
        log_msg("stopping with %ld request(s) still reading their body",
                atomic_load(&srv->in_flight));
    MHD_stop_daemon(srv->d);
    free(srv);
}
