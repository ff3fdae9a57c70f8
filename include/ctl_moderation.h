/* ctl_moderation.h - moderatorctl's moderation commands: queue list, approve, reject, ban,
 * probation, unban, author. They act on the database directly, like `key add`, and are recorded
 * in the audit log with the actor "moderatorctl:$USER". */
#ifndef MODERATORD_CTL_MODERATION_H
#define MODERATORD_CTL_MODERATION_H

#include <stdio.h>

/* 1 when cmd is one of this module's commands. */
int ctl_moderation_command(const char *cmd);
/* Runs argv[0] (the command) with its arguments against the database. Exit status: 0 done,
 * 1 failed (the reason on stderr), 2 usage error. */
int ctl_moderation(const char *db, int argc, char **argv);
/* The usage lines of these commands. */
void ctl_moderation_usage(FILE *f);

#endif
