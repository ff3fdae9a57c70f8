/* match.c - fires rules over a tokenized comment: terms and phrases, windows, guards, allow list. */
#include "match.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

_Static_assert(CAT__COUNT <= 8, "eff_word.held has a bit per category");

/* A word as the matcher sees it: one token, or several single letters read together (f u c k). */
typedef struct {
    uint32_t first_tok, last_tok;
    uint32_t hit_off, n_hits;
    uint32_t reading_off; /* into scratch.text */
    uint32_t sentence;
    uint32_t cand_head; /* the rule being tried: its candidates that start here, index + 1 */
    uint8_t mention, allowed;
    uint8_t held; /* categories whose kept match covers this word (bit per category) */
} eff_word;

typedef struct {
    uint32_t set, a, b, next; /* eff word range [a, b]; next occurrence of the same set */
} occurrence;

typedef struct {
    uint32_t rule, a, b;
    int32_t ctx_a, ctx_b; /* -1 when the rule has one element */
    uint32_t next_same_a; /* the rule's previous candidate starting at word a: index + 1 */
    uint32_t order;       /* position in the order found */
    uint8_t dropped;
} candidate;

typedef struct {
    eff_word *words;
    size_t n_words, cap_words;
    word_hit *hits;
    size_t n_hits, cap_hits;
    char *text;
    size_t n_text, cap_text;
    occurrence *occ;
    size_t n_occ, cap_occ;
    uint32_t *set_head; /* set id -> its latest occurrence + 1 (0 = none), while terms are found */
    /* Then each set's occurrences side by side in by_set, by first word: rules look up the few
     * near a word instead of walking all, so a long comment costs linear time, not quadratic. */
    uint32_t *set_first, *set_n;
    occurrence *by_set;
    size_t cap_by_set;
    size_t cap_sets;
    uint32_t *touched;
    size_t n_touched, cap_touched;
    candidate *cand;
    size_t n_cand, cap_cand;
} scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
    scratch *s = p;
    if (!s)
        return;
    free(s->words);
    free(s->hits);
    free(s->text);
    free(s->occ);
    free(s->set_head);
    free(s->set_first);
    free(s->set_n);
    free(s->by_set);
    free(s->touched);
    free(s->cand);
    free(s);
}

static void scratch_key_make(void) { pthread_key_create(&scratch_key, scratch_free); }

void match_thread_cleanup(void)
{
    pthread_once(&scratch_once, scratch_key_make);
    scratch_free(pthread_getspecific(scratch_key));
    pthread_setspecific(scratch_key, NULL);
    analyze_thread_cleanup();
}

#define RESERVE(arr, n, cap, extra)                                                        \
    do {                                                                                   \
        if ((n) + (extra) > (cap)) {                                                       \
            size_t c_ = (cap) ? (cap) : 64;                                                \
            while (c_ < (n) + (extra))                                                     \
                c_ *= 2;                                                                   \
            void *p_ = realloc((arr), c_ * sizeof *(arr));                                 \
            if (!p_)                                                                       \
                return -1;                                                                 \
            (arr) = p_;                                                                    \
            (cap) = c_;                                                                    \
        }                                                                                  \
    } while (0)

static scratch *scratch_get(size_t n_sets)
{
    pthread_once(&scratch_once, scratch_key_make);
    scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return NULL;
        pthread_setspecific(scratch_key, s);
    }
    if (s->cap_sets < n_sets) {
        free(s->set_head);
        free(s->set_first);
        free(s->set_n);
        s->set_head = calloc(n_sets, sizeof *s->set_head);
        s->set_first = calloc(n_sets, sizeof *s->set_first);
        s->set_n = calloc(n_sets, sizeof *s->set_n);
        if (!s->set_head || !s->set_first || !s->set_n) {
            free(s->set_head);
            free(s->set_first);
            free(s->set_n);
            s->set_head = s->set_first = s->set_n = NULL;
            s->cap_sets = 0;
            return NULL;
        }
        s->cap_sets = n_sets;
    }
    s->n_words = s->n_hits = s->n_text = s->n_occ = s->n_touched = s->n_cand = 0;
    return s;
}

/* Appends a word. Its reading is copied only when it has hits (or is a mention): the reading is
 * needed only for words that end up in a match. */
static inline int add_word(scratch *s, uint32_t first, uint32_t last, uint32_t sentence,
                           const word_reading *r, int mention)
{
    /* build_words reserved a word per token: there are never more words than tokens */
    eff_word *w = &s->words[s->n_words++];
    w->first_tok = first;
    w->last_tok = last;
    w->hit_off = (uint32_t)s->n_hits;
    w->n_hits = r->n_hits;
    w->reading_off = UINT32_MAX;
    w->sentence = sentence;
    w->mention = (uint8_t)mention;
    w->allowed = 0;
    w->held = 0;
    w->cand_head = 0;
    RESERVE(s->hits, s->n_hits, s->cap_hits, r->n_hits);
    for (uint32_t h = 0; h < r->n_hits; h++)
        s->hits[s->n_hits++] = r->hits[h];
    if (r->reading) {
        /* a reading other than the token's own text ("fuck" for "f*ck"): the cache holding it
         * may move while the comment is read, so it is copied */
        size_t rl = strlen(r->reading);
        RESERVE(s->text, s->n_text, s->cap_text, rl + 1);
        w->reading_off = (uint32_t)s->n_text;
        memcpy(s->text + s->n_text, r->reading, rl + 1);
        s->n_text += rl + 1;
    }
    return 0;
}

/* The normalized reading of a word, whether or not it was copied. */
static const char *word_reading_text(const scratch *s, const token_list *tl, const eff_word *w)
{
    if (w->reading_off != UINT32_MAX)
        return s->text + w->reading_off;
    /* a mention reads as the name without its '@' */
    return token_text(tl, &tl->toks[w->first_tok]) +
           (w->n_hits == 0 && (tl->toks[w->first_tok].flags & TOK_AT));
}

static int single_letter(const token_list *tl, size_t i)
{
    const norm_token *t = &tl->toks[i];
    char c = tl->buf[t->off];
    return t->len == 1 && c >= 'a' && c <= 'z';
}

/* Reads runs of single letters (f u c k, f.u.c.k) as one word when that spells a rule word. */
static size_t try_join(const mod_ruleset *rs, word_cache *wc, scratch *s, const token_list *tl,
                       size_t i, size_t run_end, int *err)
{
    char joined[64];
    char head[3] = {tl->buf[tl->toks[i].off], tl->buf[tl->toks[i + 1].off],
                    tl->buf[tl->toks[i + 2].off]};
    if (!strmap_get(&rs->heads, head, 3))
        return 0; /* no rule word starts with these letters */
    for (size_t end = run_end; end >= i + 3; end--) {
        if (end - i >= sizeof joined)
            continue;
        for (size_t k = i; k < end; k++)
            joined[k - i] = tl->buf[tl->toks[k].off];
        joined[end - i] = '\0';
        word_reading r;
        if (analyze_word_in(wc, rs, joined, end - i, strmap_hash(joined, end - i), TOK_LETTER,
                            &r) < 0) {
            *err = 1;
            return 0;
        }
        int direct = 0;
        for (uint32_t h = 0; h < r.n_hits; h++)
            direct |= r.hits[h].how == READ_EXACT || r.hits[h].how == READ_STRETCH ||
                      r.hits[h].how == READ_PREFIX || r.hits[h].how == READ_INFIX;
        if (direct) {
            word_reading copy = r;
            copy.reading = r.reading ? r.reading : joined;
            if (add_word(s, (uint32_t)i, (uint32_t)(end - 1), tl->toks[i].sentence, &copy, 0) < 0)
                *err = 1;
            return end - i;
        }
    }
    return 0;
}

static int build_words(const mod_ruleset *rs, scratch *s, const token_list *tl)
{
    word_cache *wc = analyze_cache(rs);
    if (!wc)
        return -1;
    RESERVE(s->words, 0, s->cap_words, tl->count);
    for (size_t i = 0; i < tl->count;) {
        if (single_letter(tl, i)) {
            /* A run of single letters may spell a rule word from its first letter (f u c k);
             * the join is tried only up to the longest rule word. */
            size_t end = i + 1;
            while (end < tl->count && single_letter(tl, end) &&
                   (tl->toks[end].flags & TOK_THIN_SEP) && end - i < rs->max_join)
                end++;
            if (end - i >= 3) {
                int err = 0;
                size_t used = try_join(rs, wc, s, tl, i, end, &err);
                if (err)
                    return -1;
                if (used) {
                    i += used;
                    continue;
                }
            }
        }
        const norm_token *t = &tl->toks[i];
        word_reading r;
        if (analyze_word_in(wc, rs, token_text(tl, t), t->len, t->hash, t->flags, &r) < 0)
            return -1;
        if (add_word(s, (uint32_t)i, (uint32_t)i, t->sentence, &r,
                     (t->flags & TOK_AT) && !r.n_hits) < 0)
            return -1;
        i++;
    }
    return 0;
}

static int add_occ(scratch *s, uint32_t set, uint32_t a, uint32_t b)
{
    /* The same set at the same span once is enough. Terms are found word by word, so a set's
     * latest occurrences are the only ones that can start at a. */
    for (uint32_t o = s->set_head[set]; o && s->occ[o - 1].a == a; o = s->occ[o - 1].next)
        if (s->occ[o - 1].b == b)
            return 0;
    RESERVE(s->occ, s->n_occ, s->cap_occ, 1);
    if (!s->set_head[set]) {
        RESERVE(s->touched, s->n_touched, s->cap_touched, 1);
        s->touched[s->n_touched++] = set;
    }
    s->occ[s->n_occ] = (occurrence){.set = set, .a = a, .b = b, .next = s->set_head[set]};
    s->set_head[set] = (uint32_t)++s->n_occ;
    s->set_n[set]++;
    return 0;
}

static int word_has(const scratch *s, const eff_word *w, uint32_t word_id)
{
    for (uint32_t h = 0; h < w->n_hits; h++)
        if (s->hits[w->hit_off + h].word == word_id)
            return 1;
    return 0;
}

/* Finds every term (word or phrase) and records it under each set it belongs to. */
static int find_terms(const mod_ruleset *rs, scratch *s)
{
    for (size_t i = 0; i < s->n_words; i++) {
        const eff_word *w = &s->words[i];
        if (w->mention && add_occ(s, rs->mention_set, (uint32_t)i, (uint32_t)i) < 0)
            return -1;
        for (uint32_t h = 0; h < w->n_hits; h++) {
            const u32vec *terms = &rs->terms_by_first[s->hits[w->hit_off + h].word];
            for (uint32_t t = 0; t < terms->n; t++) {
                const lex_term *term = &rs->terms[terms->v[t]];
                if (i + term->words.n > s->n_words)
                    continue;
                uint32_t k = 1;
                while (k < term->words.n && word_has(s, &s->words[i + k], term->words.v[k]))
                    k++;
                if (k < term->words.n)
                    continue;
                for (uint32_t m = 0; m < term->sets.n; m++)
                    if (add_occ(s, term->sets.v[m], (uint32_t)i,
                                (uint32_t)(i + term->words.n - 1)) < 0)
                        return -1;
            }
        }
    }
    return 0;
}

/* Lays each set's occurrences out side by side in by_set, in the order they were found (by
 * first word). set_n holds each set's count, and holds it again after. */
static int index_sets(scratch *s)
{
    RESERVE(s->by_set, 0, s->cap_by_set, s->n_occ);
    uint32_t at = 0;
    for (size_t t = 0; t < s->n_touched; t++) {
        s->set_first[s->touched[t]] = at;
        at += s->set_n[s->touched[t]];
        s->set_n[s->touched[t]] = 0;
    }
    for (size_t o = 0; o < s->n_occ; o++) {
        uint32_t set = s->occ[o].set;
        s->by_set[s->set_first[set] + s->set_n[set]++] = s->occ[o];
    }
    return 0;
}

/* The occurrences of set whose first word lies in [lo, hi], and perhaps a few more around them:
 * indexes [*from, *to) of by_set. */
static void occ_range(const scratch *s, uint32_t set, long lo, long hi, uint32_t *from,
                      uint32_t *to)
{
    uint32_t l = s->set_first[set], r = l + s->set_n[set];
    if (r - l <= 8) { /* the usual few: the callers test each anyway */
        *from = l;
        *to = r;
        return;
    }
    uint32_t a = l, b = r;
    while (a < b) { /* first with .a >= lo */
        uint32_t m = a + (b - a) / 2;
        if ((long)s->by_set[m].a < lo)
            a = m + 1;
        else
            b = m;
    }
    *from = a;
    b = r;
    while (a < b) { /* first with .a > hi */
        uint32_t m = a + (b - a) / 2;
        if ((long)s->by_set[m].a <= hi)
            a = m + 1;
        else
            b = m;
    }
    *to = a;
}

/* Words between two spans (0 when adjacent); -1 when they overlap. */
static long span_gap(uint32_t a1, uint32_t b1, uint32_t a2, uint32_t b2)
{
    if (a2 > b1)
        return (long)a2 - b1 - 1;
    if (a1 > b2)
        return (long)a1 - b2 - 1;
    return -1;
}

typedef struct {
    const mod_ruleset *rs;
    scratch *s;
    const rule_def *r;
    uint32_t rule;
    uint32_t steps; /* partial chains tried so far */
    occurrence chain[RULE_MAX_ELEMS];
} rule_eval;

/* Does an occurrence of set lie around words a..b? */
static int inside_set(const mod_ruleset *rs, const scratch *s, uint32_t set, uint32_t a,
                      uint32_t b)
{
    uint32_t from, to;
    occ_range(s, set, (long)b - rs->max_term_words + 1, a, &from, &to);
    for (uint32_t i = from; i < to; i++)
        if (s->by_set[i].a <= a && s->by_set[i].b >= b)
            return 1;
    return 0;
}

/* Whether word a is the first of its sentence (a rule written "^ PATTERN" starts there). */
static int opens_sentence(const scratch *s, uint32_t a)
{
    return a == 0 || s->words[a - 1].sentence != s->words[a].sentence;
}

/* The first word of sentence sn, or the first of a later one: words run in sentence order. */
static uint32_t sentence_start(const scratch *s, uint32_t sn)
{
    uint32_t a = 0, b = (uint32_t)s->n_words;
    while (a < b) {
        uint32_t m = a + (b - a) / 2;
        if (s->words[m].sentence < sn)
            a = m + 1;
        else
            b = m;
    }
    return a;
}

/* A guard counts only inside the sentence of the match, near or not: "You are a moron. No
 * doubt." is not a negated insult. */
static int unless_blocks(const rule_eval *ev, uint32_t a, uint32_t b)
{
    const scratch *s = ev->s;
    long lo = -1, hi = -1; /* the words of the match's sentences, once a guard needs them */
    for (uint32_t u = 0; u < ev->r->n_unless; u++) {
        const rule_unless *ru = &ev->r->unless[u];
        uint32_t from, to;
        if (ru->n >= 0) {
            occ_range(s, ru->set, (long)a - ru->n - ev->rs->max_term_words, (long)b + ru->n + 1,
                      &from, &to);
        } else {
            if (lo < 0) {
                lo = sentence_start(s, s->words[a].sentence);
                hi = (long)sentence_start(s, s->words[b].sentence + 1) - 1;
            }
            occ_range(s, ru->set, lo, hi, &from, &to);
        }
        for (uint32_t i = from; i < to; i++) {
            const occurrence *oc = &s->by_set[i];
            if (s->words[oc->a].sentence != s->words[a].sentence &&
                s->words[oc->a].sentence != s->words[b].sentence)
                continue;
            if (ru->n >= 0 && span_gap(a, b, oc->a, oc->b) > ru->n) /* overlap (-1) counts */
                continue;
            if (ru->before && oc->b >= a) /* "..n": "not an idiot", not "idiots don't" */
                continue;
            if (ru->except != UINT32_MAX && inside_set(ev->rs, s, ru->except, oc->a, oc->b))
                continue;
            return 1;
        }
    }
    return 0;
}

static int emit(rule_eval *ev)
{
    const rule_def *r = ev->r;
    scratch *s = ev->s;
    uint32_t lo = ev->chain[0].a, hi = ev->chain[0].b;
    int all_adjacent = 1;
    for (uint32_t e = 1; e < r->n_elems; e++) {
        if (ev->chain[e].a < lo)
            lo = ev->chain[e].a;
        if (ev->chain[e].b > hi)
            hi = ev->chain[e].b;
        if (r->elems[e].gap != GAP_ADJACENT)
            all_adjacent = 0;
    }
    if (r->n_unless && unless_blocks(ev, lo, hi))
        return 0;
    candidate c = {.rule = ev->rule, .ctx_a = -1, .ctx_b = -1, .order = (uint32_t)s->n_cand};
    if (all_adjacent) {
        c.a = lo;
        c.b = hi;
    } else {
        c.a = ev->chain[r->n_elems - 1].a;
        c.b = ev->chain[r->n_elems - 1].b;
        c.ctx_a = (int32_t)ev->chain[0].a;
        c.ctx_b = (int32_t)ev->chain[0].b;
    }
    /* A rule is tried once per comment, so its earlier candidates are this rule's; those
     * starting at the same word are few. */
    eff_word *w = &s->words[c.a];
    for (uint32_t i = w->cand_head; i; i = s->cand[i - 1].next_same_a)
        if (s->cand[i - 1].b == c.b)
            return 0;
    RESERVE(s->cand, s->n_cand, s->cap_cand, 1);
    c.next_same_a = w->cand_head;
    s->cand[s->n_cand++] = c;
    w->cand_head = (uint32_t)s->n_cand;
    return 0;
}

/* Partial chains one rule may try in one comment. Real comments need a few dozen; a pattern
 * with many ~N elements over a long run of its own words could otherwise need billions. */
#define CHAIN_BUDGET 65536

/* Extends a partial chain of element occurrences; emits every complete one. Returns 1 when the
 * rule's budget is spent. */
static int extend(rule_eval *ev, uint32_t e)
{
    const rule_def *r = ev->r;
    if (e == r->n_elems)
        return emit(ev);
    if (++ev->steps > CHAIN_BUDGET)
        return 1;
    const rule_elem *el = &r->elems[e];
    const occurrence *prev = &ev->chain[e - 1];
    scratch *s = ev->s;
    /* where the next element may start: right after, within n after, or (either order)
     * within n on either side */
    long lo = (long)prev->b + 1, hi = (long)prev->b + 1;
    if (el->gap == GAP_ORDERED)
        hi += el->n;
    else if (el->gap == GAP_WINDOW) {
        hi += el->n;
        lo = (long)prev->a - el->n - ev->rs->max_term_words;
    }
    uint32_t from, to;
    occ_range(s, el->set, lo, hi, &from, &to);
    /* latest first, the order the rule has always been tried in */
    for (uint32_t i = to; i-- > from;) {
        const occurrence *oc = &s->by_set[i];
        long gap;
        switch (el->gap) {
        case GAP_ADJACENT:
            if (oc->a != prev->b + 1)
                continue;
            break;
        case GAP_ORDERED:
            if (oc->a <= prev->b || (long)oc->a - prev->b - 1 > (long)el->n)
                continue;
            break;
        default:
            gap = span_gap(prev->a, prev->b, oc->a, oc->b);
            if (gap < 0 || gap > (long)el->n)
                continue;
        }
        if (el->gap != GAP_ADJACENT && s->words[oc->a].sentence != s->words[prev->a].sentence)
            continue;
        ev->chain[e] = *oc;
        int rc = extend(ev, e + 1);
        if (rc)
            return rc;
    }
    return 0;
}

static int fire_rules(const mod_ruleset *rs, scratch *s)
{
    for (size_t t = 0; t < s->n_touched; t++) {
        uint32_t set = s->touched[t];
        const u32vec *rules = &rs->rules_by_set[set];
        for (uint32_t k = 0; k < rules->n; k++) {
            const rule_def *r = &rs->rules[rules->v[k]];
            /* Cheap check first: every element's set must occur somewhere. */
            uint32_t e = 1;
            while (e < r->n_elems && s->set_n[r->elems[e].set])
                e++;
            if (e < r->n_elems)
                continue;
            rule_eval ev; /* its chain is written before it is read: not cleared */
            ev.rs = rs;
            ev.s = s;
            ev.r = r;
            ev.rule = rules->v[k];
            ev.steps = 0;
            size_t first_cand = s->n_cand;
            uint32_t first = s->set_first[set];
            for (uint32_t i = first + s->set_n[set]; i-- > first;) {
                ev.chain[0] = s->by_set[i];
                if (r->opens_sentence && !opens_sentence(s, ev.chain[0].a))
                    continue;
                int rc = extend(&ev, 1);
                if (rc < 0)
                    return -1;
                if (rc > 0)
                    break; /* budget spent: keep what this rule found */
            }
            for (size_t c = first_cand; c < s->n_cand; c++) /* ready for the next rule */
                s->words[s->cand[c].a].cand_head = 0;
        }
    }
    return 0;
}

/* Orders candidates: heavier rule first, then the wider span, then the one found first. */
static int heavier_first(const void *xp, const void *yp, void *rsp)
{
    const mod_ruleset *rs = rsp;
    const candidate *x = xp, *y = yp;
    double wx = rs->rules[x->rule].weight, wy = rs->rules[y->rule].weight;
    if (wx != wy)
        return wx > wy ? -1 : 1;
    if (x->b - x->a != y->b - y->a)
        return x->b - x->a > y->b - y->a ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Drops what the allow list covers, and, within a category, a match overlapping another that
 * weighs at least as much (so "fuck you" and "fuck" do not count the same word twice). */
static void prune(const mod_ruleset *rs, scratch *s)
{
    for (uint32_t o = s->set_head[rs->allow_set]; o; o = s->occ[o - 1].next)
        for (uint32_t w = s->occ[o - 1].a; w <= s->occ[o - 1].b; w++)
            s->words[w].allowed = 1;
    for (size_t i = 0; i < s->n_cand; i++) {
        candidate *c = &s->cand[i];
        int all_allowed = 1;
        for (uint32_t w = c->a; w <= c->b; w++)
            all_allowed &= s->words[w].allowed;
        if (all_allowed)
            c->dropped = 1;
    }
    /* Heaviest first (then widest, then first found): each keeps its words unless a heavier
     * match of its category already holds one of them. */
    if (s->n_cand > 16) {
        qsort_r(s->cand, s->n_cand, sizeof *s->cand, heavier_first, (void *)rs);
    } else { /* the usual few: insertion sort, without qsort's set-up */
        for (size_t i = 1; i < s->n_cand; i++) {
            candidate key = s->cand[i];
            size_t j = i;
            for (; j > 0 && heavier_first(&key, &s->cand[j - 1], (void *)rs) < 0; j--)
                s->cand[j] = s->cand[j - 1];
            s->cand[j] = key;
        }
    }
    for (size_t i = 0; i < s->n_cand; i++) {
        candidate *c = &s->cand[i];
        if (c->dropped)
            continue;
        uint8_t bit = (uint8_t)(1u << rs->rules[c->rule].cat);
        for (uint32_t w = c->a; w <= c->b && !c->dropped; w++)
            c->dropped = (s->words[w].held & bit) != 0;
        for (uint32_t w = c->a; w <= c->b && !c->dropped; w++)
            s->words[w].held |= bit;
    }
}

static size_t span_reading_len(const scratch *s, const token_list *tl, uint32_t a, uint32_t b)
{
    size_t len = 0;
    for (uint32_t w = a; w <= b; w++)
        len += strlen(word_reading_text(s, tl, &s->words[w])) + 1;
    return len;
}

static char *span_reading(const scratch *s, const token_list *tl, uint32_t a, uint32_t b,
                          char *out)
{
    char *p = out;
    for (uint32_t w = a; w <= b; w++) {
        if (w > a)
            *p++ = ' ';
        const char *rd = word_reading_text(s, tl, &s->words[w]);
        size_t l = strlen(rd);
        memcpy(p, rd, l);
        p += l;
    }
    *p = '\0';
    return p + 1;
}

static char *copy_text(char *dst, const char *src, size_t n)
{
    memcpy(dst, src, n);
    dst[n] = '\0';
    return dst + n + 1;
}

/* The matches and all their strings live in one allocation: engine_result_free frees it whole. */
static int materialize(const mod_ruleset *rs, const scratch *s, const token_list *tl,
                       const mod_input *in, mod_result *res)
{
    size_t n = 0, bytes = 0;
    for (size_t i = 0; i < s->n_cand; i++) {
        const candidate *c = &s->cand[i];
        if (c->dropped)
            continue;
        n++;
        bytes += tl->toks[s->words[c->b].last_tok].end_b -
                 tl->toks[s->words[c->a].first_tok].start_b + 1;
        bytes += span_reading_len(s, tl, c->a, c->b) + 1;
        if (c->ctx_a >= 0)
            bytes += tl->toks[s->words[c->ctx_b].last_tok].end_b -
                     tl->toks[s->words[c->ctx_a].first_tok].start_b + 1;
    }
    res->n_matches = 0;
    res->matches = NULL;
    if (!n)
        return 0;
    res->matches = malloc(n * sizeof *res->matches + bytes);
    if (!res->matches)
        return -1;
    char *strings = (char *)(res->matches + n);
    for (size_t i = 0; i < s->n_cand; i++) {
        const candidate *c = &s->cand[i];
        if (c->dropped)
            continue;
        const rule_def *r = &rs->rules[c->rule];
        const norm_token *ta = &tl->toks[s->words[c->a].first_tok];
        const norm_token *tb = &tl->toks[s->words[c->b].last_tok];
        mod_match *m = &res->matches[res->n_matches++];
        memset(m, 0, sizeof *m);
        m->rule = r->name;
        m->category = r->cat;
        m->weight = r->weight;
        m->start = ta->start_cp;
        m->end = tb->end_cp;
        m->text = strings;
        strings = copy_text(strings, in->text + ta->start_b, tb->end_b - ta->start_b);
        m->matched = strings;
        strings = span_reading(s, tl, c->a, c->b, strings);
        m->file = r->file;
        m->line = r->line;
        if (c->ctx_a >= 0) {
            const norm_token *ca = &tl->toks[s->words[c->ctx_a].first_tok];
            const norm_token *cb = &tl->toks[s->words[c->ctx_b].last_tok];
            m->ctx_start = ca->start_cp;
            m->ctx_end = cb->end_cp;
            m->ctx_text = strings;
            strings = copy_text(strings, in->text + ca->start_b, cb->end_b - ca->start_b);
        }
    }
    return 0;
}

static int cmp_match(const void *a, const void *b)
{
    const mod_match *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->category != y->category)
        return x->category < y->category ? -1 : 1;
    return strcmp(x->rule, y->rule);
}

/* Participants named by the request (parent author, mentioned users) count like "@name". Their
 * names go in one map, so many participants and a long comment cost their sum, not product. */
static int mark_participants(scratch *s, const token_list *tl, const mod_input *in)
{
    if (!in->n_participants)
        return 0;
    strmap names = {0};
    int rc = 0;
    for (size_t p = 0; p < in->n_participants && rc == 0; p++) {
        const char *given = in->participants[p];
        while (given && *given == '@')
            given++; /* "@bob" names the same person as "bob" */
        char *name = given ? normalize_term(given) : NULL;
        if (!name)
            continue;
        char *save = NULL;
        for (char *part = strtok_r(name, " ", &save); part && rc == 0;
             part = strtok_r(NULL, " ", &save))
            if (strlen(part) >= 2 && !strmap_put(&names, part, strlen(part), 1, NULL))
                rc = -1;
        free(name);
    }
    for (size_t w = 0; w < s->n_words && rc == 0 && names.count; w++) {
        eff_word *ew = &s->words[w];
        const char *rd = word_reading_text(s, tl, ew);
        /* a handle is matched as written too: "user455" must not have to read as "userass" */
        const norm_token *t = &tl->toks[ew->first_tok];
        const char *as_written = token_text(tl, t) + ((t->flags & TOK_AT) != 0);
        if (strmap_get(&names, rd, strlen(rd)) ||
            (ew->first_tok == ew->last_tok && as_written != rd &&
             strmap_get(&names, as_written, strlen(as_written))))
            ew->mention = 1;
    }
    strmap_free(&names);
    return rc;
}

int match_rules(const mod_ruleset *rs, const mod_input *in, const token_list *tl,
                mod_result *res, mod_error *err)
{
    scratch *s = scratch_get(rs->n_sets);
    if (!s)
        return err_set(err, ERR_INTERNAL, "out of memory");
    int rc = build_words(rs, s, tl);
    if (rc == 0)
        rc = mark_participants(s, tl, in);
    if (rc == 0)
        rc = find_terms(rs, s);
    if (rc == 0)
        rc = index_sets(s);
    if (rc == 0)
        rc = fire_rules(rs, s);
    if (rc == 0) {
        prune(rs, s);
        rc = materialize(rs, s, tl, in, res);
    }
    for (size_t t = 0; t < s->n_touched; t++)
        s->set_head[s->touched[t]] = s->set_n[s->touched[t]] = 0;
    if (rc < 0)
        return err_set(err, ERR_INTERNAL, "out of memory");
    if (res->n_matches > 1)
        qsort(res->matches, res->n_matches, sizeof *res->matches, cmp_match);
    return 0;
}
