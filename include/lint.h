/* lint.h - what a rule set that loads may still get wrong (duplicate and shadowed rules, rules that
 * can never match, allow-list entries that mask nothing, unused sets, invisible characters), and
 * rule lookups for explanations. Part of the engine: no HTTP, JSON or SQL. */
#ifndef MODERATORD_LINT_H
#define MODERATORD_LINT_H

#include <stddef.h>

#include "ruleset.h"

/*
 * Appends a warning to diags for every problem found in rs, each as file:line:col with a hint.
 * Runs the engine on each rule's own words (to find rules that can never fire), so it takes a
 * few milliseconds per rule. Returns the number of warnings added.
 */
size_t ruleset_lint(const mod_ruleset *rs, rule_diags *diags);

/* Orders diagnostics by file, line and column, errors before warnings on the same spot. */
void diags_sort(rule_diags *d);
/* Gives every diagnostic that has none a hint (what to write instead). */
void diags_fill_hints(rule_diags *d);

/* A rule as an explanation shows it: where it is written, and the sets its pattern names. */
#define RULE_INFO_MAX_SETS 16
typedef struct {
    const char *name, *file; /* the set's name ("@insult") and where it is defined */
    int line;
    int unless;              /* named after "unless" (a guard), not as an element */
} rule_set_ref;

typedef struct {
    const char *name;        /* "category.name" */
    const char *file;
    int line;
    const char *source;      /* the rule line as written */
    double weight;
    rule_set_ref sets[RULE_INFO_MAX_SETS];
    size_t n_sets;
} rule_info;

/* Fills out (pointers into rs) for the rule called name. Returns 0, or -1 if there is none. */
int ruleset_rule_info(const mod_ruleset *rs, const char *name, rule_info *out);

#endif
