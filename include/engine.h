/* engine.h - the pure moderation engine: text in, verdict, scores and explained matches out. */
#ifndef MODERATORD_ENGINE_H
#define MODERATORD_ENGINE_H

#include <stddef.h>

#include "error.h"
#include "ruleset.h"

typedef enum { VERDICT_ACCEPT = 0, VERDICT_HOLD, VERDICT_BLOCK } mod_verdict;

const char *verdict_name(mod_verdict v);
int verdict_from_name(const char *name); /* -1 if unknown */

/* One rule that fired, with where it fired. Offsets are Unicode code points in the input text. */
typedef struct {
    const char *rule;      /* stable name "category.name", owned by the rule set */
    mod_category category;
    double weight;
    size_t start, end;     /* code-point span in the submitted text */
    char *text;            /* the original substring [start, end) */
    char *matched;         /* normalized form that fired (e.g. "fuck" for "f*ck") */
    const char *file;      /* rule file and line, owned by the rule set */
    int line;
    /* For context rules: the token that aimed it (e.g. "you"); ctx_text NULL when none. */
    size_t ctx_start, ctx_end;
    char *ctx_text;
} mod_match;

typedef struct {
    const char *text;      /* UTF-8, need not be NUL-terminated */
    size_t len;
    /* Names of other participants (parent comment's author, mentioned users): insults aimed at them
     * count as personal attacks like "you". May be NULL/0. */
    const char *const *participants;
    size_t n_participants;
} mod_input;

typedef struct {
    mod_verdict verdict;
    double score;                   /* sum over categories */
    double categories[CAT__COUNT];
    mod_match *matches;             /* one allocation, strings included: engine_result_free */
    size_t n_matches;
} mod_result;

/*
 * Scores one comment. Thread-safe: many threads may check against one rule set at once.
 * Returns 0, or -1 with err (ERR_BAD_UTF8 for invalid UTF-8).
 */
int engine_check(const mod_ruleset *rs, const mod_input *in, mod_result *out, mod_error *err);
void engine_result_free(mod_result *res);

/* Returns 1 when s[0..len) is valid UTF-8. */
int utf8_valid(const char *s, size_t len);

/* Frees the calling thread's caches (tools call it before exit; threads free them at exit). */
void engine_thread_cleanup(void);

#endif
