/* config.c - the settings table, the config file reader and the command-line flags. One table
 * drives all three: a setting is parsed, defaulted, documented and overridden the same way. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_compat.h" /* COMPAT_DEFAULT_*_BUDGET_MS */
#include "log.h"
#include "static.h"     /* STATIC_DEFAULT_WEB */

typedef enum {
    CT_STRING, /* any text, may be empty */
    CT_PATH,   /* a file or directory; not empty */
    CT_LISTEN, /* ADDR:PORT or [ADDR6]:PORT */
    CT_SIZE,   /* bytes: 65536, 64K, 1M */
    CT_UINT,   /* a count */
    CT_SECONDS,/* 30, 30s, 2m, 1h */
    CT_MS,     /* 300, 300ms, 2s */
    CT_BOOL,   /* yes/no, true/false, on/off, 1/0 */
    CT_LEVEL,  /* error, warning, info, debug */
} config_type;

typedef struct {
    const char *name;
    config_type type;
    size_t off;
    const char *def;  /* the default, as it would be written in the file */
    const char *arg;  /* the value's name in --help */
    const char *help;
} config_entry;

#define F(field) offsetof(config, field)
#define CONFIG_STR_(x) #x
#define CONFIG_STR(x) CONFIG_STR_(x)

static const config_entry config_table[] = {
    {"listen", CT_LISTEN, F(listen), "127.0.0.1:8080", "ADDR:PORT",
     "address to serve on; port 0 takes any free port"},
    {"db", CT_PATH, F(db), "/var/lib/moderatord/moderatord.db", "PATH", "the SQLite database"},
    {"rules", CT_PATH, F(rules), "/etc/moderatord/rules", "DIR", "the rules directory"},
    {"thresholds", CT_STRING, F(thresholds), "", "FILE",
     "hold/block thresholds read from FILE instead of RULES/policy.conf"},
    {"max_body", CT_SIZE, F(max_body), "64K", "SIZE", "largest request body (413 above it)"},
    {"threads", CT_UINT, F(threads), "0", "N", "request threads; 0 = one per CPU"},
    {"max_connections", CT_UINT, F(max_connections), "1000", "N", "connections at once"},
    {"max_connections_per_ip", CT_UINT, F(max_connections_per_ip), "256", "N",
     "connections at once from one address"},
    {"connection_timeout", CT_SECONDS, F(connection_timeout), "30s", "TIME",
     "an idle connection is closed after TIME"},
    {"log_level", CT_LEVEL, F(log_level), "info", "LEVEL", "error, warning, info or debug"},
    {"watch_rules", CT_BOOL, F(watch_rules), "yes", "yes|no",
     "reload when a file in the rules directory changes (inotify)"},
    {"reload_delay", CT_MS, F(reload_delay), "300ms", "TIME",
     "quiet time after the last change before a watched reload (editor save bursts)"},
    {"rules_strict", CT_BOOL, F(rules_strict), "no", "yes|no",
     "refuse a rule set whose examples (# expect) fail, at start and on reload"},
    {"web", CT_PATH, F(web), STATIC_DEFAULT_WEB, "DIR",
     "the review page's files, served at /moderate from DIR/moderate"},
    {"coral_secret_file", CT_STRING, F(coral_secret_file), "", "FILE",
     "Coral's phase signing secret(s), one per line; turns on /v1/integrations/coral/phase"},
    {"coral_budget_ms", CT_MS, F(coral_budget_ms), CONFIG_STR(COMPAT_DEFAULT_CORAL_BUDGET_MS),
     "TIME", "answer a Coral phase within TIME (0: wait for the commit)"},
    {"perspective_budget_ms", CT_MS, F(perspective_budget_ms),
     CONFIG_STR(COMPAT_DEFAULT_PERSPECTIVE_BUDGET_MS), "TIME",
     "the same for Perspective's comments:analyze"},
};
#define CONFIG_N (sizeof config_table / sizeof config_table[0])

/* ---- errors ---- */

static void config_err(config_errors *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void config_err(config_errors *e, const char *fmt, ...)
{
    if (!e)
        return;
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    char **p = n < 0 ? NULL : realloc(e->items, (e->count + 1) * sizeof *p);
    if (!p) {
        free(n < 0 ? NULL : s);
        return;
    }
    e->items = p;
    e->items[e->count++] = s;
}

void config_errors_free(config_errors *e)
{
    for (size_t i = 0; e && i < e->count; i++)
        free(e->items[i]);
    if (e) {
        free(e->items);
        e->items = NULL;
        e->count = 0;
    }
}

/* ---- values ---- */

static const config_entry *config_find(const char *name, size_t len)
{
    for (size_t i = 0; i < CONFIG_N; i++) {
        const char *n = config_table[i].name;
        if (strlen(n) != len)
            continue;
        size_t k = 0;
        /* Flags write '-' where the file writes '_': --max-body, max_body. */
        while (k < len && (name[k] == n[k] || (name[k] == '-' && n[k] == '_')))
            k++;
        if (k == len)
            return &config_table[i];
    }
    return NULL;
}

/* Levenshtein distance, for "did you mean". */
static size_t config_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64];
    if (la >= 63 || lb >= 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t sub = prev + (tolower((unsigned char)a[i - 1]) != b[j - 1] &&
                                 !(a[i - 1] == '-' && b[j - 1] == '_'));
            size_t best = sub < row[j] + 1 ? sub : row[j] + 1;
            row[j] = best < row[j - 1] + 1 ? best : row[j - 1] + 1;
            prev = cur;
        }
    }
    return row[lb];
}

static const char *config_suggest(const char *name)
{
    const char *best = NULL;
    size_t bd = 3;
    for (size_t i = 0; i < CONFIG_N; i++) {
        size_t d = config_distance(name, config_table[i].name);
        if (d < bd) {
            bd = d;
            best = config_table[i].name;
        }
    }
    return best;
}

static int config_number(const char *s, unsigned long long *out, const char **rest)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
        return -1;
    unsigned long long n = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    *out = n;
    *rest = end;
    return 0;
}

/* Replaces the string setting at field with a copy of v. */
static int config_set_string(void *field, const char *v, char *why, size_t wl)
{
    char *copy = strdup(v);
    if (!copy) {
        snprintf(why, wl, "out of memory");
        return -1;
    }
    free(*(char **)field);
    *(char **)field = copy;
    return 0;
}

static int config_parse(const config_entry *e, const char *v, void *field, char *why, size_t wl)
{
    unsigned long long n = 0;
    const char *rest = "";
    switch (e->type) {
    case CT_STRING:
    case CT_PATH: {
        if (e->type == CT_PATH && !*v) {
            snprintf(why, wl, "needs a path");
            return -1;
        }
        return config_set_string(field, v, why, wl);
    }
    case CT_LISTEN: {
        const char *colon = v[0] == '[' ? strstr(v, "]:") : strrchr(v, ':');
        if (colon && v[0] == '[')
            colon++;
        if (!colon || colon == v || config_number(colon + 1, &n, &rest) < 0 || *rest ||
            n > 65535) {
            snprintf(why, wl, "\"%s\" is not ADDR:PORT (e.g. 127.0.0.1:8080, [::1]:8080)", v);
            return -1;
        }
        return config_set_string(field, v, why, wl);
    }
    case CT_SIZE:
        if (config_number(v, &n, &rest) == 0) {
            unsigned long long mul = 1;
            if (*rest == 'K' || *rest == 'k')
                mul = 1024, rest++;
            else if (*rest == 'M' || *rest == 'm')
                mul = 1024 * 1024, rest++;
            else if (*rest == 'G' || *rest == 'g')
                mul = 1024ULL * 1024 * 1024, rest++;
            if (mul > 1 && (!strcmp(rest, "B") || !strcmp(rest, "iB") || !strcmp(rest, "b")))
                rest += strlen(rest);
            n *= mul;
            if (!*rest && n > 0 && n <= 1024ULL * 1024 * 1024) {
                *(size_t *)field = (size_t)n;
                return 0;
            }
        }
        snprintf(why, wl, "\"%s\" is not a size in bytes from 1 to 1G (e.g. 65536, 64K, 1M)", v);
        return -1;
    case CT_UINT:
        if (config_number(v, &n, &rest) == 0 && !*rest && n <= 1000000) {
            *(unsigned *)field = (unsigned)n;
            return 0;
        }
        snprintf(why, wl, "\"%s\" is not a whole number from 0 to 1000000", v);
        return -1;
    case CT_SECONDS:
        if (config_number(v, &n, &rest) == 0) {
            unsigned long long mul = !*rest || !strcmp(rest, "s") ? 1
                                     : !strcmp(rest, "m")           ? 60
                                     : !strcmp(rest, "h")           ? 3600
                                                                    : 0;
            if (mul && n * mul >= 1 && n * mul <= 86400) {
                *(unsigned *)field = (unsigned)(n * mul);
                return 0;
            }
        }
        snprintf(why, wl, "\"%s\" is not a time from 1s to 24h (e.g. 30, 30s, 2m)", v);
        return -1;
    case CT_MS:
        if (config_number(v, &n, &rest) == 0) {
            unsigned long long mul = !*rest || !strcmp(rest, "ms") ? 1
                                     : !strcmp(rest, "s")            ? 1000
                                                                     : 0;
            if (mul && n * mul <= 600000) {
                *(unsigned *)field = (unsigned)(n * mul);
                return 0;
            }
        }
        snprintf(why, wl, "\"%s\" is not a time from 0 to 600s (e.g. 300ms, 2s)", v);
        return -1;
    case CT_BOOL: {
        static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false",
                                                                                  "off", "0"};
        for (size_t i = 0; i < 4; i++) {
            if (!strcasecmp(v, yes[i]) || !strcasecmp(v, no[i])) {
                *(int *)field = !strcasecmp(v, yes[i]);
                return 0;
            }
        }
        snprintf(why, wl, "\"%s\" is not yes or no", v);
        return -1;
    }
    case CT_LEVEL: {
        int l = log_level_from_name(v);
        if (l < 0) {
            snprintf(why, wl, "\"%s\" is not a log level (error, warning, info, debug)", v);
            return -1;
        }
        *(int *)field = l;
        return 0;
    }
    }
    snprintf(why, wl, "unknown type");
    return -1;
}

int config_set(config *c, const char *name, const char *value, char *why, size_t why_len)
{
    const config_entry *e = config_find(name, strlen(name));
    if (!e) {
        const char *s = config_suggest(name);
        snprintf(why, why_len, "unknown setting \"%s\"%s%s%s", name, s ? " (did you mean " : "",
                 s ? s : "", s ? "?)" : "");
        return -1;
    }
    return config_parse(e, value ? value : "", (char *)c + e->off, why, why_len);
}

void config_defaults(config *c)
{
    memset(c, 0, sizeof *c);
    char why[256];
    for (size_t i = 0; i < CONFIG_N; i++)
        if (config_parse(&config_table[i], config_table[i].def, (char *)c + config_table[i].off,
                         why, sizeof why) != 0)
            abort(); /* a default that does not parse is a bug in the table */
}

void config_free(config *c)
{
    for (size_t i = 0; i < CONFIG_N; i++) {
        config_type t = config_table[i].type;
        if (t == CT_STRING || t == CT_PATH || t == CT_LISTEN) {
            char **p = (char **)((char *)c + config_table[i].off);
            free(*p);
            *p = NULL;
        }
    }
    free(c->config_file);
    c->config_file = NULL;
}

/* ---- the file ---- */

/* Splits one line into name and value (both inside line, which is modified). Returns 1 for a
 * setting, 0 for a blank or comment line, -1 with why. */
static int config_split(char *line, char **name, char **value, char *why, size_t wl)
{
    char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p || *p == '#')
        return 0;
    *name = p;
    while (*p && (isalnum((unsigned char)*p) || *p == '_' || *p == '-'))
        p++;
    if (p == *name) {
        snprintf(why, wl, "expected a setting name, found '%c'", *p);
        return -1;
    }
    char *name_end = p;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '=' || *p == ':') {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
    } else if (p == name_end && *p) {
        snprintf(why, wl, "expected a space or '=' after the setting name");
        return -1;
    }
    *name_end = '\0';
    if (*p == '"') {
        /* A quoted value keeps spaces and '#'; \" and \\ escape. */
        char *out = ++p;
        *value = out;
        while (*p && *p != '"') {
            if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                p++;
            *out++ = *p++;
        }
        if (*p != '"') {
            snprintf(why, wl, "the quoted value has no closing '\"'");
            return -1;
        }
        p++;
        *out = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p && *p != '#') {
            snprintf(why, wl, "unexpected text after the quoted value");
            return -1;
        }
        return 1;
    }
    *value = p;
    /* An unquoted value ends at a comment (" #") or the end of the line. */
    for (char *q = p; *q; q++)
        if (*q == '#' && (q == p || q[-1] == ' ' || q[-1] == '\t')) {
            *q = '\0';
            break;
        }
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        p[--n] = '\0';
    return 1;
}

int config_read_file(config *c, const char *path, int must_exist, config_errors *errs)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (!must_exist && errno == ENOENT)
            return 0;
        config_err(errs, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    int problems = 0, lineno = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        char *name, *value, why[400];
        int r = config_split(line, &name, &value, why, sizeof why);
        if (r == 0)
            continue;
        if (r < 0 || config_set(c, name, value, why, sizeof why) < 0) {
            config_err(errs, "%s:%d: %s%s%s", path, lineno, r < 0 ? "" : name,
                       r < 0 ? "" : ": ", why);
            problems++;
        }
    }
    free(line);
    fclose(f);
    free(c->config_file);
    c->config_file = strdup(path);
    return problems;
}

/* ---- the command line ---- */

int config_from_args(int argc, char **argv, config *c, config_action *action, config_errors *errs)
{
    *action = CONFIG_RUN;
    const char *path = CONFIG_DEFAULT_PATH;
    int explicit_path = 0;
    size_t errors_before = errs ? errs->count : 0;
    /* First the file, so that every flag, wherever it stands, overrides it. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--config") || !strcmp(a, "-c")) {
            if (i + 1 >= argc) {
                config_err(errs, "%s needs a file", a);
                return -1;
            }
            path = argv[++i];
            explicit_path = 1;
        } else if (!strncmp(a, "--config=", 9)) {
            path = a + 9;
            explicit_path = 1;
        } else if (!strcmp(a, "-n")) {
            *action = CONFIG_CHECK;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            *action = CONFIG_HELP;
            return 0;
        } else if (!strncmp(a, "--", 2) && !strchr(a, '=') && i + 1 < argc) {
            i++; /* a setting's value, looked at below */
        }
    }
    config_read_file(c, path, explicit_path, errs);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--config") || !strcmp(a, "-c")) {
            i++;
            continue;
        }
        if (!strncmp(a, "--config=", 9) || !strcmp(a, "-n"))
            continue;
        if (strncmp(a, "--", 2) != 0) {
            config_err(errs, "unexpected argument \"%s\"", a);
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        const config_entry *e = config_find(name, nl);
        if (!e) {
            char nm[64];
            snprintf(nm, sizeof nm, "%.*s", (int)nl, name);
            const char *s = config_suggest(nm);
            char flag[64] = "";
            for (size_t k = 0; s && s[k] && k < sizeof flag - 1; k++)
                flag[k] = s[k] == '_' ? '-' : s[k], flag[k + 1] = '\0';
            config_err(errs, "unknown option --%s%s%s%s", nm, s ? " (did you mean --" : "",
                       flag, s ? "?)" : "");
            if (!eq && i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
                i++;
            continue;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (!value) {
            if (i + 1 >= argc) {
                config_err(errs, "--%.*s needs a value (%s)", (int)nl, name, e->arg);
                continue;
            }
            value = argv[++i];
        }
        char why[400];
        if (config_parse(e, value, (char *)c + e->off, why, sizeof why) < 0)
            config_err(errs, "--%.*s: %s", (int)nl, name, why);
    }
    return errs && errs->count > errors_before ? -1 : 0;
}

void config_usage(FILE *f)
{
    fprintf(f, "usage: moderatord [--config FILE] [-n] [--SETTING VALUE ...]\n"
               "  --config FILE        settings file (default " CONFIG_DEFAULT_PATH
               ", if it exists)\n"
               "  -n                   check the settings and the rules, print the result, exit\n"
               "  -h, --help           this help\n"
               "Every setting of the file is also a flag, which overrides the file:\n");
    for (size_t i = 0; i < CONFIG_N; i++) {
        char flag[64];
        snprintf(flag, sizeof flag, "--%s %s", config_table[i].name, config_table[i].arg);
        for (char *p = flag + 2; *p && *p != ' '; p++)
            if (*p == '_')
                *p = '-';
        fprintf(f, "  %-34s %s (default %s)\n", flag, config_table[i].help,
                *config_table[i].def ? config_table[i].def : "none");
    }
    fprintf(f, "Signals: SIGTERM/SIGINT stop after the requests in flight; SIGHUP reloads the "
               "rules.\n");
}

void config_print(const config *c, FILE *f)
{
    for (size_t i = 0; i < CONFIG_N; i++) {
        const config_entry *e = &config_table[i];
        const void *field = (const char *)c + e->off;
        switch (e->type) {
        case CT_STRING:
        case CT_PATH:
        case CT_LISTEN: {
            const char *s = *(char *const *)field;
            fprintf(f, "%s %s%s%s\n", e->name, s && *s ? "" : "\"", s && *s ? s : "",
                    s && *s ? "" : "\"");
            break;
        }
        case CT_SIZE:
            fprintf(f, "%s %zu\n", e->name, *(const size_t *)field);
            break;
        case CT_UINT:
            fprintf(f, "%s %u\n", e->name, *(const unsigned *)field);
            break;
        case CT_SECONDS:
            fprintf(f, "%s %us\n", e->name, *(const unsigned *)field);
            break;
        case CT_MS:
            fprintf(f, "%s %ums\n", e->name, *(const unsigned *)field);
            break;
        case CT_BOOL:
            fprintf(f, "%s %s\n", e->name, *(const int *)field ? "yes" : "no");
            break;
        case CT_LEVEL:
            fprintf(f, "%s %s\n", e->name, log_level_name((log_level) * (const int *)field));
            break;
        }
    }
}
