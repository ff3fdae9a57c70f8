/* lint.c - warnings about a rule set that loads: duplicate and shadowed rules, rules that can
 * never match, allow-list entries that mask nothing, unused sets, characters that normalization
 * removes or that split a word. Reads the compiled set (ruleset_impl.h) and, to find rules that
 * can never fire, runs the engine on each rule's own words. */
#include "lint.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "analyze.h"
#include "engine.h"
#include "normalize.h"
#include "ruleset_impl.h"

/* Terms tried per element when looking for a comment that fires a rule. */
#define LINT_TERMS_PER_ELEM 40

/* ---- diagnostics ---- */

/* Lint findings are warnings: the set still loads. */
#define lint_add(d, file, line, col, hint, ...)                                            \
    diags_add((d), DIAG_WARNING, (file), (line), (col), (hint), __VA_ARGS__)

static int lint_diag_cmp(const void *a, const void *b)
{
    const rule_diag *x = a, *y = b;
    int c = strcmp(x->file ? x->file : "", y->file ? y->file : "");
    if (c)
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return (int)x->severity - (int)y->severity;
}

void diags_sort(rule_diags *d)
{
    if (d && d->count > 1)
        qsort(d->items, d->count, sizeof *d->items, lint_diag_cmp);
}

/* Most diagnostics carry their own hint, given where they are raised; the rest get the general
 * one. */
void diags_fill_hints(rule_diags *d)
{
    for (size_t i = 0; d && i < d->count; i++) {
        rule_diag *it = &d->items[i];
        if (!it->hint && it->message)
            it->hint = strdup("see rules/README.md for the format");
    }
}

/* ---- small strings ---- */

typedef struct {
    char *p;
    size_t len, cap;
} lint_str;

static void ls_add(lint_str *s, const char *t, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 128;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *p = realloc(s->p, cap);
        if (!p)
            abort(); /* like the rule compiler: a lint run cannot go on without memory */
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->len, t, n);
    s->len += n;
    s->p[s->len] = '\0';
}

static void ls_cat(lint_str *s, const char *t) { ls_add(s, t, strlen(t)); }

static void ls_printf(lint_str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ls_printf(lint_str *s, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        ls_add(s, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* ---- where things are written ---- */

/* 1-based column of whitespace-separated field k (0-based) of a line; 1 when there is none. */
static int lint_field_col(const char *src, int k)
{
    const char *p = src;
    for (int f = 0; src && *p; f++) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        if (f == k)
            return (int)(p - src) + 1;
        while (*p && *p != ' ' && *p != '\t')
            p++;
    }
    return 1;
}

/* The rule file's content (kept in rs), or NULL. */
static const rule_file *lint_file(const mod_ruleset *rs, const char *name)
{
    for (size_t i = 0; i < rs->n_files; i++)
        if (strcmp(rs->files[i].name, name) == 0)
            return &rs->files[i];
    return NULL;
}

/* Line lineno (1-based) of a file, copied into buf. Returns buf, or NULL. */
static char *lint_line(const rule_file *f, int lineno, char *buf, size_t size)
{
    if (!f || lineno < 1)
        return NULL;
    const char *p = f->content, *end = f->content + f->len;
    for (int l = 1; l < lineno; l++) {
        const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        if (!nl)
            return NULL;
        p = nl + 1;
    }
    if (p >= end)
        return NULL; /* past the last line */
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = (size_t)((nl ? nl : end) - p);
    if (n && p[n - 1] == '\r')
        n--;
    if (n >= size)
        n = size - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

/* ---- the compiled set, read back ---- */

static int lint_is_named(const lex_set *s) { return s->name && s->name[0] == '@'; }

/* How a set is written in a message: its name, or the literal words. */
static void lint_set_text(const mod_ruleset *rs, uint32_t set, lint_str *out);

static void lint_term_text(const mod_ruleset *rs, uint32_t term, lint_str *out)
{
    const lex_term *t = &rs->terms[term];
    for (uint32_t i = 0; i < t->words.n; i++) {
        if (i)
            ls_cat(out, " ");
        ls_cat(out, rs->words[t->words.v[i]].text);
    }
}

static void lint_set_text(const mod_ruleset *rs, uint32_t set, lint_str *out)
{
    const lex_set *s = &rs->sets[set];
    if (lint_is_named(s) || s->terms.n == 0) {
        ls_cat(out, s->name && *s->name ? s->name : "(empty)");
        return;
    }
    lint_term_text(rs, s->terms.v[0], out);
}

static int lint_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* A set by content: its sorted term ids (two sets with the same terms read the same). */
static void lint_set_key(const mod_ruleset *rs, uint32_t set, lint_str *out)
{
    if (set == rs->mention_set) {
        ls_cat(out, "M");
        return;
    }
    const lex_set *s = &rs->sets[set];
    uint32_t *ids = malloc((s->terms.n + 1) * sizeof *ids);
    if (!ids)
        abort();
    if (s->terms.n) {
        memcpy(ids, s->terms.v, s->terms.n * sizeof *ids);
        qsort(ids, s->terms.n, sizeof *ids, lint_u32_cmp);
    }
    for (uint32_t i = 0; i < s->terms.n; i++)
        ls_printf(out, "%u,", ids[i]);
    free(ids);
}

/* A rule's pattern by content: elements, gaps and guards. */
static char *lint_rule_key(const mod_ruleset *rs, const rule_def *r)
{
    lint_str k = {0};
    ls_cat(&k, r->opens_sentence ? "^" : "");
    for (uint32_t e = 0; e < r->n_elems; e++) {
        ls_printf(&k, "[%d/%u:", (int)r->elems[e].gap, r->elems[e].n);
        lint_set_key(rs, r->elems[e].set, &k);
        ls_cat(&k, "]");
    }
    for (uint32_t u = 0; u < r->n_unless; u++) {
        ls_printf(&k, "|%s%d:", r->unless[u].before ? ".." : "~", r->unless[u].n);
        lint_set_key(rs, r->unless[u].set, &k);
        if (r->unless[u].except != UINT32_MAX) {
            ls_cat(&k, "-");
            lint_set_key(rs, r->unless[u].except, &k);
        }
    }
    return k.p;
}

/* Does word b (in a rule) read every word that word a reads? */
static int lint_word_covers(const mod_ruleset *rs, uint32_t bw, uint32_t aw)
{
    if (bw == aw)
        return 1;
    const lex_word *b = &rs->words[bw], *a = &rs->words[aw];
    switch (b->kind) {
    case W_EXACT:
        return a->kind == W_ONLY && strcmp(a->text, b->text) == 0;
    case W_PREFIX:
        return a->kind != W_INFIX && strncmp(a->text, b->text, strlen(b->text)) == 0;
    case W_INFIX:
        return strstr(a->text, b->text) != NULL;
    default:
        return 0;
    }
}

/* Does set b fire on every occurrence of term? */
static int lint_term_covered(const mod_ruleset *rs, uint32_t bset, uint32_t term)
{
    const lex_set *s = &rs->sets[bset];
    const lex_term *t = &rs->terms[term];
    for (uint32_t i = 0; i < s->terms.n; i++) {
        if (s->terms.v[i] == term)
            return 1;
        const lex_term *u = &rs->terms[s->terms.v[i]];
        if (u->words.n != t->words.n)
            continue;
        uint32_t w = 0;
        while (w < t->words.n && lint_word_covers(rs, u->words.v[w], t->words.v[w]))
            w++;
        if (w == t->words.n)
            return 1;
    }
    return 0;
}

/* Does set b fire wherever set a does? */
static int lint_set_covered(const mod_ruleset *rs, uint32_t bset, uint32_t aset)
{
    if (aset == rs->mention_set || bset == rs->mention_set)
        return aset == bset;
    const lex_set *a = &rs->sets[aset];
    if (a->terms.n == 0)
        return 0;
    for (uint32_t i = 0; i < a->terms.n; i++)
        if (!lint_term_covered(rs, bset, a->terms.v[i]))
            return 0;
    return 1;
}

/* The set whose words a rule's match spans (what overlaps another rule's match), or UINT32_MAX
 * when the span is several adjacent elements (not analysed). */
static uint32_t lint_reported_set(const rule_def *r)
{
    if (r->n_elems == 1)
        return r->elems[0].set;
    int adjacent = 1;
    for (uint32_t e = 1; e < r->n_elems; e++)
        adjacent &= r->elems[e].gap == GAP_ADJACENT;
    return adjacent ? UINT32_MAX : r->elems[r->n_elems - 1].set;
}

/* ---- duplicates and shadowed rules ---- */

static void lint_duplicates(const mod_ruleset *rs, char **keys, uint8_t *reported, rule_diags *d)
{
    for (uint32_t j = 0; j < rs->n_rules; j++) {
        /* The earlier rule with the same pattern, one of the same category first. */
        int found = -1;
        for (uint32_t i = 0; i < j; i++)
            if (strcmp(keys[i], keys[j]) == 0 &&
                (found < 0 || (rs->rules[i].cat == rs->rules[j].cat &&
                               rs->rules[found].cat != rs->rules[j].cat)))
                found = (int)i;
        if (found >= 0) {
            const rule_def *a = &rs->rules[found], *b = &rs->rules[j];
            int col = lint_field_col(b->source, 2);
            if (a->cat == b->cat)
                lint_add(d, b->file, b->line, col,
                         "remove one of them, or merge them into one rule",
                         "rule %s duplicates %s (%s:%d): the same pattern, and one match in a "
                         "category counts once", b->name, a->name, a->file, a->line);
            else
                lint_add(d, b->file, b->line, col,
                         "if a comment should count in one category only, remove one",
                         "rule %s has the same pattern as %s (%s:%d): the same words count in "
                         "both %s and %s", b->name, a->name, a->file, a->line,
                         category_name(b->cat), category_name(a->cat));
            reported[j] = 1;
        }
    }
}

static void lint_shadowed(const mod_ruleset *rs, char **keys, uint8_t *reported, rule_diags *d)
{
    for (uint32_t ai = 0; ai < rs->n_rules; ai++) {
        if (reported[ai])
            continue;
        const rule_def *a = &rs->rules[ai];
        uint32_t aset = lint_reported_set(a);
        if (aset == UINT32_MAX)
            continue;
        int best = -1;
        for (uint32_t bi = 0; bi < rs->n_rules; bi++) {
            const rule_def *b = &rs->rules[bi];
            /* b shadows only if it fires wherever its word is: no guard, no "^" */
            if (bi == ai || b->cat != a->cat || b->n_elems != 1 || b->n_unless != 0 ||
                b->opens_sentence ||
                b->weight < a->weight || strcmp(keys[ai], keys[bi]) == 0)
                continue;
            if (!lint_set_covered(rs, b->elems[0].set, aset))
                continue;
            /* Two rules that cover each other at equal weight: report only the later one. */
            if (b->weight == a->weight && a->n_elems == 1 && bi > ai &&
                lint_set_covered(rs, aset, b->elems[0].set))
                continue;
            if (best < 0 || b->weight > rs->rules[best].weight)
                best = (int)bi;
        }
        if (best < 0)
            continue;
        const rule_def *b = &rs->rules[best];
        lint_str what = {0};
        lint_set_text(rs, aset, &what);
        if (b->weight > a->weight)
            lint_add(d, a->file, a->line, lint_field_col(a->source, 2),
                     "give it more weight than the other rule, or remove it",
                     "rule %s never counts: wherever it fires (%s), %s (%s:%d, weight %g) fires "
                     "on the same words and outweighs it", a->name, what.p ? what.p : "",
                     b->name, b->file, b->line, b->weight);
        else
            lint_add(d, a->file, a->line, lint_field_col(a->source, 2),
                     "remove it, or change its weight so it means something",
                     "rule %s adds nothing: wherever it fires (%s), %s (%s:%d) fires on the same "
                     "words with the same weight, and one match in a category counts once",
                     a->name, what.p ? what.p : "", b->name, b->file, b->line);
        free(what.p);
        reported[ai] = 1;
    }
}

/* ---- rules that can never match ---- */

/* Appends one element of a sample comment: term k of the element's set. */
static int lint_elem_text(const mod_ruleset *rs, uint32_t set, uint32_t k, lint_str *out)
{
    if (set == rs->mention_set) {
        ls_cat(out, "@sam");
        return 1;
    }
    const lex_set *s = &rs->sets[set];
    if (k >= s->terms.n)
        return 0;
    lint_term_text(rs, s->terms.v[k], out);
    return 1;
}

typedef struct {
    int fired;
    const rule_def *outweighed_by; /* another rule of the category that fired instead */
} lint_try;

/* Scores text and looks for rule ri among the matches. */
static void lint_try_once(const mod_ruleset *rs, uint32_t ri, const char *text, lint_try *out)
{
    const rule_def *r = &rs->rules[ri];
    mod_input in = {.text = text, .len = strlen(text)};
    mod_result res;
    mod_error err;
    if (engine_check(rs, &in, &res, &err) != 0)
        return;
    for (size_t m = 0; m < res.n_matches; m++) {
        if (res.matches[m].rule == r->name) {
            out->fired = 1;
        } else if (res.matches[m].category == r->cat && res.matches[m].weight >= r->weight &&
                   !out->outweighed_by) {
            for (uint32_t k = 0; k < rs->n_rules; k++)
                if (rs->rules[k].name == res.matches[m].rule)
                    out->outweighed_by = &rs->rules[k];
        }
    }
    engine_result_free(&res);
}

/* A sample is a whole comment, so it opens a sentence, where a "^" rule may outweigh r. r then
 * gets the same words inside a sentence, where no "^" rule fires. */
static void lint_try_text(const mod_ruleset *rs, uint32_t ri, const char *text, lint_try *out)
{
    lint_try_once(rs, ri, text, out);
    if (out->fired || !out->outweighed_by || !out->outweighed_by->opens_sentence ||
        rs->rules[ri].opens_sentence)
        return;
    lint_str inside = {0};
    ls_printf(&inside, "then %s", text);
    memset(out, 0, sizeof *out);
    lint_try_once(rs, ri, inside.p, out);
    free(inside.p);
}

/* The sample comment made of term choice[e] of each element. 0 if an element has no such term. */
static int lint_sample(const mod_ruleset *rs, const rule_def *r, const uint32_t *choice,
                       lint_str *out)
{
    out->len = 0;
    ls_cat(out, "");
    for (uint32_t e = 0; e < r->n_elems; e++) {
        if (e)
            ls_cat(out, " ");
        if (!lint_elem_text(rs, r->elems[e].set, choice[e], out))
            return 0;
    }
    return 1;
}

/* Is some word of text allowed (a whole allowed phrase, or an allowed single word)? Names it. */
static int lint_allowed_in(const mod_ruleset *rs, const char *text, lint_str *which)
{
    token_list tl = {0};
    if (normalize_text(text, strlen(text), &tl) < 0) {
        token_list_free(&tl);
        return 0;
    }
    int hit = 0;
    for (size_t i = 0; i < tl.count && !hit; i++) {
        const char *w = token_text(&tl, &tl.toks[i]);
        if (strmap_get(&rs->allow_words, w, strlen(w))) {
            ls_cat(which, w);
            hit = 1;
        }
    }
    const lex_set *allow = &rs->sets[rs->allow_set];
    for (uint32_t t = 0; t < allow->terms.n && !hit; t++) {
        const lex_term *term = &rs->terms[allow->terms.v[t]];
        for (size_t i = 0; i + term->words.n <= tl.count && !hit; i++) {
            uint32_t k = 0;
            while (k < term->words.n &&
                   strcmp(token_text(&tl, &tl.toks[i + k]), rs->words[term->words.v[k]].text) == 0)
                k++;
            if (k == term->words.n) {
                lint_term_text(rs, allow->terms.v[t], which);
                hit = 1;
            }
        }
    }
    token_list_free(&tl);
    return hit;
}

/* Does some unless-set of r hold one of the rule's own terms? Names the set. */
static const char *lint_self_veto(const mod_ruleset *rs, const rule_def *r)
{
    for (uint32_t u = 0; u < r->n_unless; u++)
        for (uint32_t e = 0; e < r->n_elems; e++) {
            const lex_set *s = &rs->sets[r->elems[e].set];
            for (uint32_t t = 0; t < s->terms.n; t++)
                if (lint_term_covered(rs, r->unless[u].set, s->terms.v[t]))
                    return rs->sets[r->unless[u].set].name;
        }
    return NULL;
}

/* Three or more one-letter words in a row: the matcher reads them together as one word. */
static int lint_letter_run(const char *text)
{
    int run = 0, best = 0;
    for (const char *p = text; *p;) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        run = n == 1 ? run + 1 : 0;
        if (run > best)
            best = run;
        p += n + (e ? 1 : 0);
    }
    return best >= 3;
}

static void lint_never_match(const mod_ruleset *rs, uint8_t *reported, rule_diags *d)
{
    lint_str sample = {0}, first = {0};
    for (uint32_t ri = 0; ri < rs->n_rules; ri++) {
        const rule_def *r = &rs->rules[ri];
        int col = lint_field_col(r->source, 2);
        uint32_t choice[RULE_MAX_ELEMS] = {0}; /* the loader refuses longer patterns */
        const char *empty = NULL;
        for (uint32_t e = 0; e < r->n_elems; e++) {
            uint32_t s = r->elems[e].set;
            if (s != rs->mention_set && rs->sets[s].terms.n == 0)
                empty = rs->sets[s].name;
        }
        if (empty) {
            lint_add(d, r->file, r->line, col, "add terms to the set, or remove the rule",
                     "rule %s can never match: set %s has no terms", r->name, empty);
            reported[ri] = 1;
            continue;
        }
        lint_try first_try = {0}, any = {0};
        lint_sample(rs, r, choice, &first);
        lint_try_text(rs, ri, first.p, &first_try);
        int fired = first_try.fired;
        for (uint32_t e = 0; e < r->n_elems && !fired; e++) {
            uint32_t s = r->elems[e].set;
            uint32_t n = s == rs->mention_set ? 1 : rs->sets[s].terms.n;
            for (uint32_t k = 1; k < n && k < LINT_TERMS_PER_ELEM && !fired; k++) {
                choice[e] = k;
                if (lint_sample(rs, r, choice, &sample)) {
                    memset(&any, 0, sizeof any);
                    lint_try_text(rs, ri, sample.p, &any);
                    fired = any.fired;
                }
            }
            choice[e] = 0;
        }
        if (fired)
            continue;

        lint_str allowed = {0};
        const char *veto = lint_self_veto(rs, r);
        if (veto) {
            lint_add(d, r->file, r->line, col,
                     "take its own words out of that set, or drop the guard",
                     "rule %s can never match: its guard 'unless %s' holds the rule's own words, "
                     "so it always vetoes itself", r->name, veto);
        } else if (lint_allowed_in(rs, first.p, &allowed)) {
            lint_add(d, r->file, r->line, col,
                     "remove the entry from allow.list, or the rule",
                     "rule %s can never match: allow.list holds \"%s\", which masks its words "
                     "(\"%s\")", r->name, allowed.p, first.p);
        } else if (first_try.outweighed_by && !reported[ri]) {
            const rule_def *b = first_try.outweighed_by;
            lint_add(d, r->file, r->line, col,
                     lint_letter_run(first.p)
                         ? "single letters in a row are read together as one word (f u c k -> "
                           "fuck), which the other rule already covers"
                         : "give it more weight than the other rule, or remove it",
                     "rule %s never counts on its own words (\"%s\"): %s (%s:%d, weight %g) fires "
                     "on them too and outweighs it", r->name, first.p, b->name, b->file, b->line,
                     b->weight);
        } else if (!reported[ri]) {
            const char *hint =
                lint_letter_run(first.p)
                    ? "single letters in a row are read together as one word (f u c k -> fuck); "
                      "write the word itself"
                    : "see how its words read with: moderatorctl check (the text on stdin)";
            lint_add(d, r->file, r->line, col, hint,
                     "rule %s can never match: a comment made of its own words (\"%s\") does "
                     "not fire it after normalization", r->name, first.p);
        }
        free(allowed.p);
        reported[ri] = 1;
    }
    free(sample.p);
    free(first.p);
}

/* ---- allow list ---- */

/* Does word i of an allowed entry read as a word some rule fires on? bare is the rule set built
 * without the allow list (the list itself keeps wildcards and near misses off allowed words). */
static int lint_masks(const mod_ruleset *bare, const token_list *tl, size_t i)
{
    const norm_token *t = &tl->toks[i];
    word_reading rd;
    if (analyze_word(bare, token_text(tl, t), t->len, t->hash, t->flags, &rd) == 0)
        for (uint32_t h = 0; h < rd.n_hits; h++)
            if (bare->words[rd.hits[h].word].element)
                return 1;
    return 0;
}

static void lint_allow(const mod_ruleset *rs, rule_diags *d)
{
    const rule_file *f = lint_file(rs, "allow.list");
    if (!f)
        return;
    /* The same files without allow.list: what would fire if the list were not there. */
    rule_file *files = calloc(rs->n_files + 1, sizeof *files);
    size_t n = 0;
    for (size_t i = 0; files && i < rs->n_files; i++)
        if (&rs->files[i] != f)
            files[n++] = rs->files[i];
    mod_ruleset *bare = NULL;
    rule_diags ignored = {0};
    mod_error err;
    int built = files && ruleset_build(files, n, &bare, &ignored, &err) == 0;
    diags_free(&ignored);
    free(files);
    if (!built)
        return;
    strmap seen = {0};
    char line[MAX_LINE];
    for (int ln = 1; lint_line(f, ln, line, sizeof line); ln++) {
        rules_strip_comment(line);
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            continue;
        int col = (int)(p - line) + 1;
        token_list tl = {0};
        if (normalize_text(p, strlen(p), &tl) < 0 || tl.count == 0) {
            token_list_free(&tl);
            continue;
        }
        lint_str norm = {0};
        for (size_t i = 0; i < tl.count; i++) {
            if (i)
                ls_cat(&norm, " ");
            ls_cat(&norm, token_text(&tl, &tl.toks[i]));
        }
        int added = 0;
        uint32_t *first = strmap_put(&seen, norm.p, norm.len, (uint32_t)ln, &added);
        if (first && !added) {
            lint_add(d, f->name, ln, col, "remove the repeated line",
                     "\"%s\" is already allowed at line %u", p, *first);
        } else {
            int masks = 0;
            for (size_t i = 0; i < tl.count && !masks; i++)
                masks = lint_masks(bare, &tl, i);
            if (!masks)
                lint_add(d, f->name, ln, col,
                         "remove it: it is left over from a rule that is gone, or misspelled",
                         "allowed \"%s\" masks nothing: no rule word, inflection, spelling "
                         "variant or wildcard reads any of its words", p);
        }
        free(norm.p);
        token_list_free(&tl);
    }
    strmap_free(&seen);
    ruleset_unref(bare);
}

/* ---- characters ---- */

/* Reports invalid UTF-8, invisible characters (removed by normalization, so the word is not what
 * it looks like) and symbols inside words (they split the word). One report per line. */
static void lint_chars(const rule_file *f, rule_diags *d)
{
    size_t len = strlen(f->name);
    int rules = len > 6 && strcmp(f->name + len - 6, ".rules") == 0;
    if (!rules && strcmp(f->name, "allow.list") != 0)
        return;
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)f->content;
    size_t i = 0;
    int ln = 1;
    while (i < f->len) {
        size_t start = i, end = i;
        while (end < f->len && s[end] != '\n')
            end++;
        int quote = 0, reported = 0;
        for (size_t k = start; k < end && !reported;) {
            utf8proc_int32_t cp;
            utf8proc_ssize_t n = utf8proc_iterate(s + k, (utf8proc_ssize_t)(end - k), &cp);
            int col = (int)(k - start) + 1;
            if (n <= 0) {
                lint_add(d, f->name, ln, col, "save the file as UTF-8",
                         "invalid UTF-8 (byte 0x%02x): the word around it is read as two", s[k]);
                reported = 1;
                break;
            }
            if (cp == '"')
                quote = !quote;
            if (cp == '#' && !quote)
                break; /* a comment or an example: free text */
            utf8proc_category_t cat = utf8proc_category(cp);
            if (cat == UTF8PROC_CATEGORY_CF || cp == 0x00AD) {
                lint_add(d, f->name, ln, col, "delete it (copied from a web page or a document?)",
                         "invisible character U+%04X: normalization removes it, so the word "
                         "around it is not what it looks like", (unsigned)cp);
                reported = 1;
            } else if (cp >= 0x80 && (cat == UTF8PROC_CATEGORY_SO || cat == UTF8PROC_CATEGORY_SM ||
                                      cat == UTF8PROC_CATEGORY_SC || cat == UTF8PROC_CATEGORY_SK)) {
                int in_word = (k > start && s[k - 1] != ' ' && s[k - 1] != '\t') ||
                              (k + (size_t)n < end && s[k + n] != ' ' && s[k + n] != '\t' &&
                               s[k + n] != ',');
                if (in_word) {
                    lint_add(d, f->name, ln, col,
                             "write words of letters and digits; leetspeak is read already",
                             "U+%04X is not a letter or digit: normalization splits the word "
                             "there", (unsigned)cp);
                    reported = 1;
                }
            }
            k += (size_t)n;
        }
        i = end + 1;
        ln++;
    }
}

/* ---- sets and weights ---- */

static void lint_sets(const mod_ruleset *rs, rule_diags *d)
{
    for (uint32_t s = 0; s < rs->n_sets; s++) {
        const lex_set *set = &rs->sets[s];
        if (!lint_is_named(set) || set->used || s == rs->allow_set || s == rs->mention_set)
            continue;
        char line[MAX_LINE];
        int col = 1;
        if (lint_line(lint_file(rs, set->file), set->line, line, sizeof line)) {
            char *at = strchr(line, '@');
            if (at)
                col = (int)(at - line) + 1;
        }
        lint_add(d, set->file, set->line, col, "use it in a rule, or remove it",
                 "set %s is never used: no rule or other set names it", set->name);
    }
}

static void lint_weights(const mod_ruleset *rs, rule_diags *d)
{
    for (uint32_t r = 0; r < rs->n_rules; r++)
        if (rs->rules[r].weight == 0)
            lint_add(d, rs->rules[r].file, rs->rules[r].line,
                     lint_field_col(rs->rules[r].source, 1),
                     "give it a weight, or comment it out",
                     "rule %s has weight 0: it is reported but never counts", rs->rules[r].name);
}

/* ---- entry points ---- */

size_t ruleset_lint(const mod_ruleset *rs, rule_diags *diags)
{
    if (!rs || !diags)
        return 0;
    size_t before = diags->count;
    char **keys = calloc(rs->n_rules + 1, sizeof *keys);
    uint8_t *reported = calloc(rs->n_rules + 1, 1);
    if (!keys || !reported)
        abort();
    for (uint32_t r = 0; r < rs->n_rules; r++)
        keys[r] = lint_rule_key(rs, &rs->rules[r]);

    for (size_t f = 0; f < rs->n_files; f++)
        lint_chars(&rs->files[f], diags);
    lint_duplicates(rs, keys, reported, diags);
    lint_shadowed(rs, keys, reported, diags);
    lint_never_match(rs, reported, diags);
    lint_allow(rs, diags);
    lint_sets(rs, diags);
    lint_weights(rs, diags);

    for (uint32_t r = 0; r < rs->n_rules; r++)
        free(keys[r]);
    free(keys);
    free(reported);
    return diags->count - before;
}

/* Adds a named set to out, once; unless: it is named after "unless". */
static void info_add_set(const mod_ruleset *rs, rule_info *out, uint32_t set, int unless)
{
    const lex_set *s = &rs->sets[set];
    if (!lint_is_named(s) || out->n_sets == RULE_INFO_MAX_SETS)
        return;
    for (size_t j = 0; j < out->n_sets; j++)
        if (strcmp(out->sets[j].name, s->name) == 0)
            return;
    out->sets[out->n_sets++] =
        (rule_set_ref){.name = s->name, .file = s->file, .line = s->line, .unless = unless};
}

int ruleset_rule_info(const mod_ruleset *rs, const char *name, rule_info *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; rs && name && i < rs->n_rules; i++) {
        const rule_def *r = &rs->rules[i];
        if (strcmp(r->name, name) != 0)
            continue;
        out->name = r->name;
        out->file = r->file;
        out->line = r->line;
        out->source = r->source;
        out->weight = r->weight;
        /* Elements, then each guard's set and the set it excepts. */
        for (uint32_t e = 0; e < r->n_elems; e++)
            info_add_set(rs, out, r->elems[e].set, 0);
        for (uint32_t u = 0; u < r->n_unless; u++) {
            info_add_set(rs, out, r->unless[u].set, 1);
            if (r->unless[u].except != UINT32_MAX)
                info_add_set(rs, out, r->unless[u].except, 1);
        }
        return 0;
    }
    return -1;
}
