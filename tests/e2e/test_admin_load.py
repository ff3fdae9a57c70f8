"""Reloads under load: wrk posts comments for 30 s while the rules are reloaded 50
times, alternating two valid rule sets. Zero failed requests; every stored verdict names one of the
two versions; re-checking each stored text with the version it names gives the same verdict; the
audit trail verifies afterwards. Runs in `make test` (about 40 s; marked slow: -m "not slow"
skips it)."""

import os
import re
import shutil
import subprocess
import threading
import time

import pytest

from adminhelp import admin_key, query, rules_copy, verify, write_atomic
from conftest import ROOT

DURATION = int(os.environ.get("MODERATORD_LOAD_SECONDS", "30"))
RELOADS = 50
# B adds one rule: the bench's comment about the council meeting blocks under B, not under A.
PROBE = "\nzz_load_probe   9   council\n"


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed (make deps installs it)")
def test_reloads_under_load(fresh, tmp_path):
    rules = rules_copy(tmp_path)
    pa = rules / "personal_attack.rules"
    text_a = pa.read_text()
    text_b = text_a + PROBE
    d = fresh(rules=rules)
    key = admin_key(d)

    reloads, errors = [], []

    def reloader():
        # Spread the reloads over the run, starting once wrk is under way.
        time.sleep(1.0)
        gap = (DURATION - 3.0) / RELOADS
        for i in range(RELOADS):
            t0 = time.time()
            write_atomic(pa, text_b if i % 2 == 0 else text_a)
            r = d.request("POST", "/v1/rules/reload", key=key, timeout=60)
            if r.status != 200 or not r.json["ok"]:
                errors.append(r)
            else:
                reloads.append(r.json)
            time.sleep(max(0.0, gap - (time.time() - t0)))

    th = threading.Thread(target=reloader)
    th.start()
    url = f"http://127.0.0.1:{d.port}/v1/comments"
    p = subprocess.run(["wrk", "-t", "2", "-c", "16", "-d", f"{DURATION}s", "--timeout", "20s",
                        "-s", str(ROOT / "bench" / "post.lua"), url, "--", d.keys["cms"], "h7"],
                       capture_output=True, text=True, timeout=DURATION + 120)
    th.join()
    assert p.returncode == 0, p.stdout + p.stderr
    m = re.search(r"^RESULT (\S+) (\S+) (\S+) (\d+) (\d+)$", p.stdout, re.M)
    assert m, p.stdout
    failed, requests = int(m.group(4)), int(m.group(5))
    assert "Non-2xx" not in p.stdout and "Socket errors" not in p.stdout, p.stdout
    assert failed == 0, p.stdout
    assert requests > 100, p.stdout

    # 50 reloads, every one a swap between the two versions.
    assert not errors, errors[:3]
    assert len(reloads) == RELOADS
    versions = {r["version"] for r in reloads}
    assert len(versions) == 2, versions
    v_b, v_a = reloads[0]["version"], reloads[1]["version"]
    assert sum(r["changed"] for r in reloads) >= RELOADS - 1  # the watcher may have got there first

    rows = query(d.db, "SELECT text, ruleset, verdict, reason, score, count(*) FROM comments "
                 "WHERE site = 'bench.example' GROUP BY text, ruleset, verdict, reason, score")
    stored = sum(r[5] for r in rows)
    assert stored >= requests - 16, (stored, requests)  # wrk may cut the last few in flight
    assert {r[1] for r in rows} == {v_a, v_b}  # each verdict names one of the two, and both served
    # Re-checked with the version it names, every stored text scores the same, and gets the same
    # verdict, unless an author sanction decided it (reason: the bench's readers collect strikes).
    checked = {}
    for text, version, verdict, reason, score, _ in rows:
        if (text, version) not in checked:
            r = d.request("POST", "/v1/check", body={"text": text, "version": version}, key=key)
            assert r.status == 200 and r.json["ruleset"] == version
            checked[(text, version)] = r.json
        again = checked[(text, version)]
        assert abs(again["score"] - score) < 1e-9, (text, version, score, again["score"])
        if reason is None:
            assert again["verdict"] == verdict, (text, version, verdict, again["verdict"])
        else:
            assert reason in ("author_banned", "author_probation"), reason
    # The bench's council comment was stored under both versions: accepted by A, blocked by B.
    council = {ver: c["verdict"] for (t, ver), c in checked.items() if "council" in t}
    assert council == {v_a: "accept", v_b: "block"}, council

    # The log of it all is intact: every verdict, every reload, in one chain.
    v = verify(d.db)
    assert v.returncode == 0, v.stdout
    n_reload_events = query(d.db, "SELECT count(*) FROM events WHERE type = 'reload'")[0][0]
    assert n_reload_events >= RELOADS
    print(f"\nload: {requests} requests in {DURATION}s ({float(m.group(1)):.0f}/s, p99 "
          f"{float(m.group(3)):.1f} ms), 0 failed; {len(reloads)} reloads A<->B; {stored} verdicts "
          f"stored under {v_a} / {v_b}; {len(checked)} (text, version) pairs re-checked; "
          f"{v.stdout.splitlines()[0]}")
