/* store_audit.c - rule-set versions kept with their files, and the audit trail's own tools:
 * verifying the hash chain (and each comment against its verdict event), exporting events,
 * pruning old comment texts and personal data, and the salted hashes that let the chain cover
 * personal data without holding it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "store.h"
#include "store_internal.h"

/* Rows pruned per transaction, so the daemon's writer never waits long for the lock. */
#define AUDIT_PRUNE_BATCH 500
/* How far around its position a moved event is looked for. */
#define AUDIT_REORDER_SPAN 16

/* The personal fields of a comment, as named in the verdict event's "pii" object. */
static const struct {
    const char *name;
    size_t off;
} audit_pii_fields[] = {
    {"author_name", offsetof(comment_record, author_name)},
    {"author_email", offsetof(comment_record, author_email)},
    {"author_url", offsetof(comment_record, author_url)},
    {"ip", offsetof(comment_record, ip)},
    {"user_agent", offsetof(comment_record, user_agent)},
};
#define AUDIT_N_PII (sizeof audit_pii_fields / sizeof audit_pii_fields[0])

static const char *audit_pii(const comment_record *rec, size_t i)
{
    return *(char *const *)((const char *)rec + audit_pii_fields[i].off);
}

/* HMAC-SHA256 keyed by the comment's salt, in hex. */
static int audit_hmac(const char *salt, const char *value, char out[STORE_HASH_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t n = 0;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, salt, strlen(salt),
                   (const unsigned char *)value, strlen(value), md, sizeof md, &n) || n != 32)
        return -1;
    store_hex(md, n, out);
    return 0;
}

/* ---- salted hashes of personal data (called by store.c's writer) ---- */

int store_audit_salt(const comment_record *rec, char out[33], mod_error *err)
{
    out[0] = '\0';
    int any = 0;
    for (size_t i = 0; i < AUDIT_N_PII; i++)
        any |= audit_pii(rec, i) != NULL;
    if (!any)
        return 0;
    unsigned char raw[16];
    if (store_random(raw, sizeof raw, err) < 0)
        return -1;
    store_hex(raw, sizeof raw, out);
    return 1;
}

int store_audit_pii_json(store_buf *b, const comment_record *rec, const char *salt,
                         mod_error *err)
{
    if (!salt || !*salt)
        return 0;
    store_buf_add(b, ",\"pii\":{", 8);
    int first = 1;
    for (size_t i = 0; i < AUDIT_N_PII; i++) {
        const char *v = audit_pii(rec, i);
        char h[STORE_HASH_HEX];
        if (!v)
            continue;
        if (audit_hmac(salt, v, h) < 0)
            return err_set(err, ERR_INTERNAL, "HMAC-SHA256 failed");
        store_buf_printf(b, "%s\"%s\":\"%s\"", first ? "" : ",", audit_pii_fields[i].name, h);
        first = 0;
    }
    store_buf_add(b, "}", 1);
    return 0;
}

/* ---- statements ---- */

/* The rule-set reads run per request (explain, version-cache misses, the admin page), so they
 * are prepared once per connection; the audit tools' one-off queries below are not. */
typedef enum {
    AUDIT_RULESET_GET,
    AUDIT_RULESET_LIST,
    AUDIT_RULESET_LIST_COUNTS,
    AUDIT__COUNT
} audit_stmt_id;

static const char *const audit_sql[AUDIT__COUNT] = {
    [AUDIT_RULESET_GET] = "SELECT files, loaded_at FROM rulesets WHERE version = ?1",
    [AUDIT_RULESET_LIST] =
        "SELECT version, loaded_at, -1 FROM rulesets ORDER BY loaded_at, version",
    [AUDIT_RULESET_LIST_COUNTS] =
        "SELECT r.version, r.loaded_at, coalesce(c.n, 0) FROM rulesets r LEFT JOIN "
        "(SELECT ruleset, count(*) AS n FROM comments GROUP BY ruleset) c "
        "ON c.ruleset = r.version ORDER BY r.loaded_at, r.version",
};

_Static_assert(AUDIT__COUNT <= STORE_AUDIT_STMTS, "store_conn has a slot for every statement");

static sqlite3_stmt *audit_stmt(store_conn *c, audit_stmt_id id, mod_error *err)
{
    return store_stmt_cached(c, &c->audit[id], audit_sql[id], err);
}

static sqlite3_stmt *audit_prepare(store_conn *c, const char *sql, mod_error *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK) {
        store_sql_err(c, err, "prepare");
        sqlite3_finalize(s);
        return NULL;
    }
    return s;
}

/* ---- rule-set versions ---- */

int store_ruleset_record(store *st, const char *version, const char *files_json,
                         const char *actor, const char *event_data, mod_error *err)
{
    if (!version || !*version || !files_json)
        return err_set(err, ERR_BAD_FIELD, "a rule-set version needs a name and its files");
    char now[STORE_TS_LEN];
    store_now(now);
    store_conn *c = store_sync_begin(st, err);
    if (!c)
        return -1;
    sqlite3_stmt *s = audit_prepare(c,
                                    "INSERT OR IGNORE INTO rulesets (version, loaded_at, files)"
                                    " VALUES (?1, ?2, ?3)",
                                    err);
    int r = s ? 0 : -1;
    if (s) {
        sqlite3_bind_text(s, 1, version, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, files_json, -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE)
            r = store_sql_err(c, err, "keep rule-set version");
        sqlite3_finalize(s);
    }
    if (r == 0)
        r = store_event_append(c, "reload", NULL, actor, event_data, NULL, err);
    return store_sync_end(st, c, r, err);
}

int store_ruleset_get(store *st, const char *version, char **files_json, char **loaded_at,
                      mod_error *err)
{
    *files_json = NULL;
    if (loaded_at)
        *loaded_at = NULL;
    store_conn *c = store_reader_take(st);
    sqlite3_stmt *s = audit_stmt(c, AUDIT_RULESET_GET, err);
    int r = -1;
    if (s) {
        sqlite3_bind_text(s, 1, version ? version : "", -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            r = 0;
            if (store_col_str(s, 0, files_json) < 0 ||
                (loaded_at && store_col_str(s, 1, loaded_at) < 0))
                r = err_set(err, ERR_INTERNAL, "out of memory");
            if (r == 0 && !*files_json)
                r = err_set(err, ERR_NOT_FOUND, "rule-set version %s has no files kept",
                            version);
        } else if (rc == SQLITE_DONE) {
            err_set(err, ERR_NOT_FOUND, "no rule-set version \"%s\" is kept", version);
        } else {
            store_sql_err(c, err, "read rule-set version");
        }
        store_stmt_done(s);
    }
    store_reader_give(st, c);
    if (r < 0) {
        free(*files_json);
        *files_json = NULL;
        if (loaded_at) {
            free(*loaded_at);
            *loaded_at = NULL;
        }
    }
    return r;
}

void store_ruleset_list_free(store_ruleset_info *list, size_t count)
{
    for (size_t i = 0; list && i < count; i++) {
        free(list[i].version);
        free(list[i].loaded_at);
    }
    free(list);
}

static int ruleset_row(sqlite3_stmt *s, void *elem, mod_error *err)
{
    store_ruleset_info *it = elem;
    memset(it, 0, sizeof *it);
    it->comments = (long)sqlite3_column_int64(s, 2);
    if (store_col_str(s, 0, &it->version) < 0 || store_col_str(s, 1, &it->loaded_at) < 0) {
        free(it->version);
        return err_set(err, ERR_INTERNAL, "out of memory reading a rule-set version");
    }
    return 0;
}

static void rulesets_free(void *list, size_t n) { store_ruleset_list_free(list, n); }

int store_ruleset_list(store *st, int with_counts, store_ruleset_info **out, size_t *count,
                       mod_error *err)
{
    *out = NULL;
    *count = 0;
    store_conn *c = store_reader_take(st);
    sqlite3_stmt *s =
        audit_stmt(c, with_counts ? AUDIT_RULESET_LIST_COUNTS : AUDIT_RULESET_LIST, err);
    void *rows = NULL;
    int r = s ? store_rows_read(c, s, sizeof **out, ruleset_row, rulesets_free,
                                "list rule-set versions", &rows, count, err)
              : -1;
    store_reader_give(st, c);
    *out = rows;
    return r;
}

/* ---- verify ---- */

/* Events the chain walk found altered: comparing them with their comments says nothing more. */
typedef struct {
    long *seqs;
    size_t n, cap;
} audit_bad;

static void audit_bad_add(audit_bad *b, long seq)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        long *p = realloc(b->seqs, cap * sizeof *p);
        if (!p)
            return;
        b->seqs = p;
        b->cap = cap;
    }
    b->seqs[b->n++] = seq;
}

static int audit_bad_has(const audit_bad *b, long seq)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->seqs[i] == seq)
            return 1;
    return 0;
}

static void audit_problem(store_audit_report *rep, long seq, const char *comment_id,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void audit_problem(store_audit_report *rep, long seq, const char *comment_id,
                          const char *fmt, ...)
{
    rep->n_problems++;
    if (seq > 0 && rep->first_bad_seq == 0)
        rep->first_bad_seq = seq;
    if (comment_id && !rep->first_bad_comment[0])
        snprintf(rep->first_bad_comment, sizeof rep->first_bad_comment, "%s", comment_id);
    if (rep->n_problems > STORE_AUDIT_MAX_PROBLEMS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rep->problems[rep->n_problems - 1], sizeof rep->problems[0], fmt, ap);
    va_end(ap);
}

static int audit_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The event at some position does not hash as itself: was it moved from a nearby seq? */
static long audit_moved_from(store_event *ev)
{
    long seq = ev->seq;
    char h[STORE_HASH_HEX];
    for (long d = -AUDIT_REORDER_SPAN; d <= AUDIT_REORDER_SPAN; d++) {
        if (d == 0 || seq + d < 1)
            continue;
        ev->seq = seq + d;
        int ok = store_event_compute_hash(ev, h, NULL) == 0 && ev->hash && !strcmp(h, ev->hash);
        ev->seq = seq;
        if (ok)
            return seq + d;
    }
    return 0;
}

/* Walks the chain: every seq from 1 on, each event's prev_hash the hash of the one before, each
 * hash its content. After a problem the walk goes on from the stored hash, so a second, separate
 * change is reported too. */
static int audit_chain(store_conn *c, long anchor_seq, const char *anchor_hash,
                       store_audit_report *rep, audit_bad *bad, mod_error *err)
{
    sqlite3_stmt *s = audit_prepare(c, "SELECT " EVENT_COLS " FROM events ORDER BY seq", err);
    if (!s)
        return -1;
    char prev[STORE_HASH_HEX];
    memcpy(prev, store_zero_hash, sizeof prev);
    long expect = 1;
    int anchor_seen = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        store_event ev;
        if (store_row_event(s, &ev, err) < 0) {
            sqlite3_finalize(s);
            return -1;
        }
        rep->events++;
        char h[STORE_HASH_HEX];
        int self_ok = store_event_compute_hash(&ev, h, NULL) == 0 && ev.hash &&
                      strcmp(h, ev.hash) == 0;
        int link_ok = ev.prev_hash && strcmp(ev.prev_hash, prev) == 0;
        if (ev.seq != expect) {
            audit_problem(rep, expect, NULL,
                          ev.seq == expect + 1
                              ? "event %ld was removed: the log goes from event %ld to event %ld"
                              : "event %ld and the ones after it were removed: the log goes from "
                                "event %ld to event %ld",
                          expect, expect - 1, ev.seq);
        } else if (!self_ok) {
            audit_bad_add(bad, ev.seq);
            long from = audit_moved_from(&ev);
            if (from)
                audit_problem(rep, ev.seq, ev.comment_id,
                              "event %ld was reordered: the event at this place is event %ld "
                              "moved here", ev.seq, from);
            else
                audit_problem(rep, ev.seq, ev.comment_id,
                              "event %ld was altered: its content (%s%s%s) no longer matches its "
                              "hash", ev.seq, ev.type ? ev.type : "?",
                              ev.comment_id ? ", comment " : "",
                              ev.comment_id ? ev.comment_id : "");
        } else if (!link_ok) {
            /* This event is intact, so the one before it changed after this one was written. */
            audit_problem(rep, ev.seq - 1, NULL,
                          "event %ld was altered and re-hashed, or replaced: event %ld recorded "
                          "a different hash for it", ev.seq - 1, ev.seq);
        }
        if (anchor_seq > 0 && ev.seq == anchor_seq) {
            anchor_seen = 1;
            if (!ev.hash || strcmp(ev.hash, anchor_hash) != 0)
                audit_problem(rep, ev.seq, NULL,
                              "event %ld does not have the anchored hash %.16s...: the log was "
                              "rewritten up to there", ev.seq, anchor_hash);
        }
        snprintf(prev, sizeof prev, "%s", ev.hash ? ev.hash : "");
        expect = ev.seq + 1;
        rep->head_seq = ev.seq;
        snprintf(rep->head_hash, sizeof rep->head_hash, "%s", ev.hash ? ev.hash : "");
        store_event_free(&ev);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return store_sql_err(c, err, "read events");
    if (anchor_seq > 0 && !anchor_seen)
        audit_problem(rep, anchor_seq, NULL,
                      "anchored event %ld is not in the log (%ld events): events were removed "
                      "from its end", anchor_seq, rep->head_seq);
    return 0;
}

/* Each verdict event against its comment: verdict, rule set, text and personal data, as far as
 * the row still holds them; and every comment has a verdict event. */
static int audit_comments(store_conn *c, store_audit_report *rep, const audit_bad *bad,
                          mod_error *err)
{
    static const char sql[] =
        "SELECT e.seq, e.comment_id, c.id, c.verdict, c.ruleset, c.text, c.pii_salt, c.pruned_at,"
        " c.author_name, c.author_email, c.author_url, c.ip, c.user_agent,"
        " CASE WHEN json_valid(e.data) THEN json_extract(e.data, '$.verdict') END,"
        " CASE WHEN json_valid(e.data) THEN json_extract(e.data, '$.ruleset') END,"
        " CASE WHEN json_valid(e.data) THEN json_extract(e.data, '$.text_sha256') END,"
        " CASE WHEN json_valid(e.data) THEN json_extract(e.data, '$.pii.author_name') END,"
        " CASE WHEN json_valid(e.data) THEN json_extract(e.data, '$.pii.author_email') END,"
        " CASE WHEN json_valid(e.data) THEN json_extract(e.data, '$.pii.author_url') END,"
        " CASE WHEN json_valid(e.data) THEN json_extract(e.data, '$.pii.ip') END,"
        " CASE WHEN json_valid(e.data) THEN json_extract(e.data, '$.pii.user_agent') END"
        " FROM events e LEFT JOIN comments c ON c.id = e.comment_id"
        " WHERE e.type = 'verdict' ORDER BY e.seq";
    sqlite3_stmt *s = audit_prepare(c, sql, err);
    if (!s)
        return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        long seq = (long)sqlite3_column_int64(s, 0);
        const char *cid = (const char *)sqlite3_column_text(s, 1);
        char id[64];
        snprintf(id, sizeof id, "%s", cid ? cid : "?");
        if (sqlite3_column_type(s, 2) == SQLITE_NULL) {
            audit_problem(rep, seq, id,
                          "comment %s of verdict event %ld is gone from the comments table", id,
                          seq);
            continue;
        }
        if (audit_bad_has(bad, seq))
            continue; /* the event itself was changed: already reported */
        rep->comments++;
#define COL(i) ((const char *)sqlite3_column_text(s, (i)))
        const char *verdict = COL(3), *ruleset = COL(4), *text = COL(5), *salt = COL(6);
        const char *ev_verdict = COL(13), *ev_ruleset = COL(14), *ev_text = COL(15);
        if (!audit_eq(verdict, ev_verdict)) {
            audit_problem(rep, seq, id,
                          "comment %s was altered: its verdict \"%s\" is not the \"%s\" its "
                          "verdict event %ld recorded", id, verdict ? verdict : "",
                          ev_verdict ? ev_verdict : "?", seq);
            continue;
        }
        if (!audit_eq(ruleset, ev_ruleset)) {
            audit_problem(rep, seq, id,
                          "comment %s was altered: its rule set %s is not the %s its verdict "
                          "event %ld recorded", id, ruleset ? ruleset : "(none)",
                          ev_ruleset ? ev_ruleset : "?", seq);
            continue;
        }
        char h[STORE_HASH_HEX];
        /* An empty text was pruned or never kept (doNotStore): only its hash remains. */
        if (text && *text &&
            (store_sha256_hex(text, strlen(text), h, NULL) < 0 || !audit_eq(h, ev_text))) {
            audit_problem(rep, seq, id,
                          "comment %s was altered: its text does not match the hash in its "
                          "verdict event %ld", id, seq);
            continue;
        }
        for (size_t i = 0; salt && i < AUDIT_N_PII; i++) {
            const char *v = COL(8 + (int)i), *ev_h = COL(16 + (int)i);
            if (!v && !ev_h)
                continue;
            if (!v || !ev_h || audit_hmac(salt, v, h) < 0 || strcmp(h, ev_h) != 0) {
                audit_problem(rep, seq, id,
                              "comment %s was altered: its %s does not match its verdict event "
                              "%ld", id, audit_pii_fields[i].name, seq);
                break;
            }
        }
#undef COL
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return store_sql_err(c, err, "compare comments with their events");

    s = audit_prepare(c,
                      "SELECT c.id FROM comments c WHERE NOT EXISTS (SELECT 1 FROM events e"
                      " WHERE e.comment_id = c.id AND e.type = 'verdict') ORDER BY c.rowid",
                      err);
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *cid = (const char *)sqlite3_column_text(s, 0);
        audit_problem(rep, 0, cid,
                      "comment %s has no verdict event: its event was removed, or the row was "
                      "written behind the log's back", cid ? cid : "?");
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return store_sql_err(c, err, "find comments without events");
    return 0;
}

/* Each kept rule-set version: its files hash to its name (as rules.c computes a version: SHA-256
 * over name NUL content NUL, in name order), and a "reload" event in the chain went live with it.
 * So an explanation's rule lines are the ones that made the verdict. */
static int audit_rulesets(store_conn *c, store_audit_report *rep, mod_error *err)
{
    sqlite3_stmt *s = audit_prepare(
        c,
        "SELECT r.version, EXISTS (SELECT 1 FROM events e WHERE e.type = 'reload' AND"
        " json_valid(e.data) AND json_extract(e.data, '$.version') = r.version)"
        " FROM rulesets r ORDER BY r.loaded_at, r.version",
        err);
    sqlite3_stmt *f = s ? audit_prepare(c,
                                        "SELECT json_extract(j.value, '$.name'),"
                                        " json_extract(j.value, '$.content')"
                                        " FROM rulesets r, json_each(r.files) j"
                                        " WHERE r.version = ?1 AND json_valid(r.files)"
                                        " ORDER BY 1",
                                        err)
                        : NULL;
    if (!s || !f) {
        sqlite3_finalize(s);
        return -1;
    }
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(s, 0);
        char version[64];
        snprintf(version, sizeof version, "%s", v ? v : "");
        int announced = sqlite3_column_int(s, 1);
        ruleset_hash *vh = ruleset_hash_new();
        if (!vh) {
            sqlite3_finalize(s);
            sqlite3_finalize(f);
            return err_set(err, ERR_INTERNAL, "SHA-256 failed");
        }
        sqlite3_bind_text(f, 1, version, -1, SQLITE_TRANSIENT);
        int files = 0;
        while (sqlite3_step(f) == SQLITE_ROW) {
            const void *name = sqlite3_column_blob(f, 0), *content = sqlite3_column_blob(f, 1);
            int nl = sqlite3_column_bytes(f, 0), cl = sqlite3_column_bytes(f, 1);
            ruleset_hash_file(vh, name ? name : "", (size_t)nl, content ? content : "", (size_t)cl);
            files++;
        }
        sqlite3_reset(f);
        char hex[17];
        ruleset_hash_end(vh, hex);
        rep->versions++;
        if (!files || strcmp(hex, version) != 0)
            audit_problem(rep, 0, NULL,
                          "the kept files of rule-set version %s were altered: they hash to %s",
                          version, files ? hex : "nothing");
        else if (!announced)
            audit_problem(rep, 0, NULL,
                          "rule-set version %s is kept but no reload event put it live: the "
                          "rulesets table was written behind the log's back", version);
    }
    sqlite3_finalize(s);
    sqlite3_finalize(f);
    if (rc != SQLITE_DONE)
        return store_sql_err(c, err, "check kept rule-set versions");
    return 0;
}

int store_audit_verify(store *st, long anchor_seq, const char *anchor_hash,
                       store_audit_report *rep, mod_error *err)
{
    memset(rep, 0, sizeof *rep);
    store_conn *c = store_reader_take(st);
    /* One read transaction: a consistent snapshot while the daemon goes on writing. */
    audit_bad bad = {0};
    int r = store_read_begin(c, err);
    if (r == 0)
        r = audit_chain(c, anchor_seq, anchor_hash, rep, &bad, err);
    if (r == 0)
        r = audit_comments(c, rep, &bad, err);
    free(bad.seqs);
    if (r == 0)
        r = audit_rulesets(c, rep, err);
    if (r == 0) {
        sqlite3_stmt *s = audit_prepare(c,
                                        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
                                        " AND name IN ('events_no_update', 'events_no_delete')",
                                        err);
        if (!s)
            r = -1;
        else if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) != 2)
            audit_problem(rep, 0, NULL,
                          "the triggers that keep events append-only were dropped: someone "
                          "changed the schema to edit the log");
        sqlite3_finalize(s);
    }
    store_read_end(c);
    store_reader_give(st, c);
    return r;
}

/* ---- export ---- */

int store_audit_export(store *st, const char *since, long after_seq,
                       int (*fn)(void *ctx, const store_event *ev), void *ctx, long *count,
                       mod_error *err)
{
    if (count)
        *count = 0;
    store_conn *c = store_reader_take(st);
    int r = store_read_begin(c, err);
    sqlite3_stmt *s =
        r == 0 ? audit_prepare(c,
                               "SELECT " EVENT_COLS
                               " FROM events WHERE seq > ?1 AND (?2 IS NULL OR at >= ?2)"
                               " ORDER BY seq",
                               err)
               : NULL;
    if (r == 0 && !s)
        r = -1;
    if (s) {
        sqlite3_bind_int64(s, 1, after_seq);
        if (since)
            sqlite3_bind_text(s, 2, since, -1, SQLITE_STATIC);
        int rc;
        while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
            store_event ev;
            if (store_row_event(s, &ev, err) < 0) {
                r = -1;
                break;
            }
            int stop = fn(ctx, &ev);
            store_event_free(&ev);
            if (stop) {
                r = err_set(err, ERR_INTERNAL, "export stopped: cannot write");
                break;
            }
            if (count)
                (*count)++;
        }
        if (r == 0 && rc != SQLITE_DONE)
            r = store_sql_err(c, err, "read events");
        sqlite3_finalize(s);
    }
    store_read_end(c);
    store_reader_give(st, c);
    return r;
}

/* ---- prune ---- */

int store_audit_prune(store *st, const char *before, const char *actor, int dry_run,
                      long *pruned, long *seq_out, mod_error *err)
{
    *pruned = 0;
    if (seq_out)
        *seq_out = 0;
    if (!before || !*before)
        return err_set(err, ERR_BAD_FIELD, "prune needs a time");
    if (dry_run) {
        store_conn *c = store_reader_take(st);
        sqlite3_stmt *s = audit_prepare(c,
                                        "SELECT count(*) FROM comments WHERE created_at < ?1"
                                        " AND pruned_at IS NULL",
                                        err);
        int r = s ? 0 : -1;
        if (s) {
            sqlite3_bind_text(s, 1, before, -1, SQLITE_STATIC);
            if (sqlite3_step(s) == SQLITE_ROW)
                *pruned = (long)sqlite3_column_int64(s, 0);
            else
                r = store_sql_err(c, err, "count comments to prune");
            sqlite3_finalize(s);
        }
        store_reader_give(st, c);
        return r;
    }
    /* The texts, the personal fields, the salt that keyed their hashes in the chain (so those
     * hashes can no longer be linked to anyone), and the comment's words quoted in matches. */
    static const char sql[] =
        "UPDATE comments SET text = '', author_name = NULL, author_email = NULL,"
        " author_url = NULL, ip = NULL, user_agent = NULL, pii_salt = NULL, pruned_at = ?2,"
        " matches = CASE WHEN json_valid(matches) THEN (SELECT json_group_array(json_remove("
        "   value, '$.text', '$.matched', '$.context.text')) FROM json_each(comments.matches))"
        "   ELSE NULL END"
        " WHERE rowid IN (SELECT rowid FROM comments WHERE created_at < ?1"
        "   AND pruned_at IS NULL LIMIT ?3)";
    char now[STORE_TS_LEN];
    store_now(now);
    int r = 0;
    for (;;) {
        store_conn *c = store_sync_begin(st, err);
        if (!c)
            return -1;
        sqlite3_stmt *s = audit_prepare(c, sql, err);
        int n = 0;
        r = s ? 0 : -1;
        if (s) {
            sqlite3_bind_text(s, 1, before, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
            sqlite3_bind_int(s, 3, AUDIT_PRUNE_BATCH);
            if (sqlite3_step(s) != SQLITE_DONE)
                r = store_sql_err(c, err, "prune comments");
            else
                n = sqlite3_changes(c->db);
            sqlite3_finalize(s);
        }
        *pruned += n;
        int last = r == 0 && n < AUDIT_PRUNE_BATCH;
        if (last) {
            /* The last batch records the whole prune in the chain. */
            store_buf b = {0};
            store_buf_add(&b, "{\"before\":", 10);
            store_buf_json_str(&b, before);
            store_buf_printf(&b, ",\"comments\":%ld,", *pruned);
            static const char removed[] =
                "\"removed\":[\"text\",\"author_name\",\"author_email\",\"author_url\",\"ip\","
                "\"user_agent\",\"pii_salt\",\"matches.text\"]}";
            store_buf_add(&b, removed, sizeof removed - 1);
            r = store_event_append_buf(c, "prune", NULL, actor, &b, seq_out, err);
        }
        r = store_sync_end(st, c, r, err);
        if (r < 0 || last)
            break;
    }
    return r;
}
