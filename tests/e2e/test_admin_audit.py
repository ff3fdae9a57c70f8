"""An audit trail that proves itself. `moderatorctl audit verify` passes on an untouched
database and names the first event altered, removed or reordered with the sqlite3 shell; exports
verify on their own; prune removes texts and personal data while the chain still verifies."""

import getpass
import json
import os

import pytest

from adminhelp import (admin_key, event_hash, query, rules_copy, sqlite_shell, verify,
                       write_atomic)
from conftest import ctl

PEOPLE = [
    {"text": "you are a fucking idiot", "id": "a1", "site": "s", "ip": "203.0.113.7",
     "user_agent": "Mozilla/5.0 (X11)",
     "author": {"id": "u1", "name": "Ann Example", "email": "ann@example.org",
                "url": "https://ann.example.org"}},
    {"text": "Thank you for the careful reporting.", "id": "a2", "site": "s", "ip": "203.0.113.8",
     "author": {"name": "Bob", "email": "bob@example.org"}},
    {"text": "what a load of shit", "id": "a3", "site": "s"},
    {"text": "those immigrants are vermin", "id": "a4", "site": "s", "ip": "2001:db8::1"},
]


@pytest.fixture
def trail(fresh, tmp_path):
    """A daemon with verdicts, key events and a reload in its chain."""
    rules = rules_copy(tmp_path)
    d = fresh(rules=rules, extra=["--watch-rules", "no"])
    key = admin_key(d)
    d.ids = []
    for p in PEOPLE:
        r = d.post(p, d.keys["cms"])
        assert r.status == 200, r
        d.ids.append(r.json["id"])
    with open(rules / "profanity.rules", "a") as f:
        f.write("\nzz_probe 20 zzyzxword\n")
    assert d.request("POST", "/v1/rules/reload", key=key).json["changed"] is True
    d.post({"text": "one more comment", "id": "a5", "site": "s"}, d.keys["cms"])
    return d


def events(db):
    return query(db, "SELECT seq, type, comment_id, data FROM events ORDER BY seq")


def test_verify_passes_on_an_untouched_database(trail):
    p = verify(trail.db)
    assert p.returncode == 0, p.stdout
    n = len(events(trail.db))
    assert f"intact: {n} events in an unbroken chain, 5 comments match" in p.stdout
    head = p.stdout.splitlines()[-1]
    assert head.startswith(f"head: {n}:")
    types = [e[1] for e in events(trail.db)]
    assert types.count("key") >= 3 and types.count("reload") == 2 and types.count("verdict") == 5
    # The anchor printed now holds later too.
    assert verify(trail.db, "--anchor", head.split(" ", 1)[1]).returncode == 0


def test_one_byte_changed_with_the_sqlite3_shell(trail):
    ev = next(e for e in events(trail.db) if e[1] == "verdict" and e[2] == trail.ids[1])
    seq = ev[0]
    # The log is append-only: the shell must drop the trigger first, then changes one byte.
    with pytest.raises(AssertionError):
        sqlite_shell(trail.db, f"UPDATE events SET data = data || ' ' WHERE seq = {seq}")
    sqlite_shell(trail.db, "DROP TRIGGER events_no_update; "
                 f"UPDATE events SET data = replace(data, '\"accept\"', '\"acceps\"') WHERE seq = {seq}")
    p = verify(trail.db)
    assert p.returncode == 1
    assert f"event {seq} was altered" in p.stdout
    assert f"FAILED: first bad event {seq}" in p.stdout
    assert "triggers that keep events append-only were dropped" in p.stdout


def test_deleted_row(trail):
    seq = next(e[0] for e in events(trail.db) if e[2] == trail.ids[2])
    sqlite_shell(trail.db, f"DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = {seq}")
    p = verify(trail.db)
    assert p.returncode == 1
    assert f"event {seq} was removed: the log goes from event {seq - 1} to event {seq + 1}" in p.stdout
    assert f"FAILED: first bad event {seq}" in p.stdout
    # The comment whose verdict event went is named too.
    assert f"comment {trail.ids[2]} has no verdict event" in p.stdout


def test_reordered_rows(trail):
    seqs = [e[0] for e in events(trail.db) if e[1] == "verdict"]
    a, b = seqs[1], seqs[2]
    sqlite_shell(trail.db, "DROP TRIGGER events_no_update; "
                 f"UPDATE events SET seq = -1 WHERE seq = {a}; "
                 f"UPDATE events SET seq = {a} WHERE seq = {b}; "
                 f"UPDATE events SET seq = {b} WHERE seq = -1;")
    p = verify(trail.db)
    assert p.returncode == 1
    assert f"event {a} was reordered: the event at this place is event {b} moved here" in p.stdout
    assert f"FAILED: first bad event {a}" in p.stdout


def test_altered_comment_row(trail):
    cid = trail.ids[0]
    seq = next(e[0] for e in events(trail.db) if e[2] == cid)
    sqlite_shell(trail.db, f"UPDATE comments SET verdict = 'accept' WHERE id = '{cid}'")
    p = verify(trail.db)
    assert p.returncode == 1 and f"comment {cid} was altered: its verdict \"accept\"" in p.stdout
    assert f"first bad event {seq}" in p.stdout
    sqlite_shell(trail.db, f"UPDATE comments SET verdict = 'block' WHERE id = '{cid}'")
    assert verify(trail.db).returncode == 0
    sqlite_shell(trail.db, f"UPDATE comments SET author_email = 'eve@example.org' WHERE id = '{cid}'")
    p = verify(trail.db)
    assert p.returncode == 1 and f"comment {cid} was altered: its author_email" in p.stdout
    sqlite_shell(trail.db, f"UPDATE comments SET author_email = 'ann@example.org', "
                 f"text = 'you are a lovely person' WHERE id = '{cid}'")
    assert "its text does not match" in verify(trail.db).stdout


def test_removed_tail_is_caught_by_an_anchor(trail):
    head = verify(trail.db).stdout.splitlines()[-1].split(" ", 1)[1]
    last = events(trail.db)[-1][0]
    assert events(trail.db)[-1][1] == "verdict"
    # Dropping the newest events leaves a consistent chain; the comment row and the anchor tell.
    sqlite_shell(trail.db, f"DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = {last}")
    p = verify(trail.db, "--anchor", head)
    assert p.returncode == 1
    assert f"anchored event {last} is not in the log" in p.stdout
    assert "has no verdict event" in p.stdout


def test_export_verifies_on_its_own(trail, tmp_path):
    out = tmp_path / "audit.jsonl"
    p = ctl(trail.db, "audit", "export", "--out", out)
    rows = [json.loads(l) for l in out.read_text().splitlines()]
    assert f"exported {len(rows)} events" in p.stderr
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    for i, r in enumerate(rows):
        assert event_hash(r) == r["hash"]  # "data" is the exact text that was hashed
        assert r["prev_hash"] == (rows[i - 1]["hash"] if i else "0" * 64)
        json.loads(r["data"])
    assert "intact" in verify(trail.db, "--file", out).stdout

    # --since: a date, a time, or "7d"; later than everything gives nothing.
    everything = ctl(trail.db, "audit", "export", "--since", "2000-01-01").stdout.splitlines()
    assert len(everything) == len(rows)
    mid = rows[-3]["at"]
    later = ctl(trail.db, "audit", "export", "--since", mid).stdout.splitlines()
    assert 0 < len(later) < len(rows) and json.loads(later[0])["at"] >= mid
    assert ctl(trail.db, "audit", "export", "--since", "7d").stdout.splitlines() == everything
    # the forms every other time option takes: a whole ISO time with Z, weeks, seconds
    for since in ("2000-01-01T00:00:00Z", "2000-01-01 00:00", "1w", "600s"):
        assert ctl(trail.db, "audit", "export", "--since", since).stdout.splitlines() == everything
    assert ctl(trail.db, "audit", "export", "--since", "2999-01-01").stdout == ""
    bad = ctl(trail.db, "audit", "export", "--since", "yesterday", check=False)
    assert bad.returncode == 2 and '"yesterday" is not a time' in bad.stderr and "30d" in bad.stderr
    assert bad.stdout == ""
    # A part of the log verifies on its own, and tampering with the archive shows.
    part = tmp_path / "part.jsonl"
    part.write_text("\n".join(later) + "\n")
    assert verify(trail.db, "--file", part).returncode == 0
    tampered = [json.loads(l) for l in later]
    tampered[1]["data"] = tampered[1]["data"].replace("{", "{ ", 1)
    part.write_text("\n".join(json.dumps(t) for t in tampered) + "\n")
    p = verify(trail.db, "--file", part)
    assert p.returncode == 1 and f"first bad event {tampered[1]['seq']}" in p.stdout


def test_verdict_events_hold_hashes_not_personal_data(trail):
    data = [e[3] for e in events(trail.db) if e[1] == "verdict"]
    blob = "\n".join(data)
    for secret in ("ann@example.org", "203.0.113.7", "Ann Example", "Mozilla", "ann.example.org",
                   "fucking idiot"):
        assert secret not in blob
    first = json.loads(data[0])
    assert set(first["pii"]) == {"author_name", "author_email", "author_url", "ip", "user_agent"}
    assert len(first["text_sha256"]) == 64
    assert "pii" not in json.loads(data[2])  # nothing personal sent, nothing hashed


def test_prune_removes_texts_and_personal_data_and_the_chain_still_verifies(trail):
    cid = trail.ids[0]
    dry = ctl(trail.db, "audit", "prune", "--older-than", "0", "--dry-run").stdout
    assert "would prune 5 comments" in dry
    assert ctl(trail.db, "audit", "prune", "--older-than", "30").stdout.startswith("pruned 0 ")
    p = ctl(trail.db, "audit", "prune", "--older-than", "0")
    assert p.stdout.startswith("pruned 5 comments")
    rows = query(trail.db, "SELECT text, author_name, author_email, author_url, ip, user_agent, "
                 "pii_salt, pruned_at, matches, author_id, verdict FROM comments")
    for r in rows:
        assert r[0] == "" and r[1:7] == (None,) * 6 and r[7]
        for m in json.loads(r[8]):
            assert "text" not in m and "matched" not in m and "text" not in m.get("context", {})
            assert m["rule"] and m["line"] > 0
    assert any(r[10] == "block" for r in rows)
    v = verify(trail.db)
    assert v.returncode == 0, v.stdout
    last = events(trail.db)[-1]
    assert last[1] == "prune" and json.loads(last[3])["comments"] == 5
    # prune acts under the same name as every other moderatorctl command (docs/moderation.md)
    user = os.environ.get("USER") or getpass.getuser()
    assert query(trail.db, "SELECT actor FROM events WHERE seq = ?", last[0]) == \
        [("moderatorctl:" + user,)]
    # The record and the explanation still stand, without the text.
    rec = trail.request("GET", f"/v1/comments/{cid}?explain=1", key=trail.keys["moderator"]).json
    assert rec["text"] == "" and rec["author"]["email"] is None and rec["ip"] is None
    assert rec["explain"]["matches"][0]["source"]
    assert "no longer kept" in rec["explain"]["recheck"]["error"]
    # Pruning again changes nothing, and still verifies.
    assert ctl(trail.db, "audit", "prune", "--older-than", "0").stdout.startswith("pruned 0 ")
    assert verify(trail.db).returncode == 0


def test_key_and_reload_events(trail):
    evs = events(trail.db)
    keys = [json.loads(e[3]) for e in evs if e[1] == "key"]
    assert {k["role"] for k in keys} >= {"cms", "moderator", "admin"}
    reloads = [json.loads(e[3]) for e in evs if e[1] == "reload"]
    assert reloads[0]["trigger"] == "start" and reloads[1]["trigger"] == "api"
    assert reloads[1]["by"].startswith("admin") and reloads[1]["previous"] == reloads[0]["version"]
    ctl(trail.db, "key", "revoke", "cms-0")
    assert json.loads(events(trail.db)[-1][3])["action"] == "revoke"
    assert verify(trail.db).returncode == 0


def test_kept_rule_files_are_checked_too(trail):
    v = query(trail.db, "SELECT version FROM rulesets ORDER BY loaded_at LIMIT 1")[0][0]
    assert "2 rule-set versions match their files" in verify(trail.db).stdout
    # Someone rewrites history: the kept rule text now "shows" a different weight.
    sqlite_shell(trail.db, "UPDATE rulesets SET files = replace(files, 'fuck        4', "
                 f"'fuck        1') WHERE version = '{v}'")
    p = verify(trail.db)
    assert p.returncode == 1 and f"the kept files of rule-set version {v} were altered" in p.stdout
    # The daemon refuses to explain with them rather than show altered lines as the truth.
    r = trail.request("POST", "/v1/check", key=trail.keys["admin"],
                      body={"text": "fuck", "version": v})
    assert r.status == 503 and "rulesets table was altered" in r.json["message"]
