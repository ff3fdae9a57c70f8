/* config.h - moderatord's settings: one table of {name, type, field, default, help}, read from
 * /etc/moderatord/moderatord.conf (moderatord.conf.sample documents every setting) and overridden
 * by command-line flags of the same names (--max-body 1M). */
#ifndef MODERATORD_CONFIG_H
#define MODERATORD_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#define CONFIG_DEFAULT_PATH "/etc/moderatord/moderatord.conf"

typedef struct {
    char *listen;            /* "ADDR:PORT" */
    char *db;                /* SQLite database */
    char *rules;             /* rules directory */
    char *thresholds;        /* policy file used instead of RULES/policy.conf; "" = none */
    size_t max_body;         /* bytes */
    unsigned threads;        /* request threads; 0 = one per CPU */
    unsigned max_connections, max_connections_per_ip;
    unsigned connection_timeout; /* seconds */
    int log_level;           /* log_level from log.h */
    int watch_rules;         /* reload when a file in the rules directory changes */
    unsigned reload_delay;   /* ms of quiet after the last change before reloading */
    int rules_strict;        /* a rule set whose examples fail is refused at start and reload */
    char *web;               /* the review page's files (static.h) */
    char *coral_secret_file; /* Coral's signing secrets; "" = Coral's route off (api_compat.h) */
    unsigned coral_budget_ms, perspective_budget_ms;

    char *config_file;       /* the file the settings came from; NULL when none was read */
} config;

/* Problems found in a config file or the flags: each "file:line: message". */
typedef struct {
    char **items;
    size_t count;
} config_errors;

void config_errors_free(config_errors *e);

/* Every setting at its default. */
void config_defaults(config *c);
void config_free(config *c);

/* Sets one setting by name from text ("64K", "yes", "300ms"). Returns 0, or -1 with why filled
 * (e.g. "\"abc\" is not a size in bytes"). */
int config_set(config *c, const char *name, const char *value, char *why, size_t why_len);

/* Reads a file of "name value" lines ('=' between them allowed, '#' comments, "quoted values").
 * Every problem goes to errs as "path:line: message" (all of them, not just the first). A missing
 * file is an error only with must_exist. Returns the number of problems, or -1 when missing. */
int config_read_file(config *c, const char *path, int must_exist, config_errors *errs);

/* What the command line asks for. */
typedef enum { CONFIG_RUN, CONFIG_CHECK, CONFIG_HELP } config_action;

/*
 * The daemon's command line: --config PATH (default CONFIG_DEFAULT_PATH, which may be absent),
 * -n (check and exit), -h/--help, and --NAME VALUE or --NAME=VALUE for every setting ('-' or '_'
 * in NAME). Reads the config file first, then applies the flags over it. Returns 0 with *action,
 * or -1 with every problem in errs.
 */
int config_from_args(int argc, char **argv, config *c, config_action *action, config_errors *errs);

/* Help for the flags (generated from the table). */
void config_usage(FILE *f);
/* The effective settings as a config file would hold them. */
void config_print(const config *c, FILE *f);

#endif
