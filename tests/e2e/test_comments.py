"""Verdicts over HTTP: the acceptance examples, spans, idempotency, stored records."""

import json
import uuid

from conftest import ctl


def by_category(reply, category):
    return [m for m in reply.json["matches"] if m["category"] == category]


def assert_spans_slice(text, reply):
    """start/end are code-point offsets: slicing the submitted text gives each match's text."""
    for m in reply.json["matches"]:
        assert text[m["start"]:m["end"]] == m["text"], m
        if "context" in m:
            c = m["context"]
            assert text[c["start"]:c["end"]] == c["text"], m


def test_healthz_needs_no_key(env):
    r = env.request("GET", "/healthz")
    assert r.status == 200
    assert r.json["status"] == "ok"
    assert len(r.json["ruleset"]) == 16


def test_fucking_idiot_is_blocked_with_exact_spans(env):
    text = "you are a fucking idiot"
    r = env.post({"text": text}, env.keys["cms"])
    assert r.status == 200, r
    j = r.json
    assert j["verdict"] == "block"
    assert len(j["id"]) == 32 and all(c in "0123456789abcdef" for c in j["id"])
    prof = by_category(r, "profanity")
    assert any(m["text"] == "fucking" and (m["start"], m["end"]) == (10, 17) for m in prof), prof
    attack = by_category(r, "personal_attack")
    assert any(m["text"] == "idiot" and (m["start"], m["end"]) == (18, 23) for m in attack), attack
    assert_spans_slice(text, r)
    for m in j["matches"]:
        assert m["rule"].startswith(m["category"] + ".")
        assert m["weight"] > 0 and m["file"].endswith(".rules") and m["line"] > 0
        assert m["matched"]
    assert j["categories"]["profanity"] > 0 and j["categories"]["personal_attack"] > 0
    assert j["score"] == sum(j["categories"].values())
    t = j["thresholds"]
    assert set(t) == {"profanity", "personal_attack", "ethnic_slur", "total"}
    assert all(set(v) == {"hold", "block"} for v in t.values())
    assert j["ruleset"] == env.request("GET", "/healthz").json["ruleset"]
    assert j["created_at"].endswith("Z") and j["duplicate"] is False


def test_offsets_are_code_points(env):
    text = "Café crème — naïve: you are a fucking idiot 😀"
    r = env.post({"text": text}, env.keys["cms"])
    assert r.status == 200 and r.json["verdict"] == "block", r
    assert_spans_slice(text, r)
    assert any(m["text"] == "fucking" for m in r.json["matches"])


def test_plural_fires_the_rule_written_for_the_singular(env):
    single = env.post({"text": "you are an idiot"}, env.keys["cms"])
    plural = env.post({"text": "you are all idiots"}, env.keys["cms"])
    s_rules = {m["rule"] for m in by_category(single, "personal_attack")}
    p_matches = by_category(plural, "personal_attack")
    assert s_rules, single
    assert {m["rule"] for m in p_matches} & s_rules, (single, plural)
    assert any(m["text"] == "idiots" for m in p_matches), plural
    assert plural.json["verdict"] in ("hold", "block")
    assert_spans_slice("you are all idiots", plural)


def test_news_sentences_are_accepted(env):
    for text in [
        "The referendum on independence was held two years after the war ended.",
        "Survivors of the massacre testified before the parliamentary committee on Tuesday.",
        "Troops withdrew from the border region as the ceasefire took hold, officials said.",
        "Turnout in the referendum was 62 percent, the electoral commission reported.",
    ]:
        r = env.post({"text": text}, env.keys["cms"])
        assert r.status == 200
        assert r.json["verdict"] == "accept", (text, r.json["matches"])
        assert r.json["matches"] == [] and r.json["score"] == 0


def test_resubmission_returns_the_stored_verdict(env):
    ext = str(uuid.uuid4())
    payload = {"text": "you are a fucking idiot", "id": ext, "site": "example.com"}
    before = env.comment_count()
    first = env.post(payload, env.keys["cms"])
    second = env.post(payload, env.keys["cms"])
    # Even with other text: the CMS's id names the comment.
    third = env.post(dict(payload, text="something else entirely"), env.keys["cms"])
    assert first.status == second.status == third.status == 200
    assert first.json["duplicate"] is False
    assert second.json["duplicate"] is True and third.json["duplicate"] is True
    assert first.json["id"] == second.json["id"] == third.json["id"]
    assert second.json["verdict"] == third.json["verdict"] == first.json["verdict"]
    assert second.json["matches"] == first.json["matches"]
    assert env.comment_count() == before + 1
    # The same id on another site is another comment.
    other = env.post(dict(payload, site="other.example"), env.keys["cms"])
    assert other.json["id"] != first.json["id"] and other.json["duplicate"] is False


def test_integer_ids_are_accepted(env):
    n = uuid.uuid4().int % 10**12
    a = env.post({"text": "Numbers as ids", "id": n, "site": "wp", "parent_id": 7}, env.keys["cms"])
    b = env.post({"text": "Numbers as ids", "id": str(n), "site": "wp"}, env.keys["cms"])
    assert a.status == 200 and b.json["id"] == a.json["id"]


def test_get_returns_the_stored_record(env):
    ext = str(uuid.uuid4())
    payload = {
        "text": "you are a fucking idiot", "id": ext, "site": "news.example",
        "thread": "https://news.example/2024/story", "parent_id": "p-1",
        "author": {"id": "u42", "name": "Ann", "email": "ann@example.com",
                   "url": "https://ann.example"},
        "ip": "203.0.113.9", "user_agent": "Mozilla/5.0", "unknown_field": {"ignored": True},
    }
    post = env.post(payload, env.keys["cms"])
    assert post.status == 200
    r = env.request("GET", f"/v1/comments/{post.json['id']}", key=env.keys["moderator"])
    assert r.status == 200, r
    rec = r.json
    assert rec["id"] == post.json["id"]
    assert rec["site"] == "news.example" and rec["external_id"] == ext
    assert rec["thread"] == payload["thread"] and rec["parent_id"] == "p-1"
    assert rec["author"] == payload["author"]
    assert rec["ip"] == "203.0.113.9" and rec["user_agent"] == "Mozilla/5.0"
    assert rec["text"] == payload["text"]
    assert rec["verdict"] == "block" and rec["state"] == "blocked"
    assert rec["score"] == post.json["score"]
    assert rec["categories"] == post.json["categories"]
    assert rec["matches"] == post.json["matches"] and rec["matches"]
    assert rec["ruleset"] == post.json["ruleset"]
    assert rec["created_at"] == post.json["created_at"] and rec["updated_at"]
    assert "reason" in rec


def test_http_and_in_process_agree(env):
    """The daemon and `moderatorctl check --json` give the same verdict for the same input."""
    inputs = [
        {"text": "you are a fucking idiot"},
        {"text": "What a load of sh1t, you m0ron"},
        {"text": "Bob is an idiot", "parent_author": "Bob"},
        {"text": "@carol you are pathetic", "mentions": ["carol"]},
        {"text": "The council approved the budget on Monday."},
    ]
    for payload in inputs:
        r = env.post(payload, env.keys["cms"])
        local = json.loads(ctl(env.db, "check", "--json", rules=env.rules,
                               stdin=json.dumps(payload)).stdout)
        assert r.status == 200
        for field in ("verdict", "score", "categories", "matches", "ruleset", "thresholds"):
            assert r.json[field] == local[field], (payload, field, r.json[field], local[field])
