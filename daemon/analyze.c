/* analyze.c - one word -> the rule words it reads as. Everything costly (hunspell, variants)
 * happens once per distinct word per thread; after that a word costs one hash lookup. */
#include "analyze.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalize.h"

#define CACHE_MAX_WORDS 200000

typedef struct {
    uint32_t hit_off, n_hits, reading_off;
} cache_entry;

/* A direct-mapped front for frequent words ("the", "you"): one slot holds everything a lookup
 * returns, so a hit costs one memory access. */
#define HOT_SLOTS 8192
#define HOT_KEY 13

typedef struct {
    uint64_t hash;
    uint32_t hit_off, reading_off;
    uint16_t n_hits;
    uint8_t len; /* 0: empty */
    char key[HOT_KEY];
} hot_slot;

struct word_cache {
    uint64_t generation; /* rule set the entries belong to */
    hot_slot hot[HOT_SLOTS];
    strmap index;        /* word -> entry */
    cache_entry *entries;
    uint32_t n_entries, cap_entries;
    word_hit *hits;
    uint32_t n_hits, cap_hits;
    char *text;
    uint32_t n_text, cap_text;
};

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_free(void *p)
{
    word_cache *c = p;
    if (!c)
        return;
    strmap_free(&c->index);
    free(c->entries);
    free(c->hits);
    free(c->text);
    free(c);
}

static void cache_key_make(void) { pthread_key_create(&cache_key, cache_free); }

void analyze_thread_cleanup(void)
{
    pthread_once(&cache_once, cache_key_make);
    cache_free(pthread_getspecific(cache_key));
    pthread_setspecific(cache_key, NULL);
}

word_cache *analyze_cache(const mod_ruleset *rs)
{
    pthread_once(&cache_once, cache_key_make);
    word_cache *c = pthread_getspecific(cache_key);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return NULL;
        pthread_setspecific(cache_key, c);
    }
    if (c->generation != rs->generation || c->n_entries >= CACHE_MAX_WORDS) {
        for (size_t i = 0; i < HOT_SLOTS; i++)
            c->hot[i].len = 0;
        strmap_clear(&c->index);
        c->n_entries = c->n_hits = c->n_text = 0;
        c->generation = rs->generation;
    }
    return c;
}

/* Hits found while analyzing one word, before they go into the cache. */
typedef struct {
    word_hit v[32];
    uint32_t n;
    char reading[128];
} found;

static void found_add(found *f, uint32_t word, read_how how)
{
    for (uint32_t i = 0; i < f->n; i++)
        if (f->v[i].word == word)
            return;
    if (f->n < 32)
        f->v[f->n++] = (word_hit){.word = word, .how = (uint8_t)how};
}

static int exact(const mod_ruleset *rs, const char *w, size_t n, read_how how, found *f)
{
    uint32_t *idx = strmap_get(&rs->surface, w, n);
    if (!idx)
        return 0;
    const u32vec *ids = &rs->surface_words[*idx];
    for (uint32_t i = 0; i < ids->n; i++)
        found_add(f, ids->v[i], how);
    return 1;
}

static int is_rule_vocab(const mod_ruleset *rs, const char *w, size_t n)
{
    return strmap_get(&rs->rule_vocab, w, n) != NULL;
}

typedef struct {
    const mod_ruleset *rs;
    int hit;
} stem_check;

static int stem_in_rules(const char *stem, void *ctx)
{
    stem_check *sc = ctx;
    sc->hit = is_rule_vocab(sc->rs, stem, strlen(stem));
    return sc->hit;
}

/* The Scunthorpe guard: may a wildcard or embedded rule fire inside this word? */
static int wildcard_allowed(const mod_ruleset *rs, const char *w, size_t n)
{
    if (strmap_get(&rs->allow_words, w, n))
        return 0;
    if (is_rule_vocab(rs, w, n) || !speller_is_english(w))
        return 1;
    stem_check sc = {.rs = rs};
    speller_stems(w, stem_in_rules, &sc);
    return sc.hit;
}

/* Is rest a regular inflection of a word ending in last ("s", "ed", "ing", also after a doubled
 * consonant: shit -> shitting)? Such a word is the rule word inflected, even when the dictionary
 * lists it on its own; derived words (cocky, titter) still need the dictionary guard. */
static int regular_ending(const char *rest, char last)
{
    static const char *const endings[] = {"", "s", "es", "ed", "d", "ing", "in"};
    if (rest[0] == last && last != 'e')
        rest++; /* doubled consonant */
    for (size_t i = 0; i < sizeof endings / sizeof endings[0]; i++)
        if (strcmp(rest, endings[i]) == 0)
            return 1;
    return 0;
}

static void wildcards(const mod_ruleset *rs, const char *w, size_t n, read_how how, found *f)
{
    found tmp = {0};
    int inflected = 0;
    for (size_t k = 3; k <= n && k <= rs->max_prefix; k++) {
        uint32_t *id = strmap_get(&rs->prefixes, w, k);
        if (id) {
            found_add(&tmp, *id, how == READ_EXACT ? READ_PREFIX : how);
            inflected |= regular_ending(w + k, w[k - 1]);
        }
    }
    if (inflected) {
        for (uint32_t i = 0; i < tmp.n; i++)
            found_add(f, tmp.v[i].word, (read_how)tmp.v[i].how);
        tmp.n = 0;
    }
    for (uint32_t i = 0; i < rs->infixes.n; i++) {
        uint32_t id = rs->infixes.v[i];
        if (strstr(w, rs->words[id].text))
            found_add(&tmp, id, how == READ_EXACT ? READ_INFIX : how);
    }
    if (tmp.n && wildcard_allowed(rs, w, n))
        for (uint32_t i = 0; i < tmp.n; i++)
            found_add(f, tmp.v[i].word, (read_how)tmp.v[i].how);
}

/* Direct reading of a candidate spelling: the word itself and the wildcards it fits. */
static int read_as(const mod_ruleset *rs, const char *w, size_t n, read_how how, found *f)
{
    uint32_t before = f->n;
    exact(rs, w, n, how, f);
    wildcards(rs, w, n, how, f);
    if (f->n > before && how != READ_EXACT)
        snprintf(f->reading, sizeof f->reading, "%.*s", (int)n, w);
    return f->n > before;
}

static int is_alpha(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (w[i] < 'a' || w[i] > 'z')
            return 0;
    return 1;
}

/* fuuuuck -> fuuck, fuck; shiiit -> shiit, shit. Only a run of min_run letters or more says
 * the word was stretched. */
static int read_stretched(const mod_ruleset *rs, const char *w, size_t n, size_t min_run, found *f)
{
    char two[128], one[128];
    size_t a = 0, b = 0;
    int has_run = 0;
    for (size_t i = 0; i < n && i < 127; i++) {
        size_t run = 1;
        while (i + run < n && w[i + run] == w[i])
            run++;
        if (run >= min_run)
            has_run = 1;
        two[a++] = w[i];
        if (run >= 2)
            two[a++] = w[i];
        one[b++] = w[i];
        i += run - 1;
    }
    if (!has_run || a > 127)
        return 0;
    two[a] = one[b] = '\0';
    if (a < n && read_as(rs, two, a, READ_STRETCH, f))
        return 1;
    return b < n && read_as(rs, one, b, READ_STRETCH, f);
}

/* Leetspeak: digits and symbols read as the letters they stand for. '1' and '!' may be i or l. */
static int read_leet(const mod_ruleset *rs, const char *w, size_t n, found *f)
{
    if (n >= 64)
        return 0;
    char base[64];
    int amb[8], n_amb = 0, letters = 0;
    for (size_t i = 0; i < n; i++) {
        char c = w[i];
        switch (c) {
        case '0': c = 'o'; break;
        case '1': case '!': case '|': c = 'i'; if (n_amb < 8) amb[n_amb++] = (int)i; break;
        case '3': c = 'e'; break;
        case '4': case '@': c = 'a'; break;
        case '5': case '$': c = 's'; break;
        case '7': case '+': c = 't'; break;
        case '8': c = 'b'; break;
        case '9': c = 'g'; break;
        default:
            if (c >= 'a' && c <= 'z')
                letters++;
            else if (c < 'a' || c > 'z')
                return 0; /* another symbol: not leetspeak */
        }
        base[i] = c;
    }
    base[n] = '\0';
    if (letters < 1)
        return 0;
    for (int mask = 0; mask < (1 << n_amb) && mask < 16; mask++) {
        char v[64];
        memcpy(v, base, n + 1);
        for (int k = 0; k < n_amb; k++)
            if (mask & (1 << k))
                v[amb[k]] = 'l';
        if (read_as(rs, v, n, READ_LEET, f) || read_stretched(rs, v, n, 2, f))
            return 1;
    }
    return 0;
}

/* Does masked word w (letters shown, symbols hidden) spell t, or start with t when t is a
 * prefix rule ("f**king" for fuck*)? */
static int mask_fits(const char *w, size_t n, const char *t, size_t tl, int prefix)
{
    if (prefix ? tl > n : tl != n)
        return 0;
    for (size_t i = 0; i < tl; i++)
        if (w[i] >= 'a' && w[i] <= 'z' && w[i] != t[i])
            return 0;
    for (size_t i = tl; i < n; i++)
        if (w[i] < 'a' || w[i] > 'z')
            return 0;
    return 1;
}

/* Masked letters: f*ck, f**k, f#ck, c**t, f***ing. At least two letters must show, the first
 * among them. */
static int read_masked(const mod_ruleset *rs, const char *w, size_t n, found *f)
{
    size_t shown = 0, masked = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] >= 'a' && w[i] <= 'z')
            shown++;
        else if (w[i] == '*' || w[i] == '#' || w[i] == '%' || w[i] == '@' || w[i] == '$')
            masked++;
        else
            return 0;
    }
    if (shown < 2 || !masked || w[0] < 'a' || w[0] > 'z')
        return 0;
    if (n <= rs->max_len) {
        const u32vec *cands = &rs->by_length[n];
        for (uint32_t c = 0; c < cands->n; c++) {
            const char *t = rs->surface_text[cands->v[c]];
            if (mask_fits(w, n, t, n, 0)) {
                const u32vec *ids = &rs->surface_words[cands->v[c]];
                for (uint32_t k = 0; k < ids->n; k++)
                    found_add(f, ids->v[k], READ_MASK);
                snprintf(f->reading, sizeof f->reading, "%s", t);
                return 1;
            }
        }
    }
    for (uint32_t i = 0; i < rs->infixes.n; i++) {
        const char *t = rs->words[rs->infixes.v[i]].text;
        if (mask_fits(w, n, t, strlen(t), 0)) {
            found_add(f, rs->infixes.v[i], READ_MASK);
            snprintf(f->reading, sizeof f->reading, "%s", t);
            return 1;
        }
    }
    for (uint32_t id = 0; id < rs->n_words; id++) {
        const lex_word *lw = &rs->words[id];
        if (lw->kind != W_PREFIX)
            continue;
        size_t tl = strlen(lw->text);
        if (tl >= 4 && mask_fits(w, n, lw->text, tl, 1)) {
            found_add(f, id, READ_MASK);
            snprintf(f->reading, sizeof f->reading, "%s%s", lw->text, w + tl);
            return 1;
        }
    }
    return 0;
}

/* Letters commenters swap for one another: a substitution outside these is a different word
 * (Mitch is not bitch, Kurt is not kunt). */
static int swappable(char a, char b)
{
    static const char *const classes[] = {"ckq", "sz", "il", "uv"};
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (strchr(classes[i], a) && strchr(classes[i], b))
            return 1;
    return 0;
}

/* Is token w (n letters) one plausible misspelling of rule word t (m letters)? A transposition
 * (idoit), a letter added inside a longer word (biatch), a letter dropped inside (fuk: only a
 * doubled letter or the c of "ck" when the result is this short), or a swap of look-alike
 * letters. The first letter always stays. */
static int near_edit_ok(const char *w, size_t n, const char *t, size_t m)
{
    if (w[0] != t[0])
        return 0;
    size_t i = 0;
    if (n == m) {
        while (i < n && w[i] == t[i])
            i++;
        if (i == n)
            return 0;
        if (i + 1 < n && w[i] == t[i + 1] && w[i + 1] == t[i] && !strcmp(w + i + 2, t + i + 2))
            return 1;
        return swappable(w[i], t[i]) && !strcmp(w + i + 1, t + i + 1);
    }
    if (n == m + 1) {
        while (i < m && w[i] == t[i])
            i++;
        return n >= 5 && i > 0 && i < m && !strcmp(w + i + 1, t + i);
    }
    if (n + 1 == m) {
        while (i < n && w[i] == t[i])
            i++;
        if (i == 0 || i >= m - 1 || strcmp(w + i, t + i + 1))
            return 0;
        return n >= 5 || t[i] == t[i + 1] || t[i] == t[i - 1] || (t[i] == 'c' && t[i + 1] == 'k');
    }
    return 0;
}

typedef struct {
    const mod_ruleset *rs;
    const char *word;
    size_t n;
    const u32vec *cands[64];
    int n_cands;
    found *f;
} near_ctx;

static int near_pick(const char *sugg, void *ctx)
{
    near_ctx *nc = ctx;
    for (int i = 0; i < nc->n_cands; i++)
        for (uint32_t k = 0; k < nc->cands[i]->n; k++) {
            const char *t = nc->rs->words[nc->cands[i]->v[k]].text;
            if (strcmp(t, sugg) == 0 && near_edit_ok(nc->word, nc->n, t, strlen(t))) {
                found_add(nc->f, nc->cands[i]->v[k], READ_NEAR);
                snprintf(nc->f->reading, sizeof nc->f->reading, "%s", sugg);
                return 1;
            }
        }
    return 0;
}

/* Sound-alike spellings: phuck, fukk, fvck -> the rule word, checked by exact lookup. */
static int read_sound_alike(const mod_ruleset *rs, const char *w, size_t n, found *f)
{
    static const char *const rep[][2] = {{"ph", "f"}, {"kk", "ck"}, {"x", "ck"}, {"q", "k"},
                                         {"z", "s"},  {"v", "u"},   {"k", "ck"}, {"kc", "ck"}};
    char v[64];
    if (n < 4 || n >= 40)
        return 0; /* short words are too easily something else ("v." is not "u") */
    for (size_t r = 0; r < sizeof rep / sizeof rep[0]; r++) {
        size_t fl = strlen(rep[r][0]);
        for (const char *p = strstr(w, rep[r][0]); p; p = strstr(p + 1, rep[r][0])) {
            size_t at = (size_t)(p - w);
            int len = snprintf(v, sizeof v, "%.*s%s%s", (int)at, w, rep[r][1], p + fl);
            if (len > 0 && exact(rs, v, (size_t)len, READ_NEAR, f)) {
                snprintf(f->reading, sizeof f->reading, "%s", v);
                return 1;
            }
        }
    }
    return 0;
}

/* Are two neighbouring letters of w swapped in an English word that is no rule word? A token
 * that is one such slip from a word ("falgs": flags) is that word, not a near-miss of a
 * shorter rule word (fags). */
static int swapped_english(const mod_ruleset *rs, const char *w, size_t n)
{
    char v[40];
    for (size_t k = 0; k + 1 < n; k++) {
        if (w[k] == w[k + 1])
            continue;
        memcpy(v, w, n + 1);
        v[k] = w[k + 1];
        v[k + 1] = w[k];
        if (!is_rule_vocab(rs, v, n) && speller_is_english(v))
            return 1;
    }
    return 0;
}

/* Near-miss spellings (fuk, biatch, idoit): a cheap deletion index proposes rule words one edit
 * away; hunspell over the rule vocabulary confirms; English words are never re-read. */
static int read_near(const mod_ruleset *rs, const char *w, size_t n, found *f)
{
    if (!rs->vocab || n < 3 || n > 30 || !is_alpha(w, n))
        return 0;
    near_ctx nc = {.rs = rs, .word = w, .n = n, .f = f};
    uint32_t *idx = strmap_get(&rs->near_index, w, n);
    if (idx)
        nc.cands[nc.n_cands++] = &rs->near_lists[*idx];
    char del[32];
    for (size_t k = 0; k < n && nc.n_cands < 64; k++) {
        memcpy(del, w, k);
        memcpy(del + k, w + k + 1, n - k - 1);
        idx = strmap_get(&rs->near_index, del, n - 1);
        if (idx)
            nc.cands[nc.n_cands++] = &rs->near_lists[*idx];
    }
    /* Worth asking hunspell only when some candidate passes the cheap edit check. */
    int plausible = 0;
    for (int i = 0; i < nc.n_cands && !plausible; i++)
        for (uint32_t k = 0; k < nc.cands[i]->n && !plausible; k++) {
            const char *t = rs->words[nc.cands[i]->v[k]].text;
            plausible = near_edit_ok(w, n, t, strlen(t));
        }
    if (!plausible || strmap_get(&rs->allow_words, w, n) || speller_is_english(w))
        return 0;
    char word[32];
    memcpy(word, w, n);
    word[n] = '\0';
    speller_vocab_suggest(rs->vocab, word, near_pick, &nc);
    if (f->n && strlen(f->reading) < n && swapped_english(rs, word, n)) {
        f->n = 0;
        f->reading[0] = '\0';
    }
    return f->n > 0;
}

/* Written with a capital first letter inside a sentence, not in all capitals: a name (Mitch). */
static int capitalized_inside(uint16_t flags)
{
    return (flags & TOK_CAPITAL) && !(flags & (TOK_SENT_START | TOK_ALLCAPS));
}

/* A capitalized word inside a sentence, or a short all-capitals one, is a name or an acronym:
 * it is never re-read as a near-miss spelling (Mitch, Howard, TCOT). */
static int name_like(const char *w, size_t n, uint16_t flags)
{
    return ((flags & TOK_ALLCAPS) && n <= 5) || capitalized_inside(flags);
}

static void analyze_uncached(const mod_ruleset *rs, const char *w, size_t n, uint16_t flags,
                             found *f)
{
    if ((flags & TOK_FOREIGN) || !(flags & TOK_LETTER))
        return;
    if (flags & TOK_AT) {
        /* "@ss" is leetspeak, "@fuckface99" is somebody's handle: only whole-word readings. */
        if (exact(rs, w, n, READ_EXACT, f))
            return;
        char v[64];
        if (n < sizeof v && w[0] == '@') {
            memcpy(v, w, n + 1);
            v[0] = 'a';
            if (exact(rs, v, n, READ_LEET, f))
                snprintf(f->reading, sizeof f->reading, "%s", v);
        }
        return;
    }
    if (read_as(rs, w, n, READ_EXACT, f))
        return;
    if (flags & (TOK_DIGIT | TOK_SYMBOL)) {
        if (!read_masked(rs, w, n, f))
            read_leet(rs, w, n, f);
        return;
    }
    if (!is_alpha(w, n))
        return;
    /* Variants first (hash lookups), hunspell only to veto a hit: "speech" is not "spech".
     * A name's double letter is its spelling, not a stretch (Bonner, Hitt); shouting in
     * capitals is still read (HOEE). */
    if (read_stretched(rs, w, n, capitalized_inside(flags) ? 3 : 2, f)) {
        if (!speller_is_english(w))
            return;
        f->n = 0;
        f->reading[0] = '\0';
    }
    if (name_like(w, n, flags) || read_sound_alike(rs, w, n, f))
        return;
    read_near(rs, w, n, f);
}

static void reading_of(const word_cache *c, uint32_t hit_off, uint32_t n_hits,
                       uint32_t reading_off, word_reading *out)
{
    out->hits = c->hits + hit_off;
    out->n_hits = n_hits;
    out->reading = reading_off == UINT32_MAX ? NULL : c->text + reading_off;
}

int analyze_word_in(word_cache *c, const mod_ruleset *rs, const char *word, size_t len,
                    uint64_t hash, uint16_t flags, word_reading *out)
{
    if (name_like(word, len, flags))
        hash ^= 0x9e3779b97f4a7c15ULL; /* names are read differently: a separate entry */
    hot_slot *hs = &c->hot[hash & (HOT_SLOTS - 1)];
    if (hs->hash == hash && hs->len == len) {
        size_t i = 0;
        while (i < len && hs->key[i] == word[i])
            i++;
        if (i == len) {
            reading_of(c, hs->hit_off, hs->n_hits, hs->reading_off, out);
            return 0;
        }
    }
    uint32_t *e = strmap_get_hashed(&c->index, word, len, hash);
    if (!e) {
        found f = {.n = 0};
        f.reading[0] = '\0';
        analyze_uncached(rs, word, len, flags, &f);
        size_t rl = f.n && f.reading[0] ? strlen(f.reading) : 0;
        if (c->n_entries == c->cap_entries) {
            uint32_t cap = c->cap_entries ? c->cap_entries * 2 : 1024;
            cache_entry *p = realloc(c->entries, cap * sizeof *p);
            if (!p)
                return -1;
            c->entries = p;
            c->cap_entries = cap;
        }
        while (c->n_hits + f.n > c->cap_hits) {
            uint32_t cap = c->cap_hits ? c->cap_hits * 2 : 1024;
            word_hit *p = realloc(c->hits, cap * sizeof *p);
            if (!p)
                return -1;
            c->hits = p;
            c->cap_hits = cap;
        }
        while (c->n_text + rl + 1 > c->cap_text) {
            uint32_t cap = c->cap_text ? c->cap_text * 2 : 4096;
            char *p = realloc(c->text, cap);
            if (!p)
                return -1;
            c->text = p;
            c->cap_text = cap;
        }
        cache_entry ce = {.hit_off = c->n_hits, .n_hits = f.n, .reading_off = UINT32_MAX};
        if (f.n)
            memcpy(c->hits + c->n_hits, f.v, f.n * sizeof *f.v);
        c->n_hits += f.n;
        if (rl) {
            ce.reading_off = c->n_text;
            memcpy(c->text + c->n_text, f.reading, rl + 1);
            c->n_text += (uint32_t)rl + 1;
        }
        c->entries[c->n_entries] = ce;
        e = strmap_put_hashed(&c->index, word, len, hash, c->n_entries, NULL);
        if (!e)
            return -1;
        c->n_entries++;
    }
    const cache_entry *ce = &c->entries[*e];
    if (len <= HOT_KEY) {
        hs->hash = hash;
        hs->len = (uint8_t)len;
        hs->hit_off = ce->hit_off;
        hs->n_hits = (uint16_t)ce->n_hits;
        hs->reading_off = ce->reading_off;
        memcpy(hs->key, word, len);
    }
    reading_of(c, ce->hit_off, ce->n_hits, ce->reading_off, out);
    return 0;
}

int analyze_word(const mod_ruleset *rs, const char *word, size_t len, uint64_t hash,
                 uint16_t flags, word_reading *out)
{
    word_cache *c = analyze_cache(rs);
    return c ? analyze_word_in(c, rs, word, len, hash, flags, out) : -1;
}
