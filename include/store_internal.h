/* store_internal.h - what store.c shares with store_moderation.c and store_audit.c: the
 * connection and store structs, the small JSON buffer, and the row, event and transaction
 * helpers. Only store files include it (it includes sqlite3.h); everyone else uses store.h and
 * store_moderation.h. */
#ifndef MODERATORD_STORE_INTERNAL_H
#define MODERATORD_STORE_INTERNAL_H

#include <pthread.h>
#include <stddef.h>

#include <sqlite3.h>

#include "store.h"

#define STORE_READERS 4
#define STORE_TS_LEN 32
#define STORE_HASH_HEX 65   /* 64 hex chars + NUL */
#define STORE_STMT_SLOTS 32 /* store.c's prepared statements (its enum must fit) */
#define STORE_MOD_STMTS 24  /* store_moderation.c's prepared statements */
#define STORE_AUDIT_STMTS 4 /* store_audit.c's prepared statements */

/* Column order shared by every comment SELECT and the INSERT (see store_row_comment). */
#define COMMENT_COLS                                                                              \
    "id, site, ext_id, thread, parent_id, author_id, author_name, author_email, author_url, ip, " \
    "user_agent, text, verdict, state, score, profanity, personal_attack, ethnic_slur, matches, " \
    "ruleset, reason, created_at, updated_at"
#define COMMENT_NCOLS_SQL 23

/* Column order of every event SELECT and the INSERT (see store_row_event). */
#define EVENT_COLS "seq, at, type, comment_id, actor, data, prev_hash, hash"

/* One connection and its statements, prepared on first use and kept for the connection's life. */
typedef struct {
    sqlite3 *db;
    sqlite3_stmt *stmt[STORE_STMT_SLOTS];
    sqlite3_stmt *mod[STORE_MOD_STMTS];
    sqlite3_stmt *audit[STORE_AUDIT_STMTS];
} store_conn;

typedef struct store_job store_job;

struct store {
    char *path;

    /* Synchronous writes (keys, moderation) and schema migration. */
    store_conn sync;
    pthread_mutex_t sync_lock;

    /* Reader pool: a connection is taken from free[] for the length of one call. */
    store_conn readers[STORE_READERS];
    store_conn *free_readers[STORE_READERS];
    size_t nreaders, nfree;
    pthread_mutex_t read_lock;
    pthread_cond_t read_cond;

    /* Group-commit writer. */
    int writer;
    store_conn wconn;
    pthread_t thread;
    int thread_started;
    pthread_mutex_t q_lock;
    pthread_cond_t q_cond;
    store_job *q_head, *q_tail;
    int closing;
    long batches, jobs;
    store_batch_fn batch_observer; /* store_set_batch_observer; called on the writer thread */
    void *batch_observer_arg;
};

/* A growing string; oom is set (and sticks) when an allocation fails. */
typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} store_buf;

void store_buf_add(store_buf *b, const char *s, size_t n);
void store_buf_printf(store_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string literal (escaped), or null. */
void store_buf_json_str(store_buf *b, const char *s);
void store_buf_json_num(store_buf *b, double v);

/* UTC ISO-8601 with milliseconds: 2026-11-21T10:00:00.123Z */
void store_now(char out[STORE_TS_LEN]);

/* The first event's prev_hash: 64 zeros. */
extern const char store_zero_hash[STORE_HASH_HEX];
/* n bytes as lower-case hex into out (2n + 1 chars). */
void store_hex(const unsigned char *in, size_t n, char *out);
/* SHA-256 of data in hex. 0, or -1 with err. */
int store_sha256_hex(const void *data, size_t len, char out[STORE_HASH_HEX], mod_error *err);
/* n random bytes from the kernel. 0, or -1 with err. */
int store_random(void *buf, size_t n, mod_error *err);

int store_sql_err(store_conn *c, mod_error *err, const char *what);
/* The statement in *slot (one of c's arrays), prepared from sql on first use and kept until
 * the connection closes; NULL with err. */
sqlite3_stmt *store_stmt_cached(store_conn *c, sqlite3_stmt **slot, const char *sql,
                                mod_error *err);
/* Resets and unbinds a statement after use (NULL is fine). */
void store_stmt_done(sqlite3_stmt *s);
/* Ends a failed transaction if SQLite has not already rolled it back. */
void store_rollback(store_conn *c);

/* The synchronous connection, locked and inside BEGIN IMMEDIATE; NULL with err when BEGIN fails
 * (the lock is then released). Every store_sync_begin is paired with one store_sync_end. */
store_conn *store_sync_begin(store *st, mod_error *err);
/* Commits when rc is 0, else rolls back; unlocks the connection. Returns rc, or -1 when the
 * commit fails. */
int store_sync_end(store *st, store_conn *c, int rc, mod_error *err);
/* A read transaction on a reader, so the statements that follow see one snapshot; ended by
 * store_read_end, which may be called after a failed begin too. */
int store_read_begin(store_conn *c, mod_error *err);
void store_read_end(store_conn *c);

/* A reader connection for the length of one call. */
store_conn *store_reader_take(store *st);
void store_reader_give(store *st, store_conn *c);

/* Column col as a malloc'd string (NULL stays NULL). -1 on out of memory. */
int store_col_str(sqlite3_stmt *s, int col, char **out);
/* A row whose first COMMENT_NCOLS_SQL columns are COMMENT_COLS, starting at column 0. */
int store_row_comment(sqlite3_stmt *s, comment_record *out, mod_error *err);
/* A row of EVENT_COLS. */
int store_row_event(sqlite3_stmt *s, store_event *out, mod_error *err);
/* Every row of a prepared, bound statement into a new array of elem_size slots, each filled by
 * row (which frees what it filled when it fails); resets s. On failure the rows read so far go
 * to rows_free, and SQL errors are named what. 0, or -1 with err (and *out NULL). */
typedef int (*store_row_fn)(sqlite3_stmt *s, void *elem, mod_error *err);
typedef void (*store_rows_free_fn)(void *elems, size_t n);
int store_rows_read(store_conn *c, sqlite3_stmt *s, size_t elem_size, store_row_fn row,
                    store_rows_free_fn rows_free, const char *what, void **out, size_t *count,
                    mod_error *err);
/* Every row of a prepared, bound statement of EVENT_COLS (store_rows_read). */
int store_events_read(store_conn *c, sqlite3_stmt *s, const char *what, store_event **out,
                      size_t *count, mod_error *err);
/* Frees one event's fields (store_events_free frees an array). */
void store_event_free(store_event *ev);

/* Appends one audit event inside the caller's IMMEDIATE transaction, chained to the newest.
 * *seq_out (may be NULL) gets its seq. */
int store_event_append(store_conn *c, const char *type, const char *comment_id, const char *actor,
                       const char *data, long *seq_out, mod_error *err);
/* The same with data built in a store_buf: out of memory when it overflowed. Frees the buffer. */
int store_event_append_buf(store_conn *c, const char *type, const char *comment_id,
                           const char *actor, store_buf *data, long *seq_out, mod_error *err);

/* store_audit.c, for the writer: a random salt (32 hex) for a comment with personal data;
 * returns 1 made, 0 when the comment has none (out is ""), -1 with err. */
int store_audit_salt(const comment_record *rec, char out[33], mod_error *err);
/* Appends ,"pii":{"author_email": HMAC-SHA256(salt, value), ...} for the personal fields rec
 * holds (nothing when salt is empty). */
int store_audit_pii_json(store_buf *b, const comment_record *rec, const char *salt,
                         mod_error *err);

/* store_moderation.c, called by the writer inside the transaction that inserted rec (after its
 * verdict event): records a strike when the engine blocked an identified author's comment. */
int store_mod_after_insert(store_conn *w, const comment_record *rec, mod_error *err);

#endif
