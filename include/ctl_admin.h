/* ctl_admin.h - moderatorctl's admin commands: rules lint|diff|versions|show, explain, and
 * audit verify|export|prune; and reading the daemon's settings file for their defaults. */
#ifndef MODERATORD_CTL_ADMIN_H
#define MODERATORD_CTL_ADMIN_H

#include <stdio.h>

/* Whether cmd (with its arguments, argv[0] = cmd) is one of these commands. */
int ctl_admin_command(int argc, char **argv);
/* Runs it; returns the exit code (0 fine, 1 failed or found problems, 2 usage). */
int ctl_admin(const char *db, const char *rules, int argc, char **argv);
void ctl_admin_usage(FILE *f);

/*
 * Reads the daemon's settings file so moderatorctl works on the same database, rules and
 * thresholds: path, or the default /etc/moderatord/moderatord.conf when it exists (path NULL).
 * *db and *rules change only when not given on the command line. Returns 0, or -1 after printing
 * every problem.
 */
int ctl_admin_config(const char *path, const char **db, int db_given, const char **rules,
                     int rules_given);

#endif
