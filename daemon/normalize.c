/* normalize.c - text to normalized words with spans: the only place that knows Unicode. */
#include "normalize.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "strmap.h"

/* Lower-case look-alikes of Latin letters (after case folding), sorted by code point. */
static const struct {
    int32_t cp;
    char latin;
} confusables[] = {
    {0x0131, 'i'}, {0x0251, 'a'}, {0x0261, 'g'}, {0x0269, 'i'}, {0x026A, 'i'}, {0x0274, 'n'},
    {0x0280, 'r'}, {0x028F, 'y'}, {0x03B1, 'a'}, {0x03B2, 'b'}, {0x03B5, 'e'}, {0x03B7, 'n'},
    {0x03B9, 'i'}, {0x03BA, 'k'}, {0x03BD, 'v'}, {0x03BF, 'o'}, {0x03C1, 'p'}, {0x03C4, 't'},
    {0x03C5, 'u'}, {0x03C7, 'x'}, {0x03C9, 'w'}, {0x0430, 'a'}, {0x0432, 'b'}, {0x0435, 'e'},
    {0x043A, 'k'}, {0x043C, 'm'}, {0x043D, 'h'}, {0x043E, 'o'}, {0x0440, 'p'}, {0x0441, 'c'},
    {0x0442, 't'}, {0x0443, 'y'}, {0x0445, 'x'}, {0x0451, 'e'}, {0x0455, 's'}, {0x0456, 'i'},
    {0x0457, 'i'}, {0x0458, 'j'}, {0x04BB, 'h'}, {0x04CF, 'l'}, {0x0501, 'd'}, {0x051B, 'q'},
    {0x051D, 'w'}, {0x13A0, 'd'}, {0x13A1, 'r'}, {0x13A2, 't'}, {0x13AA, 'g'}, {0x13B3, 'w'},
    {0x13DA, 's'}, {0x13DE, 'l'}, {0x1D00, 'a'}, {0x1D04, 'c'}, {0x1D05, 'd'}, {0x1D07, 'e'},
    {0x1D0A, 'j'}, {0x1D0B, 'k'}, {0x1D0D, 'm'}, {0x1D0F, 'o'}, {0x1D18, 'p'}, {0x1D1B, 't'},
    {0x1D1C, 'u'}, {0x1D20, 'v'}, {0x1D21, 'w'}, {0x1D22, 'z'},
};

static int confusable_latin(int32_t cp)
{
    size_t lo = 0, hi = sizeof confusables / sizeof confusables[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (confusables[mid].cp == cp)
            return confusables[mid].latin;
        if (confusables[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* What one normalized character is to the word splitter. */
enum cls { C_SEP, C_LETTER, C_DIGIT, C_SYMBOL, C_SENT, C_THIN, C_QUOTE, C_DROP };

static enum cls ascii_class_compute(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return C_LETTER;
    if (c >= '0' && c <= '9')
        return C_DIGIT;
    switch (c) {
    case '@': case '$': case '!': case '*': case '#': case '%':
        return C_SYMBOL;
    case '.': case '?': case ';': case ':': case '\n':
        return C_SENT;
    case ' ': case '-': case '_':
        return C_THIN;
    case '"':
        return C_QUOTE;
    default:
        return C_SEP;
    }
}

/* The classes of all ASCII bytes, computed once: the splitter asks for every byte. */
static unsigned char ascii_classes[128];
static pthread_once_t ascii_once = PTHREAD_ONCE_INIT;

/* For the fast path over plain words: what each byte is, and its lower-case form. */
enum { K_LETTER = 1, K_DIGIT = 2, K_UPPER = 4, K_LOWER = 8 };
static unsigned char byte_kind[256], byte_lower[256];

static void ascii_classes_init(void)
{
    for (int c = 0; c < 128; c++) {
        ascii_classes[c] = (unsigned char)ascii_class_compute((unsigned char)c);
        byte_lower[c] = (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        byte_kind[c] = (unsigned char)(c >= 'A' && c <= 'Z'   ? K_LETTER | K_UPPER
                                       : c >= 'a' && c <= 'z' ? K_LETTER | K_LOWER
                                       : c >= '0' && c <= '9' ? K_DIGIT
                                                              : 0);
    }
    for (int c = 128; c < 256; c++)
        byte_lower[c] = (unsigned char)c;
}

static inline enum cls ascii_class(unsigned char c)
{
    return (enum cls)ascii_classes[c & 0x7F];
}

static int buf_reserve(token_list *tl, size_t extra)
{
    if (tl->blen + extra <= tl->bcap)
        return 0;
    size_t cap = tl->bcap ? tl->bcap * 2 : 256;
    while (cap < tl->blen + extra)
        cap *= 2;
    char *p = realloc(tl->buf, cap);
    if (!p)
        return -1;
    tl->buf = p;
    tl->bcap = cap;
    return 0;
}

/* Room for one more token; the caller fills it in place (a token built on the stack and then
 * copied stalls on store forwarding). */
static norm_token *tok_slot(token_list *tl)
{
    if (tl->count == tl->cap) {
        size_t cap = tl->cap ? tl->cap * 2 : 64;
        norm_token *p = realloc(tl->toks, cap * sizeof *p);
        if (!p)
            return NULL;
        tl->toks = p;
        tl->cap = cap;
    }
    return &tl->toks[tl->count];
}

/* The word being built, with the per-character spans needed to trim symbols at its edges. */
typedef struct {
    char text[256];
    /* span of the source character of each byte (an HTML entity is one character of several) */
    uint32_t cp_at[256], cp_end[256], b_at[256], b_end[256];
    enum cls cls_at[256];
    size_t len;
    int foreign_letters, latin_letters;
    int upper_letters, first_upper;
} word_buf;

typedef struct {
    token_list *tl;
    word_buf w;
    /* Code points the character being fed spans in the original: 1, or the length of an HTML
     * entity such as "&amp;". */
    uint32_t char_cps;
    uint32_t sentence;
    int thin_since_word;  /* separators since the last word were thin (space, dot, dash) */
    int seps_since_word;
    int in_quote;
    size_t first_new;     /* first token added by this call */
} splitter;

static void sentence_end(splitter *sp);

static void word_add(splitter *sp, const char *s, size_t n, enum cls cls, uint32_t cp,
                     uint32_t b, uint32_t b_end)
{
    word_buf *w = &sp->w;
    for (size_t i = 0; i < n && w->len < sizeof w->text - 1; i++) {
        w->text[w->len] = s[i];
        w->cp_at[w->len] = cp;
        w->cp_end[w->len] = cp + sp->char_cps;
        w->b_at[w->len] = b;
        w->b_end[w->len] = b_end;
        w->cls_at[w->len] = cls;
        w->len++;
    }
}

/* Bytes kept free after the normalized text, so that hashing may load whole 8-byte words. */
#define BUF_SLACK 8

/* Appends a token whose normalized text (n bytes) is already at the end of the buffer. */
static int token_append(splitter *sp, size_t n, uint16_t flags, uint32_t cp_a, uint32_t cp_b,
                        uint32_t b_a, uint32_t b_b)
{
    token_list *tl = sp->tl;
    norm_token *t = tok_slot(tl);
    if (!t)
        return -1;
    if (tl->count > sp->first_new && sp->thin_since_word && sp->seps_since_word <= 2)
        flags |= TOK_THIN_SEP;
    if (tl->count == sp->first_new || (tl->toks[tl->count - 1].flags & TOK_SENT_END))
        flags |= TOK_SENT_START;
    if (sp->in_quote)
        flags |= TOK_QUOTED;
    const char *dst = tl->buf + tl->blen;
    t->off = (uint32_t)tl->blen;
    t->len = (uint32_t)n;
    t->start_cp = cp_a;
    t->end_cp = cp_b;
    t->start_b = b_a;
    t->end_b = b_b;
    t->sentence = sp->sentence;
    t->flags = flags;
    t->hash = strmap_hash_padded(dst, n);
    tl->count++;
    tl->blen += n;
    tl->buf[tl->blen++] = '\0';
    sp->thin_since_word = 1;
    sp->seps_since_word = 0;
    return 0;
}

/* Appends one finished word, copied from text. */
static int emit_token(splitter *sp, const char *text, size_t n, uint16_t flags, uint32_t cp_a,
                      uint32_t cp_b, uint32_t b_a, uint32_t b_b)
{
    if (buf_reserve(sp->tl, n + 1 + BUF_SLACK) < 0)
        return -1;
    memcpy(sp->tl->buf + sp->tl->blen, text, n);
    return token_append(sp, n, flags, cp_a, cp_b, b_a, b_b);
}

/* Lower-cases the run of ASCII letters and digits in s from j (up to end) into dst, collecting
 * their kinds and the number of capitals. Returns where the run stops. */
static inline size_t lower_run(const unsigned char *s, size_t j, size_t end, char *dst,
                               unsigned *kinds, unsigned *upper)
{
    unsigned all = 0, caps = 0;
    for (; j < end; j++) {
        unsigned k = byte_kind[s[j]];
        if (!(k & (K_LETTER | K_DIGIT)))
            break;
        *dst++ = (char)byte_lower[s[j]];
        all |= k;
        caps += (k & K_UPPER) != 0;
    }
    *kinds = all;
    *upper = caps;
    return j;
}

static inline uint16_t kind_flags(unsigned kinds)
{
    return (uint16_t)((kinds & K_LETTER ? TOK_LETTER : 0) | (kinds & K_DIGIT ? TOK_DIGIT : 0));
}

/* Ends the current word: trims edge symbols, records flags, appends the token. */
static int word_flush(splitter *sp)
{
    word_buf *w = &sp->w;
    size_t a = 0, b = w->len;
    /* Leading '#', '!', '*', '%' and trailing '!', '#', '%', '*' are punctuation, not letters. */
    while (a < b && w->cls_at[a] == C_SYMBOL && strchr("#!*%", w->text[a]))
        a++;
    while (b > a && w->cls_at[b - 1] == C_SYMBOL && strchr("!#%*@", w->text[b - 1]))
        b--;
    uint16_t flags = 0;
    int has_letter = 0;
    for (size_t i = a; i < b; i++) {
        if (w->cls_at[i] == C_LETTER)
            has_letter = 1;
        else if (w->cls_at[i] == C_DIGIT)
            flags |= TOK_DIGIT;
        else if (w->cls_at[i] == C_SYMBOL && !(i == a && w->text[i] == '@'))
            flags |= TOK_SYMBOL;
    }
    int bang = 0; /* "shit!" ends a sentence although '!' was read as part of the word */
    for (size_t i = b; i < w->len; i++)
        bang |= w->text[i] == '!';
    if (b > a && w->text[a] == '@')
        flags |= TOK_AT;
    if (has_letter)
        flags |= TOK_LETTER;
    if (w->foreign_letters && !w->latin_letters)
        flags |= TOK_FOREIGN;
    if (w->first_upper)
        flags |= TOK_CAPITAL;
    if (w->upper_letters >= 2 && w->upper_letters == w->latin_letters)
        flags |= TOK_ALLCAPS;
    if (b > a) {
        if (emit_token(sp, w->text + a, b - a, flags, w->cp_at[a], w->cp_end[b - 1],
                       w->b_at[a], w->b_end[b - 1]) < 0)
            return -1;
        if (bang)
            sentence_end(sp);
    }
    w->len = 0;
    w->foreign_letters = w->latin_letters = w->upper_letters = w->first_upper = 0;
    return 0;
}

static void separator(splitter *sp, enum cls cls, int c)
{
    sp->seps_since_word++;
    if (cls != C_THIN && !(cls == C_SENT && c == '.'))
        sp->thin_since_word = 0;
    if (c == '\n' && sp->tl->count > sp->first_new)
        sp->thin_since_word = 0;
}

static void sentence_end(splitter *sp)
{
    token_list *tl = sp->tl;
    if (tl->count > sp->first_new && !(tl->toks[tl->count - 1].flags & TOK_SENT_END)) {
        tl->toks[tl->count - 1].flags |= TOK_SENT_END;
        sp->sentence++;
    }
}

/* Feeds one normalized ASCII character. */
static int feed_ascii(splitter *sp, unsigned char c, uint32_t cp, uint32_t b, uint32_t b_end)
{
    enum cls cls = ascii_class(c);
    if (cls == C_LETTER || cls == C_DIGIT || cls == C_SYMBOL) {
        char lc = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
        /* '!' and '$' only belong to a word that is already going, '@' may start one. */
        if (cls == C_SYMBOL && sp->w.len == 0 && !strchr("@$#*", c))
            goto sep;
        if (cls == C_LETTER) {
            sp->w.latin_letters++;
            if (c != (unsigned char)lc) {
                sp->w.upper_letters++;
                if (sp->w.len == 0 || (sp->w.len == 1 && sp->w.text[0] == '@'))
                    sp->w.first_upper = 1;
            }
        }
        word_add(sp, &lc, 1, cls, cp, b, b_end);
        return 0;
    }
sep:
    if (sp->w.len && word_flush(sp) < 0)
        return -1;
    if (c == '"')
        sp->in_quote = !sp->in_quote;
    separator(sp, cls, c);
    if (cls == C_SENT || c == '!') {
        /* A dot between single letters (f.u.c.k) or in a number is not a sentence end. */
        if (!(c == '.' && sp->tl->count > sp->first_new &&
              sp->tl->toks[sp->tl->count - 1].len == 1))
            sentence_end(sp);
    }
    return 0;
}

/* Feeds one non-ASCII code point: decomposed, folded, look-alikes read as Latin. */
static int feed_unicode(splitter *sp, int32_t cp, uint32_t cpi, uint32_t b, uint32_t b_end)
{
    utf8proc_int32_t out[16];
    int boundclass = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char(
        cp, out, 16,
        UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK |
            UTF8PROC_IGNORE,
        &boundclass);
    if (n < 0 || n > 16)
        return feed_ascii(sp, ' ', cpi, b, b_end);
    for (utf8proc_ssize_t i = 0; i < n; i++) {
        int32_t c = out[i];
        if (c < 0x80) {
            if (feed_ascii(sp, (unsigned char)c, cpi, b, b_end) < 0)
                return -1;
            continue;
        }
        int latin = confusable_latin(c);
        if (latin) {
            char l = (char)latin;
            word_add(sp, &l, 1, C_LETTER, cpi, b, b_end);
            continue;
        }
        switch (utf8proc_category(c)) {
        case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: {
            utf8proc_uint8_t enc[4];
            utf8proc_ssize_t el = utf8proc_encode_char(c, enc);
            if (c < 0x250)
                sp->w.latin_letters++;
            else
                sp->w.foreign_letters++;
            word_add(sp, (const char *)enc, (size_t)el, C_LETTER, cpi, b, b_end);
            break;
        }
        case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
        case UTF8PROC_CATEGORY_CF:
            break; /* invisible inside a word */
        default:
            if (c == 0x2019 || c == 0x2018)
                break; /* curly apostrophes split like ASCII ones below */
            if (c == 0x201C || c == 0x201D) {
                if (feed_ascii(sp, '"', cpi, b, b_end) < 0)
                    return -1;
                break;
            }
            if (c == 0x2026 || c == 0x3002) {
                if (feed_ascii(sp, '.', cpi, b, b_end) < 0)
                    return -1;
                break;
            }
            if (feed_ascii(sp, ',', cpi, b, b_end) < 0)
                return -1;
        }
        if (c == 0x2019 || c == 0x2018) {
            if (feed_ascii(sp, '\'', cpi, b, b_end) < 0)
                return -1;
        }
    }
    return 0;
}

/* The length is in bytes and, all of them ASCII, also in code points. */
size_t html_entity(const char *s, size_t n, int32_t *cp)
{
    static const struct {
        const char *name;
        int32_t cp;
    } named[] = {{"amp", '&'},     {"lt", '<'},       {"gt", '>'},       {"quot", '"'},
                 {"apos", '\''},   {"nbsp", 0xA0},    {"rsquo", 0x2019}, {"lsquo", 0x2018},
                 {"rdquo", 0x201D}, {"ldquo", 0x201C}, {"hellip", 0x2026}, {"mdash", 0x2014},
                 {"ndash", 0x2013}, {"shy", 0xAD},     {"zwj", 0x200D},   {"zwnj", 0x200C}};
    size_t end = 1;
    while (end < n && end < 12 && s[end] != ';' && s[end] != '&' && s[end] != ' ')
        end++;
    if (end >= n || s[end] != ';' || end < 3)
        return 0;
    if (s[1] == '#') {
        int hex = s[2] == 'x' || s[2] == 'X';
        long v = 0;
        size_t k = hex ? 3 : 2;
        if (k >= end)
            return 0;
        for (; k < end; k++) {
            char c = s[k];
            int d = c >= '0' && c <= '9' ? c - '0'
                    : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0)
                return 0;
            v = v * (hex ? 16 : 10) + d;
            if (v > 0x10FFFF)
                return 0;
        }
        if (v == 0 || (v >= 0xD800 && v <= 0xDFFF))
            return 0;
        *cp = (int32_t)v;
        return end + 1;
    }
    for (size_t k = 0; k < sizeof named / sizeof named[0]; k++)
        if (strlen(named[k].name) == end - 1 && !memcmp(s + 1, named[k].name, end - 1)) {
            *cp = named[k].cp;
            return end + 1;
        }
    return 0;
}

/* Does a web address start at s[i] ("http://", "https://", "www.")? Returns its end (trailing
 * punctuation left to the sentence) and sets [*host_a, *host_b) to its host name; 0 when none
 * does. Only ASCII counts as part of an address. */
static size_t url_at(const unsigned char *s, size_t i, size_t len, size_t *host_a,
                     size_t *host_b)
{
    size_t h;
    if (len - i > 7 && !strncasecmp((const char *)s + i, "http://", 7))
        h = i + 7;
    else if (len - i > 8 && !strncasecmp((const char *)s + i, "https://", 8))
        h = i + 8;
    else if (len - i > 4 && !strncasecmp((const char *)s + i, "www.", 4) &&
             (byte_kind[s[i + 4]] & (K_LETTER | K_DIGIT)))
        h = i;
    else
        return 0;
    size_t e = h;
    int32_t ent;
    while (e < len && s[e] > 0x20 && s[e] < 0x80 && !strchr("\"<>", s[e])) {
        /* HTML-escaped text: "&amp;" is the query's '&', "&#8221;" a closing quote after it */
        if (s[e] == '&' && html_entity((const char *)s + e, len - e, &ent) &&
            (ent >= 0x80 || ent <= 0x20 || strchr("\"<>", ent)))
            break;
        e++;
    }
    while (e > h && strchr(".,;:!?)]'", s[e - 1]))
        e--;
    size_t he = h;
    while (he < e && !strchr("/?#", s[he]))
        he++;
    if (he == h)
        return 0;
    *host_a = h;
    *host_b = he;
    return e;
}

/* A web address is an address, not prose: only the words of its host name are read
 * ("www.fuckyou.com" still swears); its path and query ("?prev=_t&hl=en") are identifiers. Its
 * dots end no sentence. */
static int feed_url(splitter *sp, const unsigned char *s, size_t i, size_t host_a,
                    size_t host_b, uint32_t cpi)
{
    if (sp->w.len && word_flush(sp) < 0)
        return -1;
    for (size_t a = host_a; a < host_b;) {
        if (!(byte_kind[s[a]] & (K_LETTER | K_DIGIT))) {
            a++;
            continue;
        }
        size_t end = host_b - a > 256 ? a + 256 : host_b; /* a longer label is several words */
        if (buf_reserve(sp->tl, end - a + 1 + BUF_SLACK) < 0)
            return -1;
        unsigned kinds, upper;
        size_t b = lower_run(s, a, end, sp->tl->buf + sp->tl->blen, &kinds, &upper);
        if (token_append(sp, b - a, kind_flags(kinds), cpi + (uint32_t)(a - i),
                         cpi + (uint32_t)(b - i), (uint32_t)a, (uint32_t)b) < 0)
            return -1;
        sp->thin_since_word = 0; /* "f.u.c.k.com" labels are not spaced letters */
        a = b;
    }
    return 0;
}

int normalize_text(const char *text, size_t len, token_list *out)
{
    pthread_once(&ascii_once, ascii_classes_init);
    /* Field by field: zeroing the whole splitter would clear its 5 KB word buffer per comment. */
    splitter sp;
    sp.tl = out;
    sp.first_new = out->count;
    sp.char_cps = 1;
    sp.sentence = 0;
    sp.thin_since_word = sp.seps_since_word = sp.in_quote = 0;
    sp.w.len = 0;
    sp.w.foreign_letters = sp.w.latin_letters = sp.w.upper_letters = sp.w.first_upper = 0;
    const unsigned char *s = (const unsigned char *)text;
    uint32_t cpi = 0;
    size_t i = 0;
    while (i < len) {
        /* Fast path: a plain ASCII word followed by an ASCII separator is lower-cased straight
         * into the token buffer; so are "@name" (a mention keeps its '@') and "#tag" (the '#'
         * is punctuation). Anything else goes character by character below. */
        if (sp.w.len == 0 && s[i] < 0x80) {
            size_t lead = (s[i] == '@' || s[i] == '#') && i + 1 < len &&
                          (byte_kind[s[i + 1]] & (K_LETTER | K_DIGIT));
            if (lead || (byte_kind[s[i]] & (K_LETTER | K_DIGIT))) {
                /* "ht" or "ww" first: most words starting with h or w are no address */
                size_t host_a, host_b, end;
                if (i + 4 < len &&
                    (((s[i] | 0x20) == 'h' && (s[i + 1] | 0x20) == 't') ||
                     ((s[i] | 0x20) == 'w' && (s[i + 1] | 0x20) == 'w')) &&
                    (end = url_at(s, i, len, &host_a, &host_b)) > 0) {
                    if (feed_url(&sp, s, i, host_a, host_b, cpi) < 0)
                        return -1;
                    cpi += (uint32_t)(end - i);
                    i = end;
                    continue;
                }
                if (buf_reserve(out, len - i + 1 + BUF_SLACK) < 0)
                    return -1;
                size_t a = s[i] == '#' ? i + 1 : i; /* first byte of the token */
                char *dst = out->buf + out->blen;
                if (s[i] == '@')
                    dst[0] = '@';
                unsigned kinds, upper;
                size_t j = lower_run(s, i + lead, len, dst + (i + lead - a), &kinds, &upper);
                if (j == len || (s[j] < 0x80 && ascii_class(s[j]) != C_SYMBOL && s[j] != '&')) {
                    uint16_t flags = kind_flags(kinds) | (s[i] == '@' ? TOK_AT : 0) |
                                     (s[i] != '#' && (byte_kind[s[i + lead]] & K_UPPER)
                                          ? TOK_CAPITAL : 0) |
                                     (upper >= 2 && !(kinds & K_LOWER) ? TOK_ALLCAPS : 0);
                    if (token_append(&sp, j - a, flags, cpi + (uint32_t)(a - i),
                                     cpi + (uint32_t)(j - i), (uint32_t)a, (uint32_t)j) < 0)
                        return -1;
                    cpi += (uint32_t)(j - i);
                    i = j;
                    continue;
                }
            }
            enum cls cls = ascii_class(s[i]);
            if ((cls == C_SEP || cls == C_THIN) && s[i] != '&') {
                separator(&sp, cls, s[i]); /* between words: nothing else to do */
                i++;
                cpi++;
                continue;
            }
        }
        int32_t ent_cp;
        size_t ent_len;
        if (s[i] == '&' && (ent_len = html_entity(text + i, len - i, &ent_cp)) > 0) {
            /* Comments often arrive HTML-escaped: "&amp;", "Jap&#243;n" read as the character. */
            sp.char_cps = (uint32_t)ent_len;
            int rc = ent_cp < 0x80
                         ? feed_ascii(&sp, (unsigned char)ent_cp, cpi, (uint32_t)i,
                                      (uint32_t)(i + ent_len))
                         : feed_unicode(&sp, ent_cp, cpi, (uint32_t)i, (uint32_t)(i + ent_len));
            sp.char_cps = 1;
            if (rc < 0)
                return -1;
            i += ent_len;
            cpi += (uint32_t)ent_len;
            continue;
        }
        if (s[i] < 0x80) {
            if (feed_ascii(&sp, s[i], cpi, (uint32_t)i, (uint32_t)i + 1) < 0)
                return -1;
            i++;
        } else {
            utf8proc_int32_t cp;
            utf8proc_ssize_t n = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
            if (n <= 0) {
                n = 1; /* invalid byte: callers validate first; never loop forever */
                cp = ' ';
            }
            if (feed_unicode(&sp, cp, cpi, (uint32_t)i, (uint32_t)(i + (size_t)n)) < 0)
                return -1;
            i += (size_t)n;
        }
        cpi++;
    }
    if (sp.w.len && word_flush(&sp) < 0)
        return -1;
    sentence_end(&sp);
    return 0;
}

char *normalize_term(const char *term)
{
    token_list tl = {0};
    if (normalize_text(term, strlen(term), &tl) < 0) {
        token_list_free(&tl);
        return NULL;
    }
    size_t need = 1;
    for (size_t i = 0; i < tl.count; i++)
        need += tl.toks[i].len + 1;
    char *s = malloc(need), *p = s;
    if (s) {
        for (size_t i = 0; i < tl.count; i++) {
            if (i)
                *p++ = ' ';
            memcpy(p, token_text(&tl, &tl.toks[i]), tl.toks[i].len);
            p += tl.toks[i].len;
        }
        *p = '\0';
    }
    token_list_free(&tl);
    return s;
}

void token_list_reset(token_list *tl)
{
    tl->count = 0;
    tl->blen = 0;
}

void token_list_free(token_list *tl)
{
    free(tl->toks);
    free(tl->buf);
    memset(tl, 0, sizeof *tl);
}
