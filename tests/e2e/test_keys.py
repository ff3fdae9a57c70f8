"""API keys managed with moderatorctl while the daemon runs take effect within a second."""

import time

from conftest import add_key, ctl


def wait_for_status(env, key, status, within=1.0):
    deadline = time.monotonic() + within
    while True:
        r = env.post({"text": "key check"}, key)
        if r.status == status or time.monotonic() > deadline:
            return r
        time.sleep(0.05)


def test_new_key_works_and_revoked_key_stops(env):
    key = add_key(env.db, "cms", "added-while-running")
    assert key.startswith("mk_")
    r = wait_for_status(env, key, 200)
    assert r.status == 200, r
    ctl(env.db, "key", "revoke", "added-while-running")
    r = wait_for_status(env, key, 401)
    assert r.status == 401 and r.json["error"] == "unauthorized", r
    # The other keys are untouched.
    assert env.post({"text": "still here"}, env.keys["cms"]).status == 200


def test_revoke_by_id_and_list(env):
    key = add_key(env.db, "moderator", "short-lived")
    listing = ctl(env.db, "key", "list").stdout
    line = next(l for l in listing.splitlines() if " short-lived " in l)
    key_id = line.split()[0]
    assert "moderator" in line and line.rstrip().endswith("-")
    assert env.request("GET", "/v1/comments/none", key=key).status == 404
    ctl(env.db, "key", "revoke", key_id)
    listing = ctl(env.db, "key", "list").stdout
    line = next(l for l in listing.splitlines() if " short-lived " in l)
    assert not line.rstrip().endswith(" -"), line
    assert env.request("GET", "/v1/comments/none", key=key).status == 401


def test_key_add_prints_key_last_and_rejects_bad_role(env):
    out = ctl(env.db, "key", "add", "--role", "admin", "--name", "printed").stdout.splitlines()
    assert out[-1].startswith("mk_") and len(out[-1]) > 40
    bad = ctl(env.db, "key", "add", "--role", "root", "--name", "x", check=False)
    assert bad.returncode != 0 and "role" in bad.stderr
    # the name is the actor in JSON events: not UTF-8 (byte 0xff) or a control character is refused
    before = ctl(env.db, "key", "list").stdout
    for name in ("bad\udcffname", "tab\there"):
        bad = ctl(env.db, "key", "add", "--role", "admin", "--name", name, check=False)
        assert bad.returncode == 2 and "UTF-8 text without control characters" in bad.stderr
    assert ctl(env.db, "key", "list").stdout == before
    missing = ctl(env.db, "key", "revoke", "no-such-key", check=False)
    assert missing.returncode != 0
