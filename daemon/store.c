/* store.c - the SQLite store: schema, group-commit writer thread, reader pool, API keys, audit log. */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "store_internal.h" /* store_conn, struct store, helpers shared with store_moderation.c */

#define STORE_BUSY_TIMEOUT_MS 5000

const char store_zero_hash[STORE_HASH_HEX] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* Version 1. Each later version appends one entry; migration runs every entry past user_version. */
static const char *const store_migrations[] = {
    "CREATE TABLE comments ("
    "  rowid INTEGER PRIMARY KEY AUTOINCREMENT," /* AUTOINCREMENT: keyset cursors never see reuse */
    "  id TEXT UNIQUE NOT NULL,"
    "  site TEXT, ext_id TEXT, thread TEXT, parent_id TEXT,"
    "  author_id TEXT, author_name TEXT, author_email TEXT, author_url TEXT,"
    "  ip TEXT, user_agent TEXT,"
    "  text TEXT NOT NULL, verdict TEXT NOT NULL, state TEXT NOT NULL,"
    "  score REAL, profanity REAL, personal_attack REAL, ethnic_slur REAL,"
    "  matches TEXT, ruleset TEXT, reason TEXT,"
    "  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
    "CREATE UNIQUE INDEX comments_site_ext ON comments (coalesce(site, ''), ext_id)"
    "  WHERE ext_id IS NOT NULL;"
    "CREATE INDEX comments_state ON comments (state, rowid);"
    "CREATE TABLE api_keys ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  role TEXT NOT NULL CHECK (role IN ('cms', 'moderator', 'admin')),"
    "  key_hash TEXT UNIQUE NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  revoked_at TEXT);"
    "CREATE TABLE events ("
    "  seq INTEGER PRIMARY KEY,"
    "  at TEXT NOT NULL, type TEXT NOT NULL, comment_id TEXT, actor TEXT, data TEXT,"
    "  prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
    "CREATE INDEX events_comment ON events (comment_id, seq) WHERE comment_id IS NOT NULL;"
    /* The log is append-only; the hash chain detects edits made around these triggers. */
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
    "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
    "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE TABLE rulesets (version TEXT PRIMARY KEY, loaded_at TEXT, files TEXT);",

    /* Version 2: moderation (store_moderation.c). The author key is the author id, else the
     * e-mail in lower case; strikes and sanctions hang off it. Times in *_ms are Unix ms. */
    "ALTER TABLE comments ADD COLUMN author_key TEXT GENERATED ALWAYS AS ("
    "  CASE WHEN author_id <> '' THEN author_id"
    "       WHEN author_email <> '' THEN lower(author_email) END) VIRTUAL;"
    "ALTER TABLE comments ADD COLUMN reports INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX comments_author ON comments (author_key, state) WHERE author_key IS NOT NULL;"
    "CREATE TABLE reports ("
    "  id INTEGER PRIMARY KEY, comment_id TEXT NOT NULL, at TEXT NOT NULL,"
    "  actor TEXT, reporter TEXT, reason TEXT);"
    "CREATE INDEX reports_comment ON reports (comment_id, id);"
    "CREATE UNIQUE INDEX reports_once ON reports (comment_id, reporter) WHERE reporter IS NOT NULL;"
    "CREATE TABLE strikes ("
    "  comment_id TEXT PRIMARY KEY, author TEXT NOT NULL, at_ms INTEGER NOT NULL,"
    "  source TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX strikes_author ON strikes (author, at_ms);"
    "CREATE TABLE sanctions ("
    "  author TEXT PRIMARY KEY, action TEXT CHECK (action IN ('ban', 'probation')),"
    "  reason TEXT, until_ms INTEGER, set_by TEXT, set_at TEXT,"
    "  strikes_reset_ms INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX events_type ON events (type, seq);",

    /* Version 3: the audit trail (store_audit.c). A random salt per comment keys the hashes of
     * its personal data in the verdict event; `audit prune` deletes it with the data, so the
     * chain still verifies and its hashes link to no one. pruned_at marks a pruned row. */
    "ALTER TABLE comments ADD COLUMN pii_salt TEXT;"
    "ALTER TABLE comments ADD COLUMN pruned_at TEXT;",
};

_Static_assert(CAT__COUNT == 3, "comments has one column per category");

static const struct {
    char kind; /* 's' string, 'd' double */
    size_t off;
} comment_cols[] = {
    {'s', offsetof(comment_record, id)},
    {'s', offsetof(comment_record, site)},
    {'s', offsetof(comment_record, ext_id)},
    {'s', offsetof(comment_record, thread)},
    {'s', offsetof(comment_record, parent_id)},
    {'s', offsetof(comment_record, author_id)},
    {'s', offsetof(comment_record, author_name)},
    {'s', offsetof(comment_record, author_email)},
    {'s', offsetof(comment_record, author_url)},
    {'s', offsetof(comment_record, ip)},
    {'s', offsetof(comment_record, user_agent)},
    {'s', offsetof(comment_record, text)},
    {'s', offsetof(comment_record, verdict)},
    {'s', offsetof(comment_record, state)},
    {'d', offsetof(comment_record, score)},
    {'d', offsetof(comment_record, categories) + CAT_PROFANITY * sizeof(double)},
    {'d', offsetof(comment_record, categories) + CAT_PERSONAL_ATTACK * sizeof(double)},
    {'d', offsetof(comment_record, categories) + CAT_ETHNIC_SLUR * sizeof(double)},
    {'s', offsetof(comment_record, matches_json)},
    {'s', offsetof(comment_record, ruleset)},
    {'s', offsetof(comment_record, reason)},
    {'s', offsetof(comment_record, created_at)},
    {'s', offsetof(comment_record, updated_at)},
};
#define COMMENT_NCOLS (sizeof comment_cols / sizeof comment_cols[0])

#define KEY_COLS "id, name, role, created_at, revoked_at"

typedef enum {
    STMT_BEGIN,
    STMT_BEGIN_READ,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_SAVEPOINT,
    STMT_RELEASE,
    STMT_ROLLBACK_TO,
    STMT_COMMENT_INSERT,
    STMT_COMMENT_BY_ID,
    STMT_COMMENT_BY_EXT,
    STMT_COMMENT_COUNT,
    STMT_COMMENT_COUNT_STATE,
    STMT_EVENT_LAST,
    STMT_EVENT_INSERT,
    STMT_EVENT_LIST,
    STMT_KEY_INSERT,
    STMT_KEY_REVOKE,
    STMT_KEY_BY_HASH,
    STMT_KEY_LIST,
    STMT__COUNT
} store_stmt_id;

static const char *const stmt_sql[STMT__COUNT] = {
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_BEGIN_READ] = "BEGIN",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    [STMT_SAVEPOINT] = "SAVEPOINT job",
    [STMT_RELEASE] = "RELEASE job",
    [STMT_ROLLBACK_TO] = "ROLLBACK TO job",
    [STMT_COMMENT_INSERT] = "INSERT INTO comments (" COMMENT_COLS ", pii_salt) VALUES (?1, ?2, "
                            "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
                            "?18, ?19, ?20, ?21, ?22, ?23, :pii_salt)",
    [STMT_COMMENT_BY_ID] = "SELECT " COMMENT_COLS " FROM comments WHERE id = ?1",
    /* The expression matches the unique index so the lookup uses it. */
    [STMT_COMMENT_BY_EXT] = "SELECT " COMMENT_COLS " FROM comments"
                            " WHERE coalesce(site, '') = coalesce(?1, '') AND ext_id = ?2",
    [STMT_COMMENT_COUNT] = "SELECT count(*) FROM comments",
    /* Uses the (state, rowid) index. */
    [STMT_COMMENT_COUNT_STATE] = "SELECT count(*) FROM comments WHERE state = ?1",
    [STMT_EVENT_LAST] = "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
    [STMT_EVENT_INSERT] = "INSERT INTO events (" EVENT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [STMT_EVENT_LIST] = "SELECT " EVENT_COLS " FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    [STMT_KEY_INSERT] = "INSERT INTO api_keys (name, role, key_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
    [STMT_KEY_REVOKE] = "UPDATE api_keys SET revoked_at = ?1"
                        " WHERE revoked_at IS NULL AND (id = ?2 OR name = ?3) RETURNING id, name, role",
    [STMT_KEY_BY_HASH] = "SELECT " KEY_COLS " FROM api_keys WHERE key_hash = ?1",
    [STMT_KEY_LIST] = "SELECT " KEY_COLS " FROM api_keys ORDER BY id",
};

_Static_assert(STMT__COUNT <= STORE_STMT_SLOTS, "store_conn has a slot for every statement");

typedef struct store_job {
    struct store_job *next;
    comment_record rec;      /* our copy; becomes the stored row when inserted */
    comment_record existing; /* the earlier row when existed */
    store_done_fn done;
    void *ctx;
    int rc, existed;
    mod_error err;
} store_job;

/* struct store is in store_internal.h. */

/* ---------- small helpers ---------- */

void store_buf_add(store_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void store_buf_printf(store_buf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->oom = 1; /* only used for short numeric pieces */
        return;
    }
    store_buf_add(b, tmp, (size_t)n);
}

/* A JSON string literal, or null; escapes so caller-supplied values cannot break the object. */
void store_buf_json_str(store_buf *b, const char *s)
{
    if (!s) {
        store_buf_add(b, "null", 4);
        return;
    }
    store_buf_add(b, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') {
            char e[2] = {'\\', (char)*c};
            store_buf_add(b, e, 2);
        } else if (*c < 0x20) {
            store_buf_printf(b, "\\u%04x", *c);
        } else {
            store_buf_add(b, (const char *)c, 1);
        }
    }
    store_buf_add(b, "\"", 1);
}

void store_buf_json_num(store_buf *b, double v)
{
    if (v != v || v > 1e308 || v < -1e308) { /* NaN and infinities are not JSON */
        store_buf_add(b, "null", 4);
        return;
    }
    /* Shortest form that reads back as the same double: 0.1, not 0.10000000000000001. */
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%.15g", v);
    if (strtod(tmp, NULL) != v)
        snprintf(tmp, sizeof tmp, "%.17g", v);
    store_buf_add(b, tmp, strlen(tmp));
}

void store_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int store_sha256_hex(const void *data, size_t len, char out[STORE_HASH_HEX], mod_error *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return err_set(err, ERR_INTERNAL, "SHA-256 failed");
    store_hex(md, mdlen, out);
    return 0;
}

int store_random(void *buf, size_t n, mod_error *err)
{
    for (size_t got = 0; got < n;) {
        ssize_t k = getrandom((unsigned char *)buf + got, n - got, 0);
        if (k < 0 && errno != EINTR)
            return err_set(err, ERR_INTERNAL, "getrandom: %s", strerror(errno));
        if (k > 0)
            got += (size_t)k;
    }
    return 0;
}

/* UTC ISO-8601 with milliseconds: 2026-11-21T10:00:00.123Z */
void store_now(char out[STORE_TS_LEN])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, STORE_TS_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, STORE_TS_LEN - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static char **comment_str(comment_record *rec, size_t col)
{
    return (char **)((char *)rec + comment_cols[col].off);
}

static double *comment_num(comment_record *rec, size_t col)
{
    return (double *)((char *)rec + comment_cols[col].off);
}

void comment_record_free(comment_record *rec)
{
    if (!rec)
        return;
    for (size_t i = 0; i < COMMENT_NCOLS; i++)
        if (comment_cols[i].kind == 's')
            free(*comment_str(rec, i));
    memset(rec, 0, sizeof *rec);
}

int comment_record_copy(comment_record *dst, const comment_record *src)
{
    memset(dst, 0, sizeof *dst);
    for (size_t i = 0; i < COMMENT_NCOLS; i++) {
        if (comment_cols[i].kind == 'd') {
            *comment_num(dst, i) = *comment_num((comment_record *)src, i);
            continue;
        }
        const char *s = *comment_str((comment_record *)src, i);
        if (s && !(*comment_str(dst, i) = strdup(s))) {
            comment_record_free(dst);
            return -1;
        }
    }
    dst->text_withheld = src->text_withheld;
    return 0;
}

void api_key_info_free(api_key_info *k)
{
    if (!k)
        return;
    free(k->name);
    free(k->role);
    free(k->created_at);
    free(k->revoked_at);
    memset(k, 0, sizeof *k);
}

void api_key_list_free(api_key_info *list, size_t count)
{
    for (size_t i = 0; list && i < count; i++)
        api_key_info_free(&list[i]);
    free(list);
}

void store_event_free(store_event *ev)
{
    free(ev->at);
    free(ev->type);
    free(ev->comment_id);
    free(ev->actor);
    free(ev->data);
    free(ev->prev_hash);
    free(ev->hash);
    memset(ev, 0, sizeof *ev);
}

void store_events_free(store_event *ev, size_t count)
{
    for (size_t i = 0; ev && i < count; i++)
        store_event_free(&ev[i]);
    free(ev);
}

/* ---------- connections and statements ---------- */

int store_sql_err(store_conn *c, mod_error *err, const char *what)
{
    return err_set(err, ERR_STORE, "%s: %s", what, c->db ? sqlite3_errmsg(c->db) : "no connection");
}

sqlite3_stmt *store_stmt_cached(store_conn *c, sqlite3_stmt **slot, const char *sql,
                                mod_error *err)
{
    if (!*slot &&
        sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
        store_sql_err(c, err, "prepare");
        return NULL;
    }
    return *slot;
}

/* Returns the cached statement, reset and unbound, or NULL with err set. */
static sqlite3_stmt *store_stmt(store_conn *c, store_stmt_id id, mod_error *err)
{
    return store_stmt_cached(c, &c->stmt[id], stmt_sql[id], err);
}

/* Every use ends here, so no statement keeps a read snapshot open between calls. */
void store_stmt_done(sqlite3_stmt *s)
{
    if (s) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    }
}

/* Runs a statement without parameters or rows (BEGIN, COMMIT, SAVEPOINT...). */
static int store_exec_stmt(store_conn *c, store_stmt_id id, mod_error *err)
{
    sqlite3_stmt *s = store_stmt(c, id, err);
    if (!s)
        return -1;
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        store_sql_err(c, err, stmt_sql[id]);
        store_stmt_done(s);
        return -1;
    }
    store_stmt_done(s);
    return 0;
}

/* Ends a failed transaction if SQLite has not already rolled it back. */
void store_rollback(store_conn *c)
{
    if (c->db && !sqlite3_get_autocommit(c->db))
        store_exec_stmt(c, STMT_ROLLBACK, NULL);
}

/* The one write transaction of the synchronous connection (keys, events, moderation, audit). */
store_conn *store_sync_begin(store *st, mod_error *err)
{
    pthread_mutex_lock(&st->sync_lock);
    if (store_exec_stmt(&st->sync, STMT_BEGIN, err) < 0) {
        pthread_mutex_unlock(&st->sync_lock);
        return NULL;
    }
    return &st->sync;
}

int store_sync_end(store *st, store_conn *c, int rc, mod_error *err)
{
    if (rc == 0 && store_exec_stmt(c, STMT_COMMIT, err) < 0)
        rc = -1;
    if (rc < 0)
        store_rollback(c);
    pthread_mutex_unlock(&st->sync_lock);
    return rc;
}

int store_read_begin(store_conn *c, mod_error *err)
{
    return store_exec_stmt(c, STMT_BEGIN_READ, err);
}

void store_read_end(store_conn *c)
{
    if (!sqlite3_get_autocommit(c->db))
        store_exec_stmt(c, STMT_COMMIT, NULL);
}

/* Finalizes every module's cached statements (NULL slots are fine), then the connection. */
static void store_conn_close(store_conn *c)
{
    for (int i = 0; i < STORE_STMT_SLOTS; i++)
        sqlite3_finalize(c->stmt[i]);
    for (int i = 0; i < STORE_MOD_STMTS; i++)
        sqlite3_finalize(c->mod[i]);
    for (int i = 0; i < STORE_AUDIT_STMTS; i++)
        sqlite3_finalize(c->audit[i]);
    sqlite3_close(c->db);
    memset(c, 0, sizeof *c);
}

static int store_conn_open(store_conn *c, const char *path, int reader, mod_error *err)
{
    memset(c, 0, sizeof *c);
    /* NOMUTEX: each connection is used by one thread at a time, which our own locks guarantee. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
        err_set(err, ERR_STORE, "open %s: %s", path, c->db ? sqlite3_errmsg(c->db) : "out of memory");
        store_conn_close(c);
        return -1;
    }
    sqlite3_extended_result_codes(c->db, 1);
    char pragmas[160];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA busy_timeout = %d; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;%s",
             STORE_BUSY_TIMEOUT_MS, reader ? " PRAGMA query_only = ON;" : "");
    if (sqlite3_exec(c->db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
        store_sql_err(c, err, path);
        store_conn_close(c);
        return -1;
    }
    return 0;
}

/* WAL mode (persistent in the file) and the schema, on the first connection opened. */
static int store_migrate(store_conn *c, const char *path, mod_error *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK)
        return store_sql_err(c, err, path);
    int rc = sqlite3_step(s);
    const char *mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
    int wal = mode && strcmp(mode, "wal") == 0;
    if (!wal) {
        if (rc == SQLITE_ROW)
            err_set(err, ERR_STORE, "%s: cannot use WAL mode (journal mode is %s)", path,
                    mode ? mode : "unknown");
        else
            store_sql_err(c, err, path);
    }
    sqlite3_finalize(s);
    if (!wal)
        return -1;

    /* IMMEDIATE so the daemon and moderatorctl starting together cannot both migrate. */
    if (store_exec_stmt(c, STMT_BEGIN, err) < 0)
        return -1;
    int version = -1;
    if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    int latest = (int)(sizeof store_migrations / sizeof store_migrations[0]);
    if (version < 0) {
        store_sql_err(c, err, "read schema version");
        goto fail;
    }
    if (version > latest) {
        err_set(err, ERR_STORE, "%s: schema version %d is newer than this build knows (%d)", path,
                version, latest);
        goto fail;
    }
    for (int v = version; v < latest; v++) {
        char set[48];
        snprintf(set, sizeof set, "PRAGMA user_version = %d", v + 1);
        if (sqlite3_exec(c->db, store_migrations[v], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(c->db, set, NULL, NULL, NULL) != SQLITE_OK) {
            char what[64];
            snprintf(what, sizeof what, "migrate schema to version %d", v + 1);
            store_sql_err(c, err, what);
            goto fail;
        }
    }
    if (store_exec_stmt(c, STMT_COMMIT, err) < 0)
        goto fail;
    return 0;
fail:
    store_rollback(c);
    return -1;
}

store_conn *store_reader_take(store *st)
{
    pthread_mutex_lock(&st->read_lock);
    while (st->nfree == 0)
        pthread_cond_wait(&st->read_cond, &st->read_lock);
    store_conn *c = st->free_readers[--st->nfree];
    pthread_mutex_unlock(&st->read_lock);
    return c;
}

void store_reader_give(store *st, store_conn *c)
{
    pthread_mutex_lock(&st->read_lock);
    st->free_readers[st->nfree++] = c;
    pthread_cond_signal(&st->read_cond);
    pthread_mutex_unlock(&st->read_lock);
}

/* ---------- rows ---------- */

int store_col_str(sqlite3_stmt *s, int col, char **out)
{
    *out = NULL;
    if (sqlite3_column_type(s, col) == SQLITE_NULL)
        return 0;
    const unsigned char *t = sqlite3_column_text(s, col);
    int n = sqlite3_column_bytes(s, col);
    if (!t || !(*out = malloc((size_t)n + 1)))
        return -1;
    memcpy(*out, t, (size_t)n);
    (*out)[n] = '\0';
    return 0;
}

int store_row_comment(sqlite3_stmt *s, comment_record *out, mod_error *err)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < COMMENT_NCOLS; i++) {
        if (comment_cols[i].kind == 'd') {
            *comment_num(out, i) = sqlite3_column_double(s, (int)i);
        } else if (store_col_str(s, (int)i, comment_str(out, i)) < 0) {
            comment_record_free(out);
            return err_set(err, ERR_INTERNAL, "out of memory reading a comment");
        }
    }
    return 0;
}

static int store_row_key(sqlite3_stmt *s, api_key_info *out, mod_error *err)
{
    memset(out, 0, sizeof *out);
    out->id = (long)sqlite3_column_int64(s, 0);
    if (store_col_str(s, 1, &out->name) < 0 || store_col_str(s, 2, &out->role) < 0 ||
        store_col_str(s, 3, &out->created_at) < 0 || store_col_str(s, 4, &out->revoked_at) < 0) {
        api_key_info_free(out);
        return err_set(err, ERR_INTERNAL, "out of memory reading a key");
    }
    return 0;
}

int store_row_event(sqlite3_stmt *s, store_event *out, mod_error *err)
{
    memset(out, 0, sizeof *out);
    out->seq = (long)sqlite3_column_int64(s, 0);
    char **f[] = {&out->at, &out->type, &out->comment_id, &out->actor,
                  &out->data, &out->prev_hash, &out->hash};
    for (int i = 0; i < 7; i++)
        if (store_col_str(s, i + 1, f[i]) < 0) {
            store_event_free(out);
            return err_set(err, ERR_INTERNAL, "out of memory reading an event");
        }
    return 0;
}

int store_rows_read(store_conn *c, sqlite3_stmt *s, size_t elem_size, store_row_fn row,
                    store_rows_free_fn rows_free, const char *what, void **out, size_t *count,
                    mod_error *err)
{
    char *rows = NULL;
    size_t n = 0, cap = 0;
    int rc = SQLITE_DONE, r = 0;
    while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char *p = realloc(rows, ncap * elem_size);
            if (!p) {
                r = err_set(err, ERR_INTERNAL, "out of memory: %s", what);
                break;
            }
            rows = p;
            cap = ncap;
        }
        if (row(s, rows + n * elem_size, err) < 0) /* a failed row frees its own fields */
            r = -1;
        else
            n++;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_sql_err(c, err, what);
    store_stmt_done(s);
    if (r < 0) {
        rows_free(rows, n);
        rows = NULL;
        n = 0;
    }
    *out = rows;
    *count = n;
    return r;
}

static int event_row(sqlite3_stmt *s, void *ev, mod_error *err)
{
    return store_row_event(s, ev, err);
}

static void events_free(void *ev, size_t n) { store_events_free(ev, n); }

int store_events_read(store_conn *c, sqlite3_stmt *s, const char *what, store_event **out,
                      size_t *count, mod_error *err)
{
    void *rows;
    int r = store_rows_read(c, s, sizeof **out, event_row, events_free, what, &rows, count, err);
    *out = rows;
    return r;
}

/* ---------- audit events ---------- */

/* The canonical form documented in store.h: each field as "<len>:<bytes>," or "~" for NULL. */
static void store_canon_field(store_buf *b, const char *s)
{
    if (!s) {
        store_buf_add(b, "~", 1);
        return;
    }
    size_t n = strlen(s);
    store_buf_printf(b, "%zu:", n);
    store_buf_add(b, s, n);
    store_buf_add(b, ",", 1);
}

static int store_event_hash(long seq, const char *at, const char *type, const char *comment_id,
                            const char *actor, const char *data, const char *prev_hash,
                            char out[STORE_HASH_HEX], mod_error *err)
{
    store_buf b = {0};
    char seqs[24];
    snprintf(seqs, sizeof seqs, "%ld", seq);
    const char *fields[] = {seqs, at, type, comment_id, actor, data, prev_hash};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        store_canon_field(&b, fields[i]);
    int rc = b.oom ? err_set(err, ERR_INTERNAL, "out of memory hashing an event")
                   : store_sha256_hex(b.p, b.len, out, err);
    free(b.p);
    return rc;
}

int store_event_compute_hash(const store_event *ev, char out[65], mod_error *err)
{
    return store_event_hash(ev->seq, ev->at, ev->type, ev->comment_id, ev->actor, ev->data,
                            ev->prev_hash, out, err);
}

/* Appends one event inside the caller's IMMEDIATE transaction, chained to the newest event. */
int store_event_append(store_conn *c, const char *type, const char *comment_id, const char *actor,
                       const char *data, long *seq_out, mod_error *err)
{
    sqlite3_stmt *s = store_stmt(c, STMT_EVENT_LAST, err);
    if (!s)
        return -1;
    long seq = 1;
    char prev[STORE_HASH_HEX];
    memcpy(prev, store_zero_hash, sizeof prev);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        seq = (long)sqlite3_column_int64(s, 0) + 1;
        const char *h = (const char *)sqlite3_column_text(s, 1);
        if (!h || strlen(h) != 64) {
            store_stmt_done(s);
            return err_set(err, ERR_STORE, "event %ld has a malformed hash", seq - 1);
        }
        memcpy(prev, h, sizeof prev);
    } else if (rc != SQLITE_DONE) {
        store_sql_err(c, err, "read last event");
        store_stmt_done(s);
        return -1;
    }
    store_stmt_done(s);

    char at[STORE_TS_LEN], hash[STORE_HASH_HEX];
    store_now(at);
    if (store_event_hash(seq, at, type, comment_id, actor, data, prev, hash, err) < 0)
        return -1;
    if (!(s = store_stmt(c, STMT_EVENT_INSERT, err)))
        return -1;
    sqlite3_bind_int64(s, 1, seq);
    sqlite3_bind_text(s, 2, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, comment_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, data, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, prev, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, hash, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc != SQLITE_DONE)
        store_sql_err(c, err, "append event");
    store_stmt_done(s);
    if (rc != SQLITE_DONE)
        return -1;
    if (seq_out)
        *seq_out = seq;
    return 0;
}

int store_event_append_buf(store_conn *c, const char *type, const char *comment_id,
                           const char *actor, store_buf *data, long *seq_out, mod_error *err)
{
    int r = data->oom ? err_set(err, ERR_INTERNAL, "out of memory")
                      : store_event_append(c, type, comment_id, actor, data->p, seq_out, err);
    free(data->p);
    memset(data, 0, sizeof *data);
    return r;
}

/* ---------- writer thread ---------- */

/* The verdict event: what was decided, with which rules, and hashes (never the values) of the text
 * and, keyed by the comment's salt, of its personal data. */
static int store_verdict_data(const comment_record *rec, const char *salt, char **out,
                              mod_error *err)
{
    static const char *const cat_names[CAT__COUNT] = {"profanity", "personal_attack", "ethnic_slur"};
    char text_hash[STORE_HASH_HEX];
    if (store_sha256_hex(rec->text, strlen(rec->text), text_hash, err) < 0)
        return -1;
    store_buf b = {0};
    store_buf_add(&b, "{\"verdict\":", 11);
    store_buf_json_str(&b, rec->verdict);
    store_buf_add(&b, ",\"state\":", 9);
    store_buf_json_str(&b, rec->state);
    store_buf_add(&b, ",\"score\":", 9);
    store_buf_json_num(&b, rec->score);
    store_buf_add(&b, ",\"categories\":{", 15);
    for (int i = 0; i < CAT__COUNT; i++) {
        store_buf_printf(&b, "%s\"%s\":", i ? "," : "", cat_names[i]);
        store_buf_json_num(&b, rec->categories[i]);
    }
    store_buf_add(&b, "},\"ruleset\":", 12);
    store_buf_json_str(&b, rec->ruleset);
    if (rec->reason) { /* e.g. "author_banned": an author sanction decided, not the score */
        store_buf_add(&b, ",\"reason\":", 10);
        store_buf_json_str(&b, rec->reason);
    }
    if (rec->text_withheld) /* doNotStore: the hash below is all that is kept of the text */
        store_buf_add(&b, ",\"text_withheld\":true", 21);
    store_buf_printf(&b, ",\"text_sha256\":\"%s\"", text_hash);
    if (store_audit_pii_json(&b, rec, salt, err) < 0) {
        free(b.p);
        return -1;
    }
    store_buf_add(&b, "}", 1);
    if (b.oom) {
        free(b.p);
        return err_set(err, ERR_INTERNAL, "out of memory building event data");
    }
    *out = b.p;
    return 0;
}

static int store_job_insert(store_conn *w, store_job *j)
{
    sqlite3_stmt *s;
    if (j->rec.ext_id) {
        if (!(s = store_stmt(w, STMT_COMMENT_BY_EXT, &j->err)))
            return -1;
        sqlite3_bind_text(s, 1, j->rec.site, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, j->rec.ext_id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            int r = store_row_comment(s, &j->existing, &j->err);
            store_stmt_done(s);
            if (r == 0)
                j->existed = 1;
            return r;
        }
        if (rc != SQLITE_DONE) {
            store_sql_err(w, &j->err, "look up (site, ext_id)");
            store_stmt_done(s);
            return -1;
        }
        store_stmt_done(s);
    }

    char now[STORE_TS_LEN];
    store_now(now);
    free(j->rec.created_at);
    free(j->rec.updated_at);
    j->rec.created_at = strdup(now);
    j->rec.updated_at = strdup(now);
    if (!j->rec.created_at || !j->rec.updated_at)
        return err_set(&j->err, ERR_INTERNAL, "out of memory");

    char salt[33]; /* keys the hashes of the personal data in the verdict event (store_audit.c) */
    if (store_audit_salt(&j->rec, salt, &j->err) < 0)
        return -1;
    if (!(s = store_stmt(w, STMT_COMMENT_INSERT, &j->err)))
        return -1;
    if (salt[0])
        sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":pii_salt"), salt, -1,
                          SQLITE_STATIC);
    for (size_t i = 0; i < COMMENT_NCOLS; i++) {
        if (comment_cols[i].kind == 'd')
            sqlite3_bind_double(s, (int)i + 1, *comment_num(&j->rec, i));
        else if (comment_cols[i].off == offsetof(comment_record, text) && j->rec.text_withheld)
            sqlite3_bind_text(s, (int)i + 1, "", 0, SQLITE_STATIC);
        else
            sqlite3_bind_text(s, (int)i + 1, *comment_str(&j->rec, i), -1, SQLITE_STATIC);
    }
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE)
        store_sql_err(w, &j->err, "insert comment");
    store_stmt_done(s);
    if (rc != SQLITE_DONE)
        return -1;

    char *data = NULL;
    if (store_verdict_data(&j->rec, salt, &data, &j->err) < 0)
        return -1;
    rc = store_event_append(w, "verdict", j->rec.id, "engine", data, NULL, &j->err);
    free(data);
    if (rc == 0) /* a blocked comment is a strike for its author (store_moderation.c) */
        rc = store_mod_after_insert(w, &j->rec, &j->err);
    if (rc == 0 && j->rec.text_withheld) { /* the caller sees the row as stored */
        char *empty = strdup("");
        if (!empty)
            return err_set(&j->err, ERR_INTERNAL, "out of memory");
        free(j->rec.text);
        j->rec.text = empty;
    }
    return rc;
}

/* One job inside a savepoint, so a failing job leaves the rest of the batch intact. */
static int store_job_run(store_conn *w, store_job *j)
{
    if (store_exec_stmt(w, STMT_SAVEPOINT, &j->err) < 0)
        return -1;
    if (store_job_insert(w, j) == 0)
        return store_exec_stmt(w, STMT_RELEASE, &j->err);
    if (!sqlite3_get_autocommit(w->db)) {
        store_exec_stmt(w, STMT_ROLLBACK_TO, NULL);
        store_exec_stmt(w, STMT_RELEASE, NULL);
    }
    return -1;
}

static void store_batch_run(store *st, store_job *batch)
{
    store_conn *w = &st->wconn;
    mod_error terr = {0};
    long n = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int ok = store_exec_stmt(w, STMT_BEGIN, &terr) == 0;
    for (store_job *j = batch; j; j = j->next) {
        n++;
        if (!ok)
            continue;
        j->rc = store_job_run(w, j);
        /* Some errors (disk full, I/O) roll back the whole transaction, not just the job. */
        if (j->rc < 0 && sqlite3_get_autocommit(w->db)) {
            terr = j->err;
            ok = 0;
        }
    }
    if (ok && store_exec_stmt(w, STMT_COMMIT, &terr) < 0)
        ok = 0;
    if (!ok) {
        store_rollback(w);
        for (store_job *j = batch; j; j = j->next) {
            j->rc = -1;
            j->err = terr;
            if (j->err.code == ERR_NONE)
                err_set(&j->err, ERR_STORE, "transaction failed");
        }
    }

    clock_gettime(CLOCK_MONOTONIC, &t1);

    pthread_mutex_lock(&st->q_lock);
    st->batches++;
    st->jobs += n;
    store_batch_fn observer = st->batch_observer;
    void *observer_arg = st->batch_observer_arg;
    pthread_mutex_unlock(&st->q_lock);
    if (observer)
        observer(observer_arg, n,
                 (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);

    /* Callbacks only after COMMIT: a caller told "stored" can rely on it. */
    while (batch) {
        store_job *j = batch;
        batch = j->next;
        if (j->done) {
            const comment_record *stored = j->rc < 0 ? NULL : j->existed ? &j->existing : &j->rec;
            j->done(j->ctx, j->rc, stored, j->existed, j->rc < 0 ? &j->err : NULL);
        }
        comment_record_free(&j->rec);
        comment_record_free(&j->existing);
        free(j);
    }
}

static void *store_writer_main(void *arg)
{
    store *st = arg;
    for (;;) {
        pthread_mutex_lock(&st->q_lock);
        while (!st->q_head && !st->closing)
            pthread_cond_wait(&st->q_cond, &st->q_lock);
        store_job *batch = st->q_head;
        st->q_head = st->q_tail = NULL;
        pthread_mutex_unlock(&st->q_lock);
        if (!batch)
            break; /* closing and drained */
        store_batch_run(st, batch);
    }
    return NULL;
}

int store_submit_comment(store *st, const comment_record *rec, store_done_fn done, void *ctx)
{
    if (!st || !st->writer || !rec || !rec->id || !rec->text || !rec->verdict || !rec->state)
        return -1;
    store_job *j = calloc(1, sizeof *j);
    if (!j)
        return -1;
    if (comment_record_copy(&j->rec, rec) < 0) {
        free(j);
        return -1;
    }
    j->done = done;
    j->ctx = ctx;

    pthread_mutex_lock(&st->q_lock);
    if (st->closing) {
        pthread_mutex_unlock(&st->q_lock);
        comment_record_free(&j->rec);
        free(j);
        return -1;
    }
    if (st->q_tail)
        st->q_tail->next = j;
    else
        st->q_head = j;
    st->q_tail = j;
    pthread_cond_signal(&st->q_cond);
    pthread_mutex_unlock(&st->q_lock);
    return 0;
}

void store_writer_stats(store *st, long *batches, long *jobs)
{
    pthread_mutex_lock(&st->q_lock);
    if (batches)
        *batches = st->batches;
    if (jobs)
        *jobs = st->jobs;
    pthread_mutex_unlock(&st->q_lock);
}

/* ---------- open / close ---------- */

static void store_free(store *st)
{
    store_conn_close(&st->wconn);
    for (size_t i = 0; i < st->nreaders; i++)
        store_conn_close(&st->readers[i]);
    store_conn_close(&st->sync);
    pthread_mutex_destroy(&st->sync_lock);
    pthread_mutex_destroy(&st->read_lock);
    pthread_cond_destroy(&st->read_cond);
    pthread_mutex_destroy(&st->q_lock);
    pthread_cond_destroy(&st->q_cond);
    free(st->path);
    free(st);
}

int store_open(const char *path, int writer, store **out, mod_error *err)
{
    *out = NULL;
    if (!path || !*path)
        return err_set(err, ERR_STORE, "no database path");
    store *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        free(st);
        return err_set(err, ERR_INTERNAL, "out of memory");
    }
    pthread_mutex_init(&st->sync_lock, NULL);
    pthread_mutex_init(&st->read_lock, NULL);
    pthread_cond_init(&st->read_cond, NULL);
    pthread_mutex_init(&st->q_lock, NULL);
    pthread_cond_init(&st->q_cond, NULL);
    st->writer = writer;

    if (store_conn_open(&st->sync, path, 0, err) < 0 || store_migrate(&st->sync, path, err) < 0)
        goto fail;
    size_t want = writer ? STORE_READERS : 1;
    for (; st->nreaders < want; st->nreaders++) {
        if (store_conn_open(&st->readers[st->nreaders], path, 1, err) < 0)
            goto fail;
        st->free_readers[st->nfree++] = &st->readers[st->nreaders];
    }
    if (writer) {
        if (store_conn_open(&st->wconn, path, 0, err) < 0)
            goto fail;
        if (pthread_create(&st->thread, NULL, store_writer_main, st) != 0) {
            err_set(err, ERR_INTERNAL, "cannot start the store writer thread");
            goto fail;
        }
        st->thread_started = 1;
    }
    *out = st;
    return 0;
fail:
    store_free(st);
    return -1;
}

void store_close(store *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->q_lock);
    st->closing = 1;
    pthread_cond_signal(&st->q_cond);
    pthread_mutex_unlock(&st->q_lock);
    if (st->thread_started)
        pthread_join(st->thread, NULL);
    store_free(st);
}

/* ---------- reads ---------- */

static int store_comment_read(store *st, store_stmt_id id, const char *a, const char *b,
                              comment_record *out, mod_error *err)
{
    store_conn *c = store_reader_take(st);
    sqlite3_stmt *s = store_stmt(c, id, err);
    int r = -1;
    if (s) {
        sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC); /* NULL a binds SQL NULL (no site) */
        if (b)
            sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            r = store_row_comment(s, out, err);
        else if (rc == SQLITE_DONE)
            r = 1;
        else
            store_sql_err(c, err, "read comment");
        store_stmt_done(s);
    }
    store_reader_give(st, c);
    return r;
}

int store_get_comment(store *st, const char *id, comment_record *out, mod_error *err)
{
    memset(out, 0, sizeof *out);
    if (!id)
        return err_set(err, ERR_NOT_FOUND, "no comment id given");
    int r = store_comment_read(st, STMT_COMMENT_BY_ID, id, NULL, out, err);
    if (r == 1)
        return err_set(err, ERR_NOT_FOUND, "no comment with id \"%s\"", id);
    return r;
}

int store_find_comment(store *st, const char *site, const char *ext_id, comment_record *out,
                       mod_error *err)
{
    memset(out, 0, sizeof *out);
    if (!ext_id)
        return 1; /* comments without ext_id are never deduplicated, so never found this way */
    return store_comment_read(st, STMT_COMMENT_BY_EXT, site, ext_id, out, err);
}

long store_comment_count(store *st)
{
    store_conn *c = store_reader_take(st);
    sqlite3_stmt *s = store_stmt(c, STMT_COMMENT_COUNT, NULL);
    long n = -1;
    if (s && sqlite3_step(s) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(s, 0);
    store_stmt_done(s);
    store_reader_give(st, c);
    return n;
}

int store_events_list(store *st, long after_seq, size_t limit, store_event **out, size_t *count,
                      mod_error *err)
{
    *out = NULL;
    *count = 0;
    store_conn *c = store_reader_take(st);
    sqlite3_stmt *s = store_stmt(c, STMT_EVENT_LIST, err);
    int r = -1;
    if (s) {
        sqlite3_bind_int64(s, 1, after_seq);
        sqlite3_bind_int64(s, 2, limit ? (sqlite3_int64)limit : -1);
        r = store_events_read(c, s, "list events", out, count, err);
    }
    store_reader_give(st, c);
    return r;
}

/* ---------- API keys ---------- */

static int store_role_valid(const char *role)
{
    return role && (!strcmp(role, "cms") || !strcmp(role, "moderator") || !strcmp(role, "admin"));
}

static int store_key_event(store_conn *c, const char *action, long id, const char *name,
                           const char *role, mod_error *err)
{
    store_buf b = {0};
    store_buf_printf(&b, "{\"action\":\"%s\",\"id\":%ld,\"role\":", action, id);
    store_buf_json_str(&b, role);
    store_buf_add(&b, "}", 1);
    return store_event_append_buf(c, "key", NULL, name, &b, NULL, err);
}

int store_key_add(store *st, const char *role, const char *name, char **key_out, mod_error *err)
{
    *key_out = NULL;
    if (!store_role_valid(role))
        return err_set(err, ERR_BAD_FIELD, "unknown role \"%s\" (expected cms, moderator or admin)",
                       role ? role : "(none)");
    if (!name || !*name)
        return err_set(err, ERR_BAD_FIELD, "a key needs a name");

    unsigned char raw[32];
    if (store_random(raw, sizeof raw, err) < 0)
        return -1;
    char *key = malloc(3 + 2 * sizeof raw + 1);
    if (!key)
        return err_set(err, ERR_INTERNAL, "out of memory");
    memcpy(key, "mk_", 3);
    store_hex(raw, sizeof raw, key + 3);
    explicit_bzero(raw, sizeof raw);
    char hash[STORE_HASH_HEX], now[STORE_TS_LEN];
    if (store_sha256_hex(key, strlen(key), hash, err) < 0)
        goto fail_key;
    store_now(now);

    store_conn *c = store_sync_begin(st, err);
    if (!c)
        goto fail_key;
    sqlite3_stmt *s = store_stmt(c, STMT_KEY_INSERT, err);
    int r = s ? 0 : -1;
    if (s) {
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, now, -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE)
            r = store_sql_err(c, err, "add key");
        store_stmt_done(s);
    }
    if (r == 0)
        r = store_key_event(c, "add", (long)sqlite3_last_insert_rowid(c->db), name, role, err);
    if (store_sync_end(st, c, r, err) < 0)
        goto fail_key;
    *key_out = key;
    return 0;
fail_key:
    explicit_bzero(key, strlen(key));
    free(key);
    return -1;
}

int store_key_revoke(store *st, const char *id_or_name, mod_error *err)
{
    if (!id_or_name || !*id_or_name)
        return err_set(err, ERR_NOT_FOUND, "no key id or name given");
    char *end;
    errno = 0;
    long long id = strtoll(id_or_name, &end, 10);
    int numeric = *id_or_name >= '0' && *id_or_name <= '9' && !*end && errno == 0;
    char now[STORE_TS_LEN];
    store_now(now);

    struct {
        long id;
        char *name, *role;
    } hit[16];
    size_t nhit = 0, total = 0;

    store_conn *c = store_sync_begin(st, err);
    if (!c)
        return -1;
    sqlite3_stmt *s = store_stmt(c, STMT_KEY_REVOKE, err);
    int r = s ? 0 : -1;
    if (s) {
        sqlite3_bind_text(s, 1, now, -1, SQLITE_STATIC);
        if (numeric)
            sqlite3_bind_int64(s, 2, id);
        sqlite3_bind_text(s, 3, id_or_name, -1, SQLITE_STATIC);
        int rc;
        /* RETURNING rows are collected before any other statement runs on the connection. */
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            total++;
            if (nhit == sizeof hit / sizeof hit[0])
                continue;
            hit[nhit].id = (long)sqlite3_column_int64(s, 0);
            if (store_col_str(s, 1, &hit[nhit].name) < 0 || store_col_str(s, 2, &hit[nhit].role) < 0) {
                free(hit[nhit].name);
                r = err_set(err, ERR_INTERNAL, "out of memory");
                continue;
            }
            nhit++;
        }
        if (rc != SQLITE_DONE && r == 0)
            r = store_sql_err(c, err, "revoke key");
        store_stmt_done(s);
    }
    if (r == 0 && total > nhit)
        r = err_set(err, ERR_BAD_REQUEST, "\"%s\" matches %zu keys; revoke them by id", id_or_name,
                    total);
    if (r == 0 && nhit == 0)
        r = err_set(err, ERR_NOT_FOUND, "no active key \"%s\"", id_or_name);
    for (size_t i = 0; r == 0 && i < nhit; i++)
        r = store_key_event(c, "revoke", hit[i].id, hit[i].name, hit[i].role, err);
    r = store_sync_end(st, c, r, err);
    for (size_t i = 0; i < nhit; i++) {
        free(hit[i].name);
        free(hit[i].role);
    }
    return r;
}

int store_key_lookup(store *st, const char *key, api_key_info *out, mod_error *err)
{
    memset(out, 0, sizeof *out);
    if (!key || strncmp(key, "mk_", 3) != 0)
        return err_set(err, ERR_UNAUTHORIZED, "unknown API key");
    char hash[STORE_HASH_HEX];
    if (store_sha256_hex(key, strlen(key), hash, err) < 0)
        return -1;
    store_conn *c = store_reader_take(st);
    sqlite3_stmt *s = store_stmt(c, STMT_KEY_BY_HASH, err);
    int r = -1;
    if (s) {
        sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            r = store_row_key(s, out, err);
        else if (rc == SQLITE_DONE)
            err_set(err, ERR_UNAUTHORIZED, "unknown API key");
        else
            store_sql_err(c, err, "look up key");
        store_stmt_done(s);
    }
    store_reader_give(st, c);
    if (r == 0 && out->revoked_at) {
        api_key_info_free(out);
        return err_set(err, ERR_UNAUTHORIZED, "API key revoked");
    }
    return r;
}

static int key_row(sqlite3_stmt *s, void *key, mod_error *err) { return store_row_key(s, key, err); }

static void keys_free(void *keys, size_t n) { api_key_list_free(keys, n); }

int store_key_list(store *st, api_key_info **out, size_t *count, mod_error *err)
{
    *out = NULL;
    *count = 0;
    store_conn *c = store_reader_take(st);
    sqlite3_stmt *s = store_stmt(c, STMT_KEY_LIST, err);
    void *rows = NULL;
    int r = s ? store_rows_read(c, s, sizeof **out, key_row, keys_free, "list keys", &rows, count,
                                err)
              : -1;
    store_reader_give(st, c);
    *out = rows;
    return r;
}

/* ---------- metrics and audit helpers ---------- */

void store_set_batch_observer(store *st, store_batch_fn fn, void *arg)
{
    pthread_mutex_lock(&st->q_lock); /* the writer reads the pair after taking a batch */
    st->batch_observer = fn;
    st->batch_observer_arg = arg;
    pthread_mutex_unlock(&st->q_lock);
}

long store_comment_count_state(store *st, const char *state)
{
    store_conn *c = store_reader_take(st);
    sqlite3_stmt *s = store_stmt(c, STMT_COMMENT_COUNT_STATE, NULL);
    long n = -1;
    if (s) {
        sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW)
            n = (long)sqlite3_column_int64(s, 0);
        store_stmt_done(s);
    }
    store_reader_give(st, c);
    return n;
}

int store_event_add(store *st, const char *type, const char *comment_id, const char *actor,
                    const char *data, long *seq_out, mod_error *err)
{
    if (!type || !*type)
        return err_set(err, ERR_BAD_FIELD, "an event needs a type");
    store_conn *c = store_sync_begin(st, err);
    if (!c)
        return -1;
    long seq = 0;
    int r = store_event_append(c, type, comment_id, actor, data, &seq, err);
    r = store_sync_end(st, c, r, err);
    if (r == 0 && seq_out)
        *seq_out = seq;
    return r;
}
