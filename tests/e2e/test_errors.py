"""Every error status of the API, in the one JSON shape, and the daemon serving normally after."""

import http.client
import socket

import pytest


def assert_error(reply, status, code, *words):
    assert reply.status == status, reply
    assert reply.headers.get("content-type", "").startswith("application/json"), reply.headers
    assert set(reply.json) == {"error", "message"}, reply.json
    assert reply.json["error"] == code, reply.json
    for w in words:
        assert w in reply.json["message"], (w, reply.json)


# (name, body bytes, content type, status, error code, words the message must contain)
BAD_BODIES = [
    ("truncated json", b'{"text": "hello', "application/json", 400, "bad_json", ["JSON"]),
    ("not json", b"hello there", "application/json", 400, "bad_json", ["JSON"]),
    ("empty body", b"", "application/json", 400, "bad_json", ["empty"]),
    ("array body", b'["text"]', "application/json", 400, "bad_json", ["object"]),
    ("text missing", b'{"site": "s"}', "application/json", 400, "bad_field", ['"text"']),
    ("text a number", b'{"text": 5}', "application/json", 400, "bad_field", ['"text"', "string"]),
    ("text null", b'{"text": null}', "application/json", 400, "bad_field", ['"text"']),
    ("site an object", b'{"text": "hi", "site": {}}', "application/json", 400, "bad_field",
     ['"site"']),
    ("author not object", b'{"text": "hi", "author": "bob"}', "application/json", 400,
     "bad_field", ['"author"']),
    ("author.email mistyped", b'{"text": "hi", "author": {"email": 3}}', "application/json", 400,
     "bad_field", ['"author.email"']),
    ("mentions not array", b'{"text": "hi", "mentions": "bob"}', "application/json", 400,
     "bad_field", ['"mentions"']),
    ("mention not string", b'{"text": "hi", "mentions": ["a", 2]}', "application/json", 400,
     "bad_field", ['"mentions[1]"']),
    ("invalid utf-8 in text", b'{"text": "caf\xe9 \xff"}', "application/json", 400, "bad_utf8",
     ["UTF-8"]),
    ("invalid utf-8 in a field", b'{"text": "hi", "site": "\xc3\x28"}', "application/json", 400,
     "bad_utf8", ["UTF-8"]),
    ("overlong utf-8", b'{"text": "\xc0\xaf"}', "application/json", 400, "bad_utf8", []),
    ("text/plain", b'{"text": "hi"}', "text/plain", 415, "unsupported_media_type",
     ["application/json"]),
    ("form", b"text=hi", "application/x-www-form-urlencoded", 415, "unsupported_media_type", []),
    ("no content type", b'{"text": "hi"}', None, 415, "unsupported_media_type", []),
]


@pytest.mark.parametrize("name,body,ctype,status,code,words", BAD_BODIES,
                         ids=[b[0] for b in BAD_BODIES])
def test_bad_body_is_refused_and_stores_nothing(env, name, body, ctype, status, code, words):
    before = env.comment_count()
    r = env.post(body, env.keys["cms"], ctype=ctype)
    assert_error(r, status, code, *words)
    assert env.comment_count() == before
    # ... and the next request is served normally.
    ok = env.post({"text": "Thanks for the thoughtful article."}, env.keys["cms"])
    assert ok.status == 200 and ok.json["verdict"] == "accept", ok


def test_json_with_charset_is_accepted(env):
    before = env.comment_count()
    r = env.post({"text": "A fine piece."}, env.keys["cms"],
                 ctype="application/json; charset=utf-8")
    assert r.status == 200, r
    assert r.json["verdict"] == "accept" and r.json["matches"] == []
    assert env.comment_count() == before + 1


def test_no_key_is_401(env):
    before = env.comment_count()
    r = env.post({"text": "hello"}, None)
    assert_error(r, 401, "unauthorized", "Authorization")
    assert r.headers.get("www-authenticate", "").startswith("Bearer")
    assert env.comment_count() == before


@pytest.mark.parametrize("auth", ["Bearer mk_0000", "Bearer ", "Basic dXNlcjpwYXNz", "mk_x"])
def test_wrong_key_is_401(env, auth):
    before = env.comment_count()
    r = env.request("POST", "/v1/comments", body={"text": "hello"},
                    headers={"Authorization": auth})
    assert_error(r, 401, "unauthorized")
    assert env.comment_count() == before


def test_wrong_role_is_403(env):
    before = env.comment_count()
    r = env.post({"text": "hello"}, env.keys["moderator"])
    assert_error(r, 403, "forbidden", "cms")
    assert env.comment_count() == before
    ok = env.post({"text": "hello"}, env.keys["cms"])
    assert ok.status == 200
    r = env.request("GET", f"/v1/comments/{ok.json['id']}", key=env.keys["cms"])
    assert_error(r, 403, "forbidden", "moderator")


def test_admin_may_do_everything(env):
    ok = env.post({"text": "An admin wrote this."}, env.keys["admin"])
    assert ok.status == 200, ok
    r = env.request("GET", f"/v1/comments/{ok.json['id']}", key=env.keys["admin"])
    assert r.status == 200 and r.json["text"] == "An admin wrote this."


def test_unknown_route_is_404(env):
    for path in ("/", "/v1", "/v1/comment", "/v1/comments/abc/def", "/v2/comments",
                 "/healthz/x", "/v1/comments/"):
        r = env.request("GET", path, key=env.keys["admin"])
        assert_error(r, 404, "not_found", "route")


def test_unknown_comment_is_404(env):
    r = env.request("GET", "/v1/comments/0123456789abcdef0123456789abcdef",
                    key=env.keys["moderator"])
    assert_error(r, 404, "not_found", "0123456789abcdef0123456789abcdef")


@pytest.mark.parametrize("method,path,allow", [
    ("DELETE", "/v1/comments", "POST"),
    ("GET", "/v1/comments", "POST"),
    ("PUT", "/healthz", "GET"),
    ("POST", "/v1/comments/abc", "GET"),
])
def test_wrong_method_is_405(env, method, path, allow):
    before = env.comment_count()
    r = env.request(method, path, key=env.keys["admin"])
    assert_error(r, 405, "method_not_allowed", method)
    assert r.headers.get("allow") == allow
    assert env.comment_count() == before


def test_route_checks_come_before_auth(env):
    # 404/405 are answered before any key is looked at.
    r = env.request("GET", "/nowhere")
    assert r.status == 404 and r.json["error"] == "not_found"
    r = env.request("DELETE", "/v1/comments")
    assert r.status == 405 and r.json["error"] == "method_not_allowed"
    assert "POST" in r.headers["allow"]


def test_body_over_the_limit_is_413_then_next_request_works(env):
    before = env.comment_count()
    big = b'{"text": "' + b"a" * (70 * 1024) + b'"}'
    r = env.post(big, env.keys["cms"])
    assert_error(r, 413, "too_large", "65536")
    assert env.comment_count() == before
    ok = env.post({"text": "Short and sweet."}, env.keys["cms"])
    assert ok.status == 200 and ok.json["verdict"] == "accept", ok
    assert env.comment_count() == before + 1


def test_chunked_body_over_the_limit_is_413(env):
    before = env.comment_count()
    conn = http.client.HTTPConnection("127.0.0.1", env.port, timeout=30)
    chunks = (b"x" * 4096 for _ in range(20))  # 80 KiB with no Content-Length
    conn.request("POST", "/v1/comments", body=chunks, encode_chunked=True,
                 headers={"Authorization": f"Bearer {env.keys['cms']}",
                          "Content-Type": "application/json",
                          "Transfer-Encoding": "chunked"})
    r = conn.getresponse()
    assert r.status == 413, r.read()
    conn.close()
    assert env.comment_count() == before
    assert env.post({"text": "after chunks"}, env.keys["cms"]).status == 200


def test_body_just_under_the_limit_is_accepted(env):
    text = "word " * ((64 * 1024 - 200) // 5)
    r = env.post({"text": text}, env.keys["cms"])
    assert r.status == 200, r
    assert r.json["verdict"] == "accept"


def test_garbage_never_crashes_the_daemon(env):
    raw = [
        b"GARBAGE\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"POST /v1/comments HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
        b"GET /v1/comments/%00%ff%fe HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\r\n\r\n",
        b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /v1/comments HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ]
    for req in raw:
        s = socket.create_connection(("127.0.0.1", env.port), timeout=10)
        try:
            s.sendall(req)
            s.settimeout(1)  # the reply (or a close) comes at once; keep-alive may hold the rest
            s.recv(65536)
        except OSError:
            pass
        finally:
            s.close()
    # (body, status, the error code of a 400 or the verdict of a 200, a part of the message)
    weird = [
        ({"text": "\u0000"}, 400, "bad_json", "\\u0000 is not allowed"),
        ({"text": "x" * 10, "id": 12345678901234567890}, 400, "bad_json", "too big integer"),
        ({"text": "\ud83d\ude00 emoji \u202e rtl \u200b zw"}, 200, "accept", None),
        ({"text": ""}, 200, "accept", None),
        ({"text": "a", "mentions": []}, 200, "accept", None),
        ({"text": "a", "mentions": [""] * 1000}, 200, "accept", None),
        ({"text": "a", "author": None, "site": None}, 200, "accept", None),
        ({"text": "\u0430\u0441\u0441 f\u0307uck \uff46\uff55\uff43\uff4b " * 50}, 200, "block",
         None),
    ]
    for body, status, what, needle in weird:
        r = env.post(body, env.keys["cms"])
        assert r.status == status, (body, r)
        if status == 400:
            assert r.json["error"] == what and needle in r.json["message"], (body, r)
        else:
            assert r.json["verdict"] == what, (body, r)
    r = env.request("GET", "/v1/comments/%2e%2e%2f%2e%2e", key=env.keys["moderator"])
    assert r.status == 404
    h = env.request("GET", "/healthz")
    assert h.status == 200 and h.json["status"] == "ok"
