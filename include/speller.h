/* speller.h - hunspell, behind a lock: English spelling and stemming, and a speller built from
 * the rule vocabulary for near-miss spellings. The only module that includes hunspell.h. */
#ifndef MODERATORD_SPELLER_H
#define MODERATORD_SPELLER_H

#include <stddef.h>

/* The process-wide en_US speller, opened on first use. Returns -1 if the dictionary is missing. */
int speller_english_ready(void);
/* 1 if word is a correctly spelled English word. */
int speller_is_english(const char *word);
/* Calls fn for each stem hunspell gives for word; stops early when fn returns non-zero. */
void speller_stems(const char *word, int (*fn)(const char *stem, void *ctx), void *ctx);

/* A speller over a fixed vocabulary (the rule words), with REP/MAP tables for common spelling
 * games, used to recover near-miss spellings. */
typedef struct vocab_speller vocab_speller;
vocab_speller *speller_vocab_new(const char *const *words, size_t count);
void speller_vocab_free(vocab_speller *vs);
/* Calls fn for each suggestion for word, best first; stops when fn returns non-zero. */
void speller_vocab_suggest(vocab_speller *vs, const char *word,
                           int (*fn)(const char *suggestion, void *ctx), void *ctx);

#endif
