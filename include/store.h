/* store.h - the SQLite store: comments with their verdicts, API keys, and the audit event log.
 * The only module that includes sqlite3.h. All writes go through one writer thread that commits
 * whatever is queued in one transaction (group commit); reads use their own connections. */
#ifndef MODERATORD_STORE_H
#define MODERATORD_STORE_H

#include <stddef.h>

#include "error.h"
#include "ruleset.h"

typedef struct store store;

/* A stored comment: what the CMS sent, the verdict, and its current moderation state. */
typedef struct {
    char *id;                 /* server id (32 hex chars), made by the caller */
    char *site, *ext_id;      /* CMS's site and its own comment id; (site, ext_id) is unique */
    char *thread, *parent_id;
    char *author_id, *author_name, *author_email, *author_url;
    char *ip, *user_agent;
    char *text;
    char *verdict;            /* "accept" | "hold" | "block" */
    char *state;              /* "accepted" | "held" | "blocked" (later: approved, rejected, reported) */
    double score;
    double categories[CAT__COUNT];
    char *matches_json;       /* JSON array of matches, serialized by the api layer */
    char *ruleset;            /* rule set version the verdict used */
    char *reason;             /* NULL, or why something other than the score decided */
    char *created_at;         /* ISO-8601 UTC with milliseconds, set by the store */
    char *updated_at;
} comment_record;

void comment_record_free(comment_record *rec);

/* Opens (creating if needed) the database in WAL mode, migrates the schema and starts the writer.
 * Pass writer=0 for tools that only read or use the synchronous helpers (moderatorctl). */
int store_open(const char *path, int writer, store **out, mod_error *err);
/* Drains the writer queue (every queued write is committed and its callback called), then closes. */
void store_close(store *st);

/*
 * Called on the writer thread once the write is committed (rc 0) or has failed (rc -1, err set).
 * stored is the row as it now is in the database; existed is 1 when (site, ext_id) was already
 * stored, in which case nothing was written and stored is the earlier record.
 * stored and err are only valid during the call.
 */
typedef void (*store_done_fn)(void *ctx, int rc, const comment_record *stored, int existed,
                              const mod_error *err);

/* Queues rec (copied) for commit, with an audit event "verdict". Returns -1 if the store is closing.
 * Also -1 when opened with writer=0, or when id, text, verdict or state is NULL. done may be NULL.
 * created_at/updated_at in rec are ignored; the store sets both. */
int store_submit_comment(store *st, const comment_record *rec, store_done_fn done, void *ctx);

/* Group-commit counters since open: transactions run and jobs they carried (for metrics). */
void store_writer_stats(store *st, long *batches, long *jobs);

/* Reads one comment by server id (ERR_NOT_FOUND if none). */
int store_get_comment(store *st, const char *id, comment_record *out, mod_error *err);
/* Reads one comment by (site, ext_id); site may be NULL. Returns 0 found, 1 not found, -1 error. */
int store_find_comment(store *st, const char *site, const char *ext_id, comment_record *out,
                       mod_error *err);

/* API keys. Roles: "cms", "moderator", "admin". Only the SHA-256 of a key is stored. */
typedef struct {
    long id;
    char *name;
    char *role;
    char *created_at;
    char *revoked_at; /* NULL while active */
} api_key_info;

void api_key_info_free(api_key_info *k);
/* Frees what store_key_list returned: every entry and the array. */
void api_key_list_free(api_key_info *list, size_t count);
/* Creates a key; *key_out (caller frees) is the only time the plain key exists. */
int store_key_add(store *st, const char *role, const char *name, char **key_out, mod_error *err);
int store_key_list(store *st, api_key_info **out, size_t *count, mod_error *err);
/* Revokes by numeric id or by name. ERR_NOT_FOUND if nothing active matched. */
int store_key_revoke(store *st, const char *id_or_name, mod_error *err);
/* Finds the active key with this plain text. ERR_UNAUTHORIZED if unknown or revoked. Always reads
 * the database, so keys added or revoked by another process count at once. */
int store_key_lookup(store *st, const char *key, api_key_info *out, mod_error *err);

/* Number of comments stored, for tests and metrics (-1 on error). */
long store_comment_count(store *st);

/*
 * The audit log: append-only, hash-chained. type is "verdict" or "key" (later also "decision",
 * "report", "sanction", "reload"). hash = hex SHA-256 of the canonical form of
 * (seq, at, type, comment_id, actor, data, prev_hash): each field in that order written as
 * "<byte length>:<bytes>," (seq in decimal), or "~" when NULL. The first prev_hash is 64 zeros.
 */
typedef struct {
    long seq;
    char *at, *type, *comment_id, *actor;
    char *data;      /* JSON object */
    char *prev_hash, *hash;
} store_event;

/* Events with seq > after_seq in order, at most limit (0: no limit). Free with store_events_free. */
int store_events_list(store *st, long after_seq, size_t limit, store_event **out, size_t *count,
                      mod_error *err);
void store_events_free(store_event *ev, size_t count);
/* Walks the whole chain: seqs consecutive from 1, each prev_hash the previous hash, each hash its
 * content. 0 if intact (*checked = events seen), else -1 with ERR_STORE naming the first bad seq. */
int store_events_verify(store *st, long *checked, mod_error *err);

#endif
