"""The client resets the connection (RST) at every step of a request. Each step runs several
times against one server; afterwards the server still answers, holds as many fds as before,
and (in the ASan build) reports no use-after-free and, at exit, no leak.

Steps: during the head, during a Content-Length body and a streamed chunked body, during an
async handler's wait (a timer finishes it later; on_connection_close for /wait), during the
response write, between two pipelined requests and during a sendfile body. The drain is a
prefork worker's: tests/prefork/test_reset.py resets clients during it. Waits are for
conditions (a log line, an fd count), never for a time."""
import os
import time

from harness import server, server_of, timeout
import http_client as hc
import testrun
from http_client import Conn, expect_ok

ROUNDS = 5
DEADLINE = 30.0


def _fds(port):
    """(connection sockets, other fds) the server holds: with no client connected the first
    is 0 and the second is its constant set (stdio, epoll, eventfd, signalfd, listeners,
    files)."""
    listening = {inode for _, inode in testrun.tcp_listeners()}
    fd_dir = "/proc/%d/fd" % server_of(port).proc.pid
    conns = other = 0
    for name in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue
        if target.startswith("socket:[") and int(target[8:-1]) not in listening:
            conns += 1
        else:
            other += 1
    return conns, other


def _wait_fds(port, want):
    """Waits until the server holds no connection and `want` other fds; returns what it
    holds then."""
    deadline = time.monotonic() + DEADLINE
    while _fds(port) != (0, want) and time.monotonic() < deadline:
        time.sleep(0.02)
    return _fds(port)


def _log_count(port, text):
    return server_of(port).stderr().count(text)


def _wait_log_count(port, text, n):
    """Waits until text appeared n times in the server's log."""
    deadline = time.monotonic() + DEADLINE
    while _log_count(port, text) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _log_count(port, text) >= n, "%r logged %d times, wanted %d" % (
        text, _log_count(port, text), n)


def _reset_after(port, data, read=0):
    """Sends data, reads `read` bytes of the answer (if any), then resets."""
    c = Conn(port)
    c.send(data)
    if read:
        c.read_exact(read)
    c.reset()


def _step_head(port):
    _reset_after(port, b"GET /headers HTTP/1.1\r\nHost: x\r\nX-Half: ")


def _step_body(port):
    _reset_after(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"a" * 5000)


def _step_streamed_body(port):
    _reset_after(port, b"POST /stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"5\r\nhello\r\n40\r\n" + b"b" * 20)


def _step_async_wait(port, i):
    # The timer finishes the handler after the reset: its writes go nowhere, then it is freed.
    _reset_after(port, b"GET /async?ms=30&round=%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
    _wait_log_count(port, "GET /async?ms=30&round=%d " % i, 1)


def _step_wait_close(port, i):
    # on_connection_close finishes it.
    _reset_after(port, b"GET /wait?round=%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
    _wait_log_count(port, "GET /wait?round=%d " % i, 1)


def _step_response_write(port):
    _reset_after(port, b"GET /big?n=30000000 HTTP/1.1\r\nHost: x\r\n\r\n", read=1000)


def _step_between_pipelined(port):
    _reset_after(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
                 b"GET /async?ms=20 HTTP/1.1\r\nHost: x\r\n\r\n"
                 b"GET /headers HTTP/1.1\r\nHost: x\r\n\r\n", read=50)


def _step_sendfile(port):
    _reset_after(port, b"GET /file?off=3&n=2000000 HTTP/1.1\r\nHost: x\r\n\r\n", read=1000)


def _after_steps(port, base_fds):
    held = _wait_fds(port, base_fds)
    assert held == (0, base_fds), "connections and fds %r, wanted (0, %d)" % (held, base_fds)
    expect_ok(hc.get(port, "/"), "Hello, world")
    server_of(port).check_sanitizer()


@timeout(300)
def test_reset_at_every_step():
    with server("--logging=info") as port:
        expect_ok(hc.get(port, "/"), "Hello, world")
        base = _fds(port)[1]
        steps = [_step_head, _step_body, _step_streamed_body, _step_response_write,
                 _step_between_pipelined, _step_sendfile]
        for i in range(ROUNDS):
            for step in steps:
                step(port)
                _after_steps(port, base)
            _step_async_wait(port, i)
            _after_steps(port, base)
            _step_wait_close(port, i)
            _after_steps(port, base)
        # Every request that reached a handler was finished and logged (none left waiting).
        _wait_log_count(port, "GET /async?ms=20 ", ROUNDS)
