/* store_moderation.c - moderation in SQLite: state transitions by compare-and-set, reports,
 * strikes and sanctions, the queue, the decisions feed and comment histories (store_moderation.h).
 * Writes run on the store's synchronous connection inside BEGIN IMMEDIATE, each with its audit
 * event; strikes for engine blocks are written by the group-commit writer (store_mod_after_insert). */
#include "store_moderation.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "store_internal.h"

#define SM_RECENT_REPORTS 20
#define SM_AUTHOR_DETAIL 50

const char *const store_states[STORE_N_STATES] = {"accepted", "held",     "blocked",
                                                  "approved", "rejected", "reported"};

typedef enum {
    SM_SANCTION_LOOKUP,
    SM_COMMENT_STATE,
    SM_COMMENT_CAS,
    SM_STRIKE_ADD,
    SM_STRIKE_DEL,
    SM_STRIKE_COUNT,
    SM_SETTING_GET,
    SM_SETTING_PUT,
    SM_REPORT_ADD,
    SM_REPORT_BUMP,
    SM_SANCTION_GET,
    SM_SANCTION_PUT,
    SM_QUEUE,
    SM_QUEUE_COUNT,
    SM_AUTHOR_COUNTS,
    SM_AUTHOR_STRIKES,
    SM_AUTHOR_EVENTS,
    SM_AUTHOR_EXISTS,
    SM_COMMENT_MOD,
    SM_COMMENT_EVENTS,
    SM_COMMENT_REPORTS,
    SM_DECISIONS,
    SM__COUNT
} sm_stmt_id;

_Static_assert(SM__COUNT <= STORE_MOD_STMTS, "store_conn has a slot for every statement");

/* The queue's filters are all bound: NULL site/thread/category match everything, so one prepared
 * statement serves every combination and the (state, rowid) index drives it. */
#define SM_QUEUE_WHERE                                                                        \
    " WHERE state = ?1 AND (?2 IS NULL OR site = ?2) AND (?3 IS NULL OR thread = ?3)"       \
    " AND (CASE ?4 WHEN 0 THEN profanity WHEN 1 THEN personal_attack WHEN 2 THEN ethnic_slur" \
    " ELSE 1 END) > 0"

static const char *const sm_sql[SM__COUNT] = {
    /* One statement: the sanctions row by primary key, strikes counted on (author, at_ms). */
    [SM_SANCTION_LOOKUP] =
        "SELECT s.action, s.reason, s.until_ms, s.set_by, s.set_at,"
        " coalesce(s.strikes_reset_ms, 0),"
        " (SELECT count(*) FROM strikes k WHERE k.author = ?1"
        "   AND k.at_ms > max(?2, coalesce(s.strikes_reset_ms, 0)))"
        " FROM (SELECT ?1 AS author) a LEFT JOIN sanctions s ON s.author = a.author",
    [SM_COMMENT_STATE] = "SELECT state, author_key, site, ext_id FROM comments WHERE id = ?1",
    [SM_COMMENT_CAS] = "UPDATE comments SET state = ?1, updated_at = ?2 WHERE id = ?3 AND state = ?4",
    [SM_STRIKE_ADD] = "INSERT OR REPLACE INTO strikes (comment_id, author, at_ms, source)"
                      " VALUES (?1, ?2, ?3, ?4)",
    [SM_STRIKE_DEL] = "DELETE FROM strikes WHERE comment_id = ?1",
    [SM_STRIKE_COUNT] = "SELECT count(*) FROM strikes k WHERE k.author = ?1 AND k.at_ms > max(?2,"
                        " coalesce((SELECT strikes_reset_ms FROM sanctions WHERE author = ?1), 0))",
    [SM_SETTING_GET] = "SELECT value FROM settings WHERE name = ?1",
    [SM_SETTING_PUT] = "INSERT INTO settings (name, value) VALUES (?1, ?2)"
                       " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    [SM_REPORT_ADD] = "INSERT OR IGNORE INTO reports (comment_id, at, actor, reporter, reason)"
                      " VALUES (?1, ?2, ?3, ?4, ?5)",
    [SM_REPORT_BUMP] = "UPDATE comments SET reports = reports + 1, state = 'reported', updated_at = ?1"
                       " WHERE id = ?2 RETURNING reports",
    [SM_SANCTION_GET] = "SELECT action, reason, until_ms FROM sanctions WHERE author = ?1",
    [SM_SANCTION_PUT] =
        "INSERT INTO sanctions (author, action, reason, until_ms, set_by, set_at, strikes_reset_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, coalesce(?7, 0))"
        " ON CONFLICT (author) DO UPDATE SET action = excluded.action, reason = excluded.reason,"
        " until_ms = excluded.until_ms, set_by = excluded.set_by, set_at = excluded.set_at,"
        " strikes_reset_ms = coalesce(?7, strikes_reset_ms)",
    [SM_QUEUE] = "SELECT " COMMENT_COLS ", rowid, reports, author_key FROM comments" SM_QUEUE_WHERE
                 " AND rowid > ?5 ORDER BY rowid LIMIT ?6",
    [SM_QUEUE_COUNT] = "SELECT count(*) FROM comments" SM_QUEUE_WHERE,
    [SM_AUTHOR_COUNTS] = "SELECT state, count(*) FROM comments WHERE author_key = ?1 GROUP BY state",
    [SM_AUTHOR_STRIKES] = "SELECT comment_id, source, at_ms FROM strikes WHERE author = ?1"
                          " ORDER BY at_ms DESC LIMIT ?2",
    [SM_AUTHOR_EVENTS] = "SELECT " EVENT_COLS " FROM events WHERE type = 'sanction'"
                         " AND json_extract(data, '$.author') = ?1 ORDER BY seq DESC LIMIT ?2",
    [SM_AUTHOR_EXISTS] = "SELECT EXISTS (SELECT 1 FROM comments WHERE author_key = ?1)"
                         " OR EXISTS (SELECT 1 FROM sanctions WHERE author = ?1)",
    [SM_COMMENT_MOD] = "SELECT rowid, reports, author_key FROM comments WHERE id = ?1",
    [SM_COMMENT_EVENTS] = "SELECT " EVENT_COLS " FROM events WHERE comment_id = ?1 ORDER BY seq",
    [SM_COMMENT_REPORTS] = "SELECT at, actor, reporter, reason FROM reports WHERE comment_id = ?1"
                           " ORDER BY id DESC LIMIT ?2",
    [SM_DECISIONS] = "SELECT e.seq, e.at, e.comment_id, e.actor, e.data, c.site, c.ext_id"
                     " FROM events e LEFT JOIN comments c ON c.id = e.comment_id"
                     " WHERE e.type = 'decision' AND e.seq > ?1 ORDER BY e.seq LIMIT ?2",
};

/* ---------- statements ---------- */

static sqlite3_stmt *sm_stmt(store_conn *c, sm_stmt_id id, mod_error *err)
{
    return store_stmt_cached(c, &c->mod[id], sm_sql[id], err);
}

/* Runs a statement that returns no rows (or whose rows are ignored). */
static int sm_step_done(store_conn *c, sqlite3_stmt *s, const char *what, mod_error *err)
{
    int rc = sqlite3_step(s);
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(s);
    store_stmt_done(s);
    return rc == SQLITE_DONE ? 0 : store_sql_err(c, err, what);
}

/* ---------- states, time, authors ---------- */

int store_state_index(const char *state)
{
    for (int i = 0; state && i < STORE_N_STATES; i++)
        if (strcmp(state, store_states[i]) == 0)
            return i;
    return -1;
}

const char *store_transition(const char *from, const char *decision)
{
    static const struct {
        const char *from, *decision, *to;
    } t[] = {
        {"held", "approve", "approved"},     {"held", "reject", "rejected"},
        {"reported", "approve", "approved"}, {"reported", "reject", "rejected"},
        {"blocked", "approve", "approved"},  {"accepted", "reject", "rejected"},
        {"approved", "reject", "rejected"},  {"rejected", "approve", "approved"},
    };
    for (size_t i = 0; from && decision && i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].from, from) == 0 && strcmp(t[i].decision, decision) == 0)
            return t[i].to;
    return NULL;
}

long long store_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void store_ms_iso(long long ms, char out[32])
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

static int time_parse(const char *s, long long now_ms, int direction, long long *ms,
                      mod_error *err)
{
    static const char forms[] = "an ISO-8601 UTC time such as 2026-12-01 or "
                                "2026-12-01T10:00:00Z, or a duration such as 30d, 12h, 90m, 45s, 2w";
    if (!s || !*s)
        return err_set(err, ERR_BAD_FIELD, "a time must be %s", forms);
    /* A duration: digits and one unit. */
    char *end;
    long long n = strtoll(s, &end, 10);
    if (end != s && isdigit((unsigned char)s[0]) && end[0] && !end[1] && n > 0 &&
        n < 100LL * 365 * 86400) {
        long long unit = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600
                       : end[0] == 'd' ? 86400 : end[0] == 'w' ? 7 * 86400 : 0;
        if (unit && n * unit < 100LL * 365 * 86400) {
            *ms = now_ms + direction * n * unit * 1000;
            return 0;
        }
    }
    /* ISO-8601 UTC: a date, or date and time with optional fraction and a Z (or +00:00). */
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%d", &tm);
    long frac_ms = 0;
    if (p && (*p == 'T' || *p == ' ')) {
        p = strptime(p + 1, "%H:%M", &tm);
        if (p && *p == ':')
            p = strptime(p + 1, "%S", &tm);
        if (p && *p == '.') {
            int digits = 0;
            for (p++; isdigit((unsigned char)*p); p++, digits++)
                if (digits < 3)
                    frac_ms = frac_ms * 10 + (*p - '0');
            for (; digits > 0 && digits < 3; digits++)
                frac_ms *= 10;
        }
        if (p && (strcmp(p, "Z") == 0 || strcmp(p, "+00:00") == 0))
            p += strlen(p);
    }
    if (!p || *p)
        return err_set(err, ERR_BAD_FIELD, "\"%s\" is not a time: use %s", s, forms);
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return err_set(err, ERR_BAD_FIELD, "\"%s\" is out of range", s);
    *ms = (long long)t * 1000 + frac_ms;
    return 0;
}

int store_time_parse(const char *s, long long now_ms, long long *ms, mod_error *err)
{
    return time_parse(s, now_ms, 1, ms, err);
}

int store_time_parse_ago(const char *s, long long now_ms, long long *ms, mod_error *err)
{
    return time_parse(s, now_ms, -1, ms, err);
}

const char *store_author_key(const char *author_id, const char *author_email, char *buf,
                             size_t len)
{
    /* Must agree with the author_key column's expression (store.c, schema version 2). */
    const char *src = author_id && *author_id ? author_id : author_email;
    if (!src || !*src || len == 0)
        return NULL;
    size_t n = strlen(src);
    if (n >= len)
        n = len - 1; /* over-long keys are cut; the column keeps them whole, so none will match */
    for (size_t i = 0; i < n; i++)
        buf[i] = src == author_id ? src[i] : (char)tolower((unsigned char)src[i]);
    buf[n] = '\0';
    return buf;
}

const char *author_status_name(author_status s)
{
    return s == AUTHOR_BANNED ? "banned" : s == AUTHOR_PROBATION ? "probation" : "ok";
}

void author_sanction_free(author_sanction *a)
{
    if (!a)
        return;
    free(a->action);
    free(a->reason);
    free(a->set_by);
    free(a->set_at);
    memset(a, 0, sizeof *a);
}

/* Manual sanctions first (a ban beats probation), then the strike thresholds. */
static void sm_sanction_resolve(author_sanction *a, const policy_config *pol, long long now_ms)
{
    a->active = a->action && (a->until_ms == 0 || a->until_ms > now_ms);
    int ban_n = pol ? pol->ban_strikes : 0, prob_n = pol ? pol->probation_strikes : 0;
    a->status = AUTHOR_OK;
    a->source = NULL;
    if (a->active && strcmp(a->action, "ban") == 0) {
        a->status = AUTHOR_BANNED;
        a->source = "manual";
    } else if (ban_n > 0 && a->strikes >= ban_n) {
        a->status = AUTHOR_BANNED;
        a->source = "strikes";
    } else if (a->active && strcmp(a->action, "probation") == 0) {
        a->status = AUTHOR_PROBATION;
        a->source = "manual";
    } else if (prob_n > 0 && a->strikes >= prob_n) {
        a->status = AUTHOR_PROBATION;
        a->source = "strikes";
    }
}

static int sm_sanction_read(store_conn *c, const char *author, const policy_config *pol,
                            long long now_ms, author_sanction *out, mod_error *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = sm_stmt(c, SM_SANCTION_LOOKUP, err);
    if (!s)
        return -1;
    long long window_ms = pol ? (long long)pol->strike_window_s * 1000 : 0;
    sqlite3_bind_text(s, 1, author, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, window_ms > 0 ? now_ms - window_ms : 0);
    int rc = sqlite3_step(s), r = 0;
    if (rc == SQLITE_ROW) {
        if (store_col_str(s, 0, &out->action) < 0 || store_col_str(s, 1, &out->reason) < 0 ||
            store_col_str(s, 3, &out->set_by) < 0 || store_col_str(s, 4, &out->set_at) < 0)
            r = err_set(err, ERR_INTERNAL, "out of memory reading a sanction");
        out->until_ms = sqlite3_column_int64(s, 2);
        out->strikes_reset_ms = sqlite3_column_int64(s, 5);
        out->strikes = (long)sqlite3_column_int64(s, 6);
    } else {
        r = store_sql_err(c, err, "read author sanction");
    }
    store_stmt_done(s);
    if (r < 0) {
        author_sanction_free(out);
        return -1;
    }
    sm_sanction_resolve(out, pol, now_ms);
    return 0;
}

int store_author_sanction(store *st, const char *author, const policy_config *pol,
                          long long now_ms, author_sanction *out, mod_error *err)
{
    memset(out, 0, sizeof *out);
    if (!author || !*author)
        return 0;
    store_conn *c = store_reader_take(st);
    int r = sm_sanction_read(c, author, pol, now_ms, out, err);
    store_reader_give(st, c);
    return r;
}

/* ---------- strikes ---------- */

/* The strike policy the daemon last published (defaults as in rules/policy.conf otherwise).
 * Returns 1 when a published one was found. */
static int sm_policy_read(store_conn *c, long *window_s, int *probation, int *ban)
{
    int found = 0;
    *window_s = 30L * 86400;
    *probation = 3;
    *ban = 5;
    sqlite3_stmt *s = sm_stmt(c, SM_SETTING_GET, NULL);
    if (!s)
        return 0;
    sqlite3_bind_text(s, 1, "strikes", -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(s, 0);
        long w;
        int p, b;
        if (v && sscanf(v, "window_s=%ld probation=%d ban=%d", &w, &p, &b) == 3) {
            *window_s = w;
            *probation = p;
            *ban = b;
            found = 1;
        }
    }
    store_stmt_done(s);
    return found;
}

int store_strike_policy_set(store *st, const policy_config *pol, mod_error *err)
{
    char want[96];
    snprintf(want, sizeof want, "window_s=%ld probation=%d ban=%d", pol->strike_window_s,
             pol->probation_strikes, pol->ban_strikes);
    store_conn *c = store_sync_begin(st, err);
    if (!c)
        return -1;
    long w;
    int p, b;
    int found = sm_policy_read(c, &w, &p, &b);
    sqlite3_stmt *s = NULL;
    int r = 0;
    if (!found || w != pol->strike_window_s || p != pol->probation_strikes ||
        b != pol->ban_strikes) {
        if (!(s = sm_stmt(c, SM_SETTING_PUT, err)))
            r = -1;
        else {
            sqlite3_bind_text(s, 1, "strikes", -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, want, -1, SQLITE_TRANSIENT);
            r = sm_step_done(c, s, "save strike policy", err);
        }
    }
    return store_sync_end(st, c, r, err);
}

void store_strike_policy_get(store *st, policy_config *out)
{
    store_conn *c = store_reader_take(st);
    sm_policy_read(c, &out->strike_window_s, &out->probation_strikes, &out->ban_strikes);
    store_reader_give(st, c);
}

/*
 * Gives author a strike for comment_id inside the caller's transaction. When the strike brings
 * the author exactly to the probation or the ban threshold, appends a "sanction" event by the
 * policy (automatic sanctions are computed from strikes; this records the moment).
 */
static int sm_strike_add(store_conn *c, const char *author, const char *comment_id,
                         const char *source, mod_error *err)
{
    long long now = store_now_ms();
    sqlite3_stmt *s = sm_stmt(c, SM_STRIKE_ADD, err);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, comment_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, author, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    sqlite3_bind_text(s, 4, source, -1, SQLITE_STATIC);
    if (sm_step_done(c, s, "add strike", err) < 0)
        return -1;

    long window_s;
    int prob, ban;
    sm_policy_read(c, &window_s, &prob, &ban);
    if (!(s = sm_stmt(c, SM_STRIKE_COUNT, err)))
        return -1;
    sqlite3_bind_text(s, 1, author, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, window_s > 0 ? now - (long long)window_s * 1000 : 0);
    long n = sqlite3_step(s) == SQLITE_ROW ? (long)sqlite3_column_int64(s, 0) : -1;
    store_stmt_done(s);
    if (n < 0)
        return store_sql_err(c, err, "count strikes");
    const char *action = ban > 0 && n == ban ? "ban" : prob > 0 && n == prob ? "probation" : NULL;
    if (!action)
        return 0;
    store_buf b = {0};
    store_buf_add(&b, "{\"author\":", 10);
    store_buf_json_str(&b, author);
    store_buf_printf(&b, ",\"action\":\"%s\",\"source\":\"strikes\",\"strikes\":%ld,"
                         "\"window_s\":%ld,\"threshold\":%d}",
                     action, n, window_s, strcmp(action, "ban") == 0 ? ban : prob);
    return store_event_append_buf(c, "sanction", comment_id, "policy", &b, NULL, err);
}

static int sm_strike_del(store_conn *c, const char *comment_id, mod_error *err)
{
    sqlite3_stmt *s = sm_stmt(c, SM_STRIKE_DEL, err);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, comment_id, -1, SQLITE_STATIC);
    return sm_step_done(c, s, "withdraw strike", err);
}

int store_mod_after_insert(store_conn *w, const comment_record *rec, mod_error *err)
{
    /* Only the engine's own blocks count: a comment blocked because its author is banned
     * (reason set) is not new evidence against them. */
    if (!rec->state || strcmp(rec->state, "blocked") != 0 || rec->reason)
        return 0;
    char buf[512];
    const char *author = store_author_key(rec->author_id, rec->author_email, buf, sizeof buf);
    if (!author)
        return 0;
    return sm_strike_add(w, author, rec->id, "block", err);
}

/* ---------- decisions, reports, sanctions ---------- */

typedef struct {
    char state[16];
    char *author, *site, *ext_id;
} sm_comment;

static void sm_comment_free(sm_comment *c)
{
    free(c->author);
    free(c->site);
    free(c->ext_id);
    memset(c, 0, sizeof *c);
}

/* Reads a comment's state inside the transaction. 0, or -1 (ERR_NOT_FOUND when absent). */
static int sm_comment_read(store_conn *c, const char *id, sm_comment *out, mod_error *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = sm_stmt(c, SM_COMMENT_STATE, err);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s), r = 0;
    if (rc == SQLITE_ROW) {
        const char *state = (const char *)sqlite3_column_text(s, 0);
        snprintf(out->state, sizeof out->state, "%s", state ? state : "");
        if (store_col_str(s, 1, &out->author) < 0 || store_col_str(s, 2, &out->site) < 0 ||
            store_col_str(s, 3, &out->ext_id) < 0)
            r = err_set(err, ERR_INTERNAL, "out of memory");
    } else if (rc == SQLITE_DONE) {
        r = err_set(err, ERR_NOT_FOUND, "no comment with id \"%s\"", id);
    } else {
        r = store_sql_err(c, err, "read comment state");
    }
    store_stmt_done(s);
    if (r < 0)
        sm_comment_free(out);
    return r;
}

/* Event data for a decision or report: the change and the comment's CMS identity. */
static char *sm_change_data(const char *verb_key, const char *verb, const char *reason,
                            const char *before, const char *after, const sm_comment *cm,
                            const char *reporter, long reports)
{
    store_buf b = {0};
    store_buf_printf(&b, "{\"%s\":", verb_key);
    store_buf_json_str(&b, verb);
    store_buf_add(&b, ",\"reason\":", 10);
    store_buf_json_str(&b, reason);
    store_buf_add(&b, ",\"before\":", 10);
    store_buf_json_str(&b, before);
    store_buf_add(&b, ",\"after\":", 9);
    store_buf_json_str(&b, after);
    store_buf_add(&b, ",\"site\":", 8);
    store_buf_json_str(&b, cm->site);
    store_buf_add(&b, ",\"external_id\":", 15);
    store_buf_json_str(&b, cm->ext_id);
    store_buf_add(&b, ",\"author\":", 10);
    store_buf_json_str(&b, cm->author);
    if (reports > 0) {
        store_buf_add(&b, ",\"reporter\":", 12);
        store_buf_json_str(&b, reporter);
        store_buf_printf(&b, ",\"reports\":%ld", reports);
    }
    store_buf_add(&b, "}", 1);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

static int sm_set_state(store_conn *c, const char *id, const char *from, const char *to,
                        mod_error *err)
{
    char now[STORE_TS_LEN];
    store_now(now);
    sqlite3_stmt *s = sm_stmt(c, SM_COMMENT_CAS, err);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, to, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, from, -1, SQLITE_STATIC);
    if (sm_step_done(c, s, "update state", err) < 0)
        return -1;
    if (sqlite3_changes(c->db) != 1) /* cannot happen inside IMMEDIATE; the guard stays anyway */
        return err_set(err, ERR_CONFLICT, "the comment changed state meanwhile");
    return 0;
}

int store_decide(store *st, const char *id, const char *decision, const char *expected_state,
                 const char *reason, const char *actor, store_change *out, mod_error *err)
{
    memset(out, 0, sizeof *out);
    if (!decision || (strcmp(decision, "approve") != 0 && strcmp(decision, "reject") != 0))
        return err_set(err, ERR_BAD_FIELD, "\"decision\" must be \"approve\" or \"reject\"");
    if (expected_state && store_state_index(expected_state) < 0)
        return err_set(err, ERR_BAD_FIELD,
                       "\"expected_state\" must be one of accepted, held, blocked, approved, "
                       "rejected, reported");
    store_conn *c = store_sync_begin(st, err);
    if (!c)
        return -1;
    sm_comment cm;
    int r = sm_comment_read(c, id, &cm, err);
    if (r == 0) {
        snprintf(out->before, sizeof out->before, "%s", cm.state);
        const char *to = store_transition(cm.state, decision);
        if (expected_state && strcmp(expected_state, cm.state) != 0)
            r = err_set(err, ERR_CONFLICT, "the comment is %s now, not %s: someone decided first",
                        cm.state, expected_state);
        else if (!to)
            r = err_set(err, ERR_CONFLICT, "a comment that is %s cannot be %sd", cm.state,
                        decision);
        else
            snprintf(out->after, sizeof out->after, "%s", to);
    }
    if (r == 0)
        r = sm_set_state(c, id, out->before, out->after, err);
    if (r == 0) {
        char *data = sm_change_data("decision", decision, reason, out->before, out->after, &cm,
                                    NULL, 0);
        r = data ? store_event_append(c, "decision", id, actor, data, &out->seq, err)
                 : err_set(err, ERR_INTERNAL, "out of memory");
        free(data);
    }
    /* Rejecting is a strike (which may bring a threshold event after the decision's);
     * approving withdraws whatever strike the comment gave. */
    if (r == 0 && cm.author && strcmp(out->after, "rejected") == 0)
        r = sm_strike_add(c, cm.author, id, "reject", err);
    else if (r == 0 && strcmp(out->after, "approved") == 0)
        r = sm_strike_del(c, id, err);
    r = store_sync_end(st, c, r, err);
    if (r < 0)
        out->after[0] = '\0';
    sm_comment_free(&cm);
    return r;
}

int store_report(store *st, const char *id, const char *reporter, const char *reason,
                 const char *actor, store_change *out, mod_error *err)
{
    memset(out, 0, sizeof *out);
    store_conn *c = store_sync_begin(st, err);
    if (!c)
        return -1;
    sm_comment cm;
    int r = sm_comment_read(c, id, &cm, err);
    if (r == 0) {
        snprintf(out->before, sizeof out->before, "%s", cm.state);
        if (strcmp(cm.state, "accepted") != 0 && strcmp(cm.state, "approved") != 0 &&
            strcmp(cm.state, "reported") != 0)
            r = err_set(err, ERR_CONFLICT, "a comment that is %s is not published, so it cannot "
                        "be reported", cm.state);
    }
    char now[STORE_TS_LEN];
    store_now(now);
    sqlite3_stmt *s = r == 0 ? sm_stmt(c, SM_REPORT_ADD, err) : NULL;
    if (r == 0 && !s)
        r = -1;
    if (r == 0) {
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, actor, -1, SQLITE_STATIC); /* a NULL pointer binds SQL NULL */
        sqlite3_bind_text(s, 4, reporter, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, reason, -1, SQLITE_STATIC);
        r = sm_step_done(c, s, "add report", err);
        /* The same reader reporting again is ignored by the unique index. */
        if (r == 0 && sqlite3_changes(c->db) == 0)
            out->duplicate = 1;
    }
    if (r == 0 && !out->duplicate) {
        if (!(s = sm_stmt(c, SM_REPORT_BUMP, err))) {
            r = -1;
        } else {
            sqlite3_bind_text(s, 1, now, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
            if (sqlite3_step(s) == SQLITE_ROW)
                out->reports = (long)sqlite3_column_int64(s, 0);
            else
                r = store_sql_err(c, err, "count report");
            while (r == 0 && sqlite3_step(s) == SQLITE_ROW)
                ;
            store_stmt_done(s);
        }
    }
    if (r == 0 && !out->duplicate) {
        snprintf(out->after, sizeof out->after, "reported");
        char *data = sm_change_data("report", "report", reason, out->before, out->after, &cm,
                                    reporter, out->reports);
        r = data ? store_event_append(c, "report", id, actor, data, &out->seq, err)
                 : err_set(err, ERR_INTERNAL, "out of memory");
        free(data);
    } else if (r == 0) {
        snprintf(out->after, sizeof out->after, "%s", cm.state);
    }
    r = store_sync_end(st, c, r, err);
    sm_comment_free(&cm);
    return r;
}

int store_sanction_set(store *st, const char *author, const char *action, const char *reason,
                       long long until_ms, const char *actor, long *seq, mod_error *err)
{
    if (seq)
        *seq = 0;
    if (!author || !*author)
        return err_set(err, ERR_BAD_FIELD, "no author given");
    int clear = action && strcmp(action, "clear") == 0;
    if (!action || (!clear && strcmp(action, "ban") != 0 && strcmp(action, "probation") != 0))
        return err_set(err, ERR_BAD_FIELD, "\"action\" must be \"ban\", \"probation\" or \"clear\"");
    if (!clear && (!reason || !*reason))
        return err_set(err, ERR_BAD_FIELD, "a %s needs a \"reason\"", action);
    long long now = store_now_ms();
    if (!clear && until_ms && until_ms <= now)
        return err_set(err, ERR_BAD_FIELD, "\"until\" is in the past");

    store_conn *c = store_sync_begin(st, err);
    if (!c)
        return -1;
    /* The sanction before, for the event. */
    char *b_action = NULL, *b_reason = NULL;
    long long b_until = 0;
    int r = 0;
    sqlite3_stmt *s = sm_stmt(c, SM_SANCTION_GET, err);
    if (!s) {
        r = -1;
    } else {
        sqlite3_bind_text(s, 1, author, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            if (store_col_str(s, 0, &b_action) < 0 || store_col_str(s, 1, &b_reason) < 0)
                r = err_set(err, ERR_INTERNAL, "out of memory");
            b_until = sqlite3_column_int64(s, 2);
        } else if (rc != SQLITE_DONE) {
            r = store_sql_err(c, err, "read sanction");
        }
        store_stmt_done(s);
    }
    char now_iso[STORE_TS_LEN];
    store_now(now_iso);
    if (r == 0 && !(s = sm_stmt(c, SM_SANCTION_PUT, err)))
        r = -1;
    if (r == 0) {
        sqlite3_bind_text(s, 1, author, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, clear ? NULL : action, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
        if (!clear && until_ms)
            sqlite3_bind_int64(s, 4, until_ms);
        sqlite3_bind_text(s, 5, actor, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, now_iso, -1, SQLITE_STATIC);
        if (clear)
            sqlite3_bind_int64(s, 7, now);
        r = sm_step_done(c, s, "save sanction", err);
    }
    if (r == 0) {
        char iso[32];
        store_buf b = {0};
        store_buf_add(&b, "{\"author\":", 10);
        store_buf_json_str(&b, author);
        store_buf_printf(&b, ",\"action\":\"%s\",\"source\":\"manual\",\"reason\":", action);
        store_buf_json_str(&b, reason);
        store_buf_add(&b, ",\"until\":", 9);
        if (!clear && until_ms) {
            store_ms_iso(until_ms, iso);
            store_buf_json_str(&b, iso);
        } else {
            store_buf_add(&b, "null", 4);
        }
        if (clear)
            store_buf_add(&b, ",\"strikes_reset\":true", 21);
        store_buf_add(&b, ",\"before\":", 10);
        if (b_action) {
            store_buf_add(&b, "{\"action\":", 10);
            store_buf_json_str(&b, b_action);
            store_buf_add(&b, ",\"reason\":", 10);
            store_buf_json_str(&b, b_reason);
            store_buf_add(&b, ",\"until\":", 9);
            if (b_until) {
                store_ms_iso(b_until, iso);
                store_buf_json_str(&b, iso);
            } else {
                store_buf_add(&b, "null", 4);
            }
            store_buf_add(&b, "}", 1);
        } else {
            store_buf_add(&b, "null", 4);
        }
        store_buf_add(&b, "}", 1);
        r = store_event_append_buf(c, "sanction", NULL, actor, &b, seq, err);
    }
    free(b_action);
    free(b_reason);
    return store_sync_end(st, c, r, err);
}

/* ---------- reading ---------- */

const char *store_author_resolve(store *st, const char *author, char *buf, size_t len)
{
    snprintf(buf, len, "%s", author ? author : "");
    if (!strchr(buf, '@'))
        return buf;
    store_conn *c = store_reader_take(st);
    sqlite3_stmt *s = sm_stmt(c, SM_AUTHOR_EXISTS, NULL);
    int exists = 0;
    if (s) {
        sqlite3_bind_text(s, 1, buf, -1, SQLITE_STATIC);
        exists = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0);
        store_stmt_done(s);
    }
    store_reader_give(st, c);
    if (!exists) /* an e-mail, typed in any case: keys hold e-mails in lower case */
        for (char *p = buf; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    return buf;
}

void author_record_free(author_record *r)
{
    if (!r)
        return;
    free(r->key);
    author_sanction_free(&r->sanction);
    for (size_t i = 0; i < r->n_strikes; i++) {
        free(r->strikes[i].comment_id);
        free(r->strikes[i].source);
    }
    free(r->strikes);
    store_events_free(r->history, r->n_history);
    memset(r, 0, sizeof *r);
}

static int sm_author_record(store_conn *c, const char *author, const policy_config *pol,
                            int detail, author_record *out, mod_error *err)
{
    if (!(out->key = strdup(author)))
        return err_set(err, ERR_INTERNAL, "out of memory");
    if (sm_sanction_read(c, author, pol, store_now_ms(), &out->sanction, err) < 0)
        return -1;
    sqlite3_stmt *s = sm_stmt(c, SM_AUTHOR_COUNTS, err);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, author, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int i = store_state_index((const char *)sqlite3_column_text(s, 0));
        long n = (long)sqlite3_column_int64(s, 1);
        if (i >= 0)
            out->comments[i] = n;
        out->total += n;
    }
    store_stmt_done(s);
    if (rc != SQLITE_DONE)
        return store_sql_err(c, err, "count author comments");
    if (!detail)
        return 0;

    if (!(s = sm_stmt(c, SM_AUTHOR_STRIKES, err)))
        return -1;
    sqlite3_bind_text(s, 1, author, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, SM_AUTHOR_DETAIL);
    if (!(out->strikes = calloc(SM_AUTHOR_DETAIL, sizeof *out->strikes))) {
        store_stmt_done(s);
        return err_set(err, ERR_INTERNAL, "out of memory");
    }
    int r = 0;
    while (r == 0 && out->n_strikes < SM_AUTHOR_DETAIL && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        author_strike *k = &out->strikes[out->n_strikes++];
        if (store_col_str(s, 0, &k->comment_id) < 0 || store_col_str(s, 1, &k->source) < 0)
            r = err_set(err, ERR_INTERNAL, "out of memory");
        k->at_ms = sqlite3_column_int64(s, 2);
    }
    store_stmt_done(s);
    if (r < 0)
        return -1;
    if (!(s = sm_stmt(c, SM_AUTHOR_EVENTS, err)))
        return -1;
    sqlite3_bind_text(s, 1, author, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, SM_AUTHOR_DETAIL);
    return store_events_read(c, s, "read events", &out->history, &out->n_history, err);
}

int store_author_record(store *st, const char *author, const policy_config *pol, int detail,
                        author_record *out, mod_error *err)
{
    memset(out, 0, sizeof *out);
    if (!author || !*author)
        return err_set(err, ERR_BAD_FIELD, "no author given");
    store_conn *c = store_reader_take(st);
    int r = store_read_begin(c, err);
    if (r == 0)
        r = sm_author_record(c, author, pol, detail, out, err);
    store_read_end(c);
    store_reader_give(st, c);
    if (r < 0)
        author_record_free(out);
    return r;
}

/* The comment's newest reports into out (which counted them), inside the caller's read. */
static int sm_recent_reports(store_conn *c, const char *id, store_comment_mod *out, mod_error *err)
{
    int r = 0;
    sqlite3_stmt *s = sm_stmt(c, SM_COMMENT_REPORTS, err);
    if (!s)
        return -1;
    if (!(out->recent_reports = calloc(SM_RECENT_REPORTS, sizeof *out->recent_reports))) {
        r = err_set(err, ERR_INTERNAL, "out of memory");
    } else {
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 2, SM_RECENT_REPORTS);
        while (r == 0 && out->n_recent < SM_RECENT_REPORTS && sqlite3_step(s) == SQLITE_ROW) {
            store_report_entry *e = &out->recent_reports[out->n_recent++];
            if (store_col_str(s, 0, &e->at) < 0 || store_col_str(s, 1, &e->actor) < 0 ||
                store_col_str(s, 2, &e->reporter) < 0 || store_col_str(s, 3, &e->reason) < 0)
                r = err_set(err, ERR_INTERNAL, "out of memory");
        }
    }
    store_stmt_done(s);
    return r;
}

void store_queue_free(store_queue_item *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++) {
        store_comment_mod_free(&items[i].mod);
        comment_record_free(&items[i].rec);
    }
    free(items);
}

static void sm_queue_bind(sqlite3_stmt *s, const store_queue_query *q)
{
    sqlite3_bind_text(s, 1, q->state, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, q->site, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, q->thread, -1, SQLITE_STATIC);
    if (q->category >= 0)
        sqlite3_bind_int(s, 4, q->category);
}

int store_queue_list(store *st, const store_queue_query *q, store_queue_item **out, size_t *n,
                     long *total, mod_error *err)
{
    *out = NULL;
    *n = 0;
    if (total)
        *total = 0;
    if (store_state_index(q->state) < 0)
        return err_set(err, ERR_BAD_FIELD, "unknown state \"%s\"", q->state ? q->state : "");
    store_conn *c = store_reader_take(st);
    int r = store_read_begin(c, err);
    size_t cap = q->limit ? q->limit : 50;
    store_queue_item *items = NULL;
    sqlite3_stmt *s = r == 0 ? sm_stmt(c, SM_QUEUE, err) : NULL;
    if (r == 0 && !s)
        r = -1;
    if (r == 0 && !(items = calloc(cap, sizeof *items)))
        r = err_set(err, ERR_INTERNAL, "out of memory");
    if (r == 0) {
        sm_queue_bind(s, q);
        sqlite3_bind_int64(s, 5, q->after);
        sqlite3_bind_int64(s, 6, (sqlite3_int64)cap);
        int rc;
        while (r == 0 && *n < cap && (rc = sqlite3_step(s)) == SQLITE_ROW) {
            store_queue_item *it = &items[*n];
            if (store_row_comment(s, &it->rec, err) < 0)
                r = -1;
            else {
                (*n)++;
                it->mod.cursor = sqlite3_column_int64(s, COMMENT_NCOLS_SQL);
                it->mod.reports = (long)sqlite3_column_int64(s, COMMENT_NCOLS_SQL + 1);
                if (store_col_str(s, COMMENT_NCOLS_SQL + 2, &it->mod.author_key) < 0)
                    r = err_set(err, ERR_INTERNAL, "out of memory");
            }
        }
        if (r == 0 && *n < cap && rc != SQLITE_DONE)
            r = store_sql_err(c, err, "read queue");
        store_stmt_done(s);
    }
    /* the reports of the reported few, in the page's snapshot: no read per item later */
    for (size_t i = 0; r == 0 && i < *n; i++)
        if (items[i].mod.reports > 0)
            r = sm_recent_reports(c, items[i].rec.id, &items[i].mod, err);
    if (r == 0 && total) {
        if (!(s = sm_stmt(c, SM_QUEUE_COUNT, err))) {
            r = -1;
        } else {
            sm_queue_bind(s, q);
            if (sqlite3_step(s) == SQLITE_ROW)
                *total = (long)sqlite3_column_int64(s, 0);
            else
                r = store_sql_err(c, err, "count queue");
            store_stmt_done(s);
        }
    }
    store_read_end(c);
    store_reader_give(st, c);
    if (r < 0) {
        store_queue_free(items, *n);
        *n = 0;
        return -1;
    }
    *out = items;
    return 0;
}

void store_comment_mod_free(store_comment_mod *m)
{
    if (!m)
        return;
    free(m->author_key);
    for (size_t i = 0; i < m->n_recent; i++) {
        free(m->recent_reports[i].at);
        free(m->recent_reports[i].actor);
        free(m->recent_reports[i].reporter);
        free(m->recent_reports[i].reason);
    }
    free(m->recent_reports);
    store_events_free(m->history, m->n_history);
    memset(m, 0, sizeof *m);
}

int store_comment_mod_get(store *st, const char *id, int with_history, store_comment_mod *out,
                          mod_error *err)
{
    memset(out, 0, sizeof *out);
    store_conn *c = store_reader_take(st);
    int r = store_read_begin(c, err);
    sqlite3_stmt *s = r == 0 ? sm_stmt(c, SM_COMMENT_MOD, err) : NULL;
    if (r == 0 && !s)
        r = -1;
    if (r == 0) {
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            out->cursor = sqlite3_column_int64(s, 0);
            out->reports = (long)sqlite3_column_int64(s, 1);
            if (store_col_str(s, 2, &out->author_key) < 0)
                r = err_set(err, ERR_INTERNAL, "out of memory");
        } else if (rc == SQLITE_DONE) {
            r = err_set(err, ERR_NOT_FOUND, "no comment with id \"%s\"", id);
        } else {
            r = store_sql_err(c, err, "read comment");
        }
        store_stmt_done(s);
    }
    if (r == 0 && out->reports > 0)
        r = sm_recent_reports(c, id, out, err);
    if (r == 0 && with_history) { /* a scan of the comment's events: queue pages skip it */
        if (!(s = sm_stmt(c, SM_COMMENT_EVENTS, err)))
            r = -1;
        else {
            sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
            r = store_events_read(c, s, "read events", &out->history, &out->n_history, err);
        }
    }
    store_read_end(c);
    store_reader_give(st, c);
    if (r < 0)
        store_comment_mod_free(out);
    return r;
}

void store_feed_free(store_feed_entry *e, size_t n)
{
    for (size_t i = 0; e && i < n; i++) {
        free(e[i].at);
        free(e[i].comment_id);
        free(e[i].actor);
        free(e[i].data);
        free(e[i].site);
        free(e[i].ext_id);
    }
    free(e);
}

int store_decisions_since(store *st, long since, size_t limit, store_feed_entry **out, size_t *n,
                          mod_error *err)
{
    *out = NULL;
    *n = 0;
    size_t cap = limit ? limit : 100;
    store_feed_entry *e = calloc(cap, sizeof *e);
    if (!e)
        return err_set(err, ERR_INTERNAL, "out of memory");
    store_conn *c = store_reader_take(st);
    sqlite3_stmt *s = sm_stmt(c, SM_DECISIONS, err);
    int r = s ? 0 : -1;
    if (s) {
        sqlite3_bind_int64(s, 1, since);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)cap);
        int rc;
        while (r == 0 && *n < cap && (rc = sqlite3_step(s)) == SQLITE_ROW) {
            store_feed_entry *f = &e[(*n)++];
            f->seq = (long)sqlite3_column_int64(s, 0);
            if (store_col_str(s, 1, &f->at) < 0 || store_col_str(s, 2, &f->comment_id) < 0 ||
                store_col_str(s, 3, &f->actor) < 0 || store_col_str(s, 4, &f->data) < 0 ||
                store_col_str(s, 5, &f->site) < 0 || store_col_str(s, 6, &f->ext_id) < 0)
                r = err_set(err, ERR_INTERNAL, "out of memory");
        }
        if (r == 0 && *n < cap && rc != SQLITE_DONE)
            r = store_sql_err(c, err, "read decisions");
        store_stmt_done(s);
    }
    store_reader_give(st, c);
    if (r < 0) {
        store_feed_free(e, *n);
        *n = 0;
        return -1;
    }
    *out = e;
    return 0;
}
