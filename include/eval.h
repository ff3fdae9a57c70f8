/* eval.h - measuring the engine on labeled comments, and running table-driven cases. */
#ifndef MODERATORD_EVAL_H
#define MODERATORD_EVAL_H

/* moderatorctl eval FILE.jsonl [--rules DIR] [--compare DIR2] [--errors fp|fn|all] [--limit N]
 * argv[0] is "eval". Returns the process exit code. */
int ctl_eval(int argc, char **argv);

/* moderatorctl cases [--rules DIR] PATH... : every case file must pass. Returns the exit code. */
int ctl_cases(int argc, char **argv);

/* moderatorctl rules test [DIR]: every "# expect" example in the rule files must pass. */
int ctl_rules_test(const char *rules_dir);

#endif
