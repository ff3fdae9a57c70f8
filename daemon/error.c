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

/* A message cut to fit ends where a character ends: it goes into JSON replies and events, which
 * take only whole UTF-8. */
static void utf8_cut(char *s, size_t len)
{
    size_t lead = len;
    while (lead > 0 && ((unsigned char)s[lead - 1] & 0xC0) == 0x80)
        lead--; /* back over continuation bytes to the character's first byte */
    if (lead == 0)
        return;
    unsigned char c = (unsigned char)s[lead - 1];
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (len - (lead - 1) < need)
        s[lead - 1] = '\0';
}

int err_set(mod_error *err, err_code code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        if (n >= (int)sizeof err->message)
            utf8_cut(err->message, sizeof err->message - 1);
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
