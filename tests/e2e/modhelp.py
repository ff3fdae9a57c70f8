"""Helpers shared by the moderation tests: comments that land in each state, decisions, reports,
a rules directory with its own strike policy, and the audit chain recomputed from the events
table (with adminhelp's event hash)."""

import shutil
import uuid

from adminhelp import event_hash, query
from conftest import RULES

# Texts whose verdicts the default rules pin down (see tests/e2e/test_comments.py).
HELD = "you are an idiot"
BLOCKED = "you are a fucking idiot"
CLEAN = "Thanks for the reporting on the council budget."


def uid(prefix="x"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def post(d, text, author=None, site=None, thread=None, ext_id=None, email=None):
    body = {"text": text, "site": site or "moderation.test"}
    if thread:
        body["thread"] = thread
    if ext_id:
        body["id"] = ext_id
    if author or email:
        body["author"] = {"id": author, "name": f"name of {author}", "email": email}
    r = d.post(body, d.keys["cms"])
    assert r.status == 200, r
    return r.json


def decide(d, cid, decision, expected, reason=None, key=None):
    body = {"decision": decision, "expected_state": expected}
    if reason is not None:
        body["reason"] = reason
    return d.request("POST", f"/v1/comments/{cid}/decision", body=body,
                     key=key or d.keys["moderator"])


def report(d, cid, reason=None, reporter=None, key=None):
    body = {}
    if reason is not None:
        body["reason"] = reason
    if reporter is not None:
        body["reporter"] = reporter
    return d.request("POST", f"/v1/comments/{cid}/report", body=body, key=key or d.keys["cms"])


def get(d, cid):
    r = d.request("GET", f"/v1/comments/{cid}", key=d.keys["moderator"])
    assert r.status == 200, r
    return r.json


def queue(d, **params):
    q = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
    r = d.request("GET", "/v1/queue?" + q, key=d.keys["moderator"])
    assert r.status == 200, r
    return r.json


def sanction(d, author, action, reason=None, until=None):
    body = {"action": action}
    if reason is not None:
        body["reason"] = reason
    if until is not None:
        body["until"] = until
    return d.request("POST", f"/v1/authors/{author}/sanction", body=body, key=d.keys["moderator"])


def make_state(d, state, author=None, site=None):
    """A new comment in the given state, reached through the API; returns its id."""
    if state in ("held", "approved", "rejected"):
        c = post(d, HELD, author=author, site=site)
        assert c["state"] == "held", c
        if state == "approved":
            assert decide(d, c["id"], "approve", "held").status == 200
        if state == "rejected":
            assert decide(d, c["id"], "reject", "held", reason="setup").status == 200
        return c["id"]
    if state == "blocked":
        c = post(d, BLOCKED, author=author, site=site)
        assert c["state"] == "blocked", c
        return c["id"]
    c = post(d, CLEAN, author=author, site=site)
    assert c["state"] == "accepted", c
    if state == "reported":
        assert report(d, c["id"], reason="setup").status == 200
    return c["id"]


def rules_with_strikes(tmp_path, setting):
    """A copy of the default rules whose policy.conf says `strikes SETTING`."""
    rules = tmp_path / "rules-strikes"
    shutil.copytree(RULES, rules)
    policy = rules / "policy.conf"
    lines = [ln for ln in policy.read_text().splitlines() if not ln.startswith("strikes")]
    lines.append(f"strikes {setting}")
    policy.write_text("\n".join(lines) + "\n")
    return rules


def events(db):
    """The audit events as rows (seq, at, type, comment_id, actor, data, prev_hash, hash)."""
    return query(db, "SELECT seq, at, type, comment_id, actor, data, prev_hash, hash"
                     " FROM events ORDER BY seq")


def verify_chain(db):
    """Recomputes the hash chain as store.h documents it; returns the number of events."""
    prev = "0" * 64
    rows = events(db)
    for i, (seq, at, typ, cid, actor, data, prev_hash, h) in enumerate(rows, 1):
        assert seq == i, f"seq {seq} where {i} was expected"
        assert prev_hash == prev, f"event {seq}: prev_hash does not chain"
        ev = {"seq": seq, "at": at, "type": typ, "comment_id": cid, "actor": actor, "data": data,
              "prev_hash": prev_hash}
        assert event_hash(ev) == h, f"event {seq}: hash does not match"
        prev = h
    return len(rows)
