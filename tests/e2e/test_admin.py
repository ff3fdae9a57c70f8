"""Rule files safe to edit live. Hot reload (inotify, SIGHUP, POST /v1/rules/reload) with
the last error shown by GET /v1/rules, kept versions and explanations, dry runs, lint and diff."""

import json
import signal
import subprocess

from adminhelp import (admin_key, append, query, rules_copy, rules_state, wait_for,
                       write_atomic)
from conftest import CTL, DAEMON, RULES, ctl

PROBE = "\nzz_probe    20   zzyzxword\n"  # profanity blocks at 12


def test_broken_edit_keeps_old_version_then_fix_goes_live(fresh, tmp_path):
    """The must-show: a syntax error leaves the old version live with the error (file:line) in
    GET /v1/rules; fixing the file makes the new version live, without a restart or a signal."""
    rules = rules_copy(tmp_path)
    d = fresh(rules=rules, extra=["--reload-delay", "50ms"])
    key = admin_key(d)
    before = rules_state(d, key)
    v1 = before["version"]
    assert before["watching"] is True and before["error"] is None
    assert v1 == d.request("GET", "/healthz").json["ruleset"]

    prof = rules / "profanity.rules"
    good = prof.read_text()
    broken = good + "\nzz_broken   heavy   zzyzxword\n"
    bad_line = len(broken.splitlines())
    write_atomic(prof, broken)
    state = wait_for(lambda: (s := rules_state(d, key))["error"] and s, what="the reload error")
    assert state["version"] == v1
    assert f"profanity.rules:{bad_line}:" in state["error"]["error"]
    assert "bad weight" in state["error"]["error"]
    assert any(f"profanity.rules:{bad_line}:" in x for x in state["error"]["diagnostics"])
    assert state["last_reload"]["ok"] is False and state["last_reload"]["trigger"] == "inotify"
    # Requests go on with the old version, unharmed.
    r = d.post({"text": "what a zzyzxword"}, d.keys["cms"])
    assert r.status == 200 and r.json["verdict"] == "accept" and r.json["ruleset"] == v1
    assert "reload failed" in d.log_text()

    write_atomic(prof, good + PROBE)
    state = wait_for(lambda: (s := rules_state(d, key))["version"] != v1 and s,
                     what="the fixed version")
    v2 = state["version"]
    assert state["error"] is None
    assert state["last_reload"]["ok"] and state["last_reload"]["changed"]
    assert state["last_reload"]["previous"] == v1
    assert f"profanity.rules:{bad_line}:" in state["last_error"]["error"]  # kept for the record
    assert state["rules"]["profanity"] == before["rules"]["profanity"] + 1
    r = d.post({"text": "what a zzyzxword"}, d.keys["cms"])
    assert r.json["verdict"] == "block" and r.json["ruleset"] == v2
    assert {v["version"] for v in state["versions"]} >= {v1, v2}
    # Both attempts are in the audit chain.
    rows = query(d.db, "SELECT data FROM events WHERE type = 'reload' ORDER BY seq")
    data = [json.loads(x[0]) for x in rows]
    assert data[0]["trigger"] == "start" and data[0]["version"] == v1
    assert any(not x["ok"] and f"profanity.rules:{bad_line}:" in x["error"] for x in data)
    assert any(x["ok"] and x.get("version") == v2 and x["previous"] == v1 for x in data)


def test_reload_api(fresh, tmp_path):
    rules = rules_copy(tmp_path)
    d = fresh(rules=rules, extra=["--watch-rules", "no"])
    key = admin_key(d)
    assert rules_state(d, key)["watching"] is False
    for role in ("cms", "moderator"):
        r = d.request("POST", "/v1/rules/reload", key=d.keys[role])
        assert r.status == 403 and r.json["error"] == "forbidden"
    assert d.request("POST", "/v1/rules/reload").status == 401
    assert d.request("GET", "/v1/rules/reload", key=key).status == 405

    r = d.request("POST", "/v1/rules/reload", key=key)
    assert r.status == 200 and r.json["ok"] is True and r.json["changed"] is False
    v1 = r.json["version"]

    append(rules / "profanity.rules", PROBE)
    # Not watched: nothing changes until asked.
    assert d.request("GET", "/healthz").json["ruleset"] == v1
    r = d.request("POST", "/v1/rules/reload", key=key)
    assert r.status == 200 and r.json["changed"] is True, r
    assert r.json["previous"] == v1 and r.json["version"] != v1
    assert r.json["examples"]["failed"] == 0 and r.json["examples"]["passed"] > 100
    v2 = r.json["version"]
    assert d.request("GET", "/healthz").json["ruleset"] == v2

    append(rules / "personal_attack.rules", "\nzz_bad   3   @no_such_set\n")
    r = d.request("POST", "/v1/rules/reload", key=key)
    assert r.status == 500 and r.json["error"] == "rules_error", r
    assert "personal_attack.rules:" in r.json["message"] and "unknown set @no_such_set" in r.json["message"]
    assert r.json["version"] == v2 and r.json["ok"] is False
    assert d.request("GET", "/healthz").json["ruleset"] == v2
    state = rules_state(d, key)
    assert state["error"]["by"] == "admin" or state["error"]["by"].startswith("admin")
    assert state["reloads"]["failures"] == 1 and state["reloads"]["attempts"] >= 4
    # Moderators may look, not reload.
    assert d.request("GET", "/v1/rules", key=d.keys["moderator"]).status == 200


def test_failed_reload_quoting_bytes_is_still_in_the_chain(fresh, tmp_path):
    """A diagnostic quotes the rule file's bytes, which need not be UTF-8; the failed reload
    still becomes an event (the bytes shown as '?'), as every attempt must."""
    rules = rules_copy(tmp_path)
    d = fresh(rules=rules, extra=["--watch-rules", "no"])
    key = admin_key(d)
    with open(rules / "profanity.rules", "ab") as f:
        f.write(b"\nx\xff   3   word\n")
    r = d.request("POST", "/v1/rules/reload", key=key)
    assert r.status == 500 and r.json["error"] == "rules_error", r
    rows = query(d.db, "SELECT data FROM events WHERE type = 'reload' ORDER BY seq")
    failed = [x for x in (json.loads(row[0]) for row in rows) if not x["ok"]]
    assert len(failed) == 1, rows
    assert 'bad rule name "x?"' in failed[0]["error"], failed[0]


def test_sighup_reload(fresh, tmp_path):
    rules = rules_copy(tmp_path)
    d = fresh(rules=rules, extra=["--watch-rules", "no"])
    key = admin_key(d)
    v1 = rules_state(d, key)["version"]
    append(rules / "profanity.rules", PROBE)
    d.proc.send_signal(signal.SIGHUP)
    state = wait_for(lambda: (s := rules_state(d, key))["version"] != v1 and s, what="SIGHUP")
    assert state["loaded_by"] == "SIGHUP" and state["last_reload"]["trigger"] == "SIGHUP"


def test_rules_get_shows_the_live_set(env):
    key = admin_key(env)
    s = rules_state(env, key)
    assert s["version"] == env.request("GET", "/healthz").json["ruleset"]
    assert s["loaded_at"].endswith("Z") and s["loaded_by"] == "start"
    cats = s["rules"]
    assert cats["profanity"] > 10 and cats["personal_attack"] > 10 and cats["ethnic_slur"] > 10
    assert cats["total"] == cats["profanity"] + cats["personal_attack"] + cats["ethnic_slur"]
    assert s["examples"] > 100
    assert {f["name"] for f in s["files"]} >= {"profanity.rules", "allow.list", "policy.conf"}
    assert s["thresholds"]["total"]["block"] > 0
    assert s["error"] is None and s["last_error"] is None
    assert s["versions"][0]["version"] == s["version"]
    # The counts are the linter's.
    lint = ctl(env.db, "rules", "lint", str(RULES)).stdout
    assert f"{cats['total']} rules" in lint


def test_check_is_a_dry_run(fresh, tmp_path):
    rules = rules_copy(tmp_path)
    d = fresh(rules=rules, extra=["--watch-rules", "no"])
    key = admin_key(d)
    text = {"text": "what a zzyzxword"}
    live = d.request("POST", "/v1/check", body=text, key=key)
    assert live.status == 200 and live.json["verdict"] == "accept" and live.json["stored"] is False
    assert live.json["live"] is True and live.json["id"] is None
    v1 = live.json["ruleset"]

    append(rules / "profanity.rules", PROBE)
    v2 = d.request("POST", "/v1/rules/reload", key=key).json["version"]
    now = d.request("POST", "/v1/check", body=text, key=key).json
    assert now["verdict"] == "block" and now["ruleset"] == v2
    assert any(m["rule"] == "profanity.zz_probe" for m in now["matches"])
    old = d.request("POST", "/v1/check", body={**text, "version": v1}, key=key).json
    assert old["verdict"] == "accept" and old["ruleset"] == v1 and old["live"] is False
    named_live = d.request("POST", "/v1/check", body={**text, "version": "live"}, key=key).json
    assert named_live["ruleset"] == v2
    # Participants count as in POST /v1/comments.
    aimed = d.request("POST", "/v1/check", key=key,
                      body={"text": "mike is a moron", "parent_author": "Mike"}).json
    assert aimed["verdict"] != "accept"
    assert d.comment_count() == 0  # nothing stored, ever

    r = d.request("POST", "/v1/check", body={**text, "version": "0123456789abcdef"}, key=key)
    assert r.status == 404 and "0123456789abcdef" in r.json["message"]
    r = d.request("POST", "/v1/check", body={**text, "version": "v1"}, key=key)
    assert r.status == 400 and r.json["error"] == "bad_field"
    r = d.request("POST", "/v1/check", body={**text, "version": 7}, key=key)
    assert r.status == 400
    assert d.request("POST", "/v1/check", body=text, key=d.keys["cms"]).status == 403
    assert d.request("POST", "/v1/check", body="{", key=key).status == 400
    assert d.request("POST", "/v1/check", body=text, key=key, ctype="text/plain").status == 415


def test_explain_shows_the_lines_that_fired_after_the_files_changed(fresh, tmp_path):
    rules = rules_copy(tmp_path)
    append(rules / "profanity.rules", "\n@zz_words = zzyzxword, zzqqword\nzz_probe   9   @zz_words\n")
    d = fresh(rules=rules, extra=["--watch-rules", "no"])
    key = admin_key(d)
    post = d.post({"text": "what a zzyzxword, you idiot", "id": "x1"}, d.keys["cms"]).json
    v1 = post["ruleset"]
    assert any(m["rule"] == "profanity.zz_probe" for m in post["matches"])

    # The rule moves, changes weight and the set loses the word; the old verdict still explains.
    text = (rules / "profanity.rules").read_text()
    text = text.replace("@zz_words = zzyzxword, zzqqword\nzz_probe   9   @zz_words\n", "")
    write_atomic(rules / "profanity.rules", "@zz_words = zzqqword\nzz_probe 2 @zz_words\n" + text)
    assert d.request("POST", "/v1/rules/reload", key=key).json["changed"] is True

    r = d.request("GET", f"/v1/comments/{post['id']}?explain=1", key=d.keys["moderator"])
    assert r.status == 200, r
    ex = r.json["explain"]
    assert r.json["verdict"] == post["verdict"] and r.json["id"] == post["id"]
    assert ex["ruleset"] == {**ex["ruleset"], "version": v1, "kept": True, "live": False}
    m = next(m for m in ex["matches"] if m["rule"] == "profanity.zz_probe")
    assert m["source"] == "zz_probe   9   @zz_words"
    assert m["sets"][0]["name"] == "@zz_words"
    assert m["sets"][0]["source"] == "@zz_words = zzyzxword, zzqqword"
    aimed = next(m for m in ex["matches"] if m["rule"].startswith("personal_attack."))
    assert aimed["source"] and aimed["line"] > 0
    assert ex["recheck"]["same_verdict"] is True and ex["recheck"]["same_matches"] is True
    assert ex["recheck"]["verdict"] == post["verdict"]
    # Without explain the record is as before.
    plain = d.request("GET", f"/v1/comments/{post['id']}", key=d.keys["moderator"]).json
    assert "explain" not in plain

    out = ctl(d.db, "explain", post["id"]).stdout
    assert f"rule set {v1}, kept" in out
    assert "zz_probe   9   @zz_words" in out and "@zz_words = zzyzxword, zzqqword" in out
    assert "(same verdict, same matches)" in out
    as_json = json.loads(ctl(d.db, "explain", post["id"], "--json").stdout)
    assert as_json["explain"]["matches"] == ex["matches"]
    assert ctl(d.db, "explain", "nope", check=False).returncode == 1


def test_lint_reports_every_error_with_hints(tmp_path):
    rules = rules_copy(tmp_path)
    append(rules / "profanity.rules", "\nzz_a   lots   zzyzxword\nzz_b 3 zzy*x\n")
    append(rules / "personal_attack.rules", "\nzz_c 3 @no_such_set\n")
    p = ctl(tmp_path / "x.db", "rules", "lint", rules, check=False)
    assert p.returncode == 1
    lines = [l for l in p.stdout.splitlines() if ": error: " in l]
    n_prof = len((rules / "profanity.rules").read_text().splitlines())
    n_pa = len((rules / "personal_attack.rules").read_text().splitlines())
    assert any(l.startswith(f"profanity.rules:{n_prof - 1}:8: error: bad weight") for l in lines), p.stdout
    assert any(l.startswith(f"profanity.rules:{n_prof}:") and "'*'" in l for l in lines), p.stdout
    assert any(l.startswith(f"personal_attack.rules:{n_pa}:8: error: unknown set @no_such_set")
               for l in lines), p.stdout
    assert all("(hint: " in l for l in lines)
    assert "3 errors" in p.stdout.splitlines()[-1]
    # The daemon's -n runs the same checks and prints the same lines.
    n = subprocess.run([str(DAEMON), "-n", "--rules", str(rules)], capture_output=True, text=True,
                       timeout=120)
    assert n.returncode == 1
    for l in lines:
        assert l in n.stderr


def test_lint_warnings(tmp_path):
    rules = rules_copy(tmp_path)
    append(rules / "profanity.rules",
           "\nzz_dup_a   3   zzyzxword\nzz_dup_b   3   zzyzxword\n@zz_unused = zzqq\n"
           "zz_small   1   zzyzx*\n")
    append(rules / "allow.list", "\nzzfoobarbaz\n")
    append(rules / "personal_attack.rules", "\n# expect block: \"this is a lovely day\"\n")
    p = ctl(tmp_path / "x.db", "rules", "lint", rules, check=False)
    assert p.returncode == 0, p.stdout  # warnings only
    out = p.stdout
    n = len((rules / "profanity.rules").read_text().splitlines())
    assert f"profanity.rules:{n - 2}:16: warning: rule profanity.zz_dup_b duplicates profanity.zz_dup_a" in out
    assert f"profanity.rules:{n - 1}:1: warning: set @zz_unused is never used" in out
    assert "allowed \"zzfoobarbaz\" masks nothing" in out
    assert "example expects block, the rules give accept" in out
    strict = ctl(tmp_path / "x.db", "rules", "lint", rules, "--fail-on-warnings", check=False)
    assert strict.returncode == 1
    failing = ctl(tmp_path / "x.db", "rules", "lint", rules, "--strict", check=False)
    assert failing.returncode == 1 and ": error: example expects block" in failing.stdout
    # The shipped rules load without errors.
    assert ctl(tmp_path / "x.db", "rules", "lint", RULES).returncode == 0


def test_strict_rules_refuse_a_set_whose_examples_fail(fresh, tmp_path):
    rules = rules_copy(tmp_path)
    d = fresh(rules=rules, extra=["--watch-rules", "no", "--rules-strict", "yes"])
    key = admin_key(d)
    append(rules / "profanity.rules", "\n# expect block: \"a perfectly nice sentence\"\nzz_x 1 zzqq\n")
    r = d.request("POST", "/v1/rules/reload", key=key)
    assert r.status == 500 and "example expects block" in r.json["message"]


def test_rules_diff(fresh, tmp_path):
    old = rules_copy(tmp_path, "old")
    new = rules_copy(tmp_path, "new")
    append(new / "profanity.rules", PROBE)
    comments = tmp_path / "comments.jsonl"
    comments.write_text("\n".join(json.dumps(x) for x in [
        {"id": "a", "text": "what a zzyzxword"},
        {"id": "b", "text": "a fine article"},
        {"text": "zzyzxword again"},
        {"id": "d", "text": "you are a fucking idiot"},
        {"text": 5},
    ]) + "\n")
    p = ctl(tmp_path / "x.db", "rules", "diff", old, new, "--on", comments)
    lines = p.stdout.splitlines()
    assert lines[0].startswith("a: accept -> block  [] -> [profanity.zz_probe]")
    assert lines[1].startswith("line 3: accept -> block")
    assert "4 comments, 2 verdicts change (2 accept->block)" in lines[-1]
    assert "skipped" in p.stderr

    # Kept versions work as well as directories.
    d = fresh(rules=old, extra=["--watch-rules", "no"])
    key = admin_key(d)
    v_old = rules_state(d, key)["version"]
    write_atomic(old / "profanity.rules", (new / "profanity.rules").read_text())
    v_new = d.request("POST", "/v1/rules/reload", key=key).json["version"]
    p = ctl(d.db, "rules", "diff", v_old, v_new, "--on", comments)
    assert "2 verdicts change" in p.stdout.splitlines()[-1]
    vers = ctl(d.db, "rules", "versions").stdout
    assert v_old in vers and v_new in vers
    shown = ctl(d.db, "rules", "show", v_old, "profanity.rules").stdout
    assert "zz_probe" not in shown and shown == (new / "profanity.rules").read_text().replace(PROBE, "")
    bad = ctl(d.db, "rules", "diff", "nope", v_new, "--on", comments, check=False)
    assert bad.returncode == 1 and "neither a rules directory nor a version" in bad.stderr


def test_rule_examples_name_failures(tmp_path):
    rules = rules_copy(tmp_path)
    append(rules / "profanity.rules", "\n# expect block: \"have a nice day\"\n")
    n = len((rules / "profanity.rules").read_text().splitlines())
    p = ctl(tmp_path / "x.db", "rules", "test", rules, check=False)
    assert p.returncode == 1
    assert f"profanity.rules:{n}" in p.stdout and "1 failed" in p.stdout
