/* store_fixture.h - a database in a fresh temporary directory, and the writer's callbacks
 * collected with a deadline, shared by the store tests. */
#ifndef MODERATORD_TEST_STORE_FIXTURE_H
#define MODERATORD_TEST_STORE_FIXTURE_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "store.h"

typedef struct {
    char dir[64];
    char path[128];
} test_db;

/* Makes /tmp/NAME.XXXXXX and opens moderatord.db in it with the writer thread. */
static inline void test_db_open(test_db *db, const char *name, store **st)
{
    snprintf(db->dir, sizeof db->dir, "/tmp/%s.XXXXXX", name);
    assert_non_null(mkdtemp(db->dir));
    snprintf(db->path, sizeof db->path, "%s/moderatord.db", db->dir);
    mod_error err = {0};
    if (store_open(db->path, 1, st, &err) != 0)
        fail_msg("store_open: %s", err.message);
}

/* Closes the store and removes the database, its WAL files and the directory. */
static inline void test_db_remove(test_db *db, store *st)
{
    store_close(st);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", db->path, suffix[i]);
        unlink(p);
    }
    rmdir(db->dir);
}

/* The whole audit (the chain, each comment against its verdict event, versions, triggers) must
 * find nothing; returns the number of events walked. */
static inline long audit_intact(store *st)
{
    store_audit_report rep;
    mod_error err = {0};
    if (store_audit_verify(st, 0, NULL, &rep, &err) != 0)
        fail_msg("store_audit_verify: %s", err.message);
    if (rep.n_problems)
        fail_msg("audit: %zu problems, the first: %s", rep.n_problems, rep.problems[0]);
    return rep.events;
}

/* Callbacks of the store's writer, collected: store_submit_comment(st, rec, results_done, &r). */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls, ok, failed, existed; /* existed: how many calls reported existed=1 */
    int last_rc, last_existed;
    err_code last_code;
    comment_record last; /* copy of the stored row of the last call */
} results;

static inline void results_init(results *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
}

static inline void results_destroy(results *r)
{
    comment_record_free(&r->last);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
}

/* The store_done_fn of results: counts the call and keeps a copy of the stored row. */
static inline void results_done(void *ctx, int rc, const comment_record *stored, int existed,
                                const mod_error *err)
{
    results *r = ctx;
    pthread_mutex_lock(&r->lock);
    r->calls++;
    r->last_rc = rc;
    r->last_existed = existed;
    r->last_code = err ? err->code : ERR_NONE;
    if (rc == 0) {
        r->ok++;
        r->existed += existed;
        comment_record_free(&r->last);
        if (comment_record_copy(&r->last, stored) < 0)
            r->failed++; /* the copy, not the store, failed: the test sees it */
    } else {
        r->failed++;
    }
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

/* Waits (at most 10 s) until r has seen n callbacks. */
static inline void results_wait(results *r, int n)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&r->lock);
    while (r->calls < n) {
        if (pthread_cond_timedwait(&r->cond, &r->lock, &deadline) == ETIMEDOUT) {
            int calls = r->calls;
            pthread_mutex_unlock(&r->lock);
            fail_msg("timed out: %d of %d callbacks", calls, n);
        }
    }
    pthread_mutex_unlock(&r->lock);
}

/* Submits rec and waits (at most 10 s) for its callback. */
static inline void submit_wait(store *st, const comment_record *rec, results *r)
{
    int before = r->calls;
    assert_int_equal(store_submit_comment(st, rec, results_done, r), 0);
    results_wait(r, before + 1);
}

#endif
