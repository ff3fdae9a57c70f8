/* test_store.c - unit tests for the SQLite store: writer queue, reads, keys, audit chain. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "error.h"
#include "store.h"
#include <sqlite3.h>

#include "store_fixture.h"

static const char zero_hash[] = "0000000000000000000000000000000000000000000000000000000000000000";

typedef struct {
    test_db db;
    store *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    test_db_open(&f->db, "test_store", &f->st);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    test_db_remove(&f->db, f->st);
    free(f);
    return 0;
}

static void make_id(char out[33], unsigned n)
{
    snprintf(out, 33, "%032x", n);
}

static comment_record minimal(char *id, char *site, char *ext_id, char *text)
{
    comment_record rec = {0};
    rec.id = id;
    rec.site = site;
    rec.ext_id = ext_id;
    rec.text = text;
    rec.verdict = "accept";
    rec.state = "accepted";
    return rec;
}

static void sha256_hex(const char *s, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    assert_true(EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL));
    assert_int_equal(n, 32);
    for (unsigned i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int is_timestamp(const char *s)
{
    /* 2026-11-21T10:00:00.123Z */
    if (!s || strlen(s) != 24)
        return 0;
    for (int i = 0; i < 24; i++) {
        char c = s[i];
        int ok = i == 4 || i == 7 ? c == '-' : i == 10 ? c == 'T' : i == 13 || i == 16 ? c == ':'
               : i == 19 ? c == '.' : i == 23 ? c == 'Z' : (c >= '0' && c <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

/* ---------- comments ---------- */

static void test_insert_and_read_back(void **state)
{
    fixture *f = *state;
    comment_record rec = {
        .id = "0123456789abcdef0123456789abcdef",
        .site = "blog.example",
        .ext_id = "c-42",
        .thread = "post-7",
        .parent_id = "c-41",
        .author_id = "u-9",
        .author_name = "Ana \"Quote\" O'Brien",
        .author_email = "ana@example.org",
        .author_url = "https://ana.example.org/",
        .ip = "2001:db8::1",
        .user_agent = "Mozilla/5.0",
        .text = "Grüße – this is the comment text\nwith a newline",
        .verdict = "hold",
        .state = "held",
        .score = 0.625,
        .categories = {0.5, 0.125, 0.0},
        .matches_json = "[{\"rule\":\"insult.idiot\",\"score\":0.5}]",
        .ruleset = "a1b2c3d4e5f60718",
        .reason = "author on probation",
        .created_at = "1999-01-01T00:00:00.000Z", /* the store must override this */
    };
    results r;
    results_init(&r);
    submit_wait(f->st, &rec, &r);
    assert_int_equal(r.last_rc, 0);
    assert_int_equal(r.existed, 0);
    assert_string_equal(r.last.id, rec.id);
    assert_true(is_timestamp(r.last.created_at));
    assert_string_not_equal(r.last.created_at, "1999-01-01T00:00:00.000Z");
    assert_string_equal(r.last.created_at, r.last.updated_at);

    comment_record got;
    mod_error err = {0};
    assert_int_equal(store_get_comment(f->st, rec.id, &got, &err), 0);
    assert_string_equal(got.id, rec.id);
    assert_string_equal(got.site, rec.site);
    assert_string_equal(got.ext_id, rec.ext_id);
    assert_string_equal(got.thread, rec.thread);
    assert_string_equal(got.parent_id, rec.parent_id);
    assert_string_equal(got.author_id, rec.author_id);
    assert_string_equal(got.author_name, rec.author_name);
    assert_string_equal(got.author_email, rec.author_email);
    assert_string_equal(got.author_url, rec.author_url);
    assert_string_equal(got.ip, rec.ip);
    assert_string_equal(got.user_agent, rec.user_agent);
    assert_string_equal(got.text, rec.text);
    assert_string_equal(got.verdict, "hold");
    assert_string_equal(got.state, "held");
    assert_true(got.score == 0.625);
    assert_true(got.categories[CAT_PROFANITY] == 0.5);
    assert_true(got.categories[CAT_PERSONAL_ATTACK] == 0.125);
    assert_true(got.categories[CAT_ETHNIC_SLUR] == 0.0);
    assert_string_equal(got.matches_json, rec.matches_json);
    assert_string_equal(got.ruleset, rec.ruleset);
    assert_string_equal(got.reason, rec.reason);
    assert_string_equal(got.created_at, r.last.created_at);
    assert_string_equal(got.updated_at, r.last.updated_at);
    comment_record_free(&got);

    assert_int_equal(store_find_comment(f->st, "blog.example", "c-42", &got, &err), 0);
    assert_string_equal(got.id, rec.id);
    comment_record_free(&got);
    assert_int_equal(store_find_comment(f->st, "other.example", "c-42", &got, &err), 1);
    assert_int_equal(store_find_comment(f->st, NULL, "c-42", &got, &err), 1);

    assert_int_equal(store_get_comment(f->st, "ffffffffffffffffffffffffffffffff", &got, &err), -1);
    assert_int_equal(err.code, ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "ffffffffffffffffffffffffffffffff"));
    assert_int_equal(store_comment_count(f->st), 1);
    results_destroy(&r);
}

static void test_resubmit_is_idempotent(void **state)
{
    fixture *f = *state;
    results r;
    results_init(&r);
    comment_record first = minimal("11111111111111111111111111111111", "s1", "e1", "first text");
    submit_wait(f->st, &first, &r);
    assert_int_equal(r.last_rc, 0);
    assert_int_equal(r.existed, 0);
    char *created = strdup(r.last.created_at);

    comment_record again = minimal("22222222222222222222222222222222", "s1", "e1", "second text");
    again.verdict = "block";
    again.state = "blocked";
    submit_wait(f->st, &again, &r);
    assert_int_equal(r.last_rc, 0);
    assert_int_equal(r.last_existed, 1);
    assert_string_equal(r.last.id, first.id);
    assert_string_equal(r.last.text, "first text");
    assert_string_equal(r.last.verdict, "accept");
    assert_string_equal(r.last.created_at, created);
    assert_int_equal(store_comment_count(f->st), 1);

    comment_record got;
    mod_error err = {0};
    assert_int_equal(store_get_comment(f->st, again.id, &got, &err), -1);
    assert_int_equal(err.code, ERR_NOT_FOUND);

    /* The same ext_id on another site is a different comment. */
    comment_record other = minimal("33333333333333333333333333333333", "s2", "e1", "other site");
    submit_wait(f->st, &other, &r);
    assert_int_equal(r.last_rc, 0);
    assert_int_equal(r.last_existed, 0);
    assert_string_equal(r.last.id, other.id);
    assert_int_equal(store_comment_count(f->st), 2);

    /* Only new comments write a verdict event. */
    store_event *ev;
    size_t n;
    assert_int_equal(store_events_list(f->st, 0, 0, &ev, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(ev[0].comment_id, first.id);
    assert_string_equal(ev[1].comment_id, other.id);
    store_events_free(ev, n);
    free(created);
    results_destroy(&r);
}

static void test_null_site_and_optional_fields(void **state)
{
    fixture *f = *state;
    results r;
    results_init(&r);
    comment_record rec = minimal("44444444444444444444444444444444", NULL, "x-1", "no site");
    submit_wait(f->st, &rec, &r);
    assert_int_equal(r.last_rc, 0);
    assert_null(r.last.site);

    comment_record got;
    mod_error err = {0};
    assert_int_equal(store_get_comment(f->st, rec.id, &got, &err), 0);
    assert_null(got.site);
    assert_string_equal(got.ext_id, "x-1");
    assert_null(got.thread);
    assert_null(got.parent_id);
    assert_null(got.author_id);
    assert_null(got.author_name);
    assert_null(got.author_email);
    assert_null(got.author_url);
    assert_null(got.ip);
    assert_null(got.user_agent);
    assert_null(got.matches_json);
    assert_null(got.ruleset);
    assert_null(got.reason);
    assert_string_equal(got.text, "no site");
    comment_record_free(&got);

    assert_int_equal(store_find_comment(f->st, NULL, "x-1", &got, &err), 0);
    assert_string_equal(got.id, rec.id);
    comment_record_free(&got);

    /* NULL site dedupes against NULL site. */
    comment_record again = minimal("55555555555555555555555555555555", NULL, "x-1", "again");
    submit_wait(f->st, &again, &r);
    assert_int_equal(r.last_existed, 1);
    assert_string_equal(r.last.id, rec.id);

    /* Without ext_id nothing is deduplicated. */
    comment_record a = minimal("66666666666666666666666666666666", NULL, NULL, "same");
    comment_record b = minimal("77777777777777777777777777777777", NULL, NULL, "same");
    submit_wait(f->st, &a, &r);
    submit_wait(f->st, &b, &r);
    assert_int_equal(r.last_existed, 0);
    assert_int_equal(r.existed, 1); /* only the NULL-site resubmission */
    assert_int_equal(store_comment_count(f->st), 3);
    assert_int_equal(store_find_comment(f->st, NULL, NULL, &got, &err), 1);
    results_destroy(&r);
}

static void test_failed_job_leaves_nothing(void **state)
{
    fixture *f = *state;
    results r;
    results_init(&r);
    comment_record a = minimal("88888888888888888888888888888888", "s", "a", "one");
    submit_wait(f->st, &a, &r);
    assert_int_equal(r.last_rc, 0);
    /* Same server id, different ext_id: the id is UNIQUE, so this job fails on its own. */
    comment_record b = minimal("88888888888888888888888888888888", "s", "b", "two");
    submit_wait(f->st, &b, &r);
    assert_int_equal(r.last_rc, -1);
    assert_int_equal(r.last_code, ERR_STORE);
    assert_int_equal(store_comment_count(f->st), 1);

    mod_error err = {0};
    store_event *ev;
    size_t n;
    assert_int_equal(store_events_list(f->st, 0, 0, &ev, &n, &err), 0);
    assert_int_equal(n, 1); /* the failed job's event was rolled back with it */
    store_events_free(ev, n);
    results_destroy(&r);
}

static void test_submit_rejected(void **state)
{
    fixture *f = *state;
    comment_record no_text = minimal("99999999999999999999999999999999", "s", "e", NULL);
    assert_int_equal(store_submit_comment(f->st, &no_text, results_done, NULL), -1);
    comment_record no_id = minimal(NULL, "s", "e", "text");
    assert_int_equal(store_submit_comment(f->st, &no_id, results_done, NULL), -1);

    /* A read-only tool's handle has no writer. */
    store *ctl;
    mod_error err = {0};
    assert_int_equal(store_open(f->db.path, 0, &ctl, &err), 0);
    comment_record ok = minimal("99999999999999999999999999999999", "s", "e", "text");
    assert_int_equal(store_submit_comment(ctl, &ok, results_done, NULL), -1);
    store_close(ctl);
    assert_int_equal(store_comment_count(f->st), 0);
}

/* ---------- group commit ---------- */

#define SUBMIT_THREADS 4
#define SUBMIT_PER_THREAD 125

typedef struct {
    store *st;
    results *r;
    unsigned base;
    int submit_failures;
} submitter;

static void *submit_many(void *arg)
{
    submitter *s = arg;
    for (unsigned i = 0; i < SUBMIT_PER_THREAD; i++) {
        char id[33], ext[32], text[64];
        make_id(id, s->base + i);
        snprintf(ext, sizeof ext, "ext-%u", s->base + i);
        snprintf(text, sizeof text, "comment number %u", s->base + i);
        comment_record rec = minimal(id, "site", ext, text);
        if (store_submit_comment(s->st, &rec, results_done, s->r) != 0)
            s->submit_failures++;
        if (i % 25 == 0 && store_comment_count(s->st) < 0) /* reads run beside the writer */
            s->submit_failures++;
    }
    return NULL;
}

static void test_concurrent_submissions(void **state)
{
    fixture *f = *state;
    results r;
    results_init(&r);
    pthread_t th[SUBMIT_THREADS];
    submitter sub[SUBMIT_THREADS];
    for (unsigned t = 0; t < SUBMIT_THREADS; t++) {
        sub[t] = (submitter){.st = f->st, .r = &r, .base = 1000 + t * SUBMIT_PER_THREAD};
        assert_int_equal(pthread_create(&th[t], NULL, submit_many, &sub[t]), 0);
    }
    for (unsigned t = 0; t < SUBMIT_THREADS; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(sub[t].submit_failures, 0);
    }
    const int total = SUBMIT_THREADS * SUBMIT_PER_THREAD;
    results_wait(&r, total);
    assert_int_equal(r.calls, total);
    assert_int_equal(r.ok, total);
    assert_int_equal(r.existed, 0);
    assert_int_equal(store_comment_count(f->st), total);

    long batches = 0, jobs = 0;
    store_writer_stats(f->st, &batches, &jobs);
    assert_int_equal(jobs, total);
    assert_true(batches >= 1);
    assert_true(batches < jobs); /* group commit: several jobs per transaction */

    /* Every one is readable, with its own text. */
    for (unsigned i = 1000; i < 1000 + (unsigned)total; i += 37) {
        char id[33], text[64];
        comment_record got;
        mod_error err = {0};
        make_id(id, i);
        snprintf(text, sizeof text, "comment number %u", i);
        assert_int_equal(store_get_comment(f->st, id, &got, &err), 0);
        assert_string_equal(got.text, text);
        comment_record_free(&got);
    }
    assert_int_equal(audit_intact(f->st), total);
    results_destroy(&r);
}

/* The first job's callback holds the writer until the rest are queued. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int entered, open;
} gate;

static void on_gate(void *ctx, int rc, const comment_record *stored, int existed, const mod_error *err)
{
    gate *g = ctx;
    pthread_mutex_lock(&g->lock);
    g->entered = 1;
    pthread_cond_broadcast(&g->cond);
    while (!g->open)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static void test_queued_jobs_share_one_transaction(void **state)
{
    fixture *f = *state;
    gate g = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    comment_record first = minimal("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "s", "gate", "gate");
    assert_int_equal(store_submit_comment(f->st, &first, on_gate, &g), 0);
    pthread_mutex_lock(&g.lock);
    while (!g.entered)
        pthread_cond_wait(&g.cond, &g.lock);
    pthread_mutex_unlock(&g.lock);

    results r;
    results_init(&r);
    for (unsigned i = 0; i < 100; i++) {
        char id[33], ext[16];
        make_id(id, 5000 + i);
        snprintf(ext, sizeof ext, "q-%u", i);
        comment_record rec = minimal(id, "s", ext, "queued");
        assert_int_equal(store_submit_comment(f->st, &rec, results_done, &r), 0);
    }
    pthread_mutex_lock(&g.lock);
    g.open = 1;
    pthread_cond_broadcast(&g.cond);
    pthread_mutex_unlock(&g.lock);

    results_wait(&r, 100);
    assert_int_equal(r.ok, 100);
    long batches = 0, jobs = 0;
    store_writer_stats(f->st, &batches, &jobs);
    assert_int_equal(batches, 2);
    assert_int_equal(jobs, 101);
    assert_int_equal(store_comment_count(f->st), 101);
    results_destroy(&r);
}

static void test_close_drains_queue(void **state)
{
    fixture *f = *state;
    results r;
    results_init(&r);
    for (unsigned i = 0; i < 300; i++) {
        char id[33], ext[16];
        make_id(id, 7000 + i);
        snprintf(ext, sizeof ext, "d-%u", i);
        comment_record rec = minimal(id, NULL, ext, "drain me");
        assert_int_equal(store_submit_comment(f->st, &rec, results_done, &r), 0);
    }
    store_close(f->st); /* no waiting first: close itself must deliver every callback */
    f->st = NULL;
    assert_int_equal(r.calls, 300);
    assert_int_equal(r.ok, 300);

    /* Reopening migrates nothing and finds everything. */
    mod_error err = {0};
    assert_int_equal(store_open(f->db.path, 1, &f->st, &err), 0);
    assert_int_equal(store_comment_count(f->st), 300);
    assert_int_equal(audit_intact(f->st), 300);
    results_destroy(&r);
}

/* ---------- keys ---------- */

static void test_keys_add_lookup_revoke(void **state)
{
    fixture *f = *state;
    mod_error err = {0};
    char *key = NULL, *key2 = NULL;
    assert_int_equal(store_key_add(f->st, "cms", "blog-cms", &key, &err), 0);
    assert_non_null(key);
    assert_int_equal(strlen(key), 67);
    assert_memory_equal(key, "mk_", 3);
    for (size_t i = 3; i < 67; i++)
        assert_non_null(strchr("0123456789abcdef", key[i]));
    assert_int_equal(store_key_add(f->st, "moderator", "alice", &key2, &err), 0);
    assert_string_not_equal(key, key2);

    api_key_info info;
    assert_int_equal(store_key_lookup(f->st, key, &info, &err), 0);
    assert_string_equal(info.name, "blog-cms");
    assert_string_equal(info.role, "cms");
    assert_true(is_timestamp(info.created_at));
    assert_null(info.revoked_at);
    long cms_id = info.id;
    api_key_info_free(&info);

    char *bad = (char *)1;
    assert_int_equal(store_key_add(f->st, "root", "mallory", &bad, &err), -1);
    assert_int_equal(err.code, ERR_BAD_FIELD);
    assert_non_null(strstr(err.message, "root"));
    assert_null(bad);
    assert_int_equal(store_key_add(f->st, NULL, "x", &bad, &err), -1);
    assert_int_equal(err.code, ERR_BAD_FIELD);

    char wrong[68];
    memcpy(wrong, key, 68);
    wrong[66] = wrong[66] == 'a' ? 'b' : 'a';
    assert_int_equal(store_key_lookup(f->st, wrong, &info, &err), -1);
    assert_int_equal(err.code, ERR_UNAUTHORIZED);
    assert_int_equal(store_key_lookup(f->st, NULL, &info, &err), -1);
    assert_int_equal(err.code, ERR_UNAUTHORIZED);

    api_key_info *list;
    size_t n;
    assert_int_equal(store_key_list(f->st, &list, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, cms_id);
    assert_string_equal(list[0].name, "blog-cms");
    assert_string_equal(list[1].name, "alice");
    assert_string_equal(list[1].role, "moderator");
    assert_null(list[0].revoked_at);
    api_key_list_free(list, n);

    assert_int_equal(store_key_revoke(f->st, "blog-cms", &err), 0);
    assert_int_equal(store_key_lookup(f->st, key, &info, &err), -1);
    assert_int_equal(err.code, ERR_UNAUTHORIZED);
    assert_int_equal(store_key_revoke(f->st, "blog-cms", &err), -1);
    assert_int_equal(err.code, ERR_NOT_FOUND);
    assert_int_equal(store_key_revoke(f->st, "nobody", &err), -1);
    assert_int_equal(err.code, ERR_NOT_FOUND);

    /* By numeric id. */
    assert_int_equal(store_key_lookup(f->st, key2, &info, &err), 0);
    char idbuf[24];
    snprintf(idbuf, sizeof idbuf, "%ld", info.id);
    api_key_info_free(&info);
    assert_int_equal(store_key_revoke(f->st, idbuf, &err), 0);
    assert_int_equal(store_key_lookup(f->st, key2, &info, &err), -1);
    assert_int_equal(err.code, ERR_UNAUTHORIZED);

    assert_int_equal(store_key_list(f->st, &list, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_true(is_timestamp(list[0].revoked_at));
    assert_true(is_timestamp(list[1].revoked_at));
    api_key_list_free(list, n);

    /* Each add and revoke is an event with the key name as actor. */
    store_event *ev;
    assert_int_equal(store_events_list(f->st, 0, 0, &ev, &n, &err), 0);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(ev[i].type, "key");
    assert_string_equal(ev[0].actor, "blog-cms");
    assert_non_null(strstr(ev[0].data, "\"action\":\"add\""));
    assert_non_null(strstr(ev[0].data, "\"role\":\"cms\""));
    assert_string_equal(ev[2].actor, "blog-cms");
    assert_non_null(strstr(ev[2].data, "\"action\":\"revoke\""));
    assert_string_equal(ev[3].actor, "alice");
    store_events_free(ev, n);
    free(key);
    free(key2);
}

static int file_contains(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 0;
    size_t cap = 1 << 16, len = 0, got;
    char *buf = malloc(cap);
    assert_non_null(buf);
    while ((got = fread(buf + len, 1, cap - len, fp)) > 0) {
        len += got;
        if (len == cap) {
            buf = realloc(buf, cap *= 2);
            assert_non_null(buf);
        }
    }
    fclose(fp);
    int found = memmem(buf, len, needle, strlen(needle)) != NULL;
    free(buf);
    return found;
}

static void test_key_stored_only_hashed(void **state)
{
    fixture *f = *state;
    mod_error err = {0};
    char *key = NULL;
    assert_int_equal(store_key_add(f->st, "admin", "ops-unique-key-name", &key, &err), 0);
    char hash[65];
    sha256_hex(key, hash);

    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", f->db.path);
    /* While open the row sits in the WAL; after close it is checkpointed into the main file. */
    assert_false(file_contains(f->db.path, key) || file_contains(wal, key));
    assert_false(file_contains(f->db.path, key + 3) || file_contains(wal, key + 3));
    assert_true(file_contains(f->db.path, hash) || file_contains(wal, hash));
    store_close(f->st);
    f->st = NULL;
    assert_true(file_contains(f->db.path, "ops-unique-key-name")); /* the scan does see rows */
    assert_true(file_contains(f->db.path, hash));
    assert_false(file_contains(f->db.path, key));
    assert_false(file_contains(f->db.path, key + 3));
    assert_false(file_contains(wal, key));
    free(key);
}

typedef struct {
    store *ctl;
    int failures;
} key_adder;

static void *add_keys(void *arg)
{
    key_adder *a = arg;
    for (int i = 0; i < 10; i++) {
        char name[16], *key = NULL;
        mod_error err = {0};
        snprintf(name, sizeof name, "k%d", i);
        if (store_key_add(a->ctl, "moderator", name, &key, &err) != 0)
            a->failures++;
        free(key);
    }
    return NULL;
}

/* moderatorctl opens its own handle (writer=0); the daemon must see its changes at once. */
static void test_second_handle_writes(void **state)
{
    fixture *f = *state;
    store *ctl;
    mod_error err = {0};
    assert_int_equal(store_open(f->db.path, 0, &ctl, &err), 0);

    char *key = NULL;
    api_key_info info;
    assert_int_equal(store_key_add(ctl, "cms", "from-ctl", &key, &err), 0);
    assert_int_equal(store_key_lookup(f->st, key, &info, &err), 0);
    assert_string_equal(info.name, "from-ctl");
    api_key_info_free(&info);
    assert_int_equal(store_key_revoke(ctl, "from-ctl", &err), 0);
    assert_int_equal(store_key_lookup(f->st, key, &info, &err), -1);
    assert_int_equal(err.code, ERR_UNAUTHORIZED);
    free(key);

    /* Both write events at once; the chain must not fork. */
    key_adder adder = {.ctl = ctl};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, add_keys, &adder), 0);
    results r;
    results_init(&r);
    for (unsigned i = 0; i < 50; i++) {
        char id[33], ext[16];
        make_id(id, 9000 + i);
        snprintf(ext, sizeof ext, "m-%u", i);
        comment_record rec = minimal(id, "s", ext, "mixed");
        assert_int_equal(store_submit_comment(f->st, &rec, results_done, &r), 0);
    }
    pthread_join(th, NULL);
    results_wait(&r, 50);
    assert_int_equal(adder.failures, 0);
    assert_int_equal(r.ok, 50);

    assert_int_equal(audit_intact(f->st), 2 + 10 + 50);
    assert_int_equal(audit_intact(ctl), 2 + 10 + 50);
    store_close(ctl);
    results_destroy(&r);
}

/* ---------- audit events ---------- */

static void test_events_chain(void **state)
{
    fixture *f = *state;
    results r;
    results_init(&r);
    char *texts[] = {"first", "second", "third"};
    char ids[3][33];
    for (unsigned i = 0; i < 3; i++) {
        char ext[8];
        make_id(ids[i], 100 + i);
        snprintf(ext, sizeof ext, "ev%u", i);
        comment_record rec = minimal(ids[i], "site", ext, texts[i]);
        rec.verdict = "hold";
        rec.state = "held";
        rec.score = 0.75;
        rec.ruleset = "0011223344556677";
        submit_wait(f->st, &rec, &r);
        assert_int_equal(r.last_rc, 0);
    }
    comment_record dup = minimal("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "site", "ev0", "dup");
    submit_wait(f->st, &dup, &r);
    assert_int_equal(r.last_existed, 1);
    mod_error err = {0};
    char *key = NULL;
    assert_int_equal(store_key_add(f->st, "cms", "cms-1", &key, &err), 0);
    free(key);

    store_event *ev;
    size_t n;
    assert_int_equal(store_events_list(f->st, 0, 0, &ev, &n, &err), 0);
    assert_int_equal(n, 4); /* three verdicts and a key; the duplicate wrote nothing */
    assert_string_equal(ev[0].prev_hash, zero_hash);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ev[i].seq, (long)i + 1);
        assert_true(is_timestamp(ev[i].at));
        assert_int_equal(strlen(ev[i].hash), 64);
        if (i > 0)
            assert_string_equal(ev[i].prev_hash, ev[i - 1].hash);
        assert_string_not_equal(ev[i].hash, ev[i].prev_hash);
    }
    for (size_t i = 0; i < 3; i++) {
        char th[65], want[96];
        sha256_hex(texts[i], th);
        snprintf(want, sizeof want, "\"text_sha256\":\"%s\"", th);
        assert_string_equal(ev[i].type, "verdict");
        assert_string_equal(ev[i].comment_id, ids[i]);
        assert_non_null(strstr(ev[i].data, "\"verdict\":\"hold\""));
        assert_non_null(strstr(ev[i].data, "\"score\":0.75"));
        assert_non_null(strstr(ev[i].data, "\"ruleset\":\"0011223344556677\""));
        assert_non_null(strstr(ev[i].data, want));
    }
    assert_string_equal(ev[3].type, "key");
    assert_null(ev[3].comment_id);
    assert_string_equal(ev[3].actor, "cms-1");
    store_events_free(ev, n);

    /* Paging: after seq 2, one at a time. */
    assert_int_equal(store_events_list(f->st, 2, 1, &ev, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].seq, 3);
    store_events_free(ev, n);

    assert_int_equal(audit_intact(f->st), 4);
    results_destroy(&r);

    /* A comment changed behind the store's back: the chain is intact, the comment is named. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->db.path, &db), SQLITE_OK);
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE comments SET verdict = 'accept' WHERE id = '%s'", ids[1]);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    store_audit_report rep;
    assert_int_equal(store_audit_verify(f->st, 0, NULL, &rep, &err), 0);
    assert_int_equal(rep.n_problems, 1);
    assert_int_equal(rep.first_bad_seq, 2); /* the comment's verdict event */
    assert_string_equal(rep.first_bad_comment, ids[1]);
    char want[96];
    snprintf(want, sizeof want, "comment %s was altered", ids[1]);
    assert_non_null(strstr(rep.problems[0], want));
    /* An event rewritten (its guard dropped first): the event is named. */
    assert_int_equal(sqlite3_exec(db, "DROP TRIGGER events_no_update;"
                                      "UPDATE events SET data = replace(data, 'hold', 'held')"
                                      " WHERE seq = 3", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_audit_verify(f->st, 0, NULL, &rep, &err), 0);
    /* the event, the comment still altered, and the dropped guard, in that order */
    assert_int_equal(rep.n_problems, 3);
    assert_int_equal(rep.first_bad_seq, 3);
    assert_int_equal(strncmp(rep.problems[0], "event 3 was altered", 19), 0);
    assert_non_null(strstr(rep.problems[1], want));
    assert_non_null(strstr(rep.problems[2], "append-only were dropped"));
}

static void test_open_errors(void **state)
{
    store *st = (store *)1;
    mod_error err = {0};
    assert_int_equal(store_open("/nonexistent-dir/x/moderatord.db", 1, &st, &err), -1);
    assert_null(st);
    assert_int_equal(err.code, ERR_STORE);
    assert_non_null(strstr(err.message, "/nonexistent-dir/x/moderatord.db"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_insert_and_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resubmit_is_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_site_and_optional_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_job_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_submit_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_submissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queued_jobs_share_one_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_drains_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_add_lookup_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_stored_only_hashed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_handle_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_chain, setup, teardown),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
