"""Request bodies: --decompress_request, gzip bombs, forms."""
import gzip

from harness import shared, server
import http_client as hc
from http_client import Conn, expect_ok, expect_error


def _gzip_post(path, payload, extra=b""):
    gz = gzip.compress(payload)
    return (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n%s\r\n"
            % (path.encode(), len(gz), extra) + gz)


def test_decompress_gzip_body():
    payload = b"The quick brown fox " * 500
    with server("--decompress_request") as port:
        expect_ok(hc.fetch(port, _gzip_post("/echo", payload)), payload)


def test_decompress_gzip_chunked_body():
    payload = b"chunky " * 3000
    gz = gzip.compress(payload)
    parts = [gz[i:i + 1000] for i in range(0, len(gz), 1000)]
    with server("--decompress_request") as port:
        r = hc.fetch(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n" + hc.chunked(*parts))
        expect_ok(r, payload)


def test_decompress_consumed_content_encoding_header():
    with server("--decompress_request") as port:
        r = expect_ok(hc.fetch(port, _gzip_post("/headers", b"abc")))
        lines = r.body.decode("latin-1").split("\n")
        assert "X-Consumed-Content-Encoding: gzip" in lines, r.body
        assert "Content-Encoding: gzip" not in lines, r.body


def test_decompress_streaming_handler_gets_plain_data():
    payload = b"p" * 50000
    with server("--decompress_request") as port:
        r = expect_ok(hc.fetch(port, _gzip_post("/stream", payload)))
        assert r.body.startswith(b"total=50000 "), r.body[:100]


def test_decompress_keepalive_continues():
    with server("--decompress_request") as port:
        with Conn(port) as c:
            c.send(_gzip_post("/echo", b"first") + _gzip_post("/echo", b"second"))
            expect_ok(c.read_response(), "first")
            expect_ok(c.read_response(), "second")
            c.request("POST", "/echo", body=b"plain")
            expect_ok(c.read_response(), "plain")


def test_gzip_bomb_413():
    bomb = gzip.compress(b"\0" * (20 << 20), 9)
    assert len(bomb) < 100000
    with server("--decompress_request", "--max_body_size=1000000") as port:
        expect_error(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
                           b"Content-Length: %d\r\n\r\n" % len(bomb) + bomb, 413)
        expect_ok(hc.get(port, "/"), "Hello, world")


def test_gzip_bomb_streaming_413():
    bomb = gzip.compress(b"\0" * (20 << 20), 9)
    with server("--decompress_request", "--max_body_size=1000000") as port:
        expect_error(port, b"POST /stream HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
                           b"Content-Length: %d\r\n\r\n" % len(bomb) + bomb, 413)


def test_gzip_body_without_decompress_passed_through():
    gz = gzip.compress(b"raw stays raw")
    r = expect_ok(hc.fetch(shared(), b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
                                     b"Content-Length: %d\r\n\r\n" % len(gz) + gz))
    assert r.body == gz


def test_body_split_across_writes():
    with Conn(shared()) as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        assert c.idle(0.1)
        c.send(b"defg")
        c.send(b"hij")
        expect_ok(c.read_response(), "abcdefghij")


def test_body_bytes_not_taken_as_next_request():
    # A body that looks like a request must not be parsed as one.
    inner = b"GET /path/evil HTTP/1.1\r\nHost: x\r\n\r\n"
    with Conn(shared()) as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(inner) + inner
               + b"GET /path/good HTTP/1.1\r\nHost: x\r\n\r\n")
        expect_ok(c.read_response(), inner)
        expect_ok(c.read_response(), "good")
        assert c.idle(0.1)


def test_decompress_invalid_gzip_refused():
    with server("--decompress_request") as port:
        with Conn(port) as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
                   b"Content-Length: 20\r\n\r\n" + b"this is not gzip!!!!")
            r = c.read_response()
            assert 400 <= r.status < 500, r
        expect_ok(hc.get(port, "/"), "Hello, world")
