/* test_store_moderation.c - unit tests for store_moderation.c: the transition table, expiry
 * parsing, author keys, compare-and-set decisions (also from two threads at once), reports,
 * strikes and their thresholds, manual sanctions, the queue's keyset pages and the feed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "ruleset.h"
#include "store.h"
#include "store_fixture.h"
#include "store_moderation.h"

typedef struct {
    test_db db;
    store *st;
    policy_config pol;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    test_db_open(&f->db, "test_store_mod", &f->st);
    mod_error err = {0};
    f->pol.strike_window_s = 3600;
    f->pol.probation_strikes = 2;
    f->pol.ban_strikes = 3;
    assert_int_equal(store_strike_policy_set(f->st, &f->pol, &err), 0);
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

/* ---- writing comments through the writer and waiting for the commit ---- */

static int counter;

/* Stores a comment in state (verdict to match) for author; id written to id_out. */
static void add_comment(fixture *f, const char *state, const char *author, const char *reason,
                        const char *site, char id_out[33])
{
    snprintf(id_out, 33, "%032d", ++counter);
    const char *verdict = strcmp(state, "held") == 0 ? "hold"
                          : strcmp(state, "blocked") == 0 ? "block" : "accept";
    comment_record rec = {
        .id = id_out, .site = (char *)site, .author_id = (char *)author, .text = "some text",
        .verdict = (char *)verdict, .state = (char *)state, .reason = (char *)reason,
        .matches_json = "[]",
    };
    results r;
    results_init(&r);
    submit_wait(f->st, &rec, &r);
    assert_int_equal(r.last_rc, 0);
    results_destroy(&r);
}

static author_sanction sanction_of(fixture *f, const char *author)
{
    author_sanction a;
    mod_error err = {0};
    assert_int_equal(store_author_sanction(f->st, author, &f->pol, store_now_ms(), &a, &err), 0);
    return a;
}

/* ---- pure functions ---- */

static void test_transition_table(void **state)
{
    (void)state;
    assert_string_equal(store_transition("held", "approve"), "approved");
    assert_string_equal(store_transition("held", "reject"), "rejected");
    assert_string_equal(store_transition("reported", "reject"), "rejected");
    assert_string_equal(store_transition("blocked", "approve"), "approved");
    assert_null(store_transition("blocked", "reject"));
    assert_null(store_transition("accepted", "approve"));
    assert_null(store_transition("rejected", "reject"));
    assert_null(store_transition("held", "report"));
    assert_null(store_transition(NULL, "approve"));
    assert_int_equal(store_state_index("reported"), 5);
    assert_int_equal(store_state_index("pending"), -1);
}

static void test_time_parse(void **state)
{
    (void)state;
    long long ms = 0, now = 1000000;
    mod_error err = {0};
    assert_int_equal(store_time_parse("30d", now, &ms, &err), 0);
    assert_true(ms == now + 30LL * 86400 * 1000);
    assert_int_equal(store_time_parse("90m", now, &ms, &err), 0);
    assert_true(ms == now + 90LL * 60 * 1000);
    assert_int_equal(store_time_parse("2w", now, &ms, &err), 0);
    assert_true(ms == now + 14LL * 86400 * 1000);
    /* a start ("audit export --since 30d"): the same forms, a duration counted back */
    assert_int_equal(store_time_parse_ago("30d", now, &ms, &err), 0);
    assert_true(ms == now - 30LL * 86400 * 1000);
    assert_int_equal(store_time_parse_ago("2026-12-01", now, &ms, &err), 0);
    assert_true(ms == 1796083200000LL);
    assert_int_equal(store_time_parse_ago("soon", now, &ms, &err), -1);
    assert_non_null(strstr(err.message, "\"soon\" is not a time"));
    err = (mod_error){0};
    assert_int_equal(store_time_parse("2026-12-01", now, &ms, &err), 0);
    assert_true(ms == 1796083200000LL);
    assert_int_equal(store_time_parse("2026-12-01T10:00:00Z", now, &ms, &err), 0);
    assert_true(ms == 1796083200000LL + 36000000LL);
    assert_int_equal(store_time_parse("2026-12-01T10:00:00.250Z", now, &ms, &err), 0);
    assert_true(ms == 1796083200000LL + 36000250LL);
    char iso[32];
    store_ms_iso(ms, iso);
    assert_string_equal(iso, "2026-12-01T10:00:00.250Z");
    const char *bad[] = {"", "soon", "5", "5x", "-3d", "0d", "2026-13-01", "2026-12-01T25:00Z",
                         "2026-12-01T10:00:00+02:00", "1d2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (store_time_parse(bad[i], now, &ms, &err) == 0)
            fail_msg("\"%s\" parsed", bad[i]);
    assert_int_equal(err.code, ERR_BAD_FIELD);
}

static void test_author_key(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(store_author_key("U-1", "A@B.C", buf, sizeof buf), "U-1");
    assert_string_equal(store_author_key("", "Jo@Example.COM", buf, sizeof buf), "jo@example.com");
    assert_string_equal(store_author_key(NULL, "X@y", buf, sizeof buf), "x@y");
    assert_null(store_author_key(NULL, "", buf, sizeof buf));
    assert_null(store_author_key("", NULL, buf, sizeof buf));
}

/* ---- decisions ---- */

static void test_decide_compare_and_set(void **state)
{
    fixture *f = *state;
    char id[33];
    add_comment(f, "held", "alice", NULL, "s", id);
    store_change ch;
    mod_error err = {0};
    assert_int_equal(store_decide(f->st, id, "approve", "reported", NULL, "m1", &ch, &err), -1);
    assert_int_equal(err.code, ERR_CONFLICT);
    assert_string_equal(ch.before, "held");
    assert_int_equal(store_decide(f->st, id, "approve", "held", "ok", "m1", &ch, &err), 0);
    assert_string_equal(ch.before, "held");
    assert_string_equal(ch.after, "approved");
    long decided = ch.seq;
    assert_int_equal(store_decide(f->st, id, "approve", "held", NULL, "m2", &ch, &err), -1);
    assert_int_equal(err.code, ERR_CONFLICT);
    assert_string_equal(ch.before, "approved");
    assert_int_equal(store_decide(f->st, "nope", "approve", NULL, NULL, "m1", &ch, &err), -1);
    assert_int_equal(err.code, ERR_NOT_FOUND);
    assert_int_equal(store_decide(f->st, id, "delete", NULL, NULL, "m1", &ch, &err), -1);
    assert_int_equal(err.code, ERR_BAD_FIELD);

    store_comment_mod m;
    assert_int_equal(store_comment_mod_get(f->st, id, 1, &m, &err), 0);
    assert_int_equal(m.n_history, 2); /* verdict, decision */
    assert_string_equal(m.history[1].type, "decision");
    assert_int_equal(m.history[1].seq, decided); /* the seq reported is the decision's event */
    assert_string_equal(m.history[1].actor, "m1");
    assert_non_null(strstr(m.history[1].data, "\"before\":\"held\",\"after\":\"approved\""));
    store_comment_mod_free(&m);
    assert_true(audit_intact(f->st) >= 2);
}

typedef struct {
    fixture *f;
    const char *id, *decision;
    pthread_barrier_t *barrier;
    int rc;
    err_code code;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    store_change ch;
    mod_error err = {0};
    pthread_barrier_wait(r->barrier);
    r->rc = store_decide(r->f->st, r->id, r->decision, "held", "race", "m", &ch, &err);
    r->code = err.code;
    return NULL;
}

static void test_decide_race_has_one_winner(void **state)
{
    fixture *f = *state;
    for (int round = 0; round < 20; round++) {
        char id[33];
        add_comment(f, "held", NULL, NULL, "s", id);
        pthread_barrier_t b;
        pthread_barrier_init(&b, NULL, 2);
        racer r[2] = {{f, id, "approve", &b, 0, 0}, {f, id, "reject", &b, 0, 0}};
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, race, &r[i]);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&b);
        assert_int_equal(r[0].rc + r[1].rc, -1); /* one 0, one -1 */
        assert_int_equal(r[0].rc ? r[0].code : r[1].code, ERR_CONFLICT);
    }
}

/* ---- strikes and sanctions ---- */

static void test_strikes_thresholds_and_reset(void **state)
{
    fixture *f = *state;
    char id[33], held[33];
    add_comment(f, "blocked", "bob", NULL, "s", id);
    author_sanction a = sanction_of(f, "bob");
    assert_int_equal(a.strikes, 1);
    assert_int_equal(a.status, AUTHOR_OK);
    author_sanction_free(&a);
    /* A block decided by a sanction (reason set) is no strike. */
    add_comment(f, "blocked", "bob", "author_banned", "s", id);
    a = sanction_of(f, "bob");
    assert_int_equal(a.strikes, 1);
    author_sanction_free(&a);
    /* A rejection is one. */
    add_comment(f, "held", "bob", NULL, "s", held);
    store_change ch;
    mod_error err = {0};
    assert_int_equal(store_decide(f->st, held, "reject", "held", "insult", "m", &ch, &err), 0);
    a = sanction_of(f, "bob");
    assert_int_equal(a.strikes, 2);
    assert_int_equal(a.status, AUTHOR_PROBATION);
    assert_string_equal(a.source, "strikes");
    author_sanction_free(&a);
    add_comment(f, "blocked", "bob", NULL, "s", id);
    a = sanction_of(f, "bob");
    assert_int_equal(a.status, AUTHOR_BANNED);
    author_sanction_free(&a);
    /* The appeal withdraws the rejection's strike. */
    assert_int_equal(store_decide(f->st, held, "approve", "rejected", "appeal", "m", &ch, &err), 0);
    a = sanction_of(f, "bob");
    assert_int_equal(a.strikes, 2);
    assert_int_equal(a.status, AUTHOR_PROBATION);
    author_sanction_free(&a);
    /* Lifting resets the count. */
    assert_int_equal(store_sanction_set(f->st, "bob", "clear", NULL, 0, "m", NULL, &err), 0);
    a = sanction_of(f, "bob");
    assert_int_equal(a.strikes, 0);
    assert_int_equal(a.status, AUTHOR_OK);
    author_sanction_free(&a);

    author_record r;
    assert_int_equal(store_author_record(f->st, "bob", &f->pol, 1, &r, &err), 0);
    assert_int_equal(r.total, 4);
    assert_int_equal(r.comments[store_state_index("blocked")], 3);
    assert_int_equal(r.n_strikes, 2); /* on record, no longer counted */
    /* Newest first: the clear, then the policy's ban and probation events. */
    assert_true(r.n_history >= 3);
    assert_string_equal(r.history[0].actor, "m");
    assert_non_null(strstr(r.history[1].data, "\"action\":\"ban\""));
    assert_string_equal(r.history[1].actor, "policy");
    author_record_free(&r);
}

static void test_manual_sanctions_and_expiry(void **state)
{
    fixture *f = *state;
    mod_error err = {0};
    long seq = 0;
    assert_int_equal(store_sanction_set(f->st, "carol", "ban", NULL, 0, "m", &seq, &err), -1);
    assert_int_equal(err.code, ERR_BAD_FIELD); /* a reason is required */
    assert_non_null(strstr(err.message, "\"reason\""));
    err = (mod_error){0};
    assert_int_equal(store_sanction_set(f->st, "carol", "mute", "x", 0, "m", &seq, &err), -1);
    assert_int_equal(err.code, ERR_BAD_FIELD);
    assert_non_null(strstr(err.message, "\"action\""));
    err = (mod_error){0};
    assert_int_equal(store_sanction_set(f->st, "carol", "ban", "x", 1000, "m", &seq, &err), -1);
    assert_int_equal(err.code, ERR_BAD_FIELD);
    assert_non_null(strstr(err.message, "\"until\" is in the past"));
    assert_int_equal(store_sanction_set(f->st, "carol", "probation", "heated", 0, "m", &seq, &err), 0);
    store_event *ev;
    size_t n_ev;
    assert_int_equal(store_events_list(f->st, 0, 0, &ev, &n_ev, &err), 0);
    assert_true(n_ev > 0);
    assert_int_equal(seq, ev[n_ev - 1].seq); /* the sanction's own event, the newest */
    assert_string_equal(ev[n_ev - 1].type, "sanction");
    store_events_free(ev, n_ev);
    author_sanction a = sanction_of(f, "carol");
    assert_int_equal(a.status, AUTHOR_PROBATION);
    assert_string_equal(a.source, "manual");
    assert_string_equal(a.reason, "heated");
    author_sanction_free(&a);
    long long soon = store_now_ms() + 300;
    assert_int_equal(store_sanction_set(f->st, "carol", "ban", "doxxing", soon, "m", &seq, &err), 0);
    a = sanction_of(f, "carol");
    assert_int_equal(a.status, AUTHOR_BANNED);
    assert_true(a.until_ms == soon);
    author_sanction_free(&a);
    usleep(400 * 1000);
    a = sanction_of(f, "carol");
    assert_int_equal(a.status, AUTHOR_OK);
    assert_false(a.active);
    assert_string_equal(a.action, "ban");
    author_sanction_free(&a);
    a = sanction_of(f, "nobody");
    assert_int_equal(a.status, AUTHOR_OK);
    assert_null(a.action);
    author_sanction_free(&a);
}

/* ---- reports, queue, feed ---- */

static void test_reports(void **state)
{
    fixture *f = *state;
    char id[33], held[33];
    add_comment(f, "accepted", NULL, NULL, "s", id);
    add_comment(f, "held", NULL, NULL, "s", held);
    store_change ch;
    mod_error err = {0};
    assert_int_equal(store_report(f->st, held, "r1", "x", "cms", &ch, &err), -1);
    assert_int_equal(err.code, ERR_CONFLICT);
    assert_int_equal(store_report(f->st, id, "r1", "rude", "cms", &ch, &err), 0);
    assert_int_equal(ch.reports, 1);
    assert_string_equal(ch.after, "reported");
    assert_int_equal(store_report(f->st, id, "r1", "rude", "cms", &ch, &err), 0);
    assert_true(ch.duplicate);
    assert_int_equal(store_report(f->st, id, NULL, NULL, "cms", &ch, &err), 0);
    assert_int_equal(ch.reports, 2);
    store_comment_mod m;
    assert_int_equal(store_comment_mod_get(f->st, id, 1, &m, &err), 0);
    assert_int_equal(m.reports, 2);
    assert_int_equal(m.n_recent, 2);
    assert_string_equal(m.recent_reports[1].reason, "rude");
    assert_int_equal(m.n_history, 3);
    store_comment_mod_free(&m);
    /* a queue page carries the same reports, read with the page */
    store_queue_query q = {.state = "reported", .category = -1, .limit = 10};
    store_queue_item *items;
    size_t n;
    long total;
    assert_int_equal(store_queue_list(f->st, &q, &items, &n, &total, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].rec.id, id);
    assert_int_equal(items[0].mod.reports, 2);
    assert_int_equal(items[0].mod.n_recent, 2);
    assert_string_equal(items[0].mod.recent_reports[1].reason, "rude");
    assert_int_equal(items[0].mod.n_history, 0);
    store_queue_free(items, n);
}

static void test_queue_pages_and_feed(void **state)
{
    fixture *f = *state;
    char ids[7][33];
    for (int i = 0; i < 7; i++)
        add_comment(f, "held", NULL, NULL, i % 2 ? "odd" : "even", ids[i]);
    store_queue_query q = {.state = "held", .site = "even", .category = -1, .limit = 3};
    store_queue_item *items;
    size_t n;
    long total;
    mod_error err = {0};
    assert_int_equal(store_queue_list(f->st, &q, &items, &n, &total, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(total, 4);
    assert_string_equal(items[0].rec.id, ids[0]);
    assert_string_equal(items[2].rec.id, ids[4]);
    q.after = items[2].mod.cursor;
    store_queue_free(items, n);
    assert_int_equal(store_queue_list(f->st, &q, &items, &n, &total, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].rec.id, ids[6]);
    store_queue_free(items, n);
    q.category = 1; /* nothing scored personal_attack */
    q.after = 0;
    assert_int_equal(store_queue_list(f->st, &q, &items, &n, &total, &err), 0);
    assert_int_equal(n, 0);
    store_queue_free(items, n);
    q.state = "pending";
    err = (mod_error){0};
    assert_int_equal(store_queue_list(f->st, &q, &items, &n, &total, &err), -1);
    assert_int_equal(err.code, ERR_BAD_FIELD);
    assert_non_null(strstr(err.message, "unknown state \"pending\""));

    store_change ch;
    assert_int_equal(store_decide(f->st, ids[1], "reject", "held", "a", "m", &ch, &err), 0);
    long first = ch.seq;
    assert_int_equal(store_decide(f->st, ids[0], "approve", "held", NULL, "m", &ch, &err), 0);
    long second = ch.seq;
    store_feed_entry *e;
    assert_int_equal(store_decisions_since(f->st, 0, 10, &e, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(e[0].seq, first);
    assert_string_equal(e[0].comment_id, ids[1]);
    assert_string_equal(e[0].site, "odd");
    assert_int_equal(e[1].seq, second);
    store_feed_free(e, n);
    assert_int_equal(store_decisions_since(f->st, first, 10, &e, &n, &err), 0);
    assert_int_equal(n, 1);
    store_feed_free(e, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transition_table),
        cmocka_unit_test(test_time_parse),
        cmocka_unit_test(test_author_key),
        cmocka_unit_test_setup_teardown(test_decide_compare_and_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decide_race_has_one_winner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strikes_thresholds_and_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manual_sanctions_and_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_pages_and_feed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
