/* policy.h - from matches to category scores, total and verdict, by the policy's thresholds. */
#ifndef MODERATORD_POLICY_H
#define MODERATORD_POLICY_H

#include "engine.h"

void policy_decide(const policy_config *pc, mod_result *res);

#endif
