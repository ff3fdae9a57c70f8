/* api.h - the JSON API: request and reply as plain structs, the route handlers, authentication,
 * and the one error shape. Uses jansson, the engine and the store; knows nothing of the HTTP
 * library (http.c fills an api_request and sends back the api_reply). */
#ifndef MODERATORD_API_H
#define MODERATORD_API_H

#include <stddef.h>

#include "engine.h"
#include "error.h"
#include "ruleset.h"
#include "store.h"

/* Who may call a route. An admin key may call every route; other keys only their own role's. */
typedef enum { API_ROLE_PUBLIC = 0, API_ROLE_CMS, API_ROLE_MODERATOR, API_ROLE_ADMIN } api_role;

const char *api_role_name(api_role role);

typedef struct {
    const char *name, *value;
} api_pair;

#define API_MAX_PARAMS 4
#define API_MAX_HEADERS 8

typedef struct api_reply api_reply;

/* One HTTP request as the handlers see it. Strings are owned by the HTTP layer and valid until the
 * request completes. */
typedef struct api_request {
    const char *method;          /* "GET", "POST", ... */
    const char *path;            /* decoded path, without the query string */
    const char *params[API_MAX_PARAMS]; /* path segments captured by {name} in the route */
    size_t n_params;
    const api_pair *args;        /* query arguments, in order */
    size_t n_args;
    const char *authorization, *content_type, *host; /* NULL when absent */
    /* Any other request header by name (case-insensitive), NULL when absent. */
    const char *(*header)(void *conn, const char *name);
    const char *remote_addr;     /* peer address, for logs */
    const char *body;            /* not NUL-terminated; NULL when empty */
    size_t body_len;

    /* Filled by api_authorize for routes that need a key. */
    api_role role;
    long key_id;
    char key_name[128];

    /* For handlers that finish on another thread: call suspend before handing the work over, then
     * fill the reply and call resume exactly once. */
    void (*suspend)(void *conn);
    void (*resume)(void *conn);
    void *conn;

    void *state; /* the handler's per-request state; released by api_request_done */
    /* A handler that keeps state sets these with it: state_resumed finishes the reply on the
     * request's thread after a resume, state_free releases state. */
    void (*state_resumed)(struct api_request *req, api_reply *rep);
    void (*state_free)(void *state);
} api_request;

struct api_reply {
    unsigned status;
    const char *content_type;    /* static string */
    char *body;                  /* malloc'd; whoever sends it takes it (sets body to NULL) */
    size_t body_len;
    api_pair headers[API_MAX_HEADERS]; /* static names, malloc'd values */
    size_t n_headers;
};

/* Handlers return API_DONE with the reply filled, or API_PENDING after req->suspend: the reply is
 * filled later on another thread, which then calls req->resume. */
typedef enum { API_DONE = 0, API_PENDING = 1 } api_status;

typedef struct api_ctx api_ctx;
typedef api_status (*api_handler)(api_ctx *ctx, api_request *req, api_reply *rep);

/* Creates the API context over an open store and a rule set; takes over the caller's reference to
 * rs. Returns NULL on allocation failure. */
api_ctx *api_new(store *st, mod_ruleset *rs);
/* Releases the live rule set and the context. Every request must have completed. */
void api_free(api_ctx *ctx);

/* Makes rs the live rule set, taking over the caller's reference. Requests already running keep
 * the set they started with; the old set is freed when the last of them finishes. */
void api_swap_ruleset(api_ctx *ctx, mod_ruleset *rs);
/* A new reference to the live rule set (release with ruleset_unref). */
mod_ruleset *api_ruleset_acquire(api_ctx *ctx);

/* The store the API was created with (for handlers in other files). */
store *api_store(api_ctx *ctx);

/* The key of an "Authorization: Bearer KEY" header, blanks around it dropped: where it starts in
 * the header, its length in *len. NULL when the header is absent, of another scheme or names no
 * key. */
const char *api_bearer_key(const char *authorization, size_t *len);

/* Checks the len bytes of key, from the Authorization header or elsewhere (a query argument, a
 * form field, the Host name), for a route needing role need. A key longer than any key is unknown
 * like any other. Returns 0 with req->role, key_id, key_name filled, or -1 with err:
 * ERR_UNAUTHORIZED, ERR_FORBIDDEN or ERR_STORE (the message names the problem). */
int api_authorize_key(api_ctx *ctx, api_request *req, const char *key, size_t len, api_role need,
                      mod_error *err);

/*
 * Checks the request's "Authorization: Bearer KEY" against the store for a route needing role.
 * Returns 0 (req->role, key_id, key_name filled), or -1 with the reply filled: 401 for no, unknown
 * or revoked key, 403 for a key of another role, 503 when the store cannot be read.
 */
int api_authorize(api_ctx *ctx, api_request *req, api_role role, api_reply *rep);

/* The value of the first query argument called name, or NULL. */
const char *api_arg(const api_request *req, const char *name);

/* Called by the HTTP layer on the request's own thread once a suspended request is resumed,
 * before the reply is sent: finishes the reply (state_resumed). */
void api_request_resumed(api_request *req, api_reply *rep);

/* Releases what a handler kept for the request (its state, through state_free). Idempotent. */
void api_request_done(api_request *req);

/* Fills rep with the one error shape {"error": err_name(code), "message": ...} and the status
 * err_http_status(code). Frees whatever body rep held. */
void api_error(api_reply *rep, err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* api_error with err's code and message; an err left at ERR_NONE answers as ERR_INTERNAL. */
void api_error_from(api_reply *rep, const mod_error *err);
/* Adds a header (name must be a static string; value is copied). Ignored when full. */
void api_reply_header(api_reply *rep, const char *name, const char *value);
void api_reply_free(api_reply *rep);

/* Routes (see the table in http.c). */
api_status api_healthz(api_ctx *ctx, api_request *req, api_reply *rep);      /* GET /healthz */
api_status api_comment_post(api_ctx *ctx, api_request *req, api_reply *rep); /* POST /v1/comments */
api_status api_comment_get(api_ctx *ctx, api_request *req, api_reply *rep);  /* GET /v1/comments/{id} */

/* A comment as submitted: every string points into the parsed document, valid until
 * api_comment_free. Absent optional fields are NULL. */
typedef struct {
    const char *text;
    size_t text_len;
    const char *id, *site, *thread, *parent_id;
    const char *author_id, *author_name, *author_email, *author_url;
    const char *ip, *user_agent;
    const char *parent_author;
    const char **mentions;
    size_t n_mentions;
    /* participants = parent_author + mentions, ready for mod_input */
    const char **participants;
    size_t n_participants;
    void *doc; /* the parsed JSON document that owns the strings */
    char num_buf[3][32]; /* integer ids ("id": 123) written out as text */
} api_comment;

/* Parses a submission body: ERR_BAD_UTF8, ERR_BAD_JSON or ERR_BAD_FIELD (naming the field) on
 * failure. Unknown fields are ignored. */
int api_comment_parse(const char *body, size_t len, api_comment *out, mod_error *err);
void api_comment_free(api_comment *c);

/* The verdict reply for an engine result that is not stored (moderatorctl check --json): the same
 * shape as POST /v1/comments with "id" and "created_at" null. Caller frees. */
char *api_check_json(const mod_ruleset *rs, const mod_result *res, int pretty);
/* The matches of a result as the JSON array POST /v1/comments stores. With with_text 0 the
 * substrings of the comment (text, matched, context text) are left out. Caller frees. */
char *api_matches_json(const mod_result *res, int with_text);

#endif
