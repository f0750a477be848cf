"""WebSocket connections under the prefork server: a draining generation keeps its connections
until they close or --websocket-drain-timeout passes, then closes them with 1001; new
connections reach the new generation meanwhile; a worker holding none exits at once; a
message published in one worker reaches the subscribers of every worker. The client is the
black-box suite's raw one (tests/blackbox/ws_client.py)."""
import time

import ws_client
from ws_client import OP_CLOSE, OP_TEXT, close_payload
from prefork import alive, connect, server, wait_gone

DEADLINE = 60.0


def open_ws(port, path):
    ws = ws_client.WS(port, path, timeout=DEADLINE)
    assert ws.status == 101, "GET %s: %d %s" % (path, ws.status, ws.reason)
    return ws


def recv_text(ws):
    got = ws.recv_message(timeout=DEADLINE)
    assert got[0] == OP_TEXT, "expected a text message, got %r" % (got,)
    return got[1].decode()


def echo(ws, text):
    ws.send_frame(OP_TEXT, text)
    got = recv_text(ws)
    assert got == text, "echo %r answered %r" % (text, got)


def wait_close(ws):
    """The code of the server's Close (messages before it are skipped)."""
    while True:
        got = ws.recv_message(timeout=DEADLINE)
        if got[0] == "close":
            return got[1]


def close(ws):
    ws.send_frame(OP_CLOSE, close_payload(1000))
    assert wait_close(ws) == 1000
    ws.expect_eof(DEADLINE)
    ws.close()


def test_websocket_drain_timeout_closes_1001():
    with server("--websocket-drain-timeout=2", app="wsecho.so", procs=2) as s:
        old = [w.pid for w in s.wait_workers(2, gen=1)]
        a = open_ws(s.port, "/echo")
        echo(a, "before")
        s.hup()
        echo(a, "kept through the reload")
        b = open_ws(s.port, "/echo")  # the old listeners are closed: generation 2
        echo(b, "new")
        assert wait_close(a) == 1001
        left = wait_gone(old, DEADLINE)
        assert not left, "generation-1 workers %r still running" % left
        echo(b, "still served")
        s.wait_log(r"closing 1 WebSocket connections \(1001 going away\)", since=0)
        close(b)


def test_websocket_closed_by_client_ends_drain():
    with server("--websocket-drain-timeout=600", "--shutdown-timeout=5", app="wsecho.so",
                procs=1) as s:
        old = [w.pid for w in s.wait_workers(1, gen=1)]
        a = open_ws(s.port, "/echo")
        echo(a, "x")
        s.hup()
        s.wait_log(r"waiting for 1 WebSocket connections to close", since=0)
        echo(a, "still the old worker")
        assert alive(old[0]), "the old worker left with a connection open"
        close(a)
        left = wait_gone(old, DEADLINE)  # long before the 600 s drain timeout
        assert not left, "the old worker %r did not exit once its connection closed" % left


def _websocket_and_idle_http_then_hup(s):
    """On a one-worker server: a WebSocket and an idle keep-alive HTTP connection to the
    worker, then a reload; returns (the old worker's pid list, the socket, the connection)."""
    old = [w.pid for w in s.wait_workers(1, gen=1)]
    a = open_ws(s.port, "/echo")
    echo(a, "x")
    idle = connect(s.port)
    idle.request("POST", "/pub", body=b"keep-alive")
    assert idle.read_response("POST").status == 204
    s.hup()
    return old, a, idle


def test_websocket_drain_timeout_runs_from_the_drain_start():
    """The 1001 comes --websocket-drain-timeout after the drain began even while an idle HTTP
    keep-alive connection still holds the HTTP drain (its grace is long here)."""
    with server("--websocket-drain-timeout=1", "--drain-idle-grace=600",
                "--shutdown-timeout=600", app="wsecho.so", procs=1) as s:
        old, a, idle = _websocket_and_idle_http_then_hup(s)
        assert wait_close(a) == 1001
        assert alive(old[0]), "the old worker should still wait for its idle HTTP connection"
        idle.close()
        left = wait_gone(old, DEADLINE)
        assert not left, "the old worker %r did not exit once its last connection closed" % left


def test_http_cut_at_shutdown_timeout_websockets_kept():
    """In a drain HTTP connections get --shutdown-timeout (here an idle keep-alive one whose
    drain grace is long), WebSocket connections --websocket-drain-timeout: the HTTP
    connection is closed after 1 s while the WebSocket one goes on being served."""
    with server("--websocket-drain-timeout=600", "--drain-idle-grace=600",
                "--shutdown-timeout=1", app="wsecho.so", procs=1) as s:
        old, a, idle = _websocket_and_idle_http_then_hup(s)
        s.wait_log(r"shutdown timeout \(1\.0s\) passed with 1 HTTP connections open", since=0)
        assert idle.closed(DEADLINE), "the idle HTTP connection was not closed"
        echo(a, "still served after the HTTP connections were cut")
        assert alive(old[0]), "the old worker left with a WebSocket connection open"
        close(a)
        left = wait_gone(old, DEADLINE)
        assert not left, "the old worker %r did not exit once its connection closed" % left
        idle.close()


def test_websocket_broadcast_reaches_every_worker():
    """Subscribers on both workers get a message POSTed to one worker (wsecho's /sub and /pub,
    relayed through the master)."""
    with server("--access-log", app="wsecho.so", procs=2) as s:
        s.wait_workers(2, gen=1)
        subs = []
        deadline = time.monotonic() + DEADLINE
        while True:  # until the log shows both workers holding a subscriber
            subs.append(open_ws(s.port, "/sub"))
            log = s.log()
            if "worker[0] 101 GET /sub" in log and "worker[1] 101 GET /sub" in log:
                break
            assert time.monotonic() < deadline, "every subscriber landed on one worker"
        for i in range(3):
            with connect(s.port) as conn:
                conn.request("POST", "/pub", body=("hello %d" % i).encode())
                assert conn.read_response("POST").status == 204
            for ws in subs:
                assert recv_text(ws) == "hello %d" % i
        chat = open_ws(s.port, "/chat")
        chat.send_frame(OP_TEXT, "from a socket")
        for ws in subs + [chat]:
            assert recv_text(ws) == "from a socket"
        for ws in subs + [chat]:
            close(ws)
