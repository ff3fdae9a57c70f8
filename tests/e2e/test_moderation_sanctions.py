"""Author sanctions: strikes from blocked and rejected comments inside the policy's rolling window,
the probation and ban thresholds, manual ban / probation / unban with reasons and expiry, and the
verdict reply naming the sanction that decided it. Each test runs its own daemon with a rules copy
whose policy.conf sets the strike window and thresholds."""

import json
import time
from datetime import datetime, timedelta, timezone

from modhelp import (BLOCKED, CLEAN, HELD, decide, events, get, post, rules_with_strikes, sanction,
                     uid, verify_chain)


def author_record(d, author):
    r = d.request("GET", f"/v1/authors/{author}", key=d.keys["moderator"])
    assert r.status == 200, r
    return r.json


def test_strikes_put_an_author_on_probation_then_ban_them(fresh, tmp_path):
    d = fresh(rules=rules_with_strikes(tmp_path, "window=1h probation=2 ban=3"))
    a = uid("author")
    assert post(d, CLEAN, author=a)["state"] == "accepted"
    post(d, BLOCKED, author=a)
    assert author_record(d, a)["strikes"] == 1
    assert post(d, CLEAN, author=a)["state"] == "accepted"
    post(d, BLOCKED, author=a)

    # Two strikes: probation. A clean comment is held, and the reply says why.
    c = post(d, CLEAN, author=a)
    assert c["verdict"] == "hold" and c["state"] == "held", c
    assert c["reason"] == "author_probation"
    assert c["sanction"]["status"] == "probation" and c["sanction"]["source"] == "strikes"
    assert c["sanction"]["strikes"] == 2
    # A comment the engine holds anyway was not decided by the sanction.
    h = post(d, HELD, author=a)
    assert h["state"] == "held" and h["reason"] is None

    # A moderator's rejection is the third strike: banned.
    assert decide(d, h["id"], "reject", "held", reason="insult").status == 200
    rec = author_record(d, a)
    assert rec["status"] == "banned" and rec["source"] == "strikes" and rec["strikes"] == 3
    assert [s["source"] for s in rec["recent_strikes"]] == ["reject", "block", "block"]
    auto = [e for e in rec["history"] if e["actor"] == "policy"]
    assert [e["data"]["action"] for e in auto] == ["ban", "probation"]
    assert auto[0]["comment_id"] == h["id"] and auto[0]["data"]["strikes"] == 3

    b = post(d, CLEAN, author=a)
    assert b["verdict"] == "block" and b["state"] == "blocked", b
    assert b["reason"] == "author_banned"
    assert b["sanction"]["status"] == "banned"
    # Comments blocked by the ban itself are not new strikes.
    assert author_record(d, a)["strikes"] == 3
    assert get(d, b["id"])["history"][0]["data"]["reason"] == "author_banned"
    # Other authors are untouched.
    assert post(d, CLEAN, author=uid("other"))["state"] == "accepted"

    # Unbanned: the strikes are reset and the next clean comment is accepted.
    r = sanction(d, a, "clear", reason="spoke with them")
    assert r.status == 200, r
    assert r.json["status"] == "ok" and r.json["strikes"] == 0
    assert r.json["strikes_reset_at"] is not None
    after = post(d, CLEAN, author=a)
    assert after["state"] == "accepted" and after["reason"] is None, after
    assert "sanction" not in after
    # Every step is in the audit chain, in order, after the keys and the start-up load.
    rows = events(d.db)
    assert [r[2] for r in rows[:3]] == ["key", "key", "reload"]
    steps = []
    for _, _, typ, cid, actor, data, _, _ in rows[3:]:
        data = json.loads(data)
        steps.append((typ, actor, data.get("action") or data.get("decision") or data["verdict"]))
        if typ != "verdict":
            assert data["author"] == a, data
    mod = "moderator-0"  # the name fresh() gives the first daemon's moderator key
    assert steps == [
        ("verdict", "engine", "accept"), ("verdict", "engine", "block"),
        ("verdict", "engine", "accept"), ("verdict", "engine", "block"),
        ("sanction", "policy", "probation"),
        ("verdict", "engine", "hold"), ("verdict", "engine", "hold"),
        ("decision", mod, "reject"), ("sanction", "policy", "ban"),
        ("verdict", "engine", "block"), ("verdict", "engine", "accept"),
        ("sanction", mod, "clear"), ("verdict", "engine", "accept")]
    assert verify_chain(d.db) == len(rows)


def test_overturning_a_block_withdraws_its_strike(fresh, tmp_path):
    d = fresh(rules=rules_with_strikes(tmp_path, "window=1h probation=2 ban=3"))
    a = uid("author")
    b1 = post(d, BLOCKED, author=a)
    post(d, BLOCKED, author=a)
    assert author_record(d, a)["status"] == "probation"
    assert decide(d, b1["id"], "approve", "blocked", reason="quoting the insult").status == 200
    rec = author_record(d, a)
    assert rec["strikes"] == 1 and rec["status"] == "ok"
    assert post(d, CLEAN, author=a)["state"] == "accepted"


def test_strikes_older_than_the_window_do_not_count(fresh, tmp_path):
    d = fresh(rules=rules_with_strikes(tmp_path, "window=4s probation=2 ban=3"))
    a = uid("author")
    t0 = time.monotonic()
    for _ in range(3):
        post(d, BLOCKED, author=a)
    banned = post(d, CLEAN, author=a)
    assert time.monotonic() - t0 < 4, "too slow to test a 4 s window"
    assert banned["reason"] == "author_banned", banned
    time.sleep(4.5)
    rec = author_record(d, a)
    assert rec["strikes"] == 0 and rec["status"] == "ok"
    assert len(rec["recent_strikes"]) == 3  # still on record, no longer counted
    later = post(d, CLEAN, author=a)
    assert later["state"] == "accepted" and later["reason"] is None, later


def test_manual_ban_with_an_expiry(fresh):
    d = fresh()
    a = uid("author")
    r = sanction(d, a, "ban", reason="doxxing", until="3s")
    assert r.status == 200, r
    assert r.json["status"] == "banned" and r.json["source"] == "manual"
    s = r.json["sanction"]
    assert s["action"] == "ban" and s["reason"] == "doxxing" and s["active"] is True
    assert s["set_by"] == "moderator-0" and s["until"].endswith("Z")
    c = post(d, CLEAN, author=a)
    assert c["state"] == "blocked" and c["reason"] == "author_banned", c
    assert c["sanction"]["source"] == "manual" and c["sanction"]["reason"] == "doxxing"
    time.sleep(3.5)
    c = post(d, CLEAN, author=a)
    assert c["state"] == "accepted" and c["reason"] is None, c
    rec = author_record(d, a)
    assert rec["status"] == "ok" and rec["sanction"]["active"] is False
    ev = rec["history"][0]
    assert ev["type"] == "sanction" and ev["actor"] == "moderator-0"
    assert ev["data"]["action"] == "ban" and ev["data"]["reason"] == "doxxing"
    assert ev["data"]["before"] is None


def test_a_sanction_whose_expiry_has_passed_no_longer_applies(fresh):
    d = fresh()
    a = uid("author")
    # An expiry in the past is refused outright...
    past = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = sanction(d, a, "ban", reason="late", until=past)
    assert r.status == 400 and "past" in r.json["message"]
    # ...and an ISO expiry in the future works like a duration.
    future = (datetime.now(timezone.utc) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = sanction(d, a, "probation", reason="heated thread", until=future)
    assert r.status == 200 and r.json["sanction"]["until"].startswith(future[:19])
    assert post(d, CLEAN, author=a)["reason"] == "author_probation"


def test_manual_probation_holds_and_unban_lifts(fresh):
    d = fresh()
    a = uid("author")
    assert sanction(d, a, "probation", reason="new account, heated thread").status == 200
    c = post(d, CLEAN, author=a)
    assert c["state"] == "held" and c["reason"] == "author_probation", c
    b = post(d, BLOCKED, author=a)
    assert b["state"] == "blocked" and b["reason"] is None  # the engine decided that one
    # A ban replaces the probation; the event keeps what it replaced.
    r = sanction(d, a, "ban", reason="kept going")
    assert r.json["status"] == "banned"
    ev = author_record(d, a)["history"][0]
    assert ev["data"]["before"]["action"] == "probation"
    r = sanction(d, a, "unban")
    assert r.status == 200 and r.json["status"] == "ok" and r.json["sanction"] is None
    assert post(d, CLEAN, author=a)["state"] == "accepted"


def test_authors_without_an_id_are_keyed_by_email(fresh):
    d = fresh()
    c = post(d, CLEAN, email="Jo.Smith@Example.COM")
    rec = get(d, c["id"])["author_record"]
    assert rec["key"] == "jo.smith@example.com"
    assert sanction(d, "JO.SMITH@example.com", "ban", reason="spam").status == 200
    b = post(d, CLEAN, email="jo.smith@EXAMPLE.com")
    assert b["reason"] == "author_banned", b
    # Anonymous comments have no record and collect no strikes.
    anon = post(d, BLOCKED)
    assert get(d, anon["id"])["author_record"] is None


def test_sanction_requests_are_validated(fresh):
    d = fresh()
    a = uid("author")
    # each refusal names the field at fault (or, for an unreadable time, the value)
    for body, needle in [({"action": "ban"}, '"reason" is required'),
                         ({"action": "mute", "reason": "x"}, '"action" must be'),
                         ({"action": "ban", "reason": "x", "until": "soon"},
                          '"soon" is not a time'),
                         ({"action": "ban", "reason": "x", "until": 5}, '"until" must be a string'),
                         ({"action": "clear", "until": "1d"}, '"until" has no meaning')]:
        r = d.request("POST", f"/v1/authors/{a}/sanction", body=body, key=d.keys["moderator"])
        assert r.status == 400, (body, r)
        assert r.json["error"] == "bad_field", (body, r)
        assert needle in r.json["message"], (body, r)
    r = d.request("POST", f"/v1/authors/{a}/sanction", body={"action": "ban", "reason": "x"},
                  key=d.keys["cms"])
    assert r.status == 403 and r.json["error"] == "forbidden", r
    assert author_record(d, a)["sanction"] is None


def test_author_record_counts_comments_by_state(fresh):
    d = fresh()
    a = uid("author")
    post(d, CLEAN, author=a)
    h = post(d, HELD, author=a)
    post(d, BLOCKED, author=a)
    assert decide(d, h["id"], "approve", "held").status == 200
    rec = author_record(d, a)
    assert rec["comments"]["total"] == 3
    assert (rec["comments"]["accepted"], rec["comments"]["approved"],
            rec["comments"]["blocked"]) == (1, 1, 1)
    assert rec["strikes"] == 1 and rec["strike_policy"]["window_s"] == 30 * 86400
