"""Size limits: head size, header count, URI length, body size."""
from harness import shared, server
import http_client as hc
from http_client import Conn, expect_ok, expect_error


def _headers(n, prefix=b"X-H"):
    return b"".join(b"%s%d: v\r\n" % (prefix, i) for i in range(n))


def test_head_over_max_header_size_431():
    with server("--max_header_size=1024") as port:
        expect_ok(hc.fetch(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Fill: " + b"a" * 700 + b"\r\n\r\n"),
                  "Hello, world")
        expect_error(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Fill: " + b"a" * 2000 + b"\r\n\r\n", 431)


def test_head_over_max_header_size_without_end_431():
    # The limit applies while the head is still arriving (no blank line ever sent).
    with server("--max_header_size=1024") as port:
        expect_error(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Fill: " + b"a" * 3000, 431)


def test_head_over_default_max_header_size_431():
    raw = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-Fill%d: %s\r\n" % (i, b"a" * 1000) for i in range(70)) + b"\r\n"
    expect_error(shared(), raw, 431)


def test_max_headers_boundary():
    # --max_headers counts header lines (Host included).
    with server("--max_headers=10") as port:
        expect_ok(hc.fetch(port, b"GET / HTTP/1.1\r\nHost: x\r\n" + _headers(9) + b"\r\n"),
                  "Hello, world")
        expect_error(port, b"GET / HTTP/1.1\r\nHost: x\r\n" + _headers(10) + b"\r\n", 431)


def test_default_max_headers_100():
    expect_ok(hc.fetch(shared(), b"GET / HTTP/1.1\r\nHost: x\r\n" + _headers(99) + b"\r\n"),
              "Hello, world")
    expect_error(shared(), b"GET / HTTP/1.1\r\nHost: x\r\n" + _headers(100) + b"\r\n", 431)


def test_uri_over_default_max_8k_414():
    prefix = b"/path/"
    ok = prefix + b"u" * (8192 - len(prefix))
    r = expect_ok(hc.fetch(shared(), b"GET " + ok + b" HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert r.body == b"u" * (8192 - len(prefix))
    expect_error(shared(), b"GET " + ok + b"u HTTP/1.1\r\nHost: x\r\n\r\n", 414)


def test_uri_over_max_uri_size_414():
    with server("--max_uri_size=100") as port:
        expect_ok(hc.fetch(port, b"GET /path/" + b"a" * 94 + b" HTTP/1.1\r\nHost: x\r\n\r\n"))
        expect_error(port, b"GET /path/" + b"a" * 95 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414)


def test_uri_very_long_without_end_414():
    # A request-target that never ends is refused without waiting for it.
    expect_error(shared(), b"GET /" + b"a" * 20000, 414)


def test_body_over_max_413_before_body():
    with server("--max_body_size=1000") as port:
        expect_ok(hc.fetch(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
                                 + b"b" * 1000), b"b" * 1000)
        # Only the head is sent: the 413 must arrive without the body.
        expect_error(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n", 413)
        expect_error(port, b"POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n", 413)


def test_body_over_max_413_with_expect_no_continue():
    with server("--max_body_size=1000") as port:
        with Conn(port) as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n"
                   b"Expect: 100-continue\r\n\r\n")
            hc.check_error_head(c.read_head_raw(), 413)
            assert c.closed()


def test_body_over_max_413_while_sending():
    # A client that sends the oversized body anyway still gets the 413 (linger drains it).
    with server("--max_body_size=1000") as port:
        expect_error(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n"
                     + b"b" * 200000, 413)


def test_max_body_size_zero():
    with server("--max_body_size=0") as port:
        expect_ok(hc.get(port, "/"), "Hello, world")
        expect_ok(hc.fetch(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"), "")
        expect_error(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx", 413)


def test_large_body_within_default_limit():
    body = b"L" * (4 << 20)
    with Conn(shared(), timeout=60) as c:
        c.request("POST", "/echo", body=body)
        r = expect_ok(c.read_response())
        assert r.body == body


def test_error_reason_on_http10_request():
    expect_error(shared(), b"GET / HTTP/1.0\r\nX-Bad : v\r\n\r\n", 400)


def test_max_header_size_applies_per_request_when_pipelined():
    # Twenty small pipelined requests in one write: each head is far below the limit even
    # though together they are over it.
    with server("--max_header_size=256") as port:
        with Conn(port) as c:
            c.send(b"".join(b"GET /path/%02d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(20)))
            for i in range(20):
                expect_ok(c.read_response(), "%02d" % i)


def test_max_header_size_does_not_count_body():
    body = b"B" * 100000
    with server("--max_header_size=256") as port:
        with Conn(port) as c:
            c.request("POST", "/echo", body=body)
            expect_ok(c.read_response(), body)
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   + hc.chunked(body[:5000], body[:5000]))
            expect_ok(c.read_response(), body[:10000])


def test_max_uri_size_per_request_when_pipelined():
    with server("--max_uri_size=64") as port:
        with Conn(port) as c:
            c.send(b"".join(b"GET /path/%s HTTP/1.1\r\nHost: x\r\n\r\n" % (b"%02d" % i * 20)
                            for i in range(10)))
            for i in range(10):
                expect_ok(c.read_response(), ("%02d" % i) * 20)
