/* error.c - the error table: code -> stable name -> HTTP status, in one place. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

static const struct {
    const char *name;
    unsigned status;
} err_table[ERR__COUNT] = {
    [ERR_NONE] = {"none", 200},
    [ERR_BAD_JSON] = {"bad_json", 400},
    [ERR_BAD_FIELD] = {"bad_field", 400},
    [ERR_BAD_UTF8] = {"bad_utf8", 400},
    [ERR_BAD_REQUEST] = {"bad_request", 400},
    [ERR_UNAUTHORIZED] = {"unauthorized", 401},
    [ERR_FORBIDDEN] = {"forbidden", 403},
    [ERR_NOT_FOUND] = {"not_found", 404},
    [ERR_METHOD] = {"method_not_allowed", 405},
    [ERR_CONFLICT] = {"conflict", 409},
    [ERR_TOO_LARGE] = {"too_large", 413},
    [ERR_MEDIA_TYPE] = {"unsupported_media_type", 415},
    [ERR_STORE] = {"store_unavailable", 503},
    [ERR_RULES] = {"rules_error", 500},
    [ERR_INTERNAL] = {"internal", 500},
};

int err_set(mod_error *err, err_code code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return -1;
}

const char *err_name(err_code code)
{
    return (unsigned)code < ERR__COUNT ? err_table[code].name : "internal";
}

unsigned err_http_status(err_code code)
{
    return (unsigned)code < ERR__COUNT ? err_table[code].status : 500;
}
