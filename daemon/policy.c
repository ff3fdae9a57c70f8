/* policy.c - sums rule weights per category and applies the hold and block thresholds. */
#include "policy.h"

#include <string.h>

void policy_decide(const policy_config *pc, mod_result *res)
{
    memset(res->categories, 0, sizeof res->categories);
    for (size_t i = 0; i < res->n_matches; i++)
        res->categories[res->matches[i].category] += res->matches[i].weight;
    res->score = 0;
    mod_verdict v = VERDICT_ACCEPT;
    for (int c = 0; c < CAT__COUNT; c++) {
        double s = res->categories[c];
        res->score += s;
        if (s > 0 && s >= pc->block[c])
            v = VERDICT_BLOCK;
        else if (s > 0 && s >= pc->hold[c] && v < VERDICT_HOLD)
            v = VERDICT_HOLD;
    }
    if (res->score > 0 && res->score >= pc->total_block)
        v = VERDICT_BLOCK;
    else if (res->score > 0 && res->score >= pc->total_hold && v < VERDICT_HOLD)
        v = VERDICT_HOLD;
    res->verdict = v;
}
