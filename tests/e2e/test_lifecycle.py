"""Start-up, durability across kill -9, orderly shutdown, -n, rule errors and SIGHUP reload."""

import shutil
import signal
import subprocess
import threading
import time

import pytest

from conftest import DAEMON, RULES


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
    d = fresh()
    results = []

    def submit(i):
        try:
            r = d.post({"text": f"comment {i}"}, d.keys["cms"])
            results.append(r)
        except OSError:
            pass  # refused after the listener closed: never acknowledged, so never promised

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    time.sleep(0.02)
    d.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join()
    rc = d.proc.wait(timeout=60)
    assert rc == 0, d.log_text()[-3000:]
    d.stop()
    log = d.log_text()
    assert "SIGTERM: stopping" in log and "stopped" in log
    acked = [r.json["id"] for r in results if r.status == 200]
    d.start()
    for cid in acked:
        assert d.request("GET", f"/v1/comments/{cid}", key=d.keys["moderator"]).status == 200


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
        assert p.returncode != 0 and p.stderr, args
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
