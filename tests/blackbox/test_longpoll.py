"""A long poll (a handler that returned TP_AGAIN and waits for an event) learns at once that
its client left: on_connection_close runs as soon as the client's FIN or RST arrives, once,
as in Tornado. The server keeps watching the socket while the handler waits: a half-closed
client (FIN) still receives the response the handler writes afterwards, and requests
pipelined during the wait are buffered and answered in order once it ends.

testapp's /poll?id=ID[&keep=1] waits until /poll/wake?id=ID; its on_connection_close records
ID (listed by /poll/stats) and, without keep, finishes the handler at once. Waits are for
conditions (the stats endpoint, fd counts), never for a time. Each test runs its own server
and checks it holds no connection and no extra fd afterwards (and, in the ASan build, that it
reports nothing)."""
from harness import server, server_of
import http_client as hc
import testrun
from http_client import Conn, expect_ok
from test_reset import _fds, _wait_fds

DEADLINE = 30.0


def _stats(port):
    """(waiting ids, closed ids) as lists."""
    body = expect_ok(hc.get(port, "/poll/stats")).body.decode()
    waiting, closed = body.split(" ")
    assert waiting.startswith("waiting=") and closed.startswith("closed="), body

    def ids(s):
        s = s.split("=", 1)[1]
        return s.split(",") if s else []
    return ids(waiting), ids(closed)


def _wait_stats(port, what, pid):
    """Waits until pid is among the waiting (what 0) or closed (what 1) ids."""
    testrun.wait_until(lambda: pid in _stats(port)[what], DEADLINE,
                       "%s %s" % (pid, ("waiting", "closed")[what]))


def _wake(port, pid, want="ok"):
    expect_ok(hc.get(port, "/poll/wake?id=" + pid), want)


def _done(port, base):
    held = _wait_fds(port, base)
    assert held == (0, base), "connections and fds %r, wanted (0, %d)" % (held, base)
    server_of(port).check_sanitizer()


def _poll(port, pid, keep):
    c = Conn(port)
    c.request("GET", "/poll?id=%s%s" % (pid, "&keep=1" if keep else ""))
    _wait_stats(port, 0, pid)
    return c


def test_fin_during_long_poll_notifies_and_response_still_delivered():
    with server() as port:
        base = _fds(port)[1]
        for i in range(3):
            pid = "fin%d" % i
            c = _poll(port, pid, keep=True)
            c.shutdown_write()
            _wait_stats(port, 1, pid)      # on_connection_close ran, no write needed
            assert c.idle(0.05), "answered or closed before the wake"
            _wake(port, pid)
            expect_ok(c.read_response(), "woken " + pid)
            assert c.closed(), "connection open after answering a half-closed client"
            c.close()
            assert _stats(port)[1].count(pid) == 1, _stats(port)  # once, not at the close too
        _done(port, base)


def test_fin_with_the_request_notifies():
    # The FIN may come in the same read as the request: the handler is told right after it
    # starts waiting.
    with server() as port:
        base = _fds(port)[1]
        for i in range(3):
            pid = "early%d" % i
            c = Conn(port)
            c.send(b"GET /poll?id=%s&keep=1 HTTP/1.1\r\nHost: x\r\n\r\n" % pid.encode())
            c.shutdown_write()
            _wait_stats(port, 1, pid)
            _wake(port, pid)
            expect_ok(c.read_response(), "woken " + pid)
            assert c.closed()
            c.close()
        _done(port, base)


def test_fin_drops_waiter():
    with server() as port:
        base = _fds(port)[1]
        for i in range(3):
            pid = "drop%d" % i
            c = _poll(port, pid, keep=False)
            c.shutdown_write()
            _wait_stats(port, 1, pid)
            # on_connection_close finished it: the (empty) answer reaches the client
            expect_ok(c.read_response(), "")
            assert c.closed()
            c.close()
            assert pid not in _stats(port)[0]
            _wake(port, pid, "none")
        _done(port, base)


def test_rst_during_long_poll_notifies_once():
    with server() as port:
        base = _fds(port)[1]
        for i in range(3):
            for keep in (False, True):
                pid = "rst%d%s" % (i, "k" if keep else "")
                c = _poll(port, pid, keep)
                c.reset()
                _wait_stats(port, 1, pid)
                if keep:
                    _wake(port, pid)       # writes to a gone client are dropped
                _done(port, base)
                assert _stats(port)[1].count(pid) == 1, _stats(port)
                assert pid not in _stats(port)[0]


def test_pipelined_during_wait_answered_in_order():
    with server() as port:
        base = _fds(port)[1]
        c = _poll(port, "pipe", keep=False)
        c.send(b"GET /path/p1 HTTP/1.1\r\nHost: x\r\n\r\n"
               b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        testrun.wait_until(lambda: testrun.server_read_all(c.sock), DEADLINE,
                           "the server reading the pipelined requests")
        assert c.idle(0.05), "pipelined requests answered before the poll"
        # More than a read chunk: the server buffers one chunk, stops reading, resumes later.
        big = b"z" * 300000
        c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
               b"GET /path/p4 HTTP/1.1\r\nHost: x\r\n\r\n" % (len(big), big))
        _wake(port, "pipe")
        expect_ok(c.read_response(), "woken pipe")
        expect_ok(c.read_response(), "p1")
        expect_ok(c.read_response(), "hi")
        assert expect_ok(c.read_response()).body == big
        expect_ok(c.read_response(), "p4")
        c.request("GET", "/")
        expect_ok(c.read_response(), "Hello, world")
        assert "pipe" not in _stats(port)[1], "on_connection_close without a close"
        c.close()
        _done(port, base)


def test_fin_after_pipelined_requests_answers_them():
    with server() as port:
        base = _fds(port)[1]
        c = _poll(port, "fp", keep=True)
        c.send(b"GET /path/after HTTP/1.1\r\nHost: x\r\n\r\n")
        c.shutdown_write()
        _wait_stats(port, 1, "fp")
        _wake(port, "fp")
        expect_ok(c.read_response(), "woken fp")
        expect_ok(c.read_response(), "after")
        assert c.closed()
        c.close()
        _done(port, base)
