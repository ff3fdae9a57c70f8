"""The drop-in protocols over raw HTTP: what the real clients in tests/clients do not
reach - every way a key may travel, each protocol's errors, the time budget while the store is
locked, doNotStore in the database, nothing changed by a refused request - and /metrics."""

import hashlib
import hmac
import json
import sqlite3
import threading
import time
import urllib.parse

import pytest

SECRET = "empsec_e2e_9f8e7d6c5b4a"
SLUR = "go home wetback"
HELD = "you are an idiot"
CLEAN = "The council approved the budget on Tuesday."


@pytest.fixture
def coral(fresh, tmp_path):
    """A daemon with a Coral signing secret (and a short Coral budget for the budget test)."""
    secret_file = tmp_path / "coral.secret"
    secret_file.write_text(f"# rotated monthly\n\n{SECRET}\n")
    return fresh(extra=["--coral-secret-file", str(secret_file), "--coral-budget-ms", "300",
                        "--perspective-budget-ms", "300"])


def coral_body(text):
    """As Coral's external.ts serializes it: JSON.stringify(request, null, 2)."""
    req = {"action": "NEW", "comment": {"body": text, "parentID": None},
           "author": {"id": "u-1", "role": "COMMENTER"},
           "story": {"id": "s-1", "url": "https://news.example/s-1"},
           "site": {"id": "site-1"}, "tenantID": "t-1", "tenantDomain": "news.example"}
    return json.dumps(req, indent=2).encode()


def sign(body, *secrets):
    return ",".join("sha256=" + hmac.new(s.encode(), body, hashlib.sha256).hexdigest()
                    for s in secrets)


def phase(d, body, signature):
    h = {"X-Coral-Signature": signature} if signature is not None else {}
    return d.request("POST", "/v1/integrations/coral/phase", body=body, headers=h)


def form(d, route, fields, host=None, ctype="application/x-www-form-urlencoded", headers=None):
    h = dict(headers or {})
    if host:
        h["Host"] = host
    return d.request("POST", f"/1.1/{route}", body=urllib.parse.urlencode(fields), ctype=ctype,
                     headers=h)


def analyze(d, body, query="", headers=None):
    return d.request("POST", f"/v1alpha1/comments:analyze{query}", body=body, headers=headers)


# ---- Coral ----

def test_coral_signature_gates_everything(coral):
    body = coral_body(SLUR)
    before = coral.comment_count()
    for sig in (None, "", "sha256=" + "0" * 64, sign(body, "not-the-secret"),
                "sha1=" + "0" * 40, sign(body, SECRET)[:-2]):
        r = phase(coral, body, sig)
        assert r.status == 401, (sig, r)
        assert r.json["error"] == "unauthorized"
    # the right signature over a different body
    r = phase(coral, coral_body(SLUR + "!"), sign(body, SECRET))
    assert r.status == 401
    assert coral.comment_count() == before
    r = phase(coral, body, sign(body, "old-secret", SECRET))
    assert r.status == 200, r
    assert r.json["status"] == "REJECTED"
    assert r.json["actions"] == [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}]
    assert coral.comment_count() == before + 1


def test_coral_is_off_without_a_secret(fresh):
    d = fresh()
    body = coral_body(SLUR)
    r = phase(d, body, sign(body, SECRET))
    assert r.status == 404
    assert "--coral-secret-file" in r.json["message"]


def test_coral_bad_bodies_are_refused_after_the_signature(coral):
    for body, code, needle in [
            (b"not json", "bad_json", "a JSON object"), (b"[]", "bad_json", "a JSON object"),
            (json.dumps({"comment": {}}).encode(), "bad_field", '"comment.body" is required'),
            (b"\xff\xfe", "bad_utf8", "not valid UTF-8")]:
        r = phase(coral, body, sign(body, SECRET))
        assert r.status == 400, (body, r)
        assert r.json["error"] == code and needle in r.json["message"], (body, r)
    assert coral.comment_count() == 0


def test_coral_answers_within_its_budget_while_the_store_is_locked(coral):
    """The writer cannot commit while another connection holds the write lock: the phase still
    answers within its 300 ms budget with the verdict, marked pending, and the record lands once
    the lock is gone."""
    lock = sqlite3.connect(str(coral.db), timeout=10, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        body = coral_body(SLUR)
        t0 = time.monotonic()
        r = phase(coral, body, sign(body, SECRET))
        elapsed = time.monotonic() - t0
        assert r.status == 200, r
        assert r.json["status"] == "REJECTED"
        assert r.headers.get("x-moderatord-stored") == "pending"
        assert elapsed < 3, elapsed
        assert coral.comment_count() == 0  # not committed yet
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    for _ in range(200):
        if coral.comment_count() == 1:
            break
        time.sleep(0.05)
    assert coral.comment_count() == 1
    metrics = coral.request("GET", "/metrics").body.decode()
    assert ('moderatord_integration_events_total{integration="coral",event="budget_exceeded"} 1'
            in metrics)
    # with the store free again, the reply waits for the commit as usual
    r = phase(coral, body, sign(body, SECRET))
    assert r.status == 200 and "x-moderatord-stored" not in r.headers


def test_perspective_budget_too(coral):
    lock = sqlite3.connect(str(coral.db), timeout=10, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        r = analyze(coral, {"comment": {"text": "you are a fucking idiot"},
                            "requestedAttributes": {"TOXICITY": {}}},
                    query="?key=" + coral.keys["cms"])
        assert r.status == 200, r
        assert r.headers.get("x-moderatord-stored") == "pending"
        assert r.json["attributeScores"]["TOXICITY"]["summaryScore"]["value"] > 0.8
    finally:
        lock.execute("ROLLBACK")
        lock.close()


# ---- Perspective ----

def test_perspective_key_in_query_header_or_bearer(env):
    body = {"comment": {"text": CLEAN}, "requestedAttributes": {"TOXICITY": {}}}
    key = env.keys["cms"]
    for query, headers in (("?key=" + key, None), ("", {"X-Goog-Api-Key": key}),
                           ("", {"Authorization": "Bearer " + key}),
                           ("?key=" + key + "&alt=json&prettyPrint=false", None)):
        r = analyze(env, body, query=query, headers=headers)
        assert r.status == 200, (query, headers, r)
        assert r.json["attributeScores"]["TOXICITY"]["summaryScore"]["value"] < 0.2


def test_query_key_does_not_open_the_native_api(env):
    """?key= is Perspective's convention only; /v1/comments still wants the header."""
    before = env.comment_count()
    r = env.request("POST", "/v1/comments?key=" + env.keys["cms"], body={"text": CLEAN})
    assert r.status == 401
    assert r.json["error"] == "unauthorized"
    assert env.comment_count() == before


def test_bearer_key_is_read_alike_by_every_api(env):
    """The native API, Perspective and Akismet share one reading of "Authorization: Bearer"."""
    key = env.keys["cms"]
    body = {"comment": {"text": CLEAN}, "requestedAttributes": {"TOXICITY": {}}}
    for auth in ("bearer   " + key, "Bearer \t" + key):
        r = analyze(env, body, headers={"Authorization": auth})
        assert r.status == 200, (auth, r)
        r = form(env, "comment-check", akismet_fields(text=HELD), headers={"Authorization": auth})
        assert r.body == b"true", (auth, r)
        r = env.request("POST", "/v1/comments", body={"text": CLEAN}, headers={"Authorization": auth})
        assert r.status == 200 and r.json["verdict"] == "accept", (auth, r)
    before = env.comment_count()
    too_long = "Bearer " + key + "x" * 300  # longer than any key: refused, not cut to a key
    r = analyze(env, body, headers={"Authorization": too_long})
    assert r.status == 400 and r.json["error"]["details"][0]["reason"] == "API_KEY_INVALID", r
    r = form(env, "comment-check", akismet_fields(), headers={"Authorization": too_long})
    assert r.status == 200 and r.body == b"invalid", r
    r = env.request("POST", "/v1/comments", body={"text": CLEAN}, headers={"Authorization": too_long})
    assert r.status == 401 and r.json["error"] == "unauthorized", r
    r = analyze(env, body, headers={"Authorization": "Basic " + key})
    assert r.status == 403 and r.json["error"]["status"] == "PERMISSION_DENIED", r
    assert env.comment_count() == before


def test_perspective_errors(env):
    q = "?key=" + env.keys["cms"]
    cases = [
        (b"{nope", 400, "INVALID_ARGUMENT"),
        ({"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}}, 400, "INVALID_ARGUMENT"),
        ({"comment": {"text": "hi"}}, 400, "INVALID_ARGUMENT"),
        ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreType": "RAW"}}},
         400, "INVALID_ARGUMENT"),
        ({"comment": {"text": 5}, "requestedAttributes": {"TOXICITY": {}}}, 400, "INVALID_ARGUMENT"),
        ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": "en"},
         400, "INVALID_ARGUMENT"),
    ]
    before = env.comment_count()
    for body, status, gstatus in cases:
        r = analyze(env, body, query=q)
        assert r.status == status, (body, r)
        assert r.json["error"]["status"] == gstatus
        assert r.json["error"]["code"] == status
        assert isinstance(r.json["error"]["message"], str)
    assert env.comment_count() == before


def test_perspective_same_text_is_stored_once(env):
    q = "?key=" + env.keys["cms"]
    text = "you lying sack of garbage " + str(time.time())
    body = {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}}
    before = env.comment_count()
    a, b = analyze(env, body, query=q), analyze(env, body, query=q)
    assert a.status == b.status == 200
    assert a.headers["x-moderatord-id"] == b.headers["x-moderatord-id"]
    assert env.comment_count() == before + 1


def test_suggestscore_for_an_unknown_text_is_kept_unattached(env):
    text = "never analyzed " + str(time.time())
    r = env.request("POST", "/v1alpha1/comments:suggestscore?key=" + env.keys["cms"],
                    body={"comment": {"text": text},
                          "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
                          "clientToken": "t-9"})
    assert r.status == 200, r
    assert r.json == {"clientToken": "t-9", "requestedLanguages": [], "detectedLanguages": ["en"]}
    con = sqlite3.connect(f"file:{env.db}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT comment_id, data FROM events WHERE seq = ?",
                          (int(r.headers["x-moderatord-event"]),)).fetchone()
    finally:
        con.close()
    assert row[0] is None
    data = json.loads(row[1])
    assert data["text_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert data["attributes"] == {"TOXICITY": 1}
    r = env.request("POST", "/v1alpha1/comments:suggestscore?key=" + env.keys["cms"],
                    body={"comment": {"text": text}, "attributeScores": {}})
    assert r.status == 400 and r.json["error"]["status"] == "INVALID_ARGUMENT"


# ---- Akismet ----

def akismet_fields(key=None, text=SLUR, **more):
    f = {"blog": "https://blog.example", "user_ip": "198.51.100.4", "user_agent": "UA/1",
         "comment_type": "comment", "comment_author": "Anon", "comment_content": text}
    if key:
        f["api_key"] = key
    f.update(more)
    return f


def test_akismet_key_sources(env):
    key = env.keys["cms"]
    r = form(env, "comment-check", akismet_fields(key))
    assert r.status == 200 and r.body == b"true", r
    assert r.headers["x-akismet-pro-tip"] == "discard"
    assert r.headers["content-type"].startswith("text/plain")
    r = form(env, "comment-check", akismet_fields(text=CLEAN), host=f"{key}.akismet.example:443")
    assert r.body == b"false" and "x-akismet-pro-tip" not in r.headers
    r = form(env, "comment-check", akismet_fields(text=HELD),
             headers={"Authorization": "Bearer " + key})
    assert r.body == b"true" and "x-akismet-pro-tip" not in r.headers
    assert form(env, "verify-key", {"api_key": key, "blog": "https://blog.example"}).body == b"valid"
    assert form(env, "verify-key", {"key": key, "blog": "https://blog.example"}).body == b"valid"


def test_akismet_refusals(env):
    before = env.comment_count()
    r = form(env, "comment-check", akismet_fields())  # no key anywhere
    assert r.status == 200 and r.body == b"invalid" and "x-akismet-debug-help" in r.headers
    r = form(env, "comment-check", akismet_fields(env.keys["moderator"]))
    assert r.body == b"invalid"
    r = form(env, "verify-key", {"api_key": "mk_" + "1" * 64, "blog": "https://b"})
    assert r.body == b"invalid"
    r = form(env, "comment-check", {k: v for k, v in akismet_fields(env.keys["cms"]).items()
                                    if k != "user_ip"})
    assert r.status == 400 and b"user_ip" in r.body
    r = env.request("POST", "/1.1/comment-check", body={"api_key": env.keys["cms"]})
    assert r.status == 415 and "x-akismet-debug-help" in r.headers
    r = env.request("POST", "/1.1/comment-check", body="api_key=%zz&blog=x",
                    ctype="application/x-www-form-urlencoded")
    assert r.status == 400
    r = env.request("POST", "/1.1/comment-check",
                    body=b"api_key=" + env.keys["cms"].encode() + b"&blog=b&user_ip=1&comment_content=%ff",
                    ctype="application/x-www-form-urlencoded")
    assert r.status == 400
    assert env.comment_count() == before


def test_akismet_submit_without_a_match_still_thanks(env):
    r = form(env, "submit-spam", akismet_fields(env.keys["cms"], text="never checked " + str(time.time())))
    assert r.status == 200 and r.body == b"Thanks for making the web a better place."
    assert "x-moderatord-id" not in r.headers


# ---- /metrics ----

def test_metrics_text_format(env):
    env.post({"text": CLEAN}, env.keys["cms"])
    r = env.request("GET", "/metrics")
    assert r.status == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = r.body.decode()
    families = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            families.setdefault(line.split()[2], set()).add("help")
        elif line.startswith("# TYPE "):
            families.setdefault(line.split()[2], set()).add(line.split()[3])
    for name in ("moderatord_http_requests_total", "moderatord_http_request_duration_seconds",
                 "moderatord_verdicts_total", "moderatord_writer_batch_size",
                 "moderatord_writer_commit_seconds", "moderatord_queue_depth",
                 "moderatord_ruleset_info", "moderatord_rules_reloads_total"):
        assert name in families and "help" in families[name], name
    # every sample belongs to a declared family
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name = line.split("{")[0].split(" ")[0]
            base = name
            for suffix in ("_bucket", "_sum", "_count"):
                if name.endswith(suffix) and name[: -len(suffix)] in families:
                    base = name[: -len(suffix)]
            assert base in families, line
    # a hostile path does not become a label
    env.request("GET", "/x%22%0A" + "y" * 50)
    assert 'route="unmatched"' in env.request("GET", "/metrics").body.decode()
    assert "yyyyy" not in env.request("GET", "/metrics").body.decode()


# ---- author sanctions reach the drop-in protocols too ----

def test_a_banned_author_is_refused_through_akismet_and_coral(coral):
    from modhelp import sanction
    key = coral.keys["cms"]
    r = sanction(coral, "banned@example.com", "ban", reason="spam wave")
    assert r.status == 200, r
    r = form(coral, "comment-check", akismet_fields(key, text=CLEAN,
                                                    comment_author_email="Banned@Example.com"))
    assert r.status == 200 and r.body.strip() == b"true", r
    assert r.headers.get("x-akismet-pro-tip") == "discard"
    db = sqlite3.connect(coral.db)
    row = db.execute("SELECT verdict, reason FROM comments WHERE author_email = ?",
                     ("Banned@Example.com",)).fetchone()
    assert row == ("block", "author_banned")

    assert sanction(coral, "u-1", "ban", reason="threats").status == 200
    body = coral_body(CLEAN)  # author u-1
    r = phase(coral, body, sign(body, SECRET))
    assert r.status == 200, r
    assert r.json["status"] == "REJECTED"
    row = db.execute("SELECT verdict, reason FROM comments WHERE author_id = 'u-1' "
                     "ORDER BY rowid DESC LIMIT 1").fetchone()
    assert row == ("block", "author_banned")
    # A clean comment from an author in good standing still passes.
    r = form(coral, "comment-check", akismet_fields(key, text=CLEAN,
                                                    comment_author_email="fine@example.com"))
    assert r.body.strip() == b"false"
