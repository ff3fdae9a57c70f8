"""The review page's files as the daemon serves them, and moderatorctl's moderation commands
(queue list, approve, reject, ban, probation, unban, author) against a running daemon's database."""

import getpass
import os

import pytest

from conftest import ROOT, ctl
from modhelp import BLOCKED, CLEAN, HELD, get, post, uid


@pytest.fixture
def web(fresh):
    return fresh(extra=["--web", str(ROOT / "web")])


def test_page_and_assets_are_served_with_types_and_security_headers(web):
    for path, ctype in [("/moderate", "text/html; charset=utf-8"),
                        ("/moderate/", "text/html; charset=utf-8"),
                        ("/moderate/index.html", "text/html; charset=utf-8"),
                        ("/moderate/moderate.js", "text/javascript; charset=utf-8"),
                        ("/moderate/moderate.css", "text/css; charset=utf-8")]:
        r = web.request("GET", path)  # no key: the page asks for one itself
        assert r.status == 200, (path, r)
        assert r.headers["content-type"] == ctype
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
    page = web.request("GET", "/moderate").body.decode()
    assert '<script src="/moderate/moderate.js"' in page
    assert "http://" not in page and "https://" not in page  # no CDN: works offline
    assert web.request("HEAD", "/moderate/moderate.js").status == 200


@pytest.mark.parametrize("path", [
    "/moderate/../README.md", "/moderate/..%2FREADME.md", "/moderate/%2e%2e%2fMakefile",
    "/moderate/.hidden", "/moderate/sub/index.html",
    "/moderate/nothing.html", "/moderate/index.sh", "/moderate/..", "/moderate/%2Fetc%2Fpasswd",
])
def test_page_files_cannot_escape_their_directory(web, path):
    r = web.request("GET", path)
    assert r.status == 404, (path, r)
    assert b"root:" not in r.body and r.json["error"] == "not_found"


def test_a_nul_in_the_path_serves_nothing_outside_the_page(web):
    # libmicrohttpd decodes %00 before routing, which cuts the name at the NUL: at worst the
    # page's own index.html comes back, never another file.
    r = web.request("GET", "/moderate/index.html%00.js")
    index = (ROOT / "web" / "moderate" / "index.html").read_bytes()
    assert r.status == 404 or (r.status == 200 and r.body == index), r


def test_page_is_get_only_and_a_missing_web_dir_is_404(fresh, tmp_path):
    d = fresh(extra=["--web", str(tmp_path / "nowhere")])
    assert d.request("GET", "/moderate").status == 404
    assert d.request("POST", "/moderate", body={}).status == 405
    assert d.request("GET", "/healthz").status == 200
    assert "review page unavailable" in d.log_text()


def test_moderation_routes_reject_wrong_methods(env):
    assert env.request("DELETE", "/v1/queue", key=env.keys["moderator"]).status == 405
    assert env.request("GET", "/v1/authors/x/sanction", key=env.keys["moderator"]).status == 405


def actor():
    return "moderatorctl:" + (os.environ.get("USER") or getpass.getuser())


def test_ctl_queue_list_approve_and_reject(env):
    site = uid("site")
    author = uid("author")
    a = post(env, HELD, author=author, site=site)
    b = post(env, "\x1b[31mred\x1b[0m you are an idiot", author=author, site=site)
    assert b["state"] == "held", b
    out = ctl(env.db, "queue", "list", "--status", "held", "--limit", "1000").stdout
    assert a["id"] in out and b["id"] in out
    assert "\x1b" not in out, "control characters from a comment reached the terminal"
    out = ctl(env.db, "queue", "list", "--site", site, "--limit", "1").stdout
    assert a["id"] in out and b["id"] not in out and "more with --after" in out

    out = ctl(env.db, "approve", a["id"], "--reason", "fine in context").stdout
    assert f"{a['id']}: held -> approved" in out
    p = ctl(env.db, "reject", b["id"], check=False)
    assert p.returncode == 2 and "--reason" in p.stderr
    ctl(env.db, "reject", b["id"], "--reason", "insult")
    p = ctl(env.db, "approve", a["id"], check=False)
    assert p.returncode == 1 and "cannot be approved" in p.stderr

    rec = get(env, a["id"])
    assert rec["state"] == "approved"
    d = [e for e in rec["history"] if e["type"] == "decision"][-1]
    assert d["actor"] == actor() and d["data"]["reason"] == "fine in context"
    assert get(env, b["id"])["state"] == "rejected"
    assert get(env, b["id"])["author_record"]["strikes"] == 1


def test_ctl_ban_unban_and_author(env):
    author = uid("author")
    p = ctl(env.db, "ban", author, check=False)
    assert p.returncode == 2 and "--reason" in p.stderr
    assert ctl(env.db, "ban", author, "--until", "yesterday", "--reason", "x",
               check=False).returncode == 2
    out = ctl(env.db, "ban", author, "--reason", "threats", "--until", "30d").stdout
    assert f"{author}: ban until 20" in out
    c = post(env, CLEAN, author=author)
    assert c["state"] == "blocked" and c["reason"] == "author_banned", c
    out = ctl(env.db, "author", author).stdout
    assert "status: banned (manual)" in out and "threats" in out
    ctl(env.db, "unban", author)
    assert post(env, CLEAN, author=author)["state"] == "accepted"
    ctl(env.db, "probation", author, "--reason", "watch")
    assert post(env, CLEAN, author=author)["reason"] == "author_probation"
    r = env.request("GET", f"/v1/authors/{author}", key=env.keys["moderator"])
    acts = [(e["actor"], e["data"]["action"]) for e in r.json["history"]]
    assert acts == [(actor(), "probation"), (actor(), "clear"), (actor(), "ban")]


def test_ctl_queue_list_refuses_bad_options(env):
    for args in (["--status", "nope"], ["--limit", "0"], ["--category", "x"], ["--after", "y"],
                 ["--bogus"]):
        p = ctl(env.db, "queue", "list", *args, check=False)
        assert p.returncode == 2, (args, p.stderr)
    assert "queue list" in ctl(env.db, "help").stdout
    p = ctl(env.db, "approve", "ffffffffffffffffffffffffffffffff", check=False)
    assert p.returncode == 1 and "no comment" in p.stderr
    post(env, BLOCKED)  # keeps the shared daemon's queue non-trivial for other tests
