/* engine.c - the pipeline for one comment: validate, normalize, match, decide. */
#include "engine.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "normalize.h"
#include "policy.h"

static const char *const verdict_names[] = {"accept", "hold", "block"};

const char *verdict_name(mod_verdict v)
{
    return (unsigned)v <= VERDICT_BLOCK ? verdict_names[v] : "accept";
}

int verdict_from_name(const char *name)
{
    for (int i = 0; i <= VERDICT_BLOCK; i++)
        if (strcmp(name, verdict_names[i]) == 0)
            return i;
    return -1;
}

int utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        /* Most text is ASCII: skip it eight bytes at a time. */
        while (i + 8 <= len) {
            uint64_t chunk;
            memcpy(&chunk, s + i, 8);
            if (chunk & 0x8080808080808080ULL)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        /* Overlong forms, surrogates and code points past U+10FFFF are not UTF-8. */
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n + 1;
    }
    return 1;
}

static pthread_key_t tokens_key;
static pthread_once_t tokens_once = PTHREAD_ONCE_INIT;

static void tokens_free(void *p)
{
    if (p) {
        token_list_free(p);
        free(p);
    }
}

static void tokens_key_make(void) { pthread_key_create(&tokens_key, tokens_free); }

int engine_check(const mod_ruleset *rs, const mod_input *in, mod_result *out, mod_error *err)
{
    memset(out, 0, sizeof *out);
    if (!utf8_valid(in->text, in->len))
        return err_set(err, ERR_BAD_UTF8, "\"text\" is not valid UTF-8");
    pthread_once(&tokens_once, tokens_key_make);
    token_list *tl = pthread_getspecific(tokens_key);
    if (!tl) {
        tl = calloc(1, sizeof *tl);
        if (!tl)
            return err_set(err, ERR_INTERNAL, "out of memory");
        pthread_setspecific(tokens_key, tl);
    }
    token_list_reset(tl);
    if (normalize_text(in->text, in->len, tl) < 0)
        return err_set(err, ERR_INTERNAL, "out of memory");
    if (match_rules(rs, in, tl, out, err) < 0) {
        engine_result_free(out);
        return -1;
    }
    policy_decide(ruleset_policy(rs), out);
    return 0;
}

void engine_result_free(mod_result *res)
{
    free(res->matches); /* one block with the strings the matches point to */
    res->matches = NULL;
    res->n_matches = 0;
}

void engine_thread_cleanup(void)
{
    pthread_once(&tokens_once, tokens_key_make);
    tokens_free(pthread_getspecific(tokens_key));
    pthread_setspecific(tokens_key, NULL);
    match_thread_cleanup();
}
