"""Start-up, durability across kill -9, orderly shutdown, -n, rule errors and SIGHUP reload."""

import http.client
import json
import shutil
import signal
import sqlite3
import subprocess
import threading
import time

import pytest

from conftest import DAEMON, RULES, Reply


def test_acknowledged_verdicts_survive_kill_9(fresh):
    d = fresh()
    acked = {}
    lock = threading.Lock()

    def submit(i):
        text = ["you are a fucking idiot", "Nice reporting.", "you are all idiots"][i % 3]
        r = d.post({"text": f"{text} #{i}", "id": f"c{i}", "site": "dur"}, d.keys["cms"])
        assert r.status == 200, r
        with lock:
            acked[r.json["id"]] = r.json

    # Concurrent submissions share commits (group commit); each reply still waits for its own.
    threads = [threading.Thread(target=submit, args=(i,)) for i in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(acked) == 60
    d.kill()  # SIGKILL right after the last 200
    d.start()
    for cid, reply in acked.items():
        r = d.request("GET", f"/v1/comments/{cid}", key=d.keys["moderator"])
        assert r.status == 200, (cid, r)
        assert r.json["verdict"] == reply["verdict"]
        assert r.json["matches"] == reply["matches"]
    assert d.comment_count() == 60
    # Retries after the restart still find the stored verdicts.
    again = d.post({"text": "whatever", "id": "c0", "site": "dur"}, d.keys["cms"])
    assert again.json["duplicate"] is True and again.json["id"] in acked


def test_sigterm_finishes_requests_in_flight(fresh):
    """SIGTERM arrives while submissions wait in the writer (another connection holds the write
    lock): none has been answered yet; new requests are refused with 503 while they finish; each
    one acknowledged with 200 is in the database after a restart, and the daemon exits 0."""
    d = fresh()
    n = 40
    texts = ["you are a fucking idiot", "Nice reporting.", "you are all idiots"]
    results, errors, sent = {}, [], []
    mu = threading.Lock()

    def submit(i):
        body = json.dumps({"text": f"{texts[i % 3]} #{i}", "id": f"t{i}", "site": "term"})
        conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=60)
        try:
            conn.request("POST", "/v1/comments", body=body.encode(),
                         headers={"Authorization": f"Bearer {d.keys['cms']}",
                                  "Content-Type": "application/json"})
            with mu:
                sent.append(i)
            r = conn.getresponse()
            reply = Reply(r.status, dict(r.getheaders()), r.read())
            with mu:
                results[i] = reply
        except Exception as e:  # noqa: BLE001 - any failure of a request fails the test
            with mu:
                errors.append((i, repr(e)))
        finally:
            conn.close()

    # BEGIN IMMEDIATE takes the write lock: the writer's own BEGIN waits (busy_timeout 5 s),
    # so every submission stays suspended in the daemon until the lock is released.
    lock = sqlite3.connect(str(d.db), timeout=10, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        threads = [threading.Thread(target=submit, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        deadline = time.time() + 2
        while len(sent) < n and time.time() < deadline:
            time.sleep(0.01)
        assert len(sent) == n and not errors, (len(sent), errors)
        time.sleep(0.5)  # let the daemon read them and hand them to the writer
        with mu:
            assert not results, f"{len(results)} of {n} answered with the store locked"
        d.proc.send_signal(signal.SIGTERM)
        deadline = time.time() + 10
        while "SIGTERM: stopping" not in d.log_text() and time.time() < deadline:
            time.sleep(0.01)
        assert "SIGTERM: stopping" in d.log_text()
        # Stopping, but the requests in the writer are still owed a reply.
        late = d.post({"text": "too late", "id": "late", "site": "term"}, d.keys["cms"])
        assert late.status == 503, late
        assert late.json["error"] == "store_unavailable"
        assert "shutting down" in late.json["message"]
        time.sleep(0.2)
        assert d.proc.poll() is None, "exited with requests still in flight"
        with mu:
            assert not results, f"{len(results)} of {n} answered with the store locked"
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(results) == n
    for i, r in results.items():
        # 200, or the one refusal a request that reached the daemon after SIGTERM may get
        assert r.status == 200 or (r.status == 503 and r.json["error"] == "store_unavailable"
                                   and "shutting down" in r.json["message"]), (i, r)
    acked = {r.json["id"]: r.json for r in results.values() if r.status == 200}
    assert acked, results
    rc = d.proc.wait(timeout=60)
    assert rc == 0, d.log_text()[-3000:]
    d.stop()
    log = d.log_text()
    assert "SIGTERM: stopping" in log and "stopped" in log
    d.start()
    for cid, reply in acked.items():
        r = d.request("GET", f"/v1/comments/{cid}", key=d.keys["moderator"])
        assert r.status == 200, (cid, r)
        assert r.json["verdict"] == reply["verdict"]
    assert d.comment_count() == len(acked)


def test_check_config_ok():
    p = subprocess.run([str(DAEMON), "-n", "--rules", str(RULES)], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "configuration OK"


def broken_rules(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    with open(rules / "profanity.rules", "a") as f:
        f.write("\nbroken_rule  not-a-weight  word\n")
    lines = (rules / "profanity.rules").read_text().splitlines()
    return rules, len(lines)


def test_check_config_names_file_and_line(tmp_path):
    rules, lineno = broken_rules(tmp_path)
    p = subprocess.run([str(DAEMON), "-n", "--rules", str(rules)], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 1
    assert f"profanity.rules:{lineno}:" in p.stdout + p.stderr, p.stdout + p.stderr
    assert "configuration OK" not in p.stdout


def test_bad_rules_stop_start_up(tmp_path):
    rules, lineno = broken_rules(tmp_path)
    p = subprocess.run([str(DAEMON), "--listen", "127.0.0.1:0", "--db", str(tmp_path / "x.db"),
                        "--rules", str(rules)], capture_output=True, text=True, timeout=120)
    assert p.returncode != 0
    assert f"profanity.rules:{lineno}:" in p.stderr
    assert "listening on" not in p.stdout


def test_bad_flags():
    for args in (["--listen", "nonsense"], ["--listen", "127.0.0.1:99999"], ["--max-body", "x"],
                 ["--bogus"]):
        p = subprocess.run([str(DAEMON), *args], capture_output=True, text=True, timeout=60)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        # the first line names the flag, and the value it refused
        first = p.stderr.splitlines()[0] if p.stderr else ""
        if len(args) > 1:
            assert first.startswith(f"moderatord: {args[0]}: ") and f'"{args[1]}"' in first, \
                p.stderr
        else:
            assert first.startswith(f"moderatord: unknown option {args[0]}"), p.stderr
        assert "listening on" not in p.stdout
    h = subprocess.run([str(DAEMON), "-h"], capture_output=True, text=True, timeout=60)
    assert h.returncode == 0 and "--listen" in h.stdout


def test_max_body_flag(fresh):
    d = fresh(extra=["--max-body", "1K"])
    r = d.post({"text": "x" * 2000}, d.keys["cms"])
    assert r.status == 413 and "1024" in r.json["message"]
    assert d.post({"text": "x" * 500}, d.keys["cms"]).status == 200


def test_sighup_reloads_rules_and_keeps_old_on_error(fresh, tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    d = fresh(rules=rules)
    v1 = d.request("GET", "/healthz").json["ruleset"]
    assert d.post({"text": "what a zzyzxword"}, d.keys["cms"]).json["verdict"] == "accept"

    with open(rules / "profanity.rules", "a") as f:
        f.write("\nzzyzx_test  20  zzyzxword\n")
    d.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 30
    while d.request("GET", "/healthz").json["ruleset"] == v1 and time.time() < deadline:
        time.sleep(0.1)
    v2 = d.request("GET", "/healthz").json["ruleset"]
    assert v2 != v1
    r = d.post({"text": "what a zzyzxword"}, d.keys["cms"])
    assert r.json["verdict"] == "block" and r.json["ruleset"] == v2
    assert any(m["rule"] == "profanity.zzyzx_test" for m in r.json["matches"])

    with open(rules / "profanity.rules", "a") as f:
        f.write("\nbroken  nope  x\n")
    d.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 30
    while "reload failed" not in d.log_text() and time.time() < deadline:
        time.sleep(0.1)
    assert "reload failed" in d.log_text()
    assert d.request("GET", "/healthz").json["ruleset"] == v2
