/* error.h - the one error shape every module returns: a code and a message naming what is wrong. */
#ifndef MODERATORD_ERROR_H
#define MODERATORD_ERROR_H

#include <stddef.h>

/* One code per distinct failure a caller may act on; api.c maps each to one HTTP status. */
typedef enum {
    ERR_NONE = 0,
    ERR_BAD_JSON,        /* body is not parseable JSON                  -> 400 */
    ERR_BAD_FIELD,       /* missing or mistyped field                   -> 400 */
    ERR_BAD_UTF8,        /* text is not valid UTF-8                     -> 400 */
    ERR_BAD_REQUEST,     /* anything else the client got wrong          -> 400 */
    ERR_UNAUTHORIZED,    /* no key, or unknown/revoked key              -> 401 */
    ERR_FORBIDDEN,       /* key lacks the role                          -> 403 */
    ERR_NOT_FOUND,       /* no such route or record                     -> 404 */
    ERR_METHOD,          /* route exists, method does not               -> 405 */
    ERR_CONFLICT,        /* state changed meanwhile                     -> 409 */
    ERR_TOO_LARGE,       /* body over the limit                         -> 413 */
    ERR_MEDIA_TYPE,      /* body is not application/json                -> 415 */
    ERR_STORE,           /* database unavailable or failed              -> 503 */
    ERR_RULES,           /* rule files do not load                      -> 500 */
    ERR_INTERNAL,        /* out of memory, bug                          -> 500 */
    ERR__COUNT
} err_code;

typedef struct {
    err_code code;
    char message[512];
} mod_error;

/* Fills err (if not NULL) and returns -1, so callers can `return err_set(...)`. */
int err_set(mod_error *err, err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Stable lower-case name of a code, used as the "error" field of replies ("bad_json", ...). */
const char *err_name(err_code code);

/* HTTP status for a code. */
unsigned err_http_status(err_code code);

#endif
