/* rules.c - reads a rules directory and compiles it into an immutable rule set. */
#include "ruleset_impl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalize.h"

static const char *const category_names[CAT__COUNT] = {"profanity", "personal_attack",
                                                       "ethnic_slur"};

const char *category_name(mod_category cat)
{
    return (unsigned)cat < CAT__COUNT ? category_names[cat] : "unknown";
}

int category_from_name(const char *name)
{
    for (int i = 0; i < CAT__COUNT; i++)
        if (strcmp(name, category_names[i]) == 0)
            return i;
    return -1;
}

/* ---- diagnostics ---- */

void diags_add(rule_diags *d, diag_severity sev, const char *file, int line, int col,
               const char *hint, const char *fmt, ...)
{
    if (!d)
        return;
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        rule_diag *p = realloc(d->items, cap * sizeof *p);
        if (!p)
            return;
        d->items = p;
        d->cap = cap;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    d->items[d->count++] = (rule_diag){
        .severity = sev,
        .file = strdup(file ? file : ""),
        .line = line,
        .col = col,
        .message = strdup(msg),
        .hint = hint ? strdup(hint) : NULL,
    };
}

void diags_free(rule_diags *d)
{
    for (size_t i = 0; i < d->count; i++) {
        free(d->items[i].file);
        free(d->items[i].message);
        free(d->items[i].hint);
    }
    free(d->items);
    memset(d, 0, sizeof *d);
}

size_t diags_errors(const rule_diags *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->count; i++)
        n += d->items[i].severity == DIAG_ERROR;
    return n;
}

char *diag_format(const rule_diag *d)
{
    char *s = NULL;
    const char *sev = d->severity == DIAG_ERROR ? "error" : "warning";
    int n;
    if (d->line > 0)
        n = asprintf(&s, "%s:%d:%d: %s: %s%s%s%s", d->file, d->line, d->col ? d->col : 1, sev,
                     d->message, d->hint ? " (hint: " : "", d->hint ? d->hint : "",
                     d->hint ? ")" : "");
    else
        n = asprintf(&s, "%s: %s: %s%s%s%s", d->file, sev, d->message, d->hint ? " (hint: " : "",
                     d->hint ? d->hint : "", d->hint ? ")" : "");
    return n < 0 ? NULL : s;
}

void diags_print(const rule_diags *d, FILE *f)
{
    for (size_t i = 0; i < d->count; i++) {
        char *line = diag_format(&d->items[i]);
        fprintf(f, "%s\n", line ? line : "(out of memory)");
        free(line);
    }
}

void diags_first_error(const rule_diags *d, mod_error *err)
{
    for (size_t i = 0; i < d->count; i++)
        if (d->items[i].severity == DIAG_ERROR) {
            char *msg = diag_format(&d->items[i]);
            err_set(err, ERR_RULES, "%s", msg ? msg : "rule error");
            free(msg);
            return;
        }
}

/* ---- building blocks ---- */

#define GROW(arr, n, cap)                                                                  \
    do {                                                                                   \
        if ((n) == (cap)) {                                                                \
            size_t ncap_ = (cap) ? (size_t)(cap) * 2 : 16;                                 \
            void *p_ = realloc((arr), ncap_ * sizeof *(arr));                              \
            if (!p_)                                                                       \
                abort();                                                                   \
            (arr) = p_;                                                                    \
            memset((arr) + (cap), 0, (ncap_ - (size_t)(cap)) * sizeof *(arr));             \
            (cap) = ncap_;                                                                 \
        }                                                                                  \
    } while (0)

static uint32_t word_id(mod_ruleset *rs, const char *text, word_kind kind)
{
    char key[300];
    int n = snprintf(key, sizeof key, "%d:%s", (int)kind, text);
    int added;
    uint32_t *v = strmap_put(&rs->word_ids, key, (size_t)n, rs->n_words, &added);
    if (!v)
        abort();
    if (added) {
        GROW(rs->words, rs->n_words, rs->cap_words);
        rs->words[rs->n_words++] = (lex_word){.text = strdup(text), .kind = kind};
    }
    return *v;
}

static uint32_t set_new(mod_ruleset *rs, const char *name, const char *file, int line)
{
    GROW(rs->sets, rs->n_sets, rs->cap_sets);
    rs->sets[rs->n_sets] = (lex_set){.name = strdup(name), .file = file, .line = line};
    return rs->n_sets++;
}

/* Adds a term to a set. A term is stored once however many sets hold it, so matching finds
 * it once and records it under each of its sets. */
static void term_add(mod_ruleset *rs, uint32_t set, const u32vec *words)
{
    int added;
    uint32_t *id = strmap_put(&rs->term_ids, (const char *)words->v,
                              words->n * sizeof(uint32_t), rs->n_terms, &added);
    if (!id)
        abort();
    if (added) {
        GROW(rs->terms, rs->n_terms, rs->cap_terms);
        lex_term *t = &rs->terms[rs->n_terms++];
        for (uint32_t i = 0; i < words->n; i++)
            u32vec_push(&t->words, words->v[i]);
    }
    lex_term *t = &rs->terms[*id];
    for (uint32_t i = 0; i < t->sets.n; i++)
        if (t->sets.v[i] == set)
            return;
    u32vec_push(&t->sets, set);
    u32vec_push(&rs->sets[set].terms, *id);
}

/* Why a term is refused, and what to write instead. */
typedef struct {
    const char *why, *hint;
} term_error;

static int term_refused(term_error *te, const char *why, const char *hint)
{
    te->why = why;
    te->hint = hint;
    return -1;
}

/*
 * Parses one term ("idiot", "piece of shit", "fuck*", "*fuck*") into word ids.
 * Returns 0, or -1 with the reason in te.
 */
static int parse_term(mod_ruleset *rs, const char *raw, u32vec *out, term_error *te)
{
    char buf[256];
    size_t n = strlen(raw);
    if (n >= sizeof buf)
        return term_refused(te, "term is too long", "split it into shorter terms");
    if (n == 0)
        return term_refused(te, "empty term", "remove the extra comma");
    memcpy(buf, raw, n + 1);
    out->n = 0;
    char *save = NULL;
    for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        size_t wl = strlen(w);
        word_kind kind = W_EXACT;
        if (wl > 2 && w[0] == '*' && w[wl - 1] == '*') {
            kind = W_INFIX;
            w[wl - 1] = '\0';
            w++;
        } else if (wl > 1 && w[wl - 1] == '*') {
            kind = W_PREFIX;
            w[wl - 1] = '\0';
        } else if (w[0] == '=' && wl > 1 && !strchr(w, '*')) {
            kind = W_ONLY; /* exactly this form: no inflections ("=piss off") */
            w++;
        } else if (strchr(w, '*')) {
            return term_refused(te, "'*' may only end a word (word*) or surround it (*word*)",
                                "write word* (words that start with it) or *word* (words "
                                "holding it)");
        }
        char *norm = normalize_term(w);
        if (!norm || !*norm) {
            free(norm);
            return term_refused(te, "term has no letters or digits after normalization",
                                "a term needs letters or digits; remove it");
        }
        if ((kind == W_PREFIX || kind == W_INFIX) && strchr(norm, ' ')) {
            free(norm);
            return term_refused(te, "a wildcard word must be a single word",
                                "put the * on one word: son* of a bitch");
        }
        if ((kind == W_PREFIX || kind == W_INFIX) && strlen(norm) < 3) {
            free(norm);
            return term_refused(te, "a wildcard needs at least 3 letters before it",
                                "a shorter stem matches too many ordinary words");
        }
        char *save2 = NULL;
        for (char *p = strtok_r(norm, " ", &save2); p; p = strtok_r(NULL, " ", &save2))
            u32vec_push(out, word_id(rs, p, kind));
        free(norm);
    }
    if (!out->n)
        return term_refused(te, "empty term", "remove the extra comma");
    return 0;
}

/* ---- files ---- */

typedef struct {
    const char *file; /* relative name, owned by rs->files */
    char *text;       /* mutable copy split into lines */
    char **lines;
    int n_lines;
} src_file;

static void split_lines(src_file *sf, const char *content, size_t len, rule_diags *diags)
{
    sf->text = malloc(len + 1);
    memcpy(sf->text, content, len);
    sf->text[len] = '\0';
    int cap = 64;
    sf->lines = malloc(cap * sizeof *sf->lines);
    char *p = sf->text;
    while (*p || p == sf->text) {
        if (sf->n_lines == cap) {
            cap *= 2;
            sf->lines = realloc(sf->lines, cap * sizeof *sf->lines);
        }
        sf->lines[sf->n_lines++] = p;
        char *nl = strchr(p, '\n');
        if (nl) {
            *nl = '\0';
            if (nl > p && nl[-1] == '\r')
                nl[-1] = '\0';
        }
        if (strlen(p) >= MAX_LINE) { /* the last line too, with or without its newline */
            diags_add(diags, DIAG_ERROR, sf->file, sf->n_lines, MAX_LINE, "split it over more lines",
                      "line is longer than %d bytes", MAX_LINE - 1);
            *p = '\0'; /* readers see nothing of it rather than a cut-short part */
        }
        if (!nl)
            break;
        p = nl + 1;
        if (!*p)
            break;
    }
}

void rules_strip_comment(char *line)
{
    int q = 0;
    for (char *p = line; *p; p++) {
        if (*p == '"')
            q = !q;
        else if (*p == '#' && !q) {
            *p = '\0';
            break;
        }
    }
    size_t n = strlen(line);
    while (n && isspace((unsigned char)line[n - 1]))
        line[--n] = '\0';
}

static char *skip_space(char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* "# expect block: "text"" -> an example. Returns 1 when the line is an example. */
static int parse_example(mod_ruleset *rs, rule_diags *diags, const char *file, int line,
                         const char *raw)
{
    const char *p = raw;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '#')
        return 0;
    p++;
    while (*p == ' ')
        p++;
    if (strncmp(p, "expect ", 7) != 0)
        return 0;
    p += 7;
    const char *colon = strchr(p, ':');
    const char *q1 = colon ? strchr(colon, '"') : NULL;
    const char *q2 = q1 ? strrchr(q1 + 1, '"') : NULL;
    char verdict[16] = "";
    if (colon && (size_t)(colon - p) < sizeof verdict) {
        memcpy(verdict, p, (size_t)(colon - p));
        verdict[colon - p] = '\0';
    }
    if (!q1 || !q2 || (strcmp(verdict, "accept") && strcmp(verdict, "hold") &&
                       strcmp(verdict, "block"))) {
        diags_add(diags, DIAG_ERROR, file, line, (int)(p - raw) + 1,
                 "write: # expect block: \"the comment\"",
                 "malformed example: expected accept, hold or block, a colon and a quoted text");
        return 1;
    }
    GROW(rs->examples, rs->n_examples, rs->cap_examples);
    rule_example *ex = &rs->examples[rs->n_examples++];
    ex->file = strdup(file);
    ex->line = line;
    ex->expected = strdup(verdict);
    ex->text = strndup(q1 + 1, (size_t)(q2 - q1 - 1));
    ex->rule = NULL;
    return 1;
}

/* First pass over a file: set definitions "@name = a, b" / "@name += c", with continuation. */
static void parse_sets(mod_ruleset *rs, src_file *sf, rule_diags *diags)
{
    int open_set = -1;
    for (int i = 0; i < sf->n_lines; i++) {
        char line[MAX_LINE];
        snprintf(line, sizeof line, "%s", sf->lines[i]);
        int continuation = (line[0] == ' ' || line[0] == '\t');
        rules_strip_comment(line);
        char *p = skip_space(line);
        if (!*p)
            continue;
        char *terms;
        if (*p == '@') {
            char *eq = strchr(p, '=');
            if (!eq) {
                diags_add(diags, DIAG_ERROR, sf->file, i + 1, (int)(p - line) + 1,
                         "write: @name = term, term", "set definition without '='");
                open_set = -1;
                continue;
            }
            int extend = eq > p && eq[-1] == '+';
            char *name_end = extend ? eq - 1 : eq;
            while (name_end > p && isspace((unsigned char)name_end[-1]))
                name_end--;
            char name[128];
            size_t nl = (size_t)(name_end - p);
            if (nl < 2 || nl >= sizeof name) {
                diags_add(diags, DIAG_ERROR, sf->file, i + 1, (int)(p - line) + 1,
                         "set names start with @ and use letters, digits, '_' and '-'",
                         "bad set name");
                open_set = -1;
                continue;
            }
            memcpy(name, p, nl);
            name[nl] = '\0';
            for (size_t k = 1; k < nl; k++)
                if (!isalnum((unsigned char)name[k]) && name[k] != '_' && name[k] != '-') {
                    diags_add(diags, DIAG_ERROR, sf->file, i + 1, (int)(p - line) + (int)k + 1,
                             "set names use letters, digits, '_' and '-'",
                             "bad character in set name %s", name);
                    goto next;
                }
            uint32_t *existing = strmap_get(&rs->set_ids, name, nl);
            if (existing && !extend)
                diags_add(diags, DIAG_ERROR, sf->file, i + 1, (int)(p - line) + 1,
                         "use '+=' to add terms to a set defined elsewhere",
                         "set %s is already defined at %s:%d", name,
                         rs->sets[*existing].file, rs->sets[*existing].line);
            if (!existing && extend)
                diags_add(diags, DIAG_WARNING, sf->file, i + 1, (int)(p - line) + 1, NULL,
                         "'+=' on set %s that is not defined yet; it is created here", name);
            if (!existing) {
                uint32_t id = set_new(rs, name, sf->file, i + 1);
                strmap_put(&rs->set_ids, name, nl, id, NULL);
                open_set = (int)id;
            } else {
                open_set = (int)*existing;
            }
            terms = eq + 1;
        } else if (continuation && open_set >= 0) {
            terms = p;
        } else {
            open_set = -1;
            continue;
        }
        {
            char *save = NULL;
            for (char *t = strtok_r(terms, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                t = skip_space(t);
                size_t tl = strlen(t);
                while (tl && isspace((unsigned char)t[tl - 1]))
                    t[--tl] = '\0';
                if (!tl)
                    continue;
                if (t[0] == '@') {
                    /* A set named inside a set brings in all of its terms. */
                    uint32_t *inner = strmap_get(&rs->set_ids, t, tl);
                    if (!inner)
                        diags_add(diags, DIAG_ERROR, sf->file, i + 1, (int)(t - line) + 1,
                                 "a set used inside another must be defined above it",
                                 "unknown set %s", t);
                    else if ((int)*inner == open_set)
                        diags_add(diags, DIAG_ERROR, sf->file, i + 1, (int)(t - line) + 1,
                                 "a set cannot include itself; remove it from its own definition",
                                 "set %s includes itself", t);
                    else {
                        rs->sets[*inner].used = 1;
                        lex_set *src = &rs->sets[*inner];
                        for (uint32_t k = 0; k < src->terms.n; k++) {
                            u32vec copy = {0};
                            const lex_term *lt = &rs->terms[src->terms.v[k]];
                            for (uint32_t q = 0; q < lt->words.n; q++)
                                u32vec_push(&copy, lt->words.v[q]);
                            term_add(rs, (uint32_t)open_set, &copy);
                            u32vec_free(&copy);
                        }
                    }
                    continue;
                }
                u32vec words = {0};
                term_error te;
                if (parse_term(rs, t, &words, &te) < 0)
                    diags_add(diags, DIAG_ERROR, sf->file, i + 1, (int)(t - line) + 1, te.hint,
                             "%s: \"%s\"", te.why, t);
                else
                    term_add(rs, (uint32_t)open_set, &words);
                u32vec_free(&words);
            }
        }
    next:;
    }
}

static int parse_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < 0 || v > 1000)
        return -1;
    *out = v;
    return 0;
}

/* Appends a literal phrase (words) as an anonymous set; returns its id. */
static uint32_t literal_set(mod_ruleset *rs, const char *phrase, const char *file, int line,
                            term_error *te)
{
    u32vec words = {0};
    if (parse_term(rs, phrase, &words, te) < 0) {
        u32vec_free(&words);
        return UINT32_MAX;
    }
    uint32_t id = set_new(rs, "", file, line);
    term_add(rs, id, &words);
    u32vec_free(&words);
    return id;
}

/* A rule's pattern as it is read: its elements so far, the distance written since the last one,
 * and the literal words not yet made an element. */
typedef struct {
    rule_elem elems[RULE_MAX_ELEMS];
    uint32_t n;
    gap_kind gap;   /* GAP_NONE: no distance written since the last element */
    uint32_t gap_n;
    char phrase[MAX_LINE];
    int phrase_col;
} pattern;

/* Appends an element, related to the previous one by the distance written before it (adjacent
 * when none was). Returns -1 (reported) when the pattern is full. */
static int push_elem(rule_diags *diags, const char *file, int line, int col, pattern *p,
                     uint32_t set)
{
    if (p->n == RULE_MAX_ELEMS) {
        diags_add(diags, DIAG_ERROR, file, line, col, "split the rule in two",
                  "a pattern has at most %d elements", RULE_MAX_ELEMS);
        return -1;
    }
    gap_kind gap = p->n == 0 ? GAP_NONE : p->gap ? p->gap : GAP_ADJACENT;
    p->elems[p->n++] = (rule_elem){.set = set, .gap = gap, .n = p->gap_n};
    p->gap = GAP_NONE;
    p->gap_n = 0;
    return 0;
}

/* Makes the literal words read so far an element. Returns -1 (reported) when they are no term. */
static int flush_phrase(mod_ruleset *rs, rule_diags *diags, const char *file, int line,
                        pattern *p)
{
    if (!p->phrase[0])
        return 0;
    term_error te;
    uint32_t set = literal_set(rs, p->phrase, file, line, &te);
    int rc = 0;
    if (set == UINT32_MAX) {
        diags_add(diags, DIAG_ERROR, file, line, p->phrase_col, te.hint, "%s: \"%s\"", te.why,
                  p->phrase);
        rc = -1;
    } else {
        rc = push_elem(diags, file, line, p->phrase_col, p, set);
    }
    p->phrase[0] = '\0';
    return rc;
}

/* Where the reader is in "PATTERN [unless @SET [~N] [except @SET]]...". */
typedef enum {
    IN_PATTERN,    /* elements and distances */
    IN_UNLESS,     /* after "unless": its @set comes next */
    IN_GUARD,      /* after "unless @set": ~N, except or another unless may follow */
    IN_GUARD_N,    /* after "unless @set ~N": except or another unless may follow */
    IN_EXCEPT,     /* after "except": its @set comes next */
    IN_EXCEPT_SET, /* after "except @set": another unless may follow */
} rule_part;

/* Reports "unless" or "except" left without its @set. Returns whether one was. */
static int set_missing(rule_diags *diags, const char *file, int line, int col, rule_part part)
{
    if (part == IN_UNLESS)
        diags_add(diags, DIAG_ERROR, file, line, col, "write: unless @set ~N",
                  "'unless' needs a @set after it");
    else if (part == IN_EXCEPT)
        diags_add(diags, DIAG_ERROR, file, line, col,
                  "write: unless @reporting ~8 except @own_speech",
                  "'except' needs a @set after it");
    return part == IN_UNLESS || part == IN_EXCEPT;
}

/* Second pass: rules "NAME WEIGHT PATTERN [unless @SET [~N] [except @SET]]". */
static void parse_rules(mod_ruleset *rs, src_file *sf, int cat, rule_diags *diags)
{
    size_t first_example = rs->n_examples;
    for (int i = 0; i < sf->n_lines; i++) {
        if (parse_example(rs, diags, sf->file, i + 1, sf->lines[i]))
            continue;
        char line[MAX_LINE];
        snprintf(line, sizeof line, "%s", sf->lines[i]);
        if (line[0] == ' ' || line[0] == '\t')
            continue; /* set continuation, handled in the first pass */
        rules_strip_comment(line);
        char *p = skip_space(line);
        if (!*p || *p == '@')
            continue;
        if (cat < 0) {
            diags_add(diags, DIAG_ERROR, sf->file, i + 1, 1,
                     "rules go in profanity.rules, personal_attack.rules or ethnic_slur.rules",
                     "only set definitions (@name = ...) belong in this file");
            continue;
        }
        /* Split into whitespace-separated fields, remembering columns. */
        /* every field but the last ends in a separator: a line holds at most MAX_LINE / 2 */
        char *fields[MAX_LINE / 2];
        int cols[MAX_LINE / 2], nf = 0;
        for (char *q = p; *q;) {
            q = skip_space(q);
            if (!*q)
                break;
            cols[nf] = (int)(q - line) + 1;
            fields[nf++] = q;
            while (*q && *q != ' ' && *q != '\t')
                q++;
            if (*q)
                *q++ = '\0';
        }
        if (nf < 3) {
            diags_add(diags, DIAG_ERROR, sf->file, i + 1, cols[nf ? nf - 1 : 0],
                     "write: NAME WEIGHT PATTERN, e.g. idiot 3 idiot",
                     "a rule needs a name, a weight and a pattern");
            continue;
        }
        const char *name = fields[0];
        int bad = 0;
        for (const char *c = name; *c; c++)
            if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
                bad = 1;
        if (bad) {
            diags_add(diags, DIAG_ERROR, sf->file, i + 1, cols[0],
                     "rule names use letters, digits, '_' and '-'", "bad rule name \"%s\"",
                     name);
            continue;
        }
        double weight;
        if (parse_number(fields[1], &weight) < 0) {
            diags_add(diags, DIAG_ERROR, sf->file, i + 1, cols[1],
                     "the weight is a number from 0 to 1000", "bad weight \"%s\"", fields[1]);
            continue;
        }
        rule_def r = {.cat = (mod_category)cat, .weight = weight, .file = sf->file, .line = i + 1};
        if (asprintf(&r.name, "%s.%s", category_name((mod_category)cat), name) < 0)
            abort();
        r.source = strdup(sf->lines[i]);
        int ok = 1;
        pattern pat = {.n = 0};
        rule_part part = IN_PATTERN;
        rule_unless unl[RULE_MAX_GUARDS];
        uint32_t nu = 0;
        for (int f = 2; f < nf && ok; f++) {
            char *tok = fields[f];
            if (strchr(tok, ',')) {
                diags_add(diags, DIAG_ERROR, sf->file, i + 1, cols[f] + (int)(strchr(tok, ',') - tok),
                         "to match any of several words, define a set (@name = a, b) and use it",
                         "a rule pattern is a sequence of words; ',' does not list alternatives");
                ok = 0;
                break;
            }
            if (tok[0] == '^' && tok[1]) { /* normalizing would drop the '^' without a word */
                diags_add(diags, DIAG_ERROR, sf->file, i + 1, cols[f],
                         "write ^ apart, before the pattern: NAME WEIGHT ^ kill her",
                         "'^' must stand alone");
                ok = 0;
                break;
            }
            if (strcmp(tok, "^") == 0) {
                if (f != 2) {
                    diags_add(diags, DIAG_ERROR, sf->file, i + 1, cols[f],
                             "write ^ first: NAME WEIGHT ^ PATTERN",
                             "'^' (the start of a sentence) can only begin a pattern");
                    ok = 0;
                    break;
                }
                r.opens_sentence = 1;
                continue;
            }
            if (strcmp(tok, "except") == 0) {
                if (part != IN_GUARD && part != IN_GUARD_N) {
                    diags_add(diags, DIAG_ERROR, sf->file, i + 1, cols[f],
                             "write: unless @set ~N except @set", "'except' must follow a guard");
                    ok = 0;
                    break;
                }
                part = IN_EXCEPT;
                continue;
            }
            if (strcmp(tok, "unless") == 0) {
                if (flush_phrase(rs, diags, sf->file, i + 1, &pat) < 0)
                    ok = 0;
                if (set_missing(diags, sf->file, i + 1, cols[f], part))
                    ok = 0;
                part = IN_UNLESS;
                continue;
            }
            if ((tok[0] == '~' || (tok[0] == '.' && tok[1] == '.')) ) {
                const char *num = tok + (tok[0] == '~' ? 1 : 2);
                char *end;
                long n = strtol(num, &end, 10);
                if (!*num || *end || n < 0 || n > 50) {
                    diags_add(diags, DIAG_ERROR, sf->file, i + 1, cols[f],
                             "write ~N or ..N with N from 0 to 50", "bad distance \"%s\"", tok);
                    ok = 0;
                    break;
                }
                if (part == IN_EXCEPT || part == IN_EXCEPT_SET) {
                    diags_add(diags, DIAG_ERROR, sf->file, i + 1, cols[f],
                             "write: unless @reporting ~8 except @own_speech",
                             "write: unless @set ~N except @set");
                    ok = 0;
                    break;
                }
                if (part == IN_GUARD) {
                    unl[nu - 1].n = (int)n;
                    unl[nu - 1].before = tok[0] == '.';
                    part = IN_GUARD_N;
                    continue;
                }
                if (flush_phrase(rs, diags, sf->file, i + 1, &pat) < 0)
                    ok = 0;
                if (!pat.n || part != IN_PATTERN) {
                    diags_add(diags, DIAG_ERROR, sf->file, i + 1, cols[f],
                             "write a distance between two elements: @you ~3 @insult",
                             "a distance must stand between two elements");
                    ok = 0;
                    break;
                }
                pat.gap = tok[0] == '~' ? GAP_WINDOW : GAP_ORDERED;
                pat.gap_n = (uint32_t)n;
                continue;
            }
            if (tok[0] == '@') {
                uint32_t *sid = strmap_get(&rs->set_ids, tok, strlen(tok));
                if (!sid) {
                    diags_add(diags, DIAG_ERROR, sf->file, i + 1, cols[f],
                             "define it with: @name = term, term", "unknown set %s", tok);
                    ok = 0;
                    break;
                }
                rs->sets[*sid].used = 1;
                if (part == IN_EXCEPT) {
                    unl[nu - 1].except = *sid;
                    part = IN_EXCEPT_SET;
                    continue;
                }
                if (part != IN_PATTERN) {
                    if (part != IN_UNLESS) {
                        diags_add(diags, DIAG_ERROR, sf->file, i + 1, cols[f],
                                 "write: unless @set ~N", "write: unless @set ~N");
                        ok = 0;
                        break;
                    }
                    if (nu == RULE_MAX_GUARDS) {
                        diags_add(diags, DIAG_ERROR, sf->file, i + 1, cols[f],
                                 "put the terms of two guards with the same distance in one set",
                                 "a rule has at most %d guards", RULE_MAX_GUARDS);
                        ok = 0;
                        break;
                    }
                    unl[nu++] = (rule_unless){.set = *sid, .n = -1, .except = UINT32_MAX};
                    part = IN_GUARD;
                    continue;
                }
                if (flush_phrase(rs, diags, sf->file, i + 1, &pat) < 0 ||
                    push_elem(diags, sf->file, i + 1, cols[f], &pat, *sid) < 0)
                    ok = 0;
                continue;
            }
            if (part != IN_PATTERN) {
                diags_add(diags, DIAG_ERROR, sf->file, i + 1, cols[f],
                         "write: unless @set ~N", "'unless' takes a @set, not \"%s\"", tok);
                ok = 0;
                break;
            }
            if (!pat.phrase[0])
                pat.phrase_col = cols[f];
            else
                strncat(pat.phrase, " ", sizeof pat.phrase - strlen(pat.phrase) - 1);
            strncat(pat.phrase, tok, sizeof pat.phrase - strlen(pat.phrase) - 1);
        }
        if (flush_phrase(rs, diags, sf->file, i + 1, &pat) < 0)
            ok = 0;
        if (ok && set_missing(diags, sf->file, i + 1, cols[nf - 1], part))
            ok = 0;
        if (ok && pat.gap) {
            diags_add(diags, DIAG_ERROR, sf->file, i + 1, cols[nf - 1],
                     "write a distance between two elements: @you ~3 @insult",
                     "a distance must be followed by an element");
            ok = 0;
        }
        if (ok && !pat.n) {
            diags_add(diags, DIAG_ERROR, sf->file, i + 1, cols[2],
                     "write: NAME WEIGHT PATTERN, e.g. idiot 3 idiot", "empty pattern");
            ok = 0;
        }
        for (uint32_t k = 0; ok && k < rs->n_rules; k++)
            if (strcmp(rs->rules[k].name, r.name) == 0) {
                diags_add(diags, DIAG_ERROR, sf->file, i + 1, cols[0],
                         "rule names are stable identifiers: pick another",
                         "rule %s is already defined at %s:%d", r.name, rs->rules[k].file,
                         rs->rules[k].line);
                ok = 0;
            }
        if (!ok) {
            free(r.name);
            free(r.source);
            continue;
        }
        r.elems = malloc(pat.n * sizeof *r.elems);
        memcpy(r.elems, pat.elems, pat.n * sizeof *r.elems);
        r.n_elems = pat.n;
        if (nu) {
            r.unless = malloc(nu * sizeof *r.unless);
            memcpy(r.unless, unl, nu * sizeof *unl);
            r.n_unless = nu;
        }
        GROW(rs->rules, rs->n_rules, rs->cap_rules);
        rs->rules[rs->n_rules++] = r;
        rs->rule_count[cat]++;
        /* Examples just above a rule belong to it. */
        for (size_t e = first_example; e < rs->n_examples; e++)
            if (!rs->examples[e].rule)
                rs->examples[e].rule = strdup(r.name);
        first_example = rs->n_examples;
    }
}

/* Line i of a settings file (policy.conf, allow.list) without its comment: NULL when it holds
 * nothing (blank, comment, or an example, which is recorded). */
static char *setting_line(mod_ruleset *rs, rule_diags *diags, src_file *sf, int i, char *buf,
                          size_t size)
{
    if (parse_example(rs, diags, sf->file, i + 1, sf->lines[i]))
        return NULL;
    snprintf(buf, size, "%s", sf->lines[i]);
    rules_strip_comment(buf);
    char *p = skip_space(buf);
    return *p ? p : NULL;
}

static void parse_policy(mod_ruleset *rs, src_file *sf, rule_diags *diags)
{
    policy_config *pc = &rs->policy;
    for (int i = 0; i < sf->n_lines; i++) {
        char line[MAX_LINE];
        char *p = setting_line(rs, diags, sf, i, line, sizeof line);
        if (!p)
            continue;
        char key[64], a[64] = "", b[64] = "", c[64] = "";
        int n = sscanf(p, "%63s %63s %63s %63s", key, a, b, c);
        if (strcmp(key, "strikes") == 0) {
            char *args[3] = {a, b, c};
            for (int k = 0; k < n - 1; k++) {
                char *eq = strchr(args[k], '=');
                long v = eq ? strtol(eq + 1, NULL, 10) : -1;
                if (!eq || v < 0) {
                    diags_add(diags, DIAG_ERROR, sf->file, i + 1, 1,
                             "write: strikes window=30d probation=3 ban=5",
                             "bad strikes setting \"%s\"", args[k]);
                    continue;
                }
                *eq = '\0';
                char unit = eq[1 + strspn(eq + 1, "0123456789")];
                if (strcmp(args[k], "window") == 0)
                    pc->strike_window_s = v * (unit == 'h' ? 3600 : unit == 'm' ? 60 :
                                               unit == 's' ? 1 : 86400);
                else if (strcmp(args[k], "probation") == 0)
                    pc->probation_strikes = (int)v;
                else if (strcmp(args[k], "ban") == 0)
                    pc->ban_strikes = (int)v;
                else
                    diags_add(diags, DIAG_ERROR, sf->file, i + 1, 1,
                             "settings are window, probation and ban", "unknown setting \"%s\"",
                             args[k]);
            }
            continue;
        }
        double hold, block;
        if (n != 3 || parse_number(a, &hold) < 0 || parse_number(b, &block) < 0) {
            diags_add(diags, DIAG_ERROR, sf->file, i + 1, 1,
                     "write: CATEGORY HOLD BLOCK, e.g. profanity 3 10",
                     "expected a category and two scores");
            continue;
        }
        if (block < hold)
            diags_add(diags, DIAG_ERROR, sf->file, i + 1, 1,
                     "the block score must be at least the hold score",
                     "the block score (%g) is below the hold score (%g)", block, hold);
        int cat = category_from_name(key);
        if (strcmp(key, "total") == 0) {
            pc->total_hold = hold;
            pc->total_block = block;
        } else if (cat >= 0) {
            pc->hold[cat] = hold;
            pc->block[cat] = block;
        } else {
            diags_add(diags, DIAG_ERROR, sf->file, i + 1, 1,
                     "categories are profanity, personal_attack, ethnic_slur and total",
                     "unknown category \"%s\"", key);
        }
    }
}

static void parse_allow(mod_ruleset *rs, src_file *sf, rule_diags *diags)
{
    for (int i = 0; i < sf->n_lines; i++) {
        char line[MAX_LINE];
        char *p = setting_line(rs, diags, sf, i, line, sizeof line);
        if (!p)
            continue;
        char *norm = normalize_term(p);
        if (!norm || !*norm) {
            diags_add(diags, DIAG_ERROR, sf->file, i + 1, 1, "remove the line",
                     "allowed term has no letters or digits");
            free(norm);
            continue;
        }
        /* "to =fool": that word in this form only, so "to fools" stays an insult */
        int exact = strchr(p, '=') != NULL;
        if (!strchr(norm, ' ') && !exact)
            strmap_put(&rs->allow_words, norm, strlen(norm), 1, NULL);
        u32vec words = {0};
        term_error te;
        if (parse_term(rs, exact ? p : norm, &words, &te) == 0)
            term_add(rs, rs->allow_set, &words);
        else
            diags_add(diags, DIAG_ERROR, sf->file, i + 1, 1, te.hint, "%s: \"%s\"", te.why, p);
        u32vec_free(&words);
        free(norm);
    }
}

/* ---- derived indexes ---- */

static void surface_add(mod_ruleset *rs, const char *form, uint32_t wid)
{
    int added;
    uint32_t *idx = strmap_put(&rs->surface, form, strlen(form), rs->n_surface, &added);
    if (added) {
        size_t cap = rs->cap_surface;
        GROW(rs->surface_words, rs->n_surface, rs->cap_surface);
        if (rs->cap_surface != cap) {
            rs->surface_text = realloc(rs->surface_text, rs->cap_surface * sizeof(char *));
            if (!rs->surface_text)
                abort();
        }
        rs->surface_text[rs->n_surface] = strdup(form);
        rs->n_surface++;
    }
    u32vec_add_unique(&rs->surface_words[*idx], wid);
    /* Only words rules fire on are rule words for the Scunthorpe guard: an allowed phrase or an
     * "unless" word must not let a wildcard fire inside it. */
    if (rs->words[wid].element)
        strmap_put(&rs->rule_vocab, form, strlen(form), 1, NULL);
}

typedef struct {
    const char *want, *self;
    int found, other; /* a stem is the rule word; a stem is some third word */
} stem_probe;

static int stem_is(const char *stem, void *ctx)
{
    stem_probe *sp = ctx;
    if (strcmp(stem, sp->want) == 0)
        sp->found = 1;
    else if (strcmp(stem, sp->self) != 0)
        sp->other = 1;
    return sp->found;
}

/* Adds the regular inflections of an exact word that hunspell stems back to it. */
static void add_inflections(mod_ruleset *rs, uint32_t wid)
{
    const char *w = rs->words[wid].text;
    size_t n = strlen(w);
    if (n < 3 || n > 40 || strspn(w, "abcdefghijklmnopqrstuvwxyz") != n)
        return;
    static const char *const endings[] = {"s", "es", "ed", "d", "ing", "er", "ers", "y", "ies",
                                          "ied", "ier", "iest", "est"};
    char cand[64];
    int english = speller_is_english(w);
    char last = w[n - 1];
    for (size_t e = 0; e < sizeof endings / sizeof endings[0]; e++) {
        const char *end = endings[e];
        for (int variant = 0; variant < 3; variant++) {
            if (variant == 0)
                snprintf(cand, sizeof cand, "%s%s", w, end);
            else if (variant == 1 && last == 'e' && (end[0] == 'e' || end[0] == 'i'))
                snprintf(cand, sizeof cand, "%.*s%s", (int)(n - 1), w, end);
            else if (variant == 1 && last == 'y' && end[0] == 'i')
                snprintf(cand, sizeof cand, "%.*s%s", (int)(n - 1), w, end);
            else if (variant == 2 && !strchr("aeiouywx", last) && strchr("aeiou", w[n - 2]) &&
                     (end[0] == 'e' || end[0] == 'i' || end[0] == 'y'))
                snprintf(cand, sizeof cand, "%s%c%s", w, last, end);
            else
                continue;
            stem_probe sp = {.want = w, .self = cand};
            int verbal = !strcmp(end, "ed") || !strcmp(end, "ing") || !strcmp(end, "es");
            if (variant == 0 && strcmp(end, "s") == 0 && last != 's') {
                sp.found = 1; /* word + s is its plural (losers), whatever hunspell stems it to */
            } else if (speller_is_english(cand)) {
                speller_stems(cand, stem_is, &sp);
                /* A regular -ed/-ing/-es form the dictionary lists on its own (shitting) is still
                 * the rule word; one that stems to a third word (spiced, japes) is not. */
                if (!sp.found && !sp.other && verbal)
                    sp.found = 1;
            }
            else if (!english && strcmp(end, "es") == 0)
                sp.found = variant == 0; /* not English either way: a plain plural */
            if (sp.found)
                surface_add(rs, cand, wid); /* only element words get inflections */
        }
    }
}

static void near_add(mod_ruleset *rs, const char *key, size_t klen, uint32_t wid)
{
    int added;
    uint32_t *idx = strmap_put(&rs->near_index, key, klen, rs->n_near, &added);
    if (added) {
        GROW(rs->near_lists, rs->n_near, rs->cap_near);
        rs->n_near++;
    }
    u32vec_add_unique(&rs->near_lists[*idx], wid);
}

static void build_indexes(mod_ruleset *rs)
{
    /* Words that rules use as elements (not only as "unless" guards) are the vocabulary that
     * near-miss spellings and masked letters may be read as. */
    for (uint32_t r = 0; r < rs->n_rules; r++)
        for (uint32_t e = 0; e < rs->rules[r].n_elems; e++) {
            lex_set *s = &rs->sets[rs->rules[r].elems[e].set];
            for (uint32_t t = 0; t < s->terms.n; t++) {
                lex_term *term = &rs->terms[s->terms.v[t]];
                for (uint32_t k = 0; k < term->words.n; k++)
                    rs->words[term->words.v[k]].element = 1;
            }
        }
    rs->terms_by_first = calloc(rs->n_words + 1, sizeof *rs->terms_by_first);
    rs->max_term_words = 1;
    for (uint32_t t = 0; t < rs->n_terms; t++) {
        u32vec_push(&rs->terms_by_first[rs->terms[t].words.v[0]], t);
        if (rs->terms[t].words.n > rs->max_term_words)
            rs->max_term_words = rs->terms[t].words.n;
    }
    rs->rules_by_set = calloc(rs->n_sets + 1, sizeof *rs->rules_by_set);
    for (uint32_t r = 0; r < rs->n_rules; r++)
        u32vec_push(&rs->rules_by_set[rs->rules[r].elems[0].set], r);

    for (uint32_t w = 0; w < rs->n_words; w++) {
        lex_word *lw = &rs->words[w];
        size_t len = strlen(lw->text);
        if (lw->kind == W_EXACT || lw->kind == W_ONLY) {
            surface_add(rs, lw->text, w);
        } else if (lw->kind == W_PREFIX) {
            strmap_put(&rs->prefixes, lw->text, len, w, NULL);
            strmap_put(&rs->rule_vocab, lw->text, len, 1, NULL);
            if (len > rs->max_prefix)
                rs->max_prefix = (uint32_t)len;
        } else {
            u32vec_push(&rs->infixes, w);
            strmap_put(&rs->rule_vocab, lw->text, len, 1, NULL);
        }
        if (lw->element && len >= 3 && len > rs->max_join)
            rs->max_join = (uint32_t)len;
    }
    uint32_t n_exact = rs->n_words;
    for (uint32_t w = 0; w < n_exact; w++)
        if (rs->words[w].kind == W_EXACT && rs->words[w].element)
            add_inflections(rs, w);

    /* Near-miss index: each vocabulary word and its one-letter deletions. */
    const char **vocab = malloc((rs->n_words + 1) * sizeof *vocab);
    size_t n_vocab = 0;
    for (uint32_t w = 0; w < rs->n_words; w++) {
        const char *t = rs->words[w].text;
        size_t n = strlen(t);
        if (!rs->words[w].element || rs->words[w].kind == W_INFIX || n < 4 || n > 30 ||
            strspn(t, "abcdefghijklmnopqrstuvwxyz") != n)
            continue;
        vocab[n_vocab++] = t;
        near_add(rs, t, n, w);
        char del[32];
        for (size_t k = 0; k < n; k++) {
            memcpy(del, t, k);
            memcpy(del + k, t + k + 1, n - k - 1);
            near_add(rs, del, n - 1, w);
        }
        if (n > rs->max_len)
            rs->max_len = (uint32_t)n;
    }
    /* Masked words (f*ck, f*cking) are compared with every surface form of their length. */
    if (rs->max_join > rs->max_len)
        rs->max_len = rs->max_join;
    rs->by_length = calloc(rs->max_len + 1, sizeof *rs->by_length);
    for (uint32_t i = 0; i < rs->n_surface; i++) {
        size_t n = strlen(rs->surface_text[i]);
        if (n >= 3 && n <= rs->max_len && strmap_get(&rs->rule_vocab, rs->surface_text[i], n))
            u32vec_push(&rs->by_length[n], i);
    }
    /* Three-letter heads of rule words: single letters (f u c k) are read together only when
     * they start like one. */
    for (uint32_t i = 0; i < rs->n_surface; i++)
        if (strlen(rs->surface_text[i]) >= 3 &&
            strmap_get(&rs->rule_vocab, rs->surface_text[i], strlen(rs->surface_text[i])))
            strmap_put(&rs->heads, rs->surface_text[i], 3, 1, NULL);
    for (uint32_t w = 0; w < rs->n_words; w++)
        if (rs->words[w].kind == W_PREFIX || rs->words[w].kind == W_INFIX)
            strmap_put(&rs->heads, rs->words[w].text, 3, 1, NULL);
    if (rs->max_join < 3)
        rs->max_join = 3;
    if (n_vocab)
        rs->vocab = speller_vocab_new(vocab, n_vocab);
    free(vocab);
}

/* ---- loading ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *rule_file_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
        if (n + 1 == cap) {
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static atomic_uint_fast64_t generation_counter;

/* Whether a directory entry is a rule file: *.rules, allow.list, policy.conf. */
static int rule_file_wanted(const char *nm)
{
    size_t l = strlen(nm);
    if (nm[0] == '.')
        return 0;
    return (l > 6 && strcmp(nm + l - 6, ".rules") == 0) || strcmp(nm, "allow.list") == 0 ||
           strcmp(nm, "policy.conf") == 0;
}

int ruleset_read_dir(const char *dir, rule_file **out, size_t *count, rule_diags *diags,
                     mod_error *err)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) {
        diags_add(diags, DIAG_ERROR, dir, 0, 0,
                  "check the rules setting (--rules DIR) and permissions",
                  "cannot open rules directory: %s", strerror(errno));
        return err_set(err, ERR_RULES, "%s: cannot open rules directory: %s", dir,
                       strerror(errno));
    }
    char *names[256];
    size_t n_names = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n_names < 256)
        if (rule_file_wanted(de->d_name))
            names[n_names++] = strdup(de->d_name);
    closedir(d);
    qsort(names, n_names, sizeof *names, cmp_str);
    rule_file *files = calloc(n_names + 1, sizeof *files);
    size_t n = 0;
    for (size_t i = 0; i < n_names; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t len = 0;
        char *content = rule_file_read(path, &len);
        if (!content) {
            diags_add(diags, DIAG_ERROR, names[i], 0, 0, "check the file's permissions",
                      "cannot read: %s", strerror(errno));
            free(names[i]);
            continue;
        }
        files[n++] = (rule_file){.name = names[i], .content = content, .len = len};
    }
    *out = files;
    *count = n;
    return 0;
}

void rule_files_free(rule_file *files, size_t count)
{
    for (size_t i = 0; files && i < count; i++) {
        free(files[i].name);
        free(files[i].content);
    }
    free(files);
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp((*(const rule_file *const *)a)->name, (*(const rule_file *const *)b)->name);
}

/* Builds from files (copied, taken in name order); fails when diags gained errors since
 * errors_before (so read errors found by the caller count too). */
static int ruleset_build_at(const rule_file *in, size_t n_in, mod_ruleset **out,
                            rule_diags *diags, mod_error *err, size_t errors_before)
{
    rule_diags local = {0};
    if (!diags)
        diags = &local;
    const rule_file **sorted = calloc(n_in + 1, sizeof *sorted);
    for (size_t i = 0; i < n_in; i++)
        sorted[i] = &in[i];
    qsort(sorted, n_in, sizeof *sorted, cmp_file);

    mod_ruleset *rs = calloc(1, sizeof *rs);
    atomic_init(&rs->refs, 1);
    rs->generation = atomic_fetch_add(&generation_counter, 1) + 1;
    rs->files = calloc(n_in + 1, sizeof *rs->files);
    rs->allow_set = set_new(rs, "@allow", "allow.list", 0);
    rs->mention_set = set_new(rs, "@mention", "(built in)", 0);
    strmap_put(&rs->set_ids, "@mention", 8, rs->mention_set, NULL);
    rs->sets[rs->mention_set].used = 1;

    ruleset_hash *vh = ruleset_hash_new();
    if (!vh)
        abort();
    src_file *srcs = calloc(n_in + 1, sizeof *srcs);
    int have_policy = 0;
    for (size_t i = 0; i < n_in; i++) {
        if (i && strcmp(sorted[i]->name, sorted[i - 1]->name) == 0) {
            diags_add(diags, DIAG_ERROR, sorted[i]->name, 0, 0,
                      "a rule set has one file of each name", "file given twice");
            continue;
        }
        rule_file *rf = &rs->files[rs->n_files++];
        rf->name = strdup(sorted[i]->name);
        rf->len = sorted[i]->len;
        rf->content = malloc(rf->len + 1);
        if (!rf->name || !rf->content)
            abort();
        memcpy(rf->content, sorted[i]->content, rf->len);
        rf->content[rf->len] = '\0';
        ruleset_hash_file(vh, rf->name, strlen(rf->name), rf->content, rf->len);
        srcs[rs->n_files - 1].file = rf->name;
        split_lines(&srcs[rs->n_files - 1], rf->content, rf->len, diags);
        if (strcmp(rf->name, "policy.conf") == 0)
            have_policy = 1;
    }
    free(sorted);
    ruleset_hash_end(vh, rs->version);

    /* Defaults, for a policy file that leaves something out. */
    for (int c = 0; c < CAT__COUNT; c++) {
        rs->policy.hold[c] = 3;
        rs->policy.block[c] = 10;
    }
    rs->policy.total_hold = 4;
    rs->policy.total_block = 12;
    rs->policy.strike_window_s = 30L * 86400;
    rs->policy.probation_strikes = 3;
    rs->policy.ban_strikes = 5;
    if (!have_policy)
        diags_add(diags, DIAG_WARNING, "policy.conf", 0, 0, NULL,
                 "no policy.conf: default thresholds are used");

    /* Shared sets first (lexicon.rules), then each category's own, so any file may extend or
     * include a lexicon set. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < rs->n_files; i++)
            if (strstr(srcs[i].file, ".rules") &&
                (strcmp(srcs[i].file, "lexicon.rules") == 0) == (pass == 0))
                parse_sets(rs, &srcs[i], diags);
    for (size_t i = 0; i < rs->n_files; i++) {
        const char *nm = srcs[i].file;
        if (strcmp(nm, "policy.conf") == 0) {
            parse_policy(rs, &srcs[i], diags);
        } else if (strcmp(nm, "allow.list") == 0) {
            parse_allow(rs, &srcs[i], diags);
        } else {
            char base[256];
            snprintf(base, sizeof base, "%.*s", (int)(strlen(nm) - 6), nm);
            int cat = category_from_name(base);
            if (cat < 0 && strcmp(base, "lexicon") != 0)
                diags_add(diags, DIAG_WARNING, nm, 0, 0,
                         "name rule files after a category: profanity, personal_attack, ethnic_slur",
                         "file is not a category: only its sets are used");
            parse_rules(rs, &srcs[i], cat, diags);
        }
    }
    for (size_t i = 0; i < rs->n_files; i++) {
        free(srcs[i].text);
        free(srcs[i].lines);
    }
    free(srcs);

    if (diags_errors(diags) > errors_before) {
        diags_first_error(diags, err);
        ruleset_unref(rs);
        diags_free(&local);
        return -1;
    }
    if (speller_english_ready() < 0)
        diags_add(diags, DIAG_WARNING, "(hunspell)", 0, 0, "apt-get install hunspell-en-us",
                 "en_US dictionary not found: no inflections and no Scunthorpe guard");
    build_indexes(rs);
    diags_free(&local);
    *out = rs;
    return 0;
}

ruleset_hash *ruleset_hash_new(void)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md && !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(md);
        md = NULL;
    }
    return (ruleset_hash *)md;
}

void ruleset_hash_file(ruleset_hash *h, const char *name, size_t name_len, const void *content,
                       size_t len)
{
    EVP_MD_CTX *md = (EVP_MD_CTX *)h;
    EVP_DigestUpdate(md, name, name_len);
    EVP_DigestUpdate(md, "", 1);
    EVP_DigestUpdate(md, content, len);
    EVP_DigestUpdate(md, "", 1);
}

void ruleset_hash_end(ruleset_hash *h, char version[17])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    EVP_DigestFinal_ex((EVP_MD_CTX *)h, digest, NULL);
    EVP_MD_CTX_free((EVP_MD_CTX *)h);
    for (int i = 0; i < 8; i++)
        snprintf(version + 2 * i, 3, "%02x", digest[i]);
}

int ruleset_build(const rule_file *files, size_t count, mod_ruleset **out, rule_diags *diags,
                  mod_error *err)
{
    return ruleset_build_at(files, count, out, diags, err, diags ? diags_errors(diags) : 0);
}

int ruleset_load(const char *dir, mod_ruleset **out, rule_diags *diags, mod_error *err)
{
    rule_diags local = {0};
    if (!diags)
        diags = &local;
    size_t errors_before = diags_errors(diags);
    rule_file *files = NULL;
    size_t n = 0;
    int rc = ruleset_read_dir(dir, &files, &n, diags, err);
    if (rc == 0)
        rc = ruleset_build_at(files, n, out, diags, err, errors_before);
    rule_files_free(files, n);
    diags_free(&local);
    return rc;
}

mod_ruleset *ruleset_ref(mod_ruleset *rs)
{
    if (rs)
        atomic_fetch_add(&rs->refs, 1);
    return rs;
}

void ruleset_unref(mod_ruleset *rs)
{
    if (!rs || atomic_fetch_sub(&rs->refs, 1) != 1)
        return;
    for (uint32_t i = 0; i < rs->n_words; i++)
        free(rs->words[i].text);
    free(rs->words);
    for (uint32_t i = 0; i < rs->n_terms; i++) {
        u32vec_free(&rs->terms[i].words);
        u32vec_free(&rs->terms[i].sets);
    }
    free(rs->terms);
    for (uint32_t i = 0; i < rs->n_sets; i++) {
        free(rs->sets[i].name);
        u32vec_free(&rs->sets[i].terms);
    }
    for (uint32_t i = 0; i < rs->n_rules; i++) {
        free(rs->rules[i].name);
        free(rs->rules[i].elems);
        free(rs->rules[i].unless);
        free(rs->rules[i].source);
    }
    free(rs->rules);
    if (rs->terms_by_first)
        for (uint32_t i = 0; i < rs->n_words; i++)
            u32vec_free(&rs->terms_by_first[i]);
    free(rs->terms_by_first);
    if (rs->rules_by_set)
        for (uint32_t i = 0; i < rs->n_sets; i++)
            u32vec_free(&rs->rules_by_set[i]);
    free(rs->rules_by_set);
    free(rs->sets);
    for (uint32_t i = 0; i < rs->n_surface; i++) {
        u32vec_free(&rs->surface_words[i]);
        free(rs->surface_text[i]);
    }
    free(rs->surface_words);
    free(rs->surface_text);
    strmap_free(&rs->heads);
    for (uint32_t i = 0; i < rs->n_near; i++)
        u32vec_free(&rs->near_lists[i]);
    free(rs->near_lists);
    if (rs->by_length)
        for (uint32_t i = 0; i <= rs->max_len; i++)
            u32vec_free(&rs->by_length[i]);
    free(rs->by_length);
    u32vec_free(&rs->infixes);
    strmap_free(&rs->word_ids);
    strmap_free(&rs->term_ids);
    strmap_free(&rs->set_ids);
    strmap_free(&rs->surface);
    strmap_free(&rs->prefixes);
    strmap_free(&rs->rule_vocab);
    strmap_free(&rs->allow_words);
    strmap_free(&rs->near_index);
    speller_vocab_free(rs->vocab);
    rule_files_free(rs->files, rs->n_files);
    for (size_t i = 0; i < rs->n_examples; i++) {
        free(rs->examples[i].file);
        free(rs->examples[i].expected);
        free(rs->examples[i].text);
        free(rs->examples[i].rule);
    }
    free(rs->examples);
    free(rs);
}

const char *ruleset_version(const mod_ruleset *rs) { return rs->version; }

int ruleset_version_valid(const char *v)
{
    if (!v || strlen(v) != 16)
        return 0;
    for (const char *p = v; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}
const policy_config *ruleset_policy(const mod_ruleset *rs) { return &rs->policy; }

size_t ruleset_rule_count(const mod_ruleset *rs, mod_category cat)
{
    return (unsigned)cat < CAT__COUNT ? rs->rule_count[cat] : 0;
}

const rule_example *ruleset_examples(const mod_ruleset *rs, size_t *count)
{
    *count = rs->n_examples;
    return rs->examples;
}

const rule_file *ruleset_files(const mod_ruleset *rs, size_t *count)
{
    *count = rs->n_files;
    return rs->files;
}
