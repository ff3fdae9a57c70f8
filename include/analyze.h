/* analyze.h - reading one word: which rule words it is, directly, inflected, or through the
 * spelling games commenters play. Results are cached per thread and per rule set. */
#ifndef MODERATORD_ANALYZE_H
#define MODERATORD_ANALYZE_H

#include <stddef.h>
#include <stdint.h>

#include "ruleset_impl.h"

typedef enum {
    READ_EXACT,   /* the word or one of its inflections */
    READ_PREFIX,  /* word* */
    READ_INFIX,   /* *word* */
    READ_LEET,    /* sh1t, @ss */
    READ_MASK,    /* f*ck */
    READ_STRETCH, /* fuuuck */
    READ_NEAR,    /* fuk, idoit */
} read_how;

typedef struct {
    uint32_t word;
    uint8_t how;
} word_hit;

typedef struct {
    const word_hit *hits; /* valid until the next analyze_word call on this thread */
    uint32_t n_hits;
    const char *reading;  /* the normalized form that was read ("fuck" for "f*ck") */
} word_reading;

typedef struct word_cache word_cache;

/* The calling thread's cache for rs: fetched once per comment, not once per word. NULL when out
 * of memory. */
word_cache *analyze_cache(const mod_ruleset *rs);

/* Reads one normalized word through cache c (from analyze_cache for the same rs). */
int analyze_word_in(word_cache *c, const mod_ruleset *rs, const char *word, size_t len,
                    uint64_t hash, uint16_t flags, word_reading *out);

/* Reads one normalized word (hash: strmap_hash of it; flags from normalize.h). Returns 0, -1 on allocation failure. */
int analyze_word(const mod_ruleset *rs, const char *word, size_t len, uint64_t hash,
                 uint16_t flags, word_reading *out);

/* Frees this thread's cache (also done automatically at thread exit). */
void analyze_thread_cleanup(void);

#endif
