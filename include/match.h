/* match.h - which rules fire in a tokenized comment, and where. */
#ifndef MODERATORD_MATCH_H
#define MODERATORD_MATCH_H

#include "engine.h"
#include "normalize.h"
#include "ruleset_impl.h"

/* Fills res->matches and res->n_matches (scores are policy's job). Returns 0, or -1 with err. */
int match_rules(const mod_ruleset *rs, const mod_input *in, const token_list *tl,
                mod_result *res, mod_error *err);

/* Frees this thread's scratch memory (also done automatically at thread exit). */
void match_thread_cleanup(void);

#endif
