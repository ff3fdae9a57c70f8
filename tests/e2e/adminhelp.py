"""Helpers for the admin tests: rules copies, admin keys, waiting, the audit hash."""

import hashlib
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

from conftest import RULES, add_key, ctl


def rules_copy(tmp_path, name="rules"):
    """A private copy of the shipped rules, to edit."""
    dest = Path(tmp_path) / name
    shutil.copytree(RULES, dest)
    return dest


def admin_key(d):
    """An admin key for daemon d (made with moderatorctl, which writes the same database)."""
    if "admin" not in d.keys:
        d.keys["admin"] = add_key(d.db, "admin", f"admin-{os.getpid()}-{time.time_ns()}")
    return d.keys["admin"]


def wait_for(fn, timeout=60, step=0.05, what="condition"):
    """Polls fn until it returns something true; returns it."""
    deadline = time.time() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(step)


def write_atomic(path, text):
    """Replaces a file in one step (write beside it, rename), as careful editors and deploys do."""
    path = Path(path)
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def append(path, text):
    with open(path, "a") as f:
        f.write(text)


def rules_state(d, key):
    r = d.request("GET", "/v1/rules", key=key)
    assert r.status == 200, r
    return r.json


def sqlite_shell(db, sql):
    """Runs SQL with the sqlite3 command-line shell, as an administrator (or attacker) would."""
    p = subprocess.run(["sqlite3", str(db), sql], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


def query(db, sql, *args):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def event_hash(ev):
    """The audit chain's hash of one event (store.h): SHA-256 over each field as
    "<byte length>:<bytes>," or "~" for null, in the order seq, at, type, comment_id, actor,
    data, prev_hash."""
    out = b""
    for v in (str(ev["seq"]), ev["at"], ev["type"], ev.get("comment_id"), ev.get("actor"),
              ev.get("data"), ev["prev_hash"]):
        if v is None:
            out += b"~"
        else:
            b = v.encode()
            out += str(len(b)).encode() + b":" + b + b","
    return hashlib.sha256(out).hexdigest()


def verify(db, *args, check=False):
    return ctl(db, "audit", "verify", *args, check=check)

