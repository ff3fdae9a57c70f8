/* store_fixture.h - a database in a fresh temporary directory, shared by the store tests. */
#ifndef MODERATORD_TEST_STORE_FIXTURE_H
#define MODERATORD_TEST_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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

#endif
