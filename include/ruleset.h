/* ruleset.h - loading a rules directory into an immutable, reference-counted rule set. */
#ifndef MODERATORD_RULESET_H
#define MODERATORD_RULESET_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"

typedef enum { CAT_PROFANITY = 0, CAT_PERSONAL_ATTACK, CAT_ETHNIC_SLUR, CAT__COUNT } mod_category;

const char *category_name(mod_category cat);
/* Returns -1 for an unknown name. */
int category_from_name(const char *name);

typedef enum { DIAG_ERROR, DIAG_WARNING } diag_severity;

/* One problem found while loading rules: reported as file:line:col: message (hint). */
typedef struct {
    diag_severity severity;
    char *file;    /* path relative to the rules directory */
    int line, col; /* 1-based; 0 when not tied to a line */
    char *message;
    char *hint;    /* may be NULL */
} rule_diag;

typedef struct {
    rule_diag *items;
    size_t count, cap;
} rule_diags;

void diags_free(rule_diags *d);
/* Appends one diagnostic; d may be NULL (nothing is kept). */
void diags_add(rule_diags *d, diag_severity sev, const char *file, int line, int col,
               const char *hint, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
size_t diags_errors(const rule_diags *d);
/* Formats one diagnostic as "file:line:col: error: message (hint)". Caller frees. */
char *diag_format(const rule_diag *d);
/* Writes every diagnostic of d to f, one formatted line each. */
void diags_print(const rule_diags *d, FILE *f);
/* Sets err (ERR_RULES) to the first error of d, formatted; leaves err alone when d has none. */
void diags_first_error(const rule_diags *d, mod_error *err);

/* An example carried in a rule file: "# expect block: "text"" (checked by `rules test`). */
typedef struct {
    char *file;
    int line;
    char *expected; /* "accept" | "hold" | "block" */
    char *text;
    char *rule;     /* rule the example sits under, or NULL for a file-level example */
} rule_example;

/* Per-category thresholds and author-sanction settings from policy.conf. */
typedef struct {
    double hold[CAT__COUNT], block[CAT__COUNT];
    double total_hold, total_block;
    /* Author sanctions (strikes inside a rolling window). */
    long strike_window_s;
    int probation_strikes, ban_strikes;
} policy_config;

typedef struct mod_ruleset mod_ruleset;

/*
 * Loads every rule file in dir. On success returns 0 and a rule set with one reference.
 * Every problem goes to diags (if not NULL); any error-severity diagnostic makes the load fail
 * (returns -1, *out untouched) and err names the first one.
 */
int ruleset_load(const char *dir, mod_ruleset **out, rule_diags *diags, mod_error *err);

mod_ruleset *ruleset_ref(mod_ruleset *rs);
void ruleset_unref(mod_ruleset *rs);

/* Reads a whole file, NUL-terminated (*len excludes the NUL). NULL when it cannot be read. */
char *rule_file_read(const char *path, size_t *len);

/* Content hash of the rule files (hex, 16 chars): the version every verdict records. */
const char *ruleset_version(const mod_ruleset *rs);
/* 1 when v has the form of a version (16 lower-case hex digits), 0 otherwise (NULL too). */
int ruleset_version_valid(const char *v);
const policy_config *ruleset_policy(const mod_ruleset *rs);
/* Number of rules per category. */
size_t ruleset_rule_count(const mod_ruleset *rs, mod_category cat);
const rule_example *ruleset_examples(const mod_ruleset *rs, size_t *count);

/* The files the set was built from, for keeping every version's text in the store. */
typedef struct {
    char *name;
    char *content;
    size_t len;
} rule_file;
const rule_file *ruleset_files(const mod_ruleset *rs, size_t *count);

/* A rule set's version: the first 8 bytes, in hex, of SHA-256 over each file's name, NUL, content
 * and NUL, in name order. The store's audit recomputes it over the kept files, so both sides use
 * this one definition. NULL when out of memory; ruleset_hash_end frees. */
typedef struct ruleset_hash ruleset_hash;
ruleset_hash *ruleset_hash_new(void);
void ruleset_hash_file(ruleset_hash *h, const char *name, size_t name_len, const void *content,
                       size_t len);
void ruleset_hash_end(ruleset_hash *h, char version[17]);

/* Reads the rule files of dir (the ones ruleset_load reads, in name order). A file that cannot be
 * read is an error in diags. Returns 0 with *files (free with rule_files_free), or -1 (ERR_RULES)
 * when dir cannot be opened. */
int ruleset_read_dir(const char *dir, rule_file **files, size_t *count, rule_diags *diags,
                     mod_error *err);
void rule_files_free(rule_file *files, size_t count);

/* Builds a rule set from files held in memory (named as in a rules directory: "x.rules",
 * "allow.list", "policy.conf"; any order; copied), e.g. a version kept in the store: the same set,
 * with the same version, that ruleset_load gives for a directory holding those files. */
int ruleset_build(const rule_file *files, size_t count, mod_ruleset **out, rule_diags *diags,
                  mod_error *err);

#endif
