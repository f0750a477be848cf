"""--idle_connection_timeout and --body_timeout.

Times are checked as a lower bound (a 1 s timeout never fires before 0.7 s) and a generous
upper bound (10 times the timeout): a loaded machine may wake us late, never early. Where a
test needs something to happen before a timeout fires, the timeout is several times longer
than what has to happen first."""
import select
import socket
import threading
import time

from harness import server
import http_client as hc
from http_client import Conn, expect_ok


def _time_to_close(c, limit=15.0):
    t0 = time.monotonic()
    assert c.closed(limit), "connection not closed within %.1f s" % limit
    return time.monotonic() - t0


def _still_open(c):
    """True if the server has not closed c (nothing is read from it; select, because a
    socket with a timeout waits in recv whatever the flags)."""
    if not select.select([c.sock], [], [], 0)[0]:
        return True
    try:
        return c.sock.recv(1, socket.MSG_PEEK) != b""
    except OSError:
        return False


def test_idle_before_first_request_closed():
    with server("--idle_connection_timeout=1") as port:
        with Conn(port) as c:
            dt = _time_to_close(c)
            assert 0.7 <= dt <= 10, "closed after %.2f s, expected ~1 s" % dt
            assert c.buf == b"", "sent bytes on an idle timeout: %r" % c.buf


def test_idle_after_request_closed():
    with server("--idle_connection_timeout=1") as port:
        with Conn(port) as c:
            c.request("GET", "/")
            expect_ok(c.read_response(), "Hello, world")
            dt = _time_to_close(c)
            assert 0.7 <= dt <= 10, "closed after %.2f s, expected ~1 s" % dt
            assert c.buf == b""


def test_idle_dashes_spelling():
    with server("--idle-connection-timeout=1") as port:
        with Conn(port) as c:
            dt = _time_to_close(c)
            assert 0.7 <= dt <= 10, "closed after %.2f s, expected ~1 s" % dt


def test_active_keepalive_connection_not_cut():
    # A request every 0.3 s for 3 s, longer than the 2 s idle timeout: each one restarts the
    # idle clock (the gaps would have to grow almost 7 times to let it fire).
    with server("--idle_connection_timeout=2") as port:
        with Conn(port) as c:
            t0 = last = time.monotonic()
            i = 0
            while last - t0 < 3.0:
                c.request("GET", "/path/%d" % i)
                try:
                    expect_ok(c.read_response(), str(i))
                except hc.Closed:
                    raise AssertionError("closed %.1f s into a connection with a request every "
                                         "0.3 s (this gap: %.2f s)" % (
                                             time.monotonic() - t0, time.monotonic() - last))
                last = time.monotonic()
                i += 1
                time.sleep(0.3)
            c.request("GET", "/")
            expect_ok(c.read_response(), "Hello, world")


def test_slow_response_not_cut_by_idle_timeout():
    # The idle timeout covers waiting for a request head, not a handler that takes its time.
    with server("--idle_connection_timeout=1") as port:
        with Conn(port) as c:
            c.request("GET", "/async?ms=1500")
            expect_ok(c.read_response(), "async done")


def test_slowloris_head_dropped_others_served():
    # A head sent a byte every 0.2 s would take minutes: the 3 s idle timeout ends it (it is
    # not restarted by every byte), and other clients are served while it dribbles (their
    # answers come while the slow connection is still open).
    with server("--idle_connection_timeout=3") as port:
        slow = Conn(port)
        t_connect = time.monotonic()
        result = {}

        def dribble():
            data = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
            result["completed"] = slow.send_slowly(data, 0.2, max_time=60)

        th = threading.Thread(target=dribble, daemon=True)
        th.start()
        try:
            for _ in range(3):
                r = hc.get(port, "/")
                expect_ok(r, "Hello, world")
                assert _still_open(slow), "the slow connection was dropped (after %.1f s) " \
                    "before another client was served" % (time.monotonic() - t_connect)
            _time_to_close(slow, 60)
            dt = time.monotonic() - t_connect
            assert 2.1 <= dt <= 30, "slow client dropped after %.2f s (idle timeout 3 s)" % dt
            assert slow.buf == b"" or slow.buf.startswith(b"HTTP/1.1 4"), slow.buf
        finally:
            th.join(70)
            slow.close()
        assert result.get("completed") is False, \
            "the slow head was still being sent when the dribble ended: %r" % result


def test_body_timeout_partial_body_closed_without_response():
    with server("--body_timeout=1") as port:
        with Conn(port) as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial")
            t0 = time.monotonic()
            assert c.closed(15), "partial body: connection not closed"
            dt = time.monotonic() - t0
            assert 0.7 <= dt <= 10, "closed after %.2f s, expected ~1 s" % dt
            assert c.buf == b"", "expected no response, got %r" % c.buf[:200]


def test_body_timeout_partial_chunked_body_closed():
    with server("--body_timeout=1") as port:
        with Conn(port) as c:
            c.send(b"POST /stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")
            assert c.closed(15), "partial chunked body: connection not closed"
            assert c.buf == b"", "expected no response, got %r" % c.buf[:200]


def test_body_timeout_complete_body_served():
    # The body's second half comes 0.3 s after the first, well within the 2 s body timeout.
    with server("--body_timeout=2") as port:
        with Conn(port) as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234")
            time.sleep(0.3)
            c.send(b"56789")
            expect_ok(c.read_response(), "0123456789")
            # and the body timer does not fire on the idle keep-alive connection afterwards
            # (idle longer than the body timeout: a lower bound)
            time.sleep(2.3)
            c.request("GET", "/")
            expect_ok(c.read_response(), "Hello, world")


def test_slow_download_not_cut_by_idle_timeout():
    # The idle timeout does not apply while the server is writing a response: a client that
    # reads a large body slowly for longer than the timeout still gets all of it.
    n = 40000000
    with server("--idle_connection_timeout=1") as port:
        with Conn(port, timeout=30) as c:
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
