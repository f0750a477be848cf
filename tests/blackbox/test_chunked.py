"""Chunked request bodies and chunked responses."""
import time

from harness import shared, server
import http_client as hc
from http_client import Conn, expect_ok, expect_error

CHUNKED_POST = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"


def test_chunked_request_echo():
    with Conn(shared()) as c:
        c.send(CHUNKED_POST + hc.chunked("hello ", "chunked ", "world"))
        expect_ok(c.read_response(), "hello chunked world")
        c.request("GET", "/")
        expect_ok(c.read_response(), "Hello, world")


def test_chunked_request_empty_body():
    r = hc.fetch(shared(), CHUNKED_POST + b"0\r\n\r\n")
    expect_ok(r, "")


def test_chunked_uppercase_hex_and_leading_zeros():
    body = b"A\r\n0123456789\r\n0000000000000005\r\nabcde\r\n0\r\n\r\n"
    expect_ok(hc.fetch(shared(), CHUNKED_POST + body), "0123456789abcde")


def test_chunk_extensions_ignored():
    body = b"5;name=value\r\nhello\r\n3;a;b=\"q\"\r\nabc\r\n0;last=1\r\n\r\n"
    expect_ok(hc.fetch(shared(), CHUNKED_POST + body), "helloabc")


def test_trailers_accepted_and_dropped():
    body = b"4\r\ndata\r\n0\r\nX-Trailer: t1\r\nX-Other: t2\r\n\r\n"
    with Conn(shared()) as c:
        c.send(b"POST /headers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
        r = expect_ok(c.read_response())
        assert b"X-Trailer" not in r.body and b"X-Other" not in r.body, r.body
        # the connection continues right after the trailers
        c.request("GET", "/path/next")
        expect_ok(c.read_response(), "next")


def test_chunk_size_17_hex_digits_400():
    expect_error(shared(), CHUNKED_POST + b"00000000000000005\r\nhello\r\n0\r\n\r\n", 400)


def test_chunk_size_non_hex_400():
    expect_error(shared(), CHUNKED_POST + b"zz\r\nhello\r\n0\r\n\r\n", 400)


def test_chunk_size_empty_400():
    expect_error(shared(), CHUNKED_POST + b"\r\nhello\r\n0\r\n\r\n", 400)


def test_chunk_size_negative_400():
    expect_error(shared(), CHUNKED_POST + b"-5\r\nhello\r\n0\r\n\r\n", 400)


def test_chunk_bad_crlf_after_data_400():
    expect_error(shared(), CHUNKED_POST + b"5\r\nhelloXX0\r\n\r\n", 400)


def test_chunk_data_longer_than_size_400():
    expect_error(shared(), CHUNKED_POST + b"3\r\nhello\r\n0\r\n\r\n", 400)


def test_chunk_size_huge_413():
    # 16 hex digits is allowed syntax, but this one is far over max_body_size.
    expect_error(shared(), CHUNKED_POST + b"FFFFFFFFFFFFFFFF\r\nhello\r\n", 413)


def test_chunked_body_over_limit_413():
    with server("--max_body_size=1000") as port:
        expect_ok(hc.fetch(port, CHUNKED_POST + hc.chunked(b"a" * 600, b"b" * 400)),
                  b"a" * 600 + b"b" * 400)
        expect_error(port, CHUNKED_POST + hc.chunked(b"a" * 600, b"b" * 401), 413)
        expect_error(port, CHUNKED_POST + b"7d0\r\n", 413)  # one 2000-byte chunk announced


def test_http10_chunked_request_served_then_closed():
    with Conn(shared()) as c:
        c.send(b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" + hc.chunked("ab", "cd"))
        expect_ok(c.read_response(), "abcd")
        assert c.closed(), "HTTP/1.0 chunked request: connection not closed"


def test_http10_chunked_request_keepalive_still_closed():
    with Conn(shared()) as c:
        c.send(b"POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
               + hc.chunked("xy"))
        expect_ok(c.read_response(), "xy")
        assert c.closed(), "HTTP/1.0 chunked request: connection not closed"


def test_flush_response_is_chunked():
    with Conn(shared()) as c:
        c.request("GET", "/flush")
        r = expect_ok(c.read_response(), "part1,part2")
        assert r.header("Transfer-Encoding") == "chunked", r
        assert r.header("Content-Length") is None, r
        assert r.chunks[0] == b"part1,", r.chunks
        assert r.trailers == [], r.trailers
        c.request("GET", "/")
        expect_ok(c.read_response(), "Hello, world")


def test_flush_http10_unchunked_then_close():
    with Conn(shared()) as c:
        c.send(b"GET /flush HTTP/1.0\r\n\r\n")
        r = expect_ok(c.read_response(), "part1,part2")
        assert r.header("Transfer-Encoding") is None, r
        assert r.header("Content-Length") is None, r
        assert c.eof, "body not delimited by close"


def test_flush_http10_keepalive_request_still_closes():
    with Conn(shared()) as c:
        c.send(b"GET /flush HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        r = expect_ok(c.read_response(), "part1,part2")
        assert r.header("Transfer-Encoding") is None, r
        assert c.eof


def test_stream_chunk_sizes_bounded():
    with server("--chunk_size=10") as port:
        with Conn(port) as c:
            c.request("POST", "/stream", body=b"z" * 35)
            r = expect_ok(c.read_response())
            total, chunks = r.body.decode().split(" ")
            assert total == "total=35", r.body
            sizes = [int(x) for x in chunks[len("chunks="):].split(",")]
            assert sum(sizes) == 35 and max(sizes) <= 10, sizes
            c.send(b"POST /stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   + hc.chunked(b"q" * 25, b"r" * 3))
            r = expect_ok(c.read_response())
            total, chunks = r.body.decode().split(" ")
            sizes = [int(x) for x in chunks[len("chunks="):].split(",")]
            assert total == "total=28" and max(sizes) <= 10, r.body


def test_stream_large_body():
    with Conn(shared()) as c:
        body = b"s" * 1000000
        c.request("PUT", "/stream", body=body)
        r = expect_ok(c.read_response())
        assert r.body.startswith(b"total=1000000 "), r.body[:100]
        sizes = [int(x) for x in r.body.decode().split("chunks=")[1].split(",")]
        assert max(sizes) <= 65536, max(sizes)


def test_chunked_body_dribbled():
    body = b"7\r\nchunk01\r\n3;ext=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"
    with Conn(shared()) as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        for i in range(len(body)):
            c.send(body[i:i + 1])
            if i % 5 == 0:
                time.sleep(0.002)
        expect_ok(c.read_response(), "chunk01abc")
        c.request("GET", "/path/ok")
        expect_ok(c.read_response(), "ok")


def test_chunked_many_small_chunks():
    parts = [b"%d," % i for i in range(2000)]
    with Conn(shared()) as c:
        c.send(CHUNKED_POST + hc.chunked(*parts))
        expect_ok(c.read_response(), b"".join(parts))
