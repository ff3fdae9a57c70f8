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
    char *state;              /* "accepted" | "held" | "blocked", then by moderation "approved" |
                                 "rejected" | "reported" (store_moderation.h) */
    double score;
    double categories[CAT__COUNT];
    char *matches_json;       /* JSON array of matches, serialized by the api layer */
    char *ruleset;            /* rule set version the verdict used */
    char *reason;             /* NULL, or why something other than the score decided */
    char *created_at;         /* ISO-8601 UTC with milliseconds, set by the store */
    char *updated_at;
    /* Not a column. Set by a client that asked not to keep its text (Perspective's doNotStore):
     * the row gets "" as text, and the verdict event keeps only the text's SHA-256 and
     * "text_withheld": true. Callers then also leave the substrings out of matches_json. */
    int text_withheld;
} comment_record;

void comment_record_free(comment_record *rec);
/* A deep copy of src into dst (every string column duplicated). 0, or -1 out of memory with dst
 * left empty. */
int comment_record_copy(comment_record *dst, const comment_record *src);

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

/* Called on the writer thread after every transaction with the jobs it carried and the time from
 * BEGIN to COMMIT (for metrics). Set it before the first write; fn NULL turns it off. */
typedef void (*store_batch_fn)(void *arg, long jobs, double seconds);
void store_set_batch_observer(store *st, store_batch_fn fn, void *arg);

/* Number of comments in one state ("held": the moderation queue's depth), -1 on error. */
long store_comment_count_state(store *st, const char *state);

/* Appends one audit event (type e.g. "feedback") in a transaction of its own on the synchronous
 * connection, chained like every event. data is a JSON object (or NULL). *seq_out (may be NULL)
 * gets the event's seq. */
int store_event_add(store *st, const char *type, const char *comment_id, const char *actor,
                    const char *data, long *seq_out, mod_error *err);

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
 * The audit log: append-only, hash-chained. type is "verdict", "key", "decision", "report",
 * "sanction" (store_moderation.h) or "reload". hash = hex SHA-256 of the canonical form of
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
/* The hash an event should have (see above), from its fields. Returns 0, or -1 with err. */
int store_event_compute_hash(const store_event *ev, char out[65], mod_error *err);

/* ---- rule-set versions and the audit trail's tools (store_audit.c) ---- */

/* Keeps the files of rule-set version (files_json: a JSON array of {"name", "content"} made by
 * the api layer) unless that version is kept already, and in the same transaction appends the
 * "reload" event (event_data) that put it live. */
int store_ruleset_record(store *st, const char *version, const char *files_json,
                         const char *actor, const char *event_data, mod_error *err);
/* A kept version's files as stored, and when it was first loaded (loaded_at may be NULL).
 * Caller frees both. ERR_NOT_FOUND when the version was never kept. */
int store_ruleset_get(store *st, const char *version, char **files_json, char **loaded_at,
                      mod_error *err);

typedef struct {
    char *version, *loaded_at;
    long comments; /* verdicts made with it; -1 when not counted */
} store_ruleset_info;

/* Every kept version, oldest first; with_counts also counts its verdicts (a scan of comments). */
int store_ruleset_list(store *st, int with_counts, store_ruleset_info **out, size_t *count,
                       mod_error *err);
void store_ruleset_list_free(store_ruleset_info *list, size_t count);

#define STORE_AUDIT_MAX_PROBLEMS 8

typedef struct {
    long events, comments;   /* events walked; comments compared with their verdict events */
    long versions;           /* kept rule-set versions checked against their files */
    long head_seq;           /* the newest event and its hash: record them to anchor later runs */
    char head_hash[65];
    size_t n_problems;       /* 0: the log and the comments are intact */
    long first_bad_seq;      /* the first event found altered, removed or reordered (0: none) */
    char first_bad_comment[64];
    char problems[STORE_AUDIT_MAX_PROBLEMS][400]; /* the first problems, in words, in order */
} store_audit_report;

/*
 * Checks the whole log in one snapshot: seqs consecutive from 1, each prev_hash the previous
 * event's hash, each hash its content (naming the first event altered, removed or reordered); each
 * verdict event against its comment (verdict, rule set, hashes of the text and of the personal
 * data the row still holds); every comment has a verdict event; every kept rule-set version's
 * files hash to its name and a reload event put it live; the append-only triggers exist.
 * With anchor_seq > 0, event anchor_seq must also have anchor_hash (a head recorded earlier,
 * which catches events removed from the end). Returns 0 with rep filled, -1 with err.
 */
int store_audit_verify(store *st, long anchor_seq, const char *anchor_hash,
                       store_audit_report *rep, mod_error *err);

/* Calls fn for each event with seq > after_seq and at >= since (an ISO-8601 prefix; NULL: all),
 * in order, from one snapshot. fn returns non-zero to stop (then -1). *count gets the number. */
int store_audit_export(store *st, const char *since, long after_seq,
                       int (*fn)(void *ctx, const store_event *ev), void *ctx, long *count,
                       mod_error *err);

/* Removes the text, author name, e-mail and URL, IP, user agent and the quoted words in matches of
 * every comment created before `before` (ISO-8601), in small transactions, and appends one
 * "prune" event. The events keep only salted hashes of those fields, and the salt goes too, so
 * the chain still verifies and links to no one. dry_run only counts. */
int store_audit_prune(store *st, const char *before, const char *actor, int dry_run,
                      long *pruned, long *seq_out, mod_error *err);

#endif
