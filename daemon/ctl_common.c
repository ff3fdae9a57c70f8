/* ctl_common.c - what every moderatorctl command file shares. */
#include "ctl_common.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "reload.h"

static config ctl_cfg; /* the daemon's settings; config_file is NULL when none was read */

int ctl_read_settings(const char *path, const char **db, const char **rules)
{
    config_defaults(&ctl_cfg);
    config_errors errs = {0};
    int n = config_read_file(&ctl_cfg, path ? path : CONFIG_DEFAULT_PATH, path != NULL, &errs);
    for (size_t i = 0; i < errs.count; i++)
        fprintf(stderr, "moderatorctl: %s%s\n", !path && n < 0 ? "warning: " : "", errs.items[i]);
    config_errors_free(&errs);
    if (n < 0 && !path)
        return 0; /* the default file exists but cannot be read (permissions): defaults */
    if (n != 0)
        return -1;
    if (!ctl_cfg.config_file)
        return 0; /* no settings file: the built-in defaults stand */
    if (!*db)
        *db = ctl_cfg.db;
    if (!*rules)
        *rules = ctl_cfg.rules;
    return 0;
}

const char *ctl_settings_thresholds(const char *dir)
{
    const config *c = &ctl_cfg;
    return c->config_file && c->thresholds && *c->thresholds && c->rules && !strcmp(dir, c->rules)
               ? c->thresholds
               : NULL;
}

mod_ruleset *ctl_load_rules(const char *dir)
{
    reload_config cfg = {.rules_dir = dir, .thresholds = ctl_settings_thresholds(dir)};
    mod_ruleset *rs = NULL;
    rule_diags d = {0};
    mod_error err = {0};
    if (reload_build(&cfg, 0, &rs, &d, &err) != 0) {
        diags_print(&d, stderr);
        if (diags_errors(&d) == 0)
            fprintf(stderr, "moderatorctl: %s: %s\n", dir, err.message);
        rs = NULL;
    }
    diags_free(&d);
    return rs;
}

int ctl_open_db(const char *db, store **st)
{
    mod_error err = {0};
    if (store_open(db, 0, st, &err) != 0) {
        fprintf(stderr, "moderatorctl: %s: %s\n", db, err.message);
        return -1;
    }
    return 0;
}

void ctl_actor(char *out, size_t len)
{
    const char *user = getenv("USER");
    if (!user || !*user) {
        struct passwd *pw = getpwuid(getuid());
        user = pw && pw->pw_name ? pw->pw_name : NULL;
    }
    if (user)
        snprintf(out, len, "moderatorctl:%s", user);
    else
        snprintf(out, len, "moderatorctl:uid%u", (unsigned)getuid());
}

int ctl_number(const char *cmd, const char *opt, const char *s, long long min, long long max,
               long long *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    /* strtoll takes leading blanks and a sign; a count on the command line is digits only */
    if (s[0] < '0' || s[0] > '9' || *end || errno || n < min || n > max) {
        if (max >= LONG_MAX) /* no bound worth printing */
            fprintf(stderr, "moderatorctl: %s: %s \"%s\" is not a whole number of %lld or more\n",
                    cmd, opt, s, min);
        else
            fprintf(stderr, "moderatorctl: %s: %s \"%s\" is not a whole number from %lld to %lld\n",
                    cmd, opt, s, min, max);
        return 2;
    }
    *out = n;
    return 0;
}

static int ctl_usage(const char *usage)
{
    if (usage)
        fprintf(stderr, "usage: moderatorctl %s\n", usage);
    return 2;
}

int ctl_opts(const char *cmd, const char *usage, int argc, char **argv, const char **pos, int npos,
             int need, const ctl_opt *opts, size_t nopts)
{
    int got = 0;
    for (int i = 0; i < argc; i++) {
        size_t k = 0;
        while (k < nopts && strcmp(argv[i], opts[k].name) != 0)
            k++;
        if (k < nopts && !opts[k].value) {
            *opts[k].flag = 1;
        } else if (k < nopts) {
            if (i + 1 >= argc) {
                fprintf(stderr, "moderatorctl: %s: %s needs a value\n", cmd, argv[i]);
                return ctl_usage(usage);
            }
            *opts[k].value = argv[++i];
        } else if (argv[i][0] != '-' && got < npos) {
            pos[got++] = argv[i];
        } else if (usage && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
            return ctl_usage(usage); /* asked for: the usage alone */
        } else {
            fprintf(stderr, "moderatorctl: %s: unexpected \"%s\"\n", cmd, argv[i]);
            return ctl_usage(usage);
        }
    }
    if (got < need) {
        fprintf(stderr, "moderatorctl: %s: missing argument%s\n", cmd,
                usage ? "" : " (see moderatorctl help)");
        return ctl_usage(usage);
    }
    return 0;
}

char *ctl_rule_names(const mod_result *res)
{
    size_t len = 1;
    for (size_t m = 0; m < res->n_matches; m++)
        len += strlen(res->matches[m].rule) + 1;
    char *out = malloc(len), *p = out;
    if (!out)
        return NULL;
    for (size_t m = 0; m < res->n_matches; m++) {
        if (m)
            *p++ = ' ';
        size_t n = strlen(res->matches[m].rule);
        memcpy(p, res->matches[m].rule, n);
        p += n;
    }
    *p = '\0';
    return out;
}
