/* test_normalize.c - unit tests for normalize_text / normalize_term: the normalized words, their
 * code-point and byte spans in the original text, sentence indices and token flags. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "normalize.h"
#include "strmap.h"

/* ---- helpers ---- */

static token_list tokenize(const char *text)
{
    token_list tl = {0};
    assert_int_equal(normalize_text(text, strlen(text), &tl), 0);
    /* Every token is NUL-terminated in the buffer, its length matches and its hash is the
     * strmap hash of its text (the analyzer relies on both). */
    for (size_t i = 0; i < tl.count; i++) {
        const norm_token *t = &tl.toks[i];
        assert_int_equal(strlen(token_text(&tl, t)), t->len);
        assert_true(t->hash == strmap_hash(token_text(&tl, t), t->len));
        assert_true(t->start_cp < t->end_cp);
        assert_true(t->start_b < t->end_b);
        assert_true(t->end_b <= strlen(text));
    }
    return tl;
}

/* Asserts token i reads `word` and spans code points [cp_a, cp_b) and bytes [b_a, b_b). */
static void assert_tok(const token_list *tl, size_t i, const char *word, uint32_t cp_a,
                       uint32_t cp_b, uint32_t b_a, uint32_t b_b)
{
    assert_true(i < tl->count);
    const norm_token *t = &tl->toks[i];
    assert_string_equal(token_text(tl, t), word);
    assert_int_equal(t->start_cp, cp_a);
    assert_int_equal(t->end_cp, cp_b);
    assert_int_equal(t->start_b, b_a);
    assert_int_equal(t->end_b, b_b);
}

static void assert_words(const token_list *tl, const char *const *words, size_t n)
{
    assert_int_equal(tl->count, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(token_text(tl, &tl->toks[i]), words[i]);
}

#define HAS(tl, i, flag) (((tl).toks[(i)].flags & (flag)) != 0)

/* ---- ASCII ---- */

/* Plain words, "@name" and "#tag" take a fast path when an ASCII separator follows; the same
 * words followed by a non-ASCII dash go character by character. Both read them alike. */
static void test_fast_and_slow_paths_agree(void **state)
{
    (void)state;
    const uint16_t kept = TOK_AT | TOK_CAPITAL | TOK_ALLCAPS | TOK_LETTER | TOK_DIGIT | TOK_SYMBOL;
    token_list fast = tokenize("@Bob: #TagX WORD x9");
    token_list slow = tokenize("@Bob\xE2\x80\x94#TagX\xE2\x80\x94WORD\xE2\x80\x94x9");
    const char *const words[] = {"@bob", "tagx", "word", "x9"};
    assert_words(&fast, words, 4);
    assert_words(&slow, words, 4);
    assert_tok(&fast, 0, "@bob", 0, 4, 0, 4);
    assert_tok(&fast, 1, "tagx", 7, 11, 7, 11); /* the '#' is punctuation, outside the span */
    assert_tok(&slow, 1, "tagx", 6, 10, 8, 12);
    assert_int_equal(fast.toks[0].flags & kept, TOK_AT | TOK_CAPITAL | TOK_LETTER);
    assert_int_equal(fast.toks[2].flags & kept, TOK_CAPITAL | TOK_ALLCAPS | TOK_LETTER);
    assert_int_equal(fast.toks[3].flags & kept, TOK_LETTER | TOK_DIGIT);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(fast.toks[i].flags & kept, slow.toks[i].flags & kept);
    token_list_free(&fast);
    token_list_free(&slow);
}


static void test_ascii_words_lowercased_with_spans(void **state)
{
    (void)state;
    token_list tl = tokenize("Hello, World foo");
    assert_int_equal(tl.count, 3);
    assert_tok(&tl, 0, "hello", 0, 5, 0, 5);
    assert_tok(&tl, 1, "world", 7, 12, 7, 12);
    assert_tok(&tl, 2, "foo", 13, 16, 13, 16);
    /* ASCII text: code points and bytes agree */
    for (size_t i = 0; i < tl.count; i++) {
        assert_int_equal(tl.toks[i].start_cp, tl.toks[i].start_b);
        assert_int_equal(tl.toks[i].end_cp, tl.toks[i].end_b);
        assert_true(HAS(tl, i, TOK_LETTER));
        assert_int_equal(tl.toks[i].sentence, 0);
    }
    assert_true(HAS(tl, 0, TOK_CAPITAL));
    assert_true(HAS(tl, 0, TOK_SENT_START));
    assert_true(HAS(tl, 1, TOK_CAPITAL));
    assert_false(HAS(tl, 1, TOK_SENT_START));
    assert_false(HAS(tl, 2, TOK_CAPITAL));
    /* a comma is not a thin separator, a single space is */
    assert_false(HAS(tl, 1, TOK_THIN_SEP));
    assert_true(HAS(tl, 2, TOK_THIN_SEP));
    /* the last word ends the (only) sentence */
    assert_true(HAS(tl, 2, TOK_SENT_END));
    assert_false(HAS(tl, 0, TOK_SENT_END));
    token_list_free(&tl);
}

static void test_case_digit_and_quote_flags(void **state)
{
    (void)state;
    token_list tl = tokenize("SHOUT Loud sh1t \"quoted words\" out");
    static const char *const words[] = {"shout", "loud", "sh1t", "quoted", "words", "out"};
    assert_words(&tl, words, 6);
    assert_true(HAS(tl, 0, TOK_ALLCAPS));
    assert_true(HAS(tl, 0, TOK_CAPITAL));
    assert_false(HAS(tl, 1, TOK_ALLCAPS));
    assert_true(HAS(tl, 1, TOK_CAPITAL));
    assert_true(HAS(tl, 2, TOK_DIGIT));
    assert_true(HAS(tl, 2, TOK_LETTER));
    assert_false(HAS(tl, 2, TOK_SYMBOL));
    assert_false(HAS(tl, 1, TOK_DIGIT));
    assert_true(HAS(tl, 3, TOK_QUOTED));
    assert_true(HAS(tl, 4, TOK_QUOTED));
    assert_false(HAS(tl, 5, TOK_QUOTED));
    assert_false(HAS(tl, 2, TOK_QUOTED));
    token_list_free(&tl);
}

/* ---- multi-byte text ---- */

static void test_multibyte_code_point_offsets(void **state)
{
    (void)state;
    /* "café" is 4 code points in 5 bytes; the emoji is 1 code point in 4 bytes and separates
     * words; "naïve" is 5 code points in 6 bytes. */
    const char *text = "caf\xC3\xA9 \xF0\x9F\x98\x80 na\xC3\xAFve ok";
    token_list tl = tokenize(text);
    assert_int_equal(tl.count, 3);
    assert_tok(&tl, 0, "cafe", 0, 4, 0, 5);
    assert_tok(&tl, 1, "naive", 7, 12, 11, 17);
    assert_tok(&tl, 2, "ok", 13, 15, 18, 20);
    /* the byte span cuts exactly the original characters */
    assert_int_equal(memcmp(text + tl.toks[1].start_b, "na\xC3\xAFve", 6), 0);
    token_list_free(&tl);
}

static void test_fullwidth_nfkc(void **state)
{
    (void)state;
    /* U+FF46 U+FF55 U+FF43 U+FF4B: 4 code points, 12 bytes */
    token_list tl = tokenize("\xEF\xBD\x86\xEF\xBD\x95\xEF\xBD\x83\xEF\xBD\x8B");
    assert_int_equal(tl.count, 1);
    assert_tok(&tl, 0, "fuck", 0, 4, 0, 12);
    assert_true(HAS(tl, 0, TOK_LETTER));
    assert_false(HAS(tl, 0, TOK_FOREIGN));
    token_list_free(&tl);

    /* full-width capitals fold too */
    tl = tokenize("\xEF\xBC\xA6\xEF\xBC\xB5\xEF\xBC\xA3\xEF\xBC\xAB off");
    assert_int_equal(tl.count, 2);
    assert_tok(&tl, 0, "fuck", 0, 4, 0, 12);
    assert_tok(&tl, 1, "off", 5, 8, 13, 16);
    token_list_free(&tl);
}

static void test_math_alphanumerics(void **state)
{
    (void)state;
    /* mathematical bold small f, u, c, k (U+1D41F U+1D42E U+1D41C U+1D424), 4 bytes each */
    token_list tl = tokenize("\xF0\x9D\x90\x9F\xF0\x9D\x90\xAE\xF0\x9D\x90\x9C\xF0\x9D\x90\xA4 you");
    assert_int_equal(tl.count, 2);
    assert_tok(&tl, 0, "fuck", 0, 4, 0, 16);
    assert_tok(&tl, 1, "you", 5, 8, 17, 20);
    token_list_free(&tl);
}

static void test_combining_marks_stripped(void **state)
{
    (void)state;
    /* precomposed U+00FA */
    token_list tl = tokenize("f\xC3\xBA" "ck");
    assert_int_equal(tl.count, 1);
    assert_tok(&tl, 0, "fuck", 0, 4, 0, 5);
    token_list_free(&tl);

    /* u + U+0301 COMBINING ACUTE: the mark is a code point of its own inside the word */
    tl = tokenize("fu\xCC\x81" "ck it");
    assert_int_equal(tl.count, 2);
    assert_tok(&tl, 0, "fuck", 0, 5, 0, 6);
    assert_tok(&tl, 1, "it", 6, 8, 7, 9);
    token_list_free(&tl);
}

static void test_invisible_characters_inside_word(void **state)
{
    (void)state;
    /* U+200B ZERO WIDTH SPACE: removed, the word is not split */
    token_list tl = tokenize("fu\xE2\x80\x8B" "ck you");
    assert_int_equal(tl.count, 2);
    assert_tok(&tl, 0, "fuck", 0, 5, 0, 7);
    assert_tok(&tl, 1, "you", 6, 9, 8, 11);
    assert_true(HAS(tl, 1, TOK_THIN_SEP));
    token_list_free(&tl);

    /* U+00AD SOFT HYPHEN */
    tl = tokenize("fu\xC2\xAD" "ck");
    assert_int_equal(tl.count, 1);
    assert_tok(&tl, 0, "fuck", 0, 5, 0, 6);
    token_list_free(&tl);

    /* U+200D ZERO WIDTH JOINER and U+2060 WORD JOINER likewise */
    tl = tokenize("s\xE2\x80\x8Dh\xE2\x81\xA0it");
    assert_int_equal(tl.count, 1);
    assert_tok(&tl, 0, "shit", 0, 6, 0, 10);
    token_list_free(&tl);
}

static void test_cyrillic_lookalikes_and_foreign_words(void **state)
{
    (void)state;
    /* "fuсk" with U+0441 CYRILLIC SMALL LETTER ES */
    token_list tl = tokenize("fu\xD1\x81k");
    assert_int_equal(tl.count, 1);
    assert_tok(&tl, 0, "fuck", 0, 4, 0, 5);
    assert_false(HAS(tl, 0, TOK_FOREIGN));
    assert_true(HAS(tl, 0, TOK_LETTER));
    token_list_free(&tl);

    /* Greek omicron (U+03BF) and Cyrillic a (U+0430) inside Latin words */
    tl = tokenize("m\xCE\xBFr\xD0\xBEn b\xD0\xB0" "d");
    static const char *const words[] = {"moron", "bad"};
    assert_words(&tl, words, 2);
    assert_false(HAS(tl, 0, TOK_FOREIGN));
    assert_tok(&tl, 1, "bad", 6, 9, 8, 12);
    token_list_free(&tl);

    /* "привет" is Russian, not a disguised English word */
    tl = tokenize("\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 hi");
    assert_int_equal(tl.count, 2);
    assert_int_equal(tl.toks[0].start_cp, 0);
    assert_int_equal(tl.toks[0].end_cp, 6);
    assert_int_equal(tl.toks[0].end_b, 12);
    assert_true(HAS(tl, 0, TOK_FOREIGN));
    assert_true(HAS(tl, 0, TOK_LETTER));
    assert_false(HAS(tl, 1, TOK_FOREIGN));
    assert_string_equal(token_text(&tl, &tl.toks[1]), "hi");
    token_list_free(&tl);
}

/* ---- punctuation inside and around words ---- */

static void test_apostrophes_split(void **state)
{
    (void)state;
    token_list tl = tokenize("you're done");
    static const char *const words[] = {"you", "re", "done"};
    assert_words(&tl, words, 3);
    assert_tok(&tl, 0, "you", 0, 3, 0, 3);
    assert_tok(&tl, 1, "re", 4, 6, 4, 6);
    /* an apostrophe is not a thin separator: "re" is not a spaced letter run */
    assert_false(HAS(tl, 1, TOK_THIN_SEP));
    token_list_free(&tl);

    /* U+2019 RIGHT SINGLE QUOTATION MARK splits the same way */
    tl = tokenize("you\xE2\x80\x99re");
    assert_int_equal(tl.count, 2);
    assert_tok(&tl, 0, "you", 0, 3, 0, 3);
    assert_tok(&tl, 1, "re", 4, 6, 6, 8);
    token_list_free(&tl);
}

static void test_at_mention(void **state)
{
    (void)state;
    token_list tl = tokenize("@Alice you are right");
    assert_true(tl.count == 4);
    assert_tok(&tl, 0, "@alice", 0, 6, 0, 6);
    assert_true(HAS(tl, 0, TOK_AT));
    assert_true(HAS(tl, 0, TOK_LETTER));
    assert_true(HAS(tl, 0, TOK_CAPITAL));
    /* the leading '@' of a mention is not counted as a symbol inside the word */
    assert_false(HAS(tl, 0, TOK_SYMBOL));
    assert_false(HAS(tl, 1, TOK_AT));
    token_list_free(&tl);

    /* "@ss" is also TOK_AT (the analyzer decides it is leetspeak) */
    tl = tokenize("kiss my @ss");
    assert_int_equal(tl.count, 3);
    assert_tok(&tl, 2, "@ss", 8, 11, 8, 11);
    assert_true(HAS(tl, 2, TOK_AT));
    token_list_free(&tl);
}

static void test_symbols_inside_words_kept(void **state)
{
    (void)state;
    token_list tl = tokenize("f*ck sh!t $hit f#ck");
    static const char *const words[] = {"f*ck", "sh!t", "$hit", "f#ck"};
    assert_words(&tl, words, 4);
    assert_tok(&tl, 0, "f*ck", 0, 4, 0, 4);
    assert_tok(&tl, 1, "sh!t", 5, 9, 5, 9);
    assert_tok(&tl, 2, "$hit", 10, 14, 10, 14);
    assert_tok(&tl, 3, "f#ck", 15, 19, 15, 19);
    for (size_t i = 0; i < 4; i++) {
        assert_true(HAS(tl, i, TOK_SYMBOL));
        assert_true(HAS(tl, i, TOK_LETTER));
        assert_false(HAS(tl, i, TOK_AT));
    }
    /* the '!' inside "sh!t" does not end a sentence */
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(tl.toks[i].sentence, 0);
    token_list_free(&tl);

    /* symbols at the edges are punctuation: "*fuck*" and "#fuck" are plain words */
    tl = tokenize("*fuck* #fuck");
    assert_int_equal(tl.count, 2);
    assert_tok(&tl, 0, "fuck", 1, 5, 1, 5);
    assert_tok(&tl, 1, "fuck", 8, 12, 8, 12);
    assert_false(HAS(tl, 0, TOK_SYMBOL));
    assert_false(HAS(tl, 1, TOK_SYMBOL));
    token_list_free(&tl);
}

static void test_trailing_bang_ends_sentence(void **state)
{
    (void)state;
    token_list tl = tokenize("fuck! you");
    assert_int_equal(tl.count, 2);
    assert_tok(&tl, 0, "fuck", 0, 4, 0, 4);
    assert_false(HAS(tl, 0, TOK_SYMBOL));
    assert_true(HAS(tl, 0, TOK_SENT_END));
    assert_int_equal(tl.toks[0].sentence, 0);
    assert_tok(&tl, 1, "you", 6, 9, 6, 9);
    assert_int_equal(tl.toks[1].sentence, 1);
    assert_true(HAS(tl, 1, TOK_SENT_START));
    token_list_free(&tl);

    /* several of them, glued to the word */
    tl = tokenize("shit!!! again");
    assert_int_equal(tl.count, 2);
    assert_tok(&tl, 0, "shit", 0, 4, 0, 4);
    assert_int_equal(tl.toks[1].sentence, 1);
    token_list_free(&tl);
}

static void test_sentence_indices(void **state)
{
    (void)state;
    token_list tl = tokenize("one two. three? four! five\nsix");
    static const char *const words[] = {"one", "two", "three", "four", "five", "six"};
    static const uint32_t sentence[] = {0, 0, 1, 2, 3, 4};
    assert_words(&tl, words, 6);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(tl.toks[i].sentence, sentence[i]);
    assert_true(HAS(tl, 1, TOK_SENT_END));
    assert_false(HAS(tl, 0, TOK_SENT_END));
    assert_true(HAS(tl, 2, TOK_SENT_START));
    assert_true(HAS(tl, 5, TOK_SENT_START));
    assert_true(HAS(tl, 5, TOK_SENT_END));
    /* a newline is not a thin separator */
    assert_false(HAS(tl, 5, TOK_THIN_SEP));
    token_list_free(&tl);

    /* several terminators in a row count once */
    tl = tokenize("what?!... really");
    assert_int_equal(tl.count, 2);
    assert_int_equal(tl.toks[0].sentence, 0);
    assert_int_equal(tl.toks[1].sentence, 1);
    token_list_free(&tl);
}

static void test_thin_separators_between_letters(void **state)
{
    (void)state;
    static const char *const spaced[] = {"f u c k", "f.u.c.k", "f-u-c-k"};
    static const char *const letters[] = {"f", "u", "c", "k"};
    for (size_t s = 0; s < 3; s++) {
        token_list tl = tokenize(spaced[s]);
        assert_words(&tl, letters, 4);
        assert_false(HAS(tl, 0, TOK_THIN_SEP));
        for (size_t i = 0; i < 4; i++) {
            assert_int_equal(tl.toks[i].start_cp, 2 * i);
            assert_int_equal(tl.toks[i].end_cp, 2 * i + 1);
            /* dots between single letters do not end sentences */
            assert_int_equal(tl.toks[i].sentence, 0);
            if (i)
                assert_true(HAS(tl, i, TOK_THIN_SEP));
        }
        token_list_free(&tl);
    }
    /* a comma or a newline breaks the run */
    token_list tl = tokenize("f, u\nc k");
    assert_int_equal(tl.count, 4);
    assert_false(HAS(tl, 1, TOK_THIN_SEP));
    assert_false(HAS(tl, 2, TOK_THIN_SEP));
    assert_true(HAS(tl, 3, TOK_THIN_SEP));
    token_list_free(&tl);
}

/* ---- the list itself ---- */

/* A web address is read by its host name only; its path and query are not words, and its dots
 * end no sentence. Punctuation after it, or an escaped quote, is the comment's again. */
static void test_web_addresses(void **state)
{
    (void)state;
    token_list tl = tokenize("see http://www.imdb.com/title/tt17?ref_=tt_ov&prev=1. Next");
    const char *const words[] = {"see", "www", "imdb", "com", "next"};
    assert_words(&tl, words, 5);
    assert_tok(&tl, 1, "www", 11, 14, 11, 14);
    assert_tok(&tl, 3, "com", 20, 23, 20, 23);
    assert_int_equal(tl.toks[3].sentence, 0);
    assert_int_equal(tl.toks[4].sentence, 1);
    token_list_free(&tl);

    tl = tokenize("go to WWW.FuckYou.com now");
    const char *const www[] = {"go", "to", "www", "fuckyou", "com", "now"};
    assert_words(&tl, www, 6);
    assert_tok(&tl, 3, "fuckyou", 10, 17, 10, 17);
    assert_int_equal(tl.toks[5].sentence, 0);
    token_list_free(&tl);

    /* escaped tweets: "&#8221;" closes the quote around the address, the word after is text */
    tl = tokenize("&#8220;http://t.co/mstrue&#8221;niggah said &amp; left");
    const char *const esc[] = {"t", "co", "niggah", "said", "left"};
    assert_words(&tl, esc, 5);
    assert_tok(&tl, 2, "niggah", 32, 38, 32, 38);
    token_list_free(&tl);

    /* "http" and "www" that start no address are words */
    tl = tokenize("the www of http");
    const char *const plain[] = {"the", "www", "of", "http"};
    assert_words(&tl, plain, 4);
    token_list_free(&tl);
}

static void test_append_and_reset(void **state)
{
    (void)state;
    token_list tl = {0};
    assert_int_equal(normalize_text("one two", 7, &tl), 0);
    assert_int_equal(tl.count, 2);
    /* a second call appends; its first token starts a sentence of its own numbering */
    assert_int_equal(normalize_text("Three", 5, &tl), 0);
    assert_int_equal(tl.count, 3);
    assert_string_equal(token_text(&tl, &tl.toks[2]), "three");
    assert_true(HAS(tl, 2, TOK_SENT_START));
    assert_false(HAS(tl, 2, TOK_THIN_SEP));
    assert_int_equal(tl.toks[2].start_cp, 0);
    token_list_reset(&tl);
    assert_int_equal(tl.count, 0);
    assert_int_equal(normalize_text("x", 1, &tl), 0);
    assert_int_equal(tl.count, 1);
    assert_string_equal(token_text(&tl, &tl.toks[0]), "x");
    token_list_free(&tl);
    assert_null(tl.toks);
    assert_null(tl.buf);

    /* nothing but separators: no words */
    assert_int_equal(normalize_text(" ,.!? \n", 7, &tl), 0);
    assert_int_equal(tl.count, 0);
    assert_int_equal(normalize_text("", 0, &tl), 0);
    assert_int_equal(tl.count, 0);
    token_list_free(&tl);
}

static void test_text_not_nul_terminated(void **state)
{
    (void)state;
    /* only len bytes are read */
    const char text[] = {'h', 'e', 'y', ' ', 'y', 'o', 'u'};
    token_list tl = {0};
    assert_int_equal(normalize_text(text, 5, &tl), 0);
    assert_int_equal(tl.count, 2);
    assert_tok(&tl, 1, "y", 4, 5, 4, 5);
    token_list_free(&tl);
}

static void test_long_words(void **state)
{
    (void)state;
    /* a 5000-letter ASCII word and a long word with a non-ASCII letter in it: no overflow */
    size_t n = 5000;
    char *text = malloc(n + 16);
    assert_non_null(text);
    memset(text, 'a', n);
    memcpy(text + n, " b\xC3\xA9", 5);
    token_list tl = {0};
    assert_int_equal(normalize_text(text, n + 4, &tl), 0);
    assert_int_equal(tl.count, 2);
    assert_int_equal(tl.toks[0].len, n);
    assert_int_equal(tl.toks[0].end_cp, n);
    assert_string_equal(token_text(&tl, &tl.toks[1]), "be");
    token_list_reset(&tl);
    memset(text, 'b', n);
    memcpy(text + 10, "\xC3\xA9", 2);
    assert_int_equal(normalize_text(text, n, &tl), 0);
    assert_true(tl.count >= 1);
    assert_int_equal(tl.toks[0].start_cp, 0);
    token_list_free(&tl);
    free(text);
}

/* ---- normalize_term ---- */

static void test_normalize_term(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"Piece  of SHIT", "piece of shit"},
        {"idiot", "idiot"},
        {"\xEF\xBD\x86\xEF\xBD\x95\xEF\xBD\x83\xEF\xBD\x8B", "fuck"},
        {"  you're   a  JERK ", "you re a jerk"},
        {"Caf\xC3\xA9", "cafe"},
        {"sh!t", "sh!t"},
        {"", ""},
        {" ,. ", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = normalize_term(cases[i].in);
        assert_non_null(s);
        assert_string_equal(s, cases[i].out);
        free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii_words_lowercased_with_spans),
        cmocka_unit_test(test_case_digit_and_quote_flags),
        cmocka_unit_test(test_multibyte_code_point_offsets),
        cmocka_unit_test(test_fullwidth_nfkc),
        cmocka_unit_test(test_math_alphanumerics),
        cmocka_unit_test(test_combining_marks_stripped),
        cmocka_unit_test(test_invisible_characters_inside_word),
        cmocka_unit_test(test_cyrillic_lookalikes_and_foreign_words),
        cmocka_unit_test(test_apostrophes_split),
        cmocka_unit_test(test_at_mention),
        cmocka_unit_test(test_fast_and_slow_paths_agree),
        cmocka_unit_test(test_symbols_inside_words_kept),
        cmocka_unit_test(test_trailing_bang_ends_sentence),
        cmocka_unit_test(test_sentence_indices),
        cmocka_unit_test(test_thin_separators_between_letters),
        cmocka_unit_test(test_web_addresses),
        cmocka_unit_test(test_append_and_reset),
        cmocka_unit_test(test_text_not_nul_terminated),
        cmocka_unit_test(test_long_words),
        cmocka_unit_test(test_normalize_term),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    engine_thread_cleanup();
    return failed;
}
