/* ctl_admin.h - moderatorctl's admin commands: rules lint|diff|versions|show, explain, and
 * audit verify|export|prune. */
#ifndef MODERATORD_CTL_ADMIN_H
#define MODERATORD_CTL_ADMIN_H

#include <stdio.h>

/* Whether cmd (with its arguments, argv[0] = cmd) is one of these commands. */
int ctl_admin_command(int argc, char **argv);
/* Runs it; returns the exit code (0 fine, 1 failed or found problems, 2 usage). */
int ctl_admin(const char *db, const char *rules, int argc, char **argv);
void ctl_admin_usage(FILE *f);

#endif
