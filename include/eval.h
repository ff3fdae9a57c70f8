/* eval.h - measuring the engine on labeled comments, and running table-driven cases. */
#ifndef MODERATORD_EVAL_H
#define MODERATORD_EVAL_H

#include "engine.h"

/* moderatorctl eval FILE.jsonl [--rules DIR] [--compare DIR2] [--errors fp|fn|all] [--limit N]
 * argv[0] is "eval"; rules_dir is used unless --rules follows. Returns the process exit code. */
int ctl_eval(const char *rules_dir, int argc, char **argv);

/* moderatorctl cases [--rules DIR] PATH... : every case file must pass; rules_dir is used unless
 * --rules follows. Returns the exit code. */
int ctl_cases(const char *rules_dir, int argc, char **argv);

/* moderatorctl rules test [DIR]: every "# expect" example in the rule files must pass. */
int ctl_rules_test(const char *rules_dir);

#endif
