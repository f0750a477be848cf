"""HEAD on a handler that has get and no head runs get and sends its head without the body
(RFC 9110 §9.3.2, as nginx, Go and Flask do; Tornado answers 405): the Content-Length is the
one the GET's body would have had, a flushed body sends neither length nor chunking (what
nginx and Go send for a HEAD to a chunked GET), and the connection stays usable. The app
setting head_requires_head_method restores Tornado's 405 (the /h405/ sub-application)."""
from harness import shared
from http_client import Conn, expect_ok


def _head_then_get(path, headers=None):
    """HEAD path, then GET path on the same connection: (head response, get response). The
    GET is answered right after the HEAD's head, so no body bytes came between them."""
    with Conn(shared()) as c:
        c.request("HEAD", path, headers)
        c.request("GET", path, headers)
        h = c.read_response("HEAD")
        g = c.read_response()
        c.request("GET", "/")
        expect_ok(c.read_response(), "Hello, world")  # still in step
    return h, g


def _same_head(h, g):
    """The HEAD's headers are the GET's (Date aside), Transfer-Encoding included."""
    strip = {"date"}
    hh = sorted((k.lower(), v) for k, v in h.headers if k.lower() not in strip)
    gh = sorted((k.lower(), v) for k, v in g.headers if k.lower() not in strip)
    assert hh == gh, "HEAD headers %r differ from GET headers %r" % (hh, gh)


def test_head_plain_body():
    h, g = _head_then_get("/")
    expect_ok(g, "Hello, world")
    assert h.status == 200 and h.header("Content-Length") == "12", h
    _same_head(h, g)


def test_head_sees_method():
    h, g = _head_then_get("/h/method")
    assert g.body == b"method=GET" and g.header("X-Method") == "GET", g
    assert h.status == 200 and h.header("X-Method") == "HEAD", h
    assert h.header("Content-Length") == str(len(b"method=HEAD")), h


def test_head_empty_body():
    h, g = _head_then_get("/h/empty")
    expect_ok(g, "")
    assert h.status == 200 and h.header("Content-Length") == "0", h
    _same_head(h, g)


def test_head_template_body():
    h, g = _head_then_get("/render/page")
    assert g.status == 200 and len(g.body) > 0, g
    # the page holds a fresh XSRF token each time (Set-Cookie and Etag differ): same length
    assert h.status == 200 and h.header("Content-Length") == str(len(g.body)), (h, g)
    assert h.header("Content-Type") == g.header("Content-Type"), (h, g)


def test_head_flushed_body_no_length_no_chunking():
    h, g = _head_then_get("/h/flush")
    assert g.chunked and g.body == b"part1,part2", g
    assert h.status == 200, h
    assert not h.has("Content-Length") and not h.has("Transfer-Encoding"), h
    assert not h.has("Connection"), h  # kept alive


def test_head_flushed_http10_keep_alive():
    with Conn(shared()) as c:
        c.request("HEAD", "/h/flush", [("Connection", "keep-alive")], version="HTTP/1.0")
        h = c.read_response("HEAD")
        assert h.status == 200 and not h.has("Content-Length"), h
        assert h.header("Connection") == "Keep-Alive", h
        c.request("GET", "/")
        expect_ok(c.read_response(), "Hello, world")


def test_head_gzip_length_of_compressed_body():
    ae = [("Accept-Encoding", "gzip")]
    h, g = _head_then_get("/hz/text", ae)
    assert g.header("Content-Encoding") == "gzip", g
    assert g.header("Content-Length") == str(len(g.body)), g
    assert h.header("Content-Encoding") == "gzip", h
    assert h.header("Content-Length") == str(len(g.body)), (h, g)
    _same_head(h, g)


def test_head_gzip_flushed():
    h, g = _head_then_get("/hz/flush", [("Accept-Encoding", "gzip")])
    assert g.chunked, g
    assert h.status == 200 and not h.has("Content-Length"), h
    assert not h.has("Transfer-Encoding"), h


def test_head_etag_304():
    h, g = _head_then_get("/h/text")
    etag = g.header("Etag")
    assert etag and h.header("Etag") == etag, (h, g)
    with Conn(shared()) as c:
        c.request("HEAD", "/h/text", [("If-None-Match", etag)])
        r = c.read_response("HEAD")
        assert r.status == 304 and not r.has("Content-Length"), r
        c.request("GET", "/")
        expect_ok(c.read_response(), "Hello, world")


def test_head_static_file_handler_keeps_its_head():
    h, g = _head_then_get("/static/hello.txt")
    assert g.status == 200 and h.status == 200, (h, g)
    assert h.header("Content-Length") == str(len(g.body)), (h, g)
    _same_head(h, g)


def test_head_explicit_head_method_still_used():
    h, g = _head_then_get("/head")
    assert h.status == 200 and h.header("Content-Length") == str(len(b"body of GET")), h


def test_head_405_setting():
    with Conn(shared()) as c:
        c.request("HEAD", "/h405/text")
        r = c.read_response("HEAD")
        assert r.status == 405, r
        c.request("GET", "/h405/text")
        assert c.read_response().status == 200
        # the same handler class in an app without the setting runs get for HEAD
        c.request("HEAD", "/h/text")
        assert c.read_response("HEAD").status == 200


def test_head_not_other_methods():
    # Only HEAD falls back to get: a class without post still answers POST with 405.
    with Conn(shared()) as c:
        c.request("POST", "/h/text", body="")
        assert c.read_response().status == 405
