/* ruleset_impl.h - the compiled form of a rule set, shared by rules.c (builds it), analyze.c
 * (reads words) and match.c (fires rules). Not for use outside the engine. */
#ifndef MODERATORD_RULESET_IMPL_H
#define MODERATORD_RULESET_IMPL_H

#include <stdatomic.h>
#include <stdint.h>

#include "ruleset.h"
#include "speller.h"
#include "strmap.h"

/* W_ONLY: exactly this form, without the inflections W_EXACT also matches ("=piss off"). */
typedef enum { W_EXACT, W_PREFIX, W_INFIX, W_ONLY } word_kind;

/* A word as written in a rule or set, after normalization. */
typedef struct {
    char *text;
    word_kind kind;
    int element; /* in a set some rule uses as an element, not only as a guard */
} lex_word;

/* A term: one word or a phrase of consecutive words; member of one or more sets. */
typedef struct {
    u32vec words; /* word ids, in order */
    u32vec sets;  /* sets it belongs to */
} lex_term;

typedef struct {
    char *name;    /* "@you", or "" for the anonymous set of a literal in a rule */
    u32vec terms;
    const char *file;
    int line;
    int used;      /* referenced by a rule (lint) */
} lex_set;

typedef enum { GAP_NONE, GAP_ADJACENT, GAP_ORDERED, GAP_WINDOW } gap_kind;

typedef struct {
    uint32_t set;
    gap_kind gap;  /* how this element relates to the previous one */
    uint32_t n;    /* words allowed between them */
} rule_elem;

/* The longest line a rule file may hold, its end included: every reader's buffer (the loader's
 * and lint's) has this size, so a longer line is refused when the file is split rather than cut
 * short by a reader. */
#define MAX_LINE 4096

#define RULE_MAX_ELEMS 32 /* elements in one pattern */
#define RULE_MAX_GUARDS 8 /* "unless" guards on one rule */

typedef struct {
    uint32_t set;
    int n;          /* within n words; -1 = anywhere in the same sentence */
    int before;     /* "..n": only a term that ends before the match counts */
    uint32_t except; /* a guard term inside a term of this set does not count; UINT32_MAX: none */
} rule_unless;

typedef struct {
    char *name;    /* "category.name" */
    mod_category cat;
    double weight;
    rule_elem *elems;
    uint32_t n_elems;
    rule_unless *unless;
    uint32_t n_unless;
    int opens_sentence; /* "^" before the pattern: its first word must begin a sentence */
    const char *file;
    int line;
    char *source;  /* the rule line as written */
} rule_def;

struct mod_ruleset {
    atomic_int refs;
    uint64_t generation;       /* unique per built set: keys the per-thread word caches */
    char version[17];
    policy_config policy;

    lex_word *words;
    uint32_t n_words, cap_words;
    lex_term *terms;
    uint32_t n_terms, cap_terms;
    lex_set *sets;
    uint32_t n_sets, cap_sets;
    rule_def *rules;
    uint32_t n_rules, cap_rules;

    strmap word_ids;           /* "kind:text" -> word id (dedup while building) */
    strmap term_ids;           /* word id sequence -> term id */
    strmap set_ids;            /* "@name" -> set id */
    strmap surface;            /* surface form (word or inflection) -> index into surface_words */
    u32vec *surface_words;     /* exact word ids a surface form reads as */
    char **surface_text;       /* the surface forms themselves, by index */
    uint32_t n_surface, cap_surface;
    strmap prefixes;           /* prefix text -> word id */
    u32vec infixes;            /* word ids of embedded words */
    strmap rule_vocab;         /* every exact/prefix/infix word text and its inflections */
    u32vec *terms_by_first;    /* word id -> term ids starting with it */
    u32vec *rules_by_set;      /* set id -> rule ids whose first element is that set */
    strmap allow_words;        /* single allowed words */
    uint32_t allow_set;        /* set of allowed phrases */
    uint32_t mention_set;      /* built-in @mention */
    strmap near_index;         /* rule word and its one-letter deletions -> index into near_lists */
    u32vec *near_lists;
    uint32_t n_near, cap_near;
    u32vec *by_length;         /* length -> surface indexes, for masked words (f**k, f*cking) */
    uint32_t max_len;
    uint32_t max_prefix;       /* longest word* rule word */
    uint32_t max_join;         /* most single letters read together (f u c k) */
    uint32_t max_term_words;   /* words in the longest term: how far an occurrence reaches */
    strmap heads;              /* first three letters of every rule word */
    vocab_speller *vocab;

    size_t rule_count[CAT__COUNT];
    rule_file *files;
    size_t n_files;
    rule_example *examples;
    size_t n_examples, cap_examples;
};

/* Cuts a '#' comment (outside double quotes) and trailing white space off a rule-file line. */
void rules_strip_comment(char *line);

#endif
