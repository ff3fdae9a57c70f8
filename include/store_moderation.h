/* store_moderation.h - moderation in the store: comment states and their transitions, decisions
 * made with compare-and-set, reader reports, strikes and author sanctions, the held queue with
 * keyset pagination, the decisions feed and a comment's history. Every decision, report and
 * sanction appends an audit event in the same transaction as the change it records. */
#ifndef MODERATORD_STORE_MODERATION_H
#define MODERATORD_STORE_MODERATION_H

#include <stddef.h>

#include "error.h"
#include "ruleset.h"
#include "store.h"

/* ---- states ---- */

/* Every state a comment can be in: accepted, held, blocked (the engine's verdicts), approved,
 * rejected (a moderator's), reported (a reader flagged a published comment). */
extern const char *const store_states[];
#define STORE_N_STATES 6
/* Index of a state name in store_states, or -1. */
int store_state_index(const char *state);

/* The state a decision ("approve" | "reject") moves a comment in state from to, or NULL when the
 * transition is not allowed:
 *   held -> approved | rejected          reported -> approved | rejected
 *   blocked -> approved (overturn)       accepted -> rejected (taken down)
 *   approved -> rejected (changed mind)  rejected -> approved (appeal)
 * A report moves accepted, approved or reported to reported. */
const char *store_transition(const char *from, const char *decision);

/* ---- time ---- */

long long store_now_ms(void);
/* Unix milliseconds as "2026-11-21T10:00:00.123Z". */
void store_ms_iso(long long ms, char out[32]);
/* Parses a time: an ISO-8601 UTC date or time ("2026-12-01", "2026-12-01T10:00:00Z",
 * "2026-12-01T10:00:00.5Z") or a duration ("30d", "12h", "90m", "45s", "2w") counted from now,
 * forward for an expiry (store_time_parse) or back for a start (store_time_parse_ago).
 * Returns 0 with *ms, or -1 with err naming the accepted forms. */
int store_time_parse(const char *s, long long now_ms, long long *ms, mod_error *err);
int store_time_parse_ago(const char *s, long long now_ms, long long *ms, mod_error *err);

/* ---- authors ---- */

/* The key strikes and sanctions are kept under: the author id, else the e-mail in lower case.
 * NULL when neither is given (anonymous comments collect no strikes). Writes into buf. */
const char *store_author_key(const char *author_id, const char *author_email, char *buf,
                             size_t len);

typedef enum { AUTHOR_OK = 0, AUTHOR_PROBATION, AUTHOR_BANNED } author_status;
const char *author_status_name(author_status s); /* "ok" | "probation" | "banned" */

/* An author's sanction state at one moment. */
typedef struct {
    author_status status;  /* effective now */
    const char *source;    /* "manual" | "strikes" | NULL (ok) */
    long strikes;          /* strikes inside the window, since the last reset */
    /* The manual sanction on record (action NULL when none; it may have expired). */
    char *action;          /* "ban" | "probation" */
    char *reason, *set_by, *set_at;
    long long until_ms;    /* 0: no expiry */
    int active;            /* action set and not expired */
    long long strikes_reset_ms; /* 0: never reset */
} author_sanction;

void author_sanction_free(author_sanction *a);

/*
 * The hot-path lookup for a new comment: one statement, reading the author's sanctions row by
 * primary key and counting their strikes through the (author, at_ms) index. pol gives the window
 * and thresholds. Returns 0 (out filled; status AUTHOR_OK for an unknown author) or -1.
 */
int store_author_sanction(store *st, const char *author, const policy_config *pol,
                          long long now_ms, author_sanction *out, mod_error *err);

typedef struct {
    char *comment_id, *source; /* source: "block" (the engine) or "reject" (a moderator) */
    long long at_ms;
} author_strike;

/* What a moderator sees of an author: the sanction state, their comments by current state, and
 * (with detail) their recent strikes and the sanction events naming them, newest first. */
typedef struct {
    char *key;
    author_sanction sanction;
    long comments[STORE_N_STATES]; /* indexed like store_states */
    long total;
    author_strike *strikes;
    size_t n_strikes;
    store_event *history;
    size_t n_history;
} author_record;

int store_author_record(store *st, const char *author, const policy_config *pol, int detail,
                        author_record *out, mod_error *err);
void author_record_free(author_record *r);

/* The stored key for what a person typed: as given when comments or a sanction exist under it,
 * otherwise an e-mail address in lower case. Writes into buf. */
const char *store_author_resolve(store *st, const char *author, char *buf, size_t len);

/*
 * Sets or lifts an author's manual sanction. action "ban" or "probation" (until_ms 0 = no
 * expiry; reason required), or "clear": removes the manual sanction and resets the strike count
 * (strikes before now stop counting), so the author starts again clean. Appends a "sanction"
 * event with the sanction before and after. Returns 0 (*seq = the event) or -1.
 */
int store_sanction_set(store *st, const char *author, const char *action, const char *reason,
                       long long until_ms, const char *actor, long *seq, mod_error *err);

/* Makes pol's strike window and thresholds the ones the store uses when a new strike may cross
 * a threshold (kept in the database, so moderatorctl uses the daemon's). Writes only on change. */
int store_strike_policy_set(store *st, const policy_config *pol, mod_error *err);
/* The strike settings last published (the defaults 30d/3/5 when none was): fills only
 * strike_window_s, probation_strikes and ban_strikes of out. */
void store_strike_policy_get(store *st, policy_config *out);

/* ---- decisions and reports ---- */

typedef struct {
    char before[16], after[16]; /* on ERR_CONFLICT, before is the comment's state now */
    long seq;                   /* the decision or report event */
    long reports;               /* reports: the count now */
    int duplicate;              /* reports: this reporter had already reported it */
} store_change;

/*
 * A moderator's decision ("approve" | "reject"). With expected_state (what the moderator saw),
 * the decision applies only while the comment is still in that state: compare-and-set inside an
 * IMMEDIATE transaction, so of two moderators deciding at once exactly one wins. Rejecting gives
 * the author a strike; approving withdraws the comment's strike. Appends a "decision" event.
 * Errors: ERR_NOT_FOUND; ERR_CONFLICT (state changed, or transition not allowed; out->before is
 * the current state); ERR_BAD_FIELD (unknown decision or state).
 */
int store_decide(store *st, const char *id, const char *decision, const char *expected_state,
                 const char *reason, const char *actor, store_change *out, mod_error *err);

/*
 * A reader's report of a published comment (accepted, approved or reported): the comment moves to
 * reported and its report count goes up, with a "report" event. The same reporter (when named)
 * counts once per comment (out->duplicate, nothing written). ERR_NOT_FOUND, ERR_CONFLICT (the
 * comment is not published: held, blocked or rejected; out->before is its state).
 */
int store_report(store *st, const char *id, const char *reporter, const char *reason,
                 const char *actor, store_change *out, mod_error *err);

/* ---- reading ---- */

typedef struct {
    const char *state;    /* required: one of store_states */
    const char *site, *thread; /* NULL: any */
    int category;         /* -1: any; else only comments that scored > 0 in it */
    long long after;      /* keyset cursor: rowid of the last item seen (0: from the start) */
    size_t limit;
} store_queue_query;

typedef struct {
    char *at, *actor, *reporter, *reason;
} store_report_entry;

/* The moderation side of one comment, read in one snapshot. */
typedef struct {
    long long cursor;                   /* the rowid: a queue query's after, to continue past it */
    long reports;
    char *author_key;
    store_report_entry *recent_reports; /* newest first, at most 20 */
    size_t n_recent;
    store_event *history;               /* every event naming the comment, in order */
    size_t n_history;                   /* 0 unless asked for with_history */
} store_comment_mod;

/* A queue item: the comment, and its moderation side read in the page's snapshot (recent
 * reports included, history not). */
typedef struct {
    comment_record rec;
    store_comment_mod mod;
} store_queue_item;

/* Oldest first (rowid order); *total = how many match the filters in all. */
int store_queue_list(store *st, const store_queue_query *q, store_queue_item **out, size_t *n,
                     long *total, mod_error *err);
void store_queue_free(store_queue_item *items, size_t n);

int store_comment_mod_get(store *st, const char *id, int with_history, store_comment_mod *out,
                          mod_error *err);
void store_comment_mod_free(store_comment_mod *m);

/* A decision event with the comment it decided. */
typedef struct {
    long seq;
    char *at, *comment_id, *actor, *data, *site, *ext_id;
} store_feed_entry;

/* Decision events with seq > since, in commit order, at most limit. */
int store_decisions_since(store *st, long since, size_t limit, store_feed_entry **out, size_t *n,
                          mod_error *err);
void store_feed_free(store_feed_entry *e, size_t n);

#endif
