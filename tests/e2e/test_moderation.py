"""Moderation over HTTP: the queue, every state transition (allowed and refused), the 409 race,
keyset pagination under concurrent inserts, reports, the decisions feed and comment histories."""

import json
import threading

import pytest

from modhelp import (BLOCKED, CLEAN, HELD, decide, events, get, make_state, post, queue, report,
                     uid, verify_chain)

STATES = ["held", "blocked", "accepted", "approved", "rejected", "reported"]

# (state, decision) -> the state after, or None where the decision is refused with 409.
TRANSITIONS = {
    ("held", "approve"): "approved",
    ("held", "reject"): "rejected",
    ("reported", "approve"): "approved",
    ("reported", "reject"): "rejected",
    ("blocked", "approve"): "approved",   # overturning an automatic block
    ("blocked", "reject"): None,          # already not published
    ("accepted", "approve"): None,        # already published
    ("accepted", "reject"): "rejected",   # taken down without waiting for a report
    ("approved", "approve"): None,
    ("approved", "reject"): "rejected",   # a moderator changes their mind
    ("rejected", "approve"): "approved",  # an appeal
    ("rejected", "reject"): None,
}

# A reader report is accepted only on published comments.
REPORTABLE = {"accepted", "approved", "reported"}


# ---- the queue ----

def test_queue_lists_held_comments_oldest_first_with_everything_to_decide(env):
    site = uid("site")
    author = uid("author")
    a = post(env, HELD, author=author, site=site)
    b = post(env, "you are all idiots and morons", author=author, site=site)
    post(env, CLEAN, author=author, site=site)  # accepted: not in the held queue
    q = queue(env, status="held", site=site)
    assert [i["id"] for i in q["items"]] == [a["id"], b["id"]]
    assert q["total"] == 2 and q["next"] is None and q["status"] == "held"
    assert q["items"][0]["cursor"] < q["items"][1]["cursor"]
    it = q["items"][0]
    assert it["text"] == HELD and it["state"] == "held"
    assert it["matches"] and all({"rule", "category", "start", "end", "text"} <= set(m)
                                 for m in it["matches"])
    assert it["categories"]["personal_attack"] > 0
    assert it["author"]["id"] == author
    assert it["allowed_decisions"] == ["approve", "reject"]
    rec = it["author_record"]
    assert rec["key"] == author and rec["status"] == "ok" and rec["strikes"] == 0
    assert rec["comments"]["total"] == 3 and rec["comments"]["held"] == 2
    assert rec["comments"]["accepted"] == 1
    assert set(q["thresholds"]) == {"profanity", "personal_attack", "ethnic_slur", "total"}
    assert q["strike_policy"]["ban"] > q["strike_policy"]["probation"] > 0


def test_queue_filters_by_site_thread_and_category(env):
    site = uid("site")
    insult = post(env, HELD, site=site, thread="t1")
    slur = post(env, "the polacks ruined it", site=site, thread="t2")
    assert slur["state"] == "held", slur
    post(env, HELD, site=uid("other"))
    ids = lambda q: [i["id"] for i in q["items"]]  # noqa: E731
    assert ids(queue(env, site=site)) == [insult["id"], slur["id"]]
    assert ids(queue(env, site=site, thread="t2")) == [slur["id"]]
    assert ids(queue(env, site=site, category="ethnic_slur")) == [slur["id"]]
    assert ids(queue(env, site=site, category="personal_attack")) == [insult["id"]]
    assert ids(queue(env, site=site, category="profanity")) == []
    assert queue(env, site=site, status="blocked")["items"] == []


@pytest.mark.parametrize("query", [
    "status=pending", "category=spam", "limit=0", "limit=201", "limit=x", "after=-1",
    "after=abc",
])
def test_queue_refuses_bad_parameters(env, query):
    r = env.request("GET", "/v1/queue?" + query, key=env.keys["moderator"])
    assert r.status == 400 and r.json["error"] == "bad_field", r


def test_queue_needs_a_moderator_key(env):
    assert env.request("GET", "/v1/queue").status == 401
    assert env.request("GET", "/v1/queue", key=env.keys["cms"]).status == 403
    assert env.request("GET", "/v1/queue", key=env.keys["admin"]).status == 200


def test_queue_pages_by_cursor(env):
    site = uid("site")
    made = [post(env, HELD, site=site)["id"] for _ in range(5)]
    seen, after = [], None
    while True:
        q = queue(env, site=site, limit=2, after=after)
        seen += [i["id"] for i in q["items"]]
        if q["next"] is None:
            break
        after = q["next"]
    assert seen == made


def test_pagination_is_stable_under_concurrent_inserts(env):
    """Paging while another client inserts: no duplicates, nothing that existed is skipped."""
    site = uid("site")
    before = [post(env, HELD, site=site)["id"] for _ in range(25)]
    stop = threading.Event()
    inserted = []

    def writer():
        while not stop.is_set() and len(inserted) < 60:
            inserted.append(post(env, HELD, site=site)["id"])

    t = threading.Thread(target=writer)
    t.start()
    try:
        seen, cursors, after = [], [], None
        while True:
            q = queue(env, site=site, limit=4, after=after)
            seen += [i["id"] for i in q["items"]]
            cursors += [i["cursor"] for i in q["items"]]
            if q["next"] is None or len(seen) > 500:
                break
            after = q["next"]
    finally:
        stop.set()
        t.join()
    assert len(seen) == len(set(seen)), "a comment was listed twice"
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)
    assert seen[:len(before)] == before, "a comment that existed before paging was skipped"
    assert set(seen) <= set(before) | set(inserted)
    assert inserted, "the writer thread inserted nothing while paging"


# ---- transitions ----

@pytest.mark.parametrize("state,decision", sorted(TRANSITIONS))
def test_decision_transitions(env, state, decision):
    cid = make_state(env, state)
    want = TRANSITIONS[(state, decision)]
    reason = f"{decision} from {state}"
    r = decide(env, cid, decision, state, reason=reason)
    if want is None:
        assert r.status == 409, r
        assert r.json["error"] == "conflict"
        assert r.json["state"] == state
        assert decision not in r.json["allowed_decisions"]
        assert get(env, cid)["state"] == state, "a refused decision changed the comment"
        return
    assert r.status == 200, r
    assert r.json["state"] == want
    d = r.json["decision"]
    assert d["previous_state"] == state and d["state"] == want
    assert d["reason"] == reason and d["moderator"] == "moderator-test"
    rec = get(env, cid)
    assert rec["state"] == want
    last = [e for e in rec["history"] if e["type"] == "decision"][-1]
    assert last["actor"] == "moderator-test"
    assert last["data"]["before"] == state and last["data"]["after"] == want
    assert last["data"]["reason"] == reason and last["data"]["decision"] == decision


@pytest.mark.parametrize("state", STATES)
def test_report_transitions(env, state):
    cid = make_state(env, state)
    r = report(env, cid, reason="offensive", reporter=uid("reader"))
    if state not in REPORTABLE:
        assert r.status == 409, r
        assert r.json["state"] == state
        assert get(env, cid)["state"] == state
        return
    assert r.status == 200, r
    assert r.json["state"] == "reported" and r.json["previous_state"] == state
    assert get(env, cid)["state"] == "reported"


def test_decision_on_a_changed_comment_is_409_with_the_current_state(env):
    cid = make_state(env, "held")
    r = decide(env, cid, "approve", "reported")
    assert r.status == 409, r
    assert r.json["state"] == "held" and r.json["expected_state"] == "reported"
    assert get(env, cid)["state"] == "held"


@pytest.mark.parametrize("body,status,code", [
    ({"decision": "approve"}, 400, "bad_field"),                          # no expected_state
    ({"decision": "maybe", "expected_state": "held"}, 400, "bad_field"),
    ({"decision": "reject", "expected_state": "held"}, 400, "bad_field"),  # no reason
    ({"decision": "reject", "expected_state": "held", "reason": ""}, 400, "bad_field"),
    ({"decision": "approve", "expected_state": "nope"}, 400, "bad_field"),
    ({"decision": "approve", "expected_state": "held", "reason": 5}, 400, "bad_field"),
    ({"decision": "approve", "expected_state": "held", "reason": "x" * 1001}, 400, "bad_field"),
    ([1, 2], 400, "bad_json"),
])
def test_decision_refuses_bad_bodies(env, body, status, code):
    cid = make_state(env, "held")
    r = env.request("POST", f"/v1/comments/{cid}/decision", body=body, key=env.keys["moderator"])
    assert r.status == status and r.json["error"] == code, r
    assert get(env, cid)["state"] == "held"


def test_decision_errors(env):
    cid = make_state(env, "held")
    ok = {"decision": "approve", "expected_state": "held"}
    r = env.request("POST", "/v1/comments/ffffffffffffffffffffffffffffffff/decision", body=ok,
                    key=env.keys["moderator"])
    assert r.status == 404 and r.json["error"] == "not_found"
    assert env.request("POST", f"/v1/comments/{cid}/decision", body=ok).status == 401
    assert env.request("POST", f"/v1/comments/{cid}/decision", body=ok,
                       key=env.keys["cms"]).status == 403
    r = env.request("POST", f"/v1/comments/{cid}/decision", body='{"decision":"approve"}',
                    key=env.keys["moderator"], ctype="text/plain")
    assert r.status == 415
    r = env.request("POST", f"/v1/comments/{cid}/decision", body="{", key=env.keys["moderator"])
    assert r.status == 400 and r.json["error"] == "bad_json"
    assert env.request("GET", f"/v1/comments/{cid}/decision",
                       key=env.keys["moderator"]).status == 405
    assert get(env, cid)["state"] == "held"


def test_admin_may_decide_and_is_named(env):
    cid = make_state(env, "held")
    r = decide(env, cid, "approve", "held", key=env.keys["admin"])
    assert r.status == 200 and r.json["decision"]["moderator"] == "admin-test"


# ---- the race ----

@pytest.mark.parametrize("decisions", [("approve", "approve"), ("approve", "reject"),
                                       ("reject", "reject")])
def test_two_parallel_decisions_exactly_one_wins(env, decisions):
    for _ in range(4):
        cid = make_state(env, "held")
        barrier = threading.Barrier(2)
        replies = [None, None]

        def run(i):
            barrier.wait()
            replies[i] = decide(env, cid, decisions[i], "held", reason=f"moderator {i}")

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(r.status for r in replies)
        assert statuses == [200, 409], replies
        winner = next(r for r in replies if r.status == 200)
        loser = next(r for r in replies if r.status == 409)
        assert loser.json["state"] == winner.json["state"]
        rec = get(env, cid)
        assert rec["state"] == winner.json["state"]
        assert len([e for e in rec["history"] if e["type"] == "decision"]) == 1


# ---- reports ----

def test_reports_count_readers_once_and_fill_the_reported_queue(env):
    site = uid("site")
    cid = make_state(env, "accepted", site=site)
    r1 = report(env, cid, reason="rude", reporter="reader-1")
    assert r1.status == 200 and r1.json["reports"] == 1 and r1.json["duplicate"] is False
    again = report(env, cid, reason="rude!!", reporter="reader-1")
    assert again.status == 200 and again.json["duplicate"] is True and again.json["reports"] == 1
    r2 = report(env, cid, reason="spam", reporter="reader-2")
    assert r2.json["reports"] == 2 and r2.json["previous_state"] == "reported"
    anon = report(env, cid)  # no reporter named: always counts
    assert anon.json["reports"] == 3
    q = queue(env, status="reported", site=site)
    assert [i["id"] for i in q["items"]] == [cid]
    assert q["items"][0]["reports"]["count"] == 3
    rec = get(env, cid)
    assert rec["reports"]["count"] == 3
    assert [x["reason"] for x in rec["reports"]["recent"]] == [None, "spam", "rude"]
    # the page reads its items' reports in its own snapshot: the same as the comment's view
    assert q["items"][0]["reports"] == rec["reports"] and "history" not in q["items"][0]
    reps = [e for e in rec["history"] if e["type"] == "report"]
    assert len(reps) == 3 and all(e["actor"] == "cms-test" for e in reps)
    assert reps[0]["data"]["before"] == "accepted" and reps[0]["data"]["after"] == "reported"
    assert [e["data"]["reports"] for e in reps] == [1, 2, 3]
    # The moderator keeps it: approved, then reported again by a new reader.
    assert decide(env, cid, "approve", "reported", reason="fair criticism").status == 200
    r3 = report(env, cid, reporter="reader-3")
    assert r3.json["previous_state"] == "approved" and r3.json["reports"] == 4


def test_report_needs_a_cms_key_and_a_known_comment(env):
    cid = make_state(env, "accepted")
    assert report(env, cid, key=env.keys["moderator"]).status == 403
    assert env.request("POST", f"/v1/comments/{cid}/report").status == 401
    r = report(env, "ffffffffffffffffffffffffffffffff")
    assert r.status == 404
    r = env.request("POST", f"/v1/comments/{cid}/report", body={"reason": 7},
                    key=env.keys["cms"])
    assert r.status == 400 and r.json["error"] == "bad_field"
    assert get(env, cid)["state"] == "accepted"


# ---- the decisions feed ----

def test_decisions_feed_lists_decisions_in_commit_order(env):
    start = env.request("GET", "/v1/decisions?since=0&limit=1000", key=env.keys["cms"])
    assert start.status == 200
    since = start.json["next"]
    while start.json["more"]:
        start = env.request("GET", f"/v1/decisions?since={since}&limit=1000", key=env.keys["cms"])
        since = start.json["next"]
    site = uid("site")
    a = post(env, HELD, site=site, ext_id="cms-1")["id"]
    b = post(env, HELD, site=site, ext_id="cms-2")["id"]
    assert decide(env, b, "reject", "held", reason="insult").status == 200
    assert decide(env, a, "approve", "held").status == 200
    assert decide(env, b, "approve", "rejected", reason="appeal granted").status == 200
    r = env.request("GET", f"/v1/decisions?since={since}", key=env.keys["cms"])
    assert r.status == 200, r
    ds = r.json["decisions"]
    assert [(d["id"], d["decision"], d["state"]) for d in ds] == [
        (b, "reject", "rejected"), (a, "approve", "approved"), (b, "approve", "approved")]
    assert [d["cursor"] for d in ds] == sorted(d["cursor"] for d in ds)
    assert r.json["next"] == ds[-1]["cursor"] and r.json["more"] is False
    first = ds[0]
    assert first["site"] == site and first["external_id"] == "cms-2"
    assert first["previous_state"] == "held" and first["reason"] == "insult"
    assert first["moderator"] == "moderator-test" and first["at"].endswith("Z")
    # Polling from the cursor: only what came after, one at a time with limit=1.
    r = env.request("GET", f"/v1/decisions?since={ds[0]['cursor']}&limit=1", key=env.keys["cms"])
    assert [d["cursor"] for d in r.json["decisions"]] == [ds[1]["cursor"]]
    assert r.json["more"] is True
    r = env.request("GET", f"/v1/decisions?since={ds[-1]['cursor']}", key=env.keys["cms"])
    assert r.json["decisions"] == [] and r.json["next"] == ds[-1]["cursor"]


def test_decisions_feed_access_and_parameters(env):
    assert env.request("GET", "/v1/decisions").status == 401
    assert env.request("GET", "/v1/decisions", key=env.keys["moderator"]).status == 403
    for q in ("since=-1", "since=x", "limit=0", "limit=1001"):
        r = env.request("GET", "/v1/decisions?" + q, key=env.keys["cms"])
        assert r.status == 400, (q, r)


# ---- history ----

def test_comment_history_records_who_when_why_before_and_after(env):
    cid = make_state(env, "accepted", author=uid("author"))
    assert report(env, cid, reason="personal attack", reporter="r-9").status == 200
    assert decide(env, cid, "reject", "reported", reason="attack on another reader").status == 200
    assert decide(env, cid, "approve", "rejected", reason="appeal: context was a quote").status == 200
    rec = get(env, cid)
    assert rec["state"] == "approved"
    h = rec["history"]
    assert [e["type"] for e in h] == ["verdict", "report", "decision", "decision"]
    assert [e["seq"] for e in h] == sorted(e["seq"] for e in h)
    assert all(e["at"].endswith("Z") and e["comment_id"] == cid for e in h)
    v = h[0]
    assert v["actor"] == "engine" and v["data"]["verdict"] == "accept"
    rep = h[1]
    assert rep["actor"] == "cms-test" and rep["data"]["reason"] == "personal attack"
    assert rep["data"]["reporter"] == "r-9"
    decisions = [e for e in h if e["type"] == "decision"]
    assert [(e["data"]["before"], e["data"]["after"]) for e in decisions] == [
        ("reported", "rejected"), ("rejected", "approved")]
    assert decisions[1]["data"]["reason"] == "appeal: context was a quote"
    assert all(e["actor"] == "moderator-test" for e in decisions)
    # The rejection was a strike; the appeal withdrew it.
    assert rec["author_record"]["strikes"] == 0
    assert rec["allowed_decisions"] == ["reject"]


def test_every_moderation_event_is_in_the_hash_chain(env):
    cid = make_state(env, "held", author=uid("a"))
    assert decide(env, cid, "reject", "held", reason="chain").status == 200
    rows = events(env.db)
    # The comment's verdict and the decision on it, in that order, are the newest two links.
    assert [(r[0], r[2], r[3], r[4]) for r in rows[-2:]] == [
        (len(rows) - 1, "verdict", cid, "engine"), (len(rows), "decision", cid, "moderator-test")]
    assert [r[3] for r in rows[:-2]].count(cid) == 0
    verdict, decision = (json.loads(r[5]) for r in rows[-2:])
    assert verdict["verdict"] == "hold" and verdict["state"] == "held"
    assert (decision["decision"], decision["before"], decision["after"], decision["reason"]) == (
        "reject", "held", "rejected", "chain")
    assert verify_chain(env.db) == len(rows)


def test_unknown_comment_is_404(env):
    r = env.request("GET", "/v1/comments/ffffffffffffffffffffffffffffffff",
                    key=env.keys["moderator"])
    assert r.status == 404
    assert r.json["error"] == "not_found"
    assert "ffffffffffffffffffffffffffffffff" in r.json["message"]


def test_blocked_text_example(env):
    """The texts the helpers rely on still get the verdicts they expect."""
    assert post(env, BLOCKED)["state"] == "blocked"
    assert post(env, HELD)["state"] == "held"
    assert post(env, CLEAN)["state"] == "accepted"
