/* ctl_common.h - what every moderatorctl command file shares: the daemon's settings, opening the
 * database and the name it acts under in the audit trail. */
#ifndef MODERATORD_CTL_COMMON_H
#define MODERATORD_CTL_COMMON_H

#include <stddef.h>

#include "engine.h"
#include "store.h"

/*
 * Reads the daemon's settings file so moderatorctl works on the same database, rules and
 * thresholds: path, or the default /etc/moderatord/moderatord.conf when it exists (path NULL).
 * Sets *db and *rules from it only where they are NULL (not given on the command line). Returns
 * 0, or -1 after printing every problem.
 */
int ctl_read_settings(const char *path, const char **db, const char **rules);
/* The settings' thresholds file when dir is the settings' rules directory, else NULL: thresholds
 * belong to the rules the daemon uses, not to another directory given here. */
const char *ctl_settings_thresholds(const char *dir);
/* Loads the rules in dir as the daemon does: with the settings' thresholds file in place of
 * policy.conf when dir is the settings' rules directory. Prints every problem and returns NULL
 * when they do not load. */
struct mod_ruleset *ctl_load_rules(const char *dir);
/* An option of a command: "--name VALUE" (value points where to put VALUE) or a flag "--name"
 * (value NULL; *flag set to 1). */
typedef struct {
    const char *name;
    const char **value;
    int *flag;
} ctl_opt;

/*
 * Reads a command's arguments: the options in opts, and up to npos positional arguments into
 * pos, the first need of them required. Returns 0, or 2 (moderatorctl's usage status) after
 * printing what is wrong (a stray argument, an option without its value, a missing argument)
 * and, when usage is not NULL, "usage: moderatorctl USAGE".
 */
int ctl_opts(const char *cmd, const char *usage, int argc, char **argv, const char **pos, int npos,
             int need, const ctl_opt *opts, size_t nopts);

/* Reads s, the value of option opt of command cmd, as a whole number from min to max. Returns 0
 * with *out, or prints what is wrong and returns 2 (a usage error, moderatorctl's exit status). */
int ctl_number(const char *cmd, const char *opt, const char *s, long long min, long long max,
               long long *out);
/* The names of the rules that matched, space-separated ("" for none); malloc'd, NULL when out of
 * memory. */
char *ctl_rule_names(const mod_result *res);
/* Opens the database at db; prints the reason and returns -1 when it cannot. */
int ctl_open_db(const char *db, store **st);
/* "moderatorctl:$USER": who acted, for the audit trail. */
void ctl_actor(char *out, size_t len);

#endif
