"""--idle_connection_timeout and --body_timeout."""
import threading
import time

from harness import server
import http_client as hc
from http_client import Conn, expect_ok


def _time_to_close(c, limit=5.0):
    t0 = time.monotonic()
    assert c.closed(limit), "connection not closed within %.1f s" % limit
    return time.monotonic() - t0


def test_idle_before_first_request_closed():
    with server("--idle_connection_timeout=1") as port:
        with Conn(port) as c:
            dt = _time_to_close(c)
            assert 0.7 <= dt <= 2.5, "closed after %.2f s, expected ~1 s" % dt
            assert c.buf == b"", "sent bytes on an idle timeout: %r" % c.buf


def test_idle_after_request_closed():
    with server("--idle_connection_timeout=1") as port:
        with Conn(port) as c:
            c.request("GET", "/")
            expect_ok(c.read_response(), "Hello, world")
            dt = _time_to_close(c)
            assert 0.7 <= dt <= 2.5, "closed after %.2f s, expected ~1 s" % dt
            assert c.buf == b""


def test_idle_dashes_spelling():
    with server("--idle-connection-timeout=1") as port:
        with Conn(port) as c:
            dt = _time_to_close(c)
            assert dt <= 2.5


def test_active_keepalive_connection_not_cut():
    # Requests every 0.4 s for ~2 s: each one restarts the idle clock.
    with server("--idle_connection_timeout=1") as port:
        with Conn(port) as c:
            for i in range(5):
                c.request("GET", "/path/%d" % i)
                expect_ok(c.read_response(), str(i))
                time.sleep(0.4)
            c.request("GET", "/")
            expect_ok(c.read_response(), "Hello, world")


def test_slow_response_not_cut_by_idle_timeout():
    # The idle timeout covers waiting for a request head, not a handler that takes its time.
    with server("--idle_connection_timeout=1") as port:
        with Conn(port) as c:
            c.request("GET", "/async?ms=1500")
            expect_ok(c.read_response(), "async done")


def test_slowloris_head_dropped_others_served():
    with server("--idle_connection_timeout=1") as port:
        slow = Conn(port)
        t_connect = time.monotonic()
        result = {}

        def dribble():
            t0 = time.monotonic()
            data = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
            result["completed"] = slow.send_slowly(data, 0.2, max_time=6)
            result["t"] = time.monotonic() - t0

        th = threading.Thread(target=dribble, daemon=True)
        th.start()
        try:
            time.sleep(0.3)
            # Another client is served promptly while the slow one dribbles.
            for _ in range(3):
                t0 = time.monotonic()
                r = hc.get(port, "/")
                dt = time.monotonic() - t0
                expect_ok(r, "Hello, world")
                assert dt < 0.5, "other client took %.2f s" % dt
                time.sleep(0.1)
            _time_to_close(slow, 4)
            dt = time.monotonic() - t_connect
            assert dt <= 2.5, "slow client dropped only after %.2f s" % dt
            assert slow.buf == b"" or slow.buf.startswith(b"HTTP/1.1 4"), slow.buf
        finally:
            th.join(8)
            slow.close()
        assert not result.get("completed", True) or result.get("t", 0) < 5, result


def test_body_timeout_partial_body_closed_without_response():
    with server("--body_timeout=1") as port:
        with Conn(port) as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial")
            t0 = time.monotonic()
            assert c.closed(5), "partial body: connection not closed"
            dt = time.monotonic() - t0
            assert 0.7 <= dt <= 2.5, "closed after %.2f s, expected ~1 s" % dt
            assert c.buf == b"", "expected no response, got %r" % c.buf[:200]


def test_body_timeout_partial_chunked_body_closed():
    with server("--body_timeout=1") as port:
        with Conn(port) as c:
            c.send(b"POST /stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")
            assert c.closed(5), "partial chunked body: connection not closed"
            assert c.buf == b"", "expected no response, got %r" % c.buf[:200]


def test_body_timeout_complete_body_served():
    with server("--body_timeout=1") as port:
        with Conn(port) as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234")
            time.sleep(0.3)
            c.send(b"56789")
            expect_ok(c.read_response(), "0123456789")
            # and the body timer does not fire on the idle keep-alive connection afterwards
            time.sleep(1.3)
            c.request("GET", "/")
            expect_ok(c.read_response(), "Hello, world")


def test_slow_download_not_cut_by_idle_timeout():
    # The idle timeout does not apply while the server is writing a response: a client that
    # reads a large body slowly for longer than the timeout still gets all of it.
    n = 40000000
    with server("--idle_connection_timeout=1") as port:
        with Conn(port, timeout=10) as c:
            c.request("GET", "/big?n=%d" % n)
            version, status, reason, headers, raw = c.read_head()
            assert status == 200
            got = len(c.buf)
            c.buf = b""
            buf = bytearray(65536)
            t_end = time.monotonic() + 1.8
            while time.monotonic() < t_end:
                time.sleep(0.1)
                k = c.sock.recv_into(buf, 16384)
                assert k, "server closed the connection after %d bytes" % got
                got += k
            assert got < n / 2, "response too fast to test anything (%d bytes)" % got
            while got < n:
                k = c.sock.recv_into(buf)
                assert k, "server closed the connection after %d of %d bytes" % (got, n)
                got += k
            assert got == n
