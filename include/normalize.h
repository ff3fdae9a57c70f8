/* normalize.h - splits text into normalized words, each remembering its span in the original. */
#ifndef MODERATORD_NORMALIZE_H
#define MODERATORD_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

enum {
    TOK_AT = 1 << 0,       /* started with '@' (a mention, or leetspeak such as "@ss") */
    TOK_SENT_END = 1 << 1, /* a sentence ends after this word */
    TOK_THIN_SEP = 1 << 2, /* only a space, dot or dash separates it from the previous word */
    TOK_DIGIT = 1 << 3,    /* holds a digit */
    TOK_SYMBOL = 1 << 4,   /* holds one of @ $ ! * # % */
    TOK_LETTER = 1 << 5,   /* holds at least one letter */
    TOK_FOREIGN = 1 << 6,  /* non-Latin letters that are not look-alikes: not English */
    TOK_QUOTED = 1 << 7,   /* inside quotation marks */
    TOK_CAPITAL = 1 << 8,  /* written with a capital first letter */
    TOK_ALLCAPS = 1 << 9,  /* written in capitals only (two letters or more) */
    TOK_SENT_START = 1 << 10, /* first word of a sentence */
};

typedef struct {
    uint32_t off, len;            /* normalized form: list->buf + off, NUL-terminated */
    uint32_t start_cp, end_cp;    /* code-point span in the original text */
    uint32_t start_b, end_b;      /* byte span in the original text */
    uint32_t sentence;            /* index of the sentence the word is in */
    uint64_t hash;                /* strmap_hash of the normalized form */
    uint16_t flags;
} norm_token;

typedef struct {
    norm_token *toks;
    size_t count, cap;
    char *buf;
    size_t blen, bcap;
} token_list;

/*
 * Splits valid UTF-8 text into words: NFKC + case folding, zero-width/format characters and
 * combining marks dropped, look-alike letters read as Latin. Appends to out (reset it first with
 * token_list_reset). Returns 0, or -1 on allocation failure.
 */
int normalize_text(const char *text, size_t len, token_list *out);

/* Normalizes one word or phrase of a rule file the same way, into a NUL-terminated string of
 * space-separated words. Caller frees. */
char *normalize_term(const char *term);

/* An HTML character reference at s ("&#243;", "&#x2019;", "&amp;" and the other common names):
 * its length in bytes and the character in *cp, or 0 when s does not start with one. */
size_t html_entity(const char *s, size_t n, int32_t *cp);

void token_list_reset(token_list *tl);
void token_list_free(token_list *tl);

static inline const char *token_text(const token_list *tl, const norm_token *t)
{
    return tl->buf + t->off;
}

#endif
