"""Conditional GET as Tornado does it (web_test CacheTest): a SHA-1 Etag on 200 GET/HEAD
responses, 304 with no body and no representation headers when If-None-Match matches."""
import hashlib

from harness import shared
from http_client import Conn

HELLO_ETAG = '"%s"' % hashlib.sha1(b"Hello, world").hexdigest()


def _get(path="/", inm=None, method="GET"):
    with Conn(shared()) as c:
        c.request(method, path, headers=[("If-None-Match", inm)] if inm is not None else [])
        return c.read_response(method)


def _header(r, name):
    vals = [v for k, v in r.headers if k.lower() == name.lower()]
    return vals[0] if vals else None


def test_etag_is_sha1_of_body():
    r = _get()
    assert r.status == 200 and _header(r, "Etag") == HELLO_ETAG


def test_if_none_match_strong_weak_list_star():
    for inm in (HELLO_ETAG, "W/" + HELLO_ETAG, '"xyz", ' + HELLO_ETAG, "*",
                '"a", W/' + HELLO_ETAG + ', "b"'):
        r = _get(inm=inm)
        assert r.status == 304, (inm, r.status)
        assert r.body == b""
        assert _header(r, "Content-Length") is None and _header(r, "Content-Type") is None
        assert _header(r, "Etag") == HELLO_ETAG


def test_if_none_match_no_match():
    for inm in ('"xyz"', 'W/"xyz"', "", '"e02aa1b1"', HELLO_ETAG.strip('"')):
        r = _get(inm=inm)
        assert r.status == 200 and r.body == b"Hello, world", inm


def test_head_gets_etag_and_304():
    etag = '"%s"' % hashlib.sha1(b"body of GET").hexdigest()
    r = _get("/head", method="HEAD")
    assert r.status == 200 and _header(r, "Etag") == etag
    assert _get("/head", method="HEAD", inm=etag).status == 304


def test_no_etag_for_post_errors_and_flushed_responses():
    with Conn(shared()) as c:
        c.request("POST", "/", headers=[("Content-Length", "2")], body=b"hi")
        r = c.read_response()
    assert r.status == 200 and _header(r, "Etag") is None
    assert _header(_get("/missing"), "Etag") is None
    assert _header(_get("/flush"), "Etag") is None
