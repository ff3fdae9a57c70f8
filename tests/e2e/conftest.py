"""End-to-end fixtures: the real build/moderatord on an ephemeral port, with a temporary database
and keys made by build/moderatorctl. Nothing is built here: `make test` builds first."""

import http.client
import json
import os
import select
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("BUILD", "build"))
if not BUILD.is_absolute():
    BUILD = ROOT / BUILD
DAEMON = BUILD / "moderatord"
CTL = BUILD / "moderatorctl"
RULES = ROOT / "rules"
# Sanitizer builds start slower; everything below waits generously but polls quickly.
START_TIMEOUT = 60


def ctl(db, *args, rules=None, stdin=None, check=True):
    """Runs moderatorctl; returns the CompletedProcess (text mode)."""
    cmd = [str(CTL), "--db", str(db)]
    if rules:
        cmd += ["--rules", str(rules)]
    cmd += [str(a) for a in args]
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} failed ({p.returncode}): {p.stdout}{p.stderr}")
    return p


def add_key(db, role, name):
    out = ctl(db, "key", "add", "--role", role, "--name", name).stdout
    return out.strip().splitlines()[-1]


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"Reply({self.status}, {self.body[:300]!r})"


class Daemon:
    """One moderatord process. start() waits for its `listening on` line."""

    def __init__(self, workdir, db, rules=RULES, extra=()):
        self.workdir = Path(workdir)
        self.db = Path(db)
        self.rules = Path(rules)
        self.extra = list(extra)
        self.proc = None
        self.port = None
        self.address = None
        self.log_path = self.workdir / "moderatord.log"

    def start(self, argv=None):
        """argv: exactly these arguments instead of --listen, --db, --rules and extra (e.g. a
        --config file that names them)."""
        if argv is None:
            argv = ["--listen", "127.0.0.1:0", "--db", self.db, "--rules", self.rules, *self.extra]
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([str(DAEMON), *[str(a) for a in argv]],
                                     stdout=subprocess.PIPE, stderr=self.log)
        deadline = time.time() + START_TIMEOUT
        line = b""
        while time.time() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                line = self.proc.stdout.readline()
                break
            if self.proc.poll() is not None:
                break
        text = line.decode().strip()
        if not text.startswith("listening on "):
            self.kill()
            raise AssertionError(f"daemon did not start: {text!r}\n{self.log_text()}")
        self.address = text[len("listening on "):]
        self.port = int(self.address.rsplit(":", 1)[1])
        return self

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def request(self, method, path, body=None, key=None, ctype="application/json",
                headers=None, timeout=30):
        h = dict(headers or {})
        if key is not None:
            h["Authorization"] = f"Bearer {key}"
        if body is not None:
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode()
            if ctype is not None:
                h["Content-Type"] = ctype
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()

    def post(self, payload, key, **kw):
        return self.request("POST", "/v1/comments", body=payload, key=key, **kw)

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Stops the daemon; returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc.stdout.close()
        self.log.close()
        self.proc = None
        return rc

    def kill(self):
        return self.stop(signal.SIGKILL)

    def comment_count(self):
        """Rows in the comments table, read straight from the database."""
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute("SELECT count(*) FROM comments").fetchone()[0]
        finally:
            con.close()


def pytest_configure(config):
    # Long tests (the 30 s reload-under-load run) still run in `make test`; -m "not slow" skips them.
    config.addinivalue_line("markers", "slow: takes tens of seconds")


@pytest.fixture(scope="session")
def binaries():
    for b in (DAEMON, CTL):
        if not b.exists():
            pytest.fail(f"{b} is missing: run `make` first (make test builds it)")
    return DAEMON, CTL


@pytest.fixture(scope="session")
def env(binaries, tmp_path_factory):
    """A daemon shared by the tests that do not restart it, with one key per role."""
    work = tmp_path_factory.mktemp("moderatord")
    db = work / "moderatord.db"
    keys = {role: add_key(db, role, f"{role}-test") for role in ("cms", "moderator", "admin")}
    d = Daemon(work, db).start()
    d.keys = keys
    yield d
    rc = d.stop()
    assert rc == 0, f"daemon exited {rc} on SIGTERM\n{d.log_text()[-3000:]}"
    assert_sanitizers_quiet(d)


@pytest.fixture
def fresh(binaries, tmp_path):
    """Makes daemons of a test's own on a new database: fresh() -> Daemon with .keys."""
    made = []

    def make(rules=RULES, extra=()):
        db = tmp_path / "moderatord.db"
        keys = {role: add_key(db, role, f"{role}-{len(made)}") for role in ("cms", "moderator")}
        d = Daemon(tmp_path, db, rules=rules, extra=extra).start()
        d.keys = keys
        made.append(d)
        return d

    yield make
    for d in made:
        if d.proc is not None:
            rc = d.stop()
            assert rc == 0, f"daemon exited {rc} on SIGTERM\n{d.log_text()[-3000:]}"
        assert_sanitizers_quiet(d)


def assert_sanitizers_quiet(d):
    """Under `make sanitize` a report ends the daemon (-fno-sanitize-recover) and one at exit
    (LeakSanitizer) may not change its status: any report in the log fails the test."""
    log = d.log_text()
    for marker in ("runtime error:", "AddressSanitizer", "LeakSanitizer"):
        assert marker not in log, log[log.find(marker) - 2000:][:4000]
