/* ctl_moderation.c - moderatorctl for moderators who live in a terminal: list the queue, approve
 * and reject, ban / probation / unban authors, show an author's record. Same store functions as
 * the daemon's routes, so the same transitions, strikes and audit events apply. */
#include "ctl_moderation.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_common.h"
#include "store.h"
#include "store_moderation.h"

#define CTL_TEXT_COLS 60

void ctl_moderation_usage(FILE *f)
{
    fprintf(f,
            "  queue list [--status S] [--site S] [--category C] [--limit N] [--after CURSOR]\n"
            "                        the moderation queue, oldest first (status: held, reported,\n"
            "                        rejected, accepted, approved, blocked; default held)\n"
            "  approve ID [--reason R]             approve a held, reported or blocked comment\n"
            "  reject ID --reason R                reject a comment (a strike for its author)\n"
            "  ban AUTHOR --reason R [--until T]   ban an author (T: 2026-12-01, 30d, 12h, ...)\n"
            "  probation AUTHOR --reason R [--until T]   hold every new comment of the author\n"
            "  unban AUTHOR [--reason R]           lift the sanction and reset the strikes\n"
            "  author AUTHOR                       an author's sanction, strikes and comments\n");
}

int ctl_moderation_command(const char *cmd)
{
    static const char *const cmds[] = {"queue", "approve", "reject", "ban",
                                       "probation", "unban", "author"};
    for (size_t i = 0; cmd && i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(cmd, cmds[i]) == 0)
            return 1;
    return 0;
}

/* Prints at most cols characters of s on one line. Comments are written by strangers: control
 * characters (C0, DEL, C1) become '?', so no escape sequence reaches the terminal. */
static int ctl_print_safe(const char *s, int cols)
{
    if (!s)
        s = "";
    int n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && n < cols) {
        if (*p < 0x20 || *p == 0x7f) {
            putchar(*p == '\n' || *p == '\t' ? ' ' : '?');
            p++;
        } else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) { /* C1 controls */
            putchar('?');
            p += 2;
        } else if (*p < 0x80) {
            putchar(*p++);
        } else {
            size_t len = (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : (*p & 0xF8) == 0xF0 ? 4 : 1;
            size_t k = 0;
            while (k < len && p[k])
                k++;
            fwrite(p, 1, k, stdout);
            p += k;
        }
        n++;
    }
    if (*p) {
        fputs("...", stdout);
        n += 3;
    }
    return n;
}

static int ctl_queue_list(const char *db, int argc, char **argv)
{
    const char *status = "held", *site = NULL, *category = NULL, *limit_s = NULL, *after_s = NULL;
    const ctl_opt opts[] = {{"--status", &status, NULL},   {"--site", &site, NULL},
                            {"--category", &category, NULL}, {"--limit", &limit_s, NULL},
                            {"--after", &after_s, NULL}};
    int rc = ctl_opts("queue list",
                      "queue list [--status S] [--site S] [--category C] [--limit N] "
                      "[--after CURSOR]",
                      argc, argv, NULL, 0, 0, opts,
                      sizeof opts / sizeof opts[0]);
    if (rc)
        return rc;
    store_queue_query q = {.state = status, .site = site, .category = -1, .limit = 50};
    if (store_state_index(status) < 0) {
        fprintf(stderr, "moderatorctl: queue list: unknown status \"%s\"\n", status);
        return 2;
    }
    if (category && (q.category = category_from_name(category)) < 0) {
        fprintf(stderr, "moderatorctl: queue list: unknown category \"%s\"\n", category);
        return 2;
    }
    long long number;
    if (limit_s) {
        if (ctl_number("queue list", "--limit", limit_s, 1, 1000, &number))
            return 2;
        q.limit = (size_t)number;
    }
    if (after_s) {
        if (ctl_number("queue list", "--after (a cursor)", after_s, 0, LLONG_MAX, &number))
            return 2;
        q.after = number;
    }
    store *st;
    if (ctl_open_db(db, &st) != 0)
        return 1;
    store_queue_item *items = NULL;
    size_t n = 0;
    long total = 0;
    mod_error err = {0};
    rc = store_queue_list(st, &q, &items, &n, &total, &err);
    store_close(st);
    if (rc != 0) {
        fprintf(stderr, "moderatorctl: queue list: %s\n", err.message);
        return 1;
    }
    printf("%-7s %-32s %-8s %6s  %-20s %-24s %s\n", "CURSOR", "ID", "STATE", "SCORE", "AUTHOR",
           "CREATED", "TEXT");
    for (size_t i = 0; i < n; i++) {
        const comment_record *r = &items[i].rec;
        printf("%-7lld %-32s %-8s %6.1f  ", items[i].mod.cursor, r->id, r->state, r->score);
        int w = ctl_print_safe(items[i].mod.author_key ? items[i].mod.author_key : "-", 17);
        printf("%*s %-24s ", w < 20 ? 20 - w : 0, "", r->created_at ? r->created_at : "");
        if (items[i].mod.reports)
            printf("[%ld reports] ", items[i].mod.reports);
        ctl_print_safe(r->text, CTL_TEXT_COLS);
        putchar('\n');
    }
    printf("%zu of %ld %s", n, total, status);
    if (n == q.limit)
        printf("; more with --after %lld", items[n - 1].mod.cursor);
    putchar('\n');
    store_queue_free(items, n);
    return 0;
}

static int ctl_decide(const char *db, const char *decision, int argc, char **argv)
{
    const char *id = NULL, *reason = NULL;
    const ctl_opt opts[] = {{"--reason", &reason, NULL}};
    int reject = strcmp(decision, "reject") == 0;
    int rc = ctl_opts(decision, reject ? "reject ID --reason R" : "approve ID [--reason R]", argc,
                      argv, &id, 1, 1, opts, 1);
    if (rc)
        return rc;
    if (reject && (!reason || !*reason)) {
        fprintf(stderr, "moderatorctl: reject needs --reason R\n");
        return 2;
    }
    store *st;
    if (ctl_open_db(db, &st) != 0)
        return 1;
    char actor[160];
    ctl_actor(actor, sizeof actor);
    mod_error err = {0};
    store_change ch = {0};
    /* No expected state: nobody saw one, and store_decide checks the transition from the state
     * it reads inside its own transaction. */
    rc = store_decide(st, id, decision, NULL, reason, actor, &ch, &err);
    store_close(st);
    if (rc != 0) {
        fprintf(stderr, "moderatorctl: %s: %s\n", decision, err.message);
        return 1;
    }
    printf("%s: %s -> %s (event %ld)\n", id, ch.before, ch.after, ch.seq);
    return 0;
}

static int ctl_sanction(const char *db, const char *cmd, int argc, char **argv)
{
    const char *author = NULL, *reason = NULL, *until = NULL;
    const ctl_opt opts[] = {{"--reason", &reason, NULL}, {"--until", &until, NULL}};
    int clear = strcmp(cmd, "unban") == 0;
    char usage[64];
    snprintf(usage, sizeof usage, "%s AUTHOR %s", cmd,
             clear ? "[--reason R]" : "--reason R [--until T]");
    int rc = ctl_opts(cmd, usage, argc, argv, &author, 1, 1, opts, clear ? 1 : 2);
    if (rc)
        return rc;
    if (!clear && (!reason || !*reason)) {
        fprintf(stderr, "moderatorctl: %s needs --reason R\n", cmd);
        return 2;
    }
    long long until_ms = 0;
    mod_error err = {0};
    if (until && store_time_parse(until, store_now_ms(), &until_ms, &err) != 0) {
        fprintf(stderr, "moderatorctl: %s: --until: %s\n", cmd, err.message);
        return 2;
    }
    store *st;
    if (ctl_open_db(db, &st) != 0)
        return 1;
    char actor[160], key[512];
    ctl_actor(actor, sizeof actor);
    store_author_resolve(st, author, key, sizeof key);
    long seq = 0;
    rc = store_sanction_set(st, key, clear ? "clear" : cmd, reason, until_ms, actor, &seq, &err);
    store_close(st);
    if (rc != 0) {
        fprintf(stderr, "moderatorctl: %s: %s\n", cmd, err.message);
        return 1;
    }
    if (clear) {
        printf("%s: sanction lifted, strikes reset (event %ld)\n", key, seq);
    } else {
        char iso[32] = "no expiry";
        if (until_ms)
            store_ms_iso(until_ms, iso);
        printf("%s: %s until %s (event %ld)\n", key, cmd, iso, seq);
    }
    return 0;
}

static int ctl_author(const char *db, int argc, char **argv)
{
    const char *author = NULL;
    int rc = ctl_opts("author", "author AUTHOR", argc, argv, &author, 1, 1, NULL, 0);
    if (rc)
        return rc;
    store *st;
    if (ctl_open_db(db, &st) != 0)
        return 1;
    char key[512];
    store_author_resolve(st, author, key, sizeof key);
    policy_config pol = {0};
    store_strike_policy_get(st, &pol);
    author_record r;
    mod_error err = {0};
    rc = store_author_record(st, key, &pol, 1, &r, &err);
    store_close(st);
    if (rc != 0) {
        fprintf(stderr, "moderatorctl: author: %s\n", err.message);
        return 1;
    }
    const author_sanction *a = &r.sanction;
    printf("author: ");
    ctl_print_safe(r.key, 200);
    printf("\nstatus: %s%s%s%s\n", author_status_name(a->status), a->source ? " (" : "",
           a->source ? a->source : "", a->source ? ")" : "");
    printf("strikes: %ld in the last %lds (probation at %d, ban at %d)\n", a->strikes,
           pol.strike_window_s, pol.probation_strikes, pol.ban_strikes);
    if (a->action) {
        char iso[32] = "no expiry";
        if (a->until_ms)
            store_ms_iso(a->until_ms, iso);
        printf("sanction: %s%s, until %s, by %s at %s: ", a->action, a->active ? "" : " (expired)",
               iso, a->set_by ? a->set_by : "?", a->set_at ? a->set_at : "?");
        ctl_print_safe(a->reason, 200);
        putchar('\n');
    }
    printf("comments: %ld", r.total);
    for (int i = 0; i < STORE_N_STATES; i++)
        if (r.comments[i])
            printf(", %s %ld", store_states[i], r.comments[i]);
    putchar('\n');
    for (size_t i = 0; i < r.n_strikes; i++) {
        char iso[32];
        store_ms_iso(r.strikes[i].at_ms, iso);
        printf("  strike %s %s %s\n", iso, r.strikes[i].source, r.strikes[i].comment_id);
    }
    author_record_free(&r);
    return 0;
}

int ctl_moderation(const char *db, int argc, char **argv)
{
    const char *cmd = argv[0];
    if (strcmp(cmd, "queue") == 0) {
        if (argc >= 2 && strcmp(argv[1], "list") == 0)
            return ctl_queue_list(db, argc - 2, argv + 2);
        fprintf(stderr, "moderatorctl: usage: queue list [--status S] [--limit N] ...\n");
        return 2;
    }
    if (strcmp(cmd, "approve") == 0 || strcmp(cmd, "reject") == 0)
        return ctl_decide(db, cmd, argc - 1, argv + 1);
    if (strcmp(cmd, "ban") == 0 || strcmp(cmd, "probation") == 0 || strcmp(cmd, "unban") == 0)
        return ctl_sanction(db, cmd, argc - 1, argv + 1);
    /* "author": ctl.c calls this only for a command ctl_moderation_command accepts. */
    return ctl_author(db, argc - 1, argv + 1);
}
