/* http.h - the HTTP server: libmicrohttpd, the route table, limits and per-request state.
 * The only module that includes microhttpd.h; handlers live in api.c. */
#ifndef MODERATORD_HTTP_H
#define MODERATORD_HTTP_H

#include <stddef.h>

#include "api.h"
#include "error.h"

#define HTTP_DEFAULT_MAX_BODY (64u * 1024u)

typedef struct {
    const char *listen;    /* "ADDR:PORT" or "[ADDR6]:PORT"; port 0 = ephemeral */
    size_t max_body;       /* bytes; larger bodies get 413 (0 = HTTP_DEFAULT_MAX_BODY) */
    unsigned threads;      /* request threads (0 = one per CPU) */
    unsigned conn_limit;   /* connections at once (0 = 1000) */
    unsigned per_ip_limit; /* connections at once from one address (0 = 256) */
    unsigned timeout_s;    /* idle connection timeout (0 = 30) */
} http_config;

typedef struct http_server http_server;

/* Splits "ADDR:PORT" / "[ADDR6]:PORT". Returns 0, or -1 with err naming what is wrong. */
int http_parse_listen(const char *listen, char *host, size_t host_len, unsigned *port,
                      mod_error *err);

/* Binds and starts serving with handlers from api (which must outlive the server).
 * Returns 0, or -1 with err. */
int http_start(const http_config *cfg, api_ctx *api, http_server **out, mod_error *err);

/* The address and the real port bound (useful with port 0), e.g. "127.0.0.1:43817". */
const char *http_address(const http_server *srv);

/* Stops accepting connections, lets requests in flight finish (a request waiting for its commit is
 * always waited for; others for at most grace_ms), then stops and frees the server. */
void http_stop(http_server *srv, unsigned grace_ms);

#endif
