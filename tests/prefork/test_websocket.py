"""WebSocket connections through reloads: a draining generation keeps its connections until
they close or --websocket-drain-timeout passes, then closes them with 1001; new connections
reach the new generation meanwhile; a worker holding none exits at once."""
import time

import wsclient
from prefork import alive, connect, server, wait_gone


def echo(ws, text):
    ws.send(text)
    got = ws.recv()
    assert got == text, "echo %r answered %r" % (text, got)


def test_websocket_drain_timeout_closes_1001():
    with server("--websocket-drain-timeout=2", app="wsecho.so", procs=2) as s:
        old = [w.pid for w in s.wait_workers(2, gen=1)]
        a = wsclient.WebSocket(s.port, "/echo")
        echo(a, "before")
        s.hup()
        echo(a, "kept through the reload")
        b = wsclient.WebSocket(s.port, "/echo")  # the old listeners are closed: generation 2
        echo(b, "new")
        t0 = time.monotonic()
        try:
            while True:
                a.recv()
        except wsclient.Closed as e:
            assert e.code == 1001, "closed with %r %r" % (e.code, e.reason)
        assert time.monotonic() - t0 < 60
        left = wait_gone(old, 60)
        assert not left, "generation-1 workers %r still running" % left
        echo(b, "still served")
        s.wait_log(r"closing 1 WebSocket connections \(1001 going away\)", since=0)
        b.close()


def test_websocket_closed_by_client_ends_drain():
    with server("--websocket-drain-timeout=600", "--shutdown-timeout=5", app="wsecho.so",
                procs=1) as s:
        old = [w.pid for w in s.wait_workers(1, gen=1)]
        a = wsclient.WebSocket(s.port, "/echo")
        echo(a, "x")
        s.hup()
        s.wait_log(r"waiting for 1 WebSocket connections to close", since=0)
        echo(a, "still the old worker")
        assert alive(old[0]), "the old worker left with a connection open"
        a.close()
        left = wait_gone(old, 60)  # long before the 600 s drain timeout
        assert not left, "the old worker %r did not exit once its connection closed" % left


def test_websocket_broadcast_reaches_every_worker():
    """Subscribers on both workers get a message POSTed to one worker (wsecho's /sub and /pub,
    relayed through the master)."""
    with server("--access-log", app="wsecho.so", procs=2) as s:
        s.wait_workers(2, gen=1)
        subs = []
        deadline = time.monotonic() + 60
        while True:  # until the log shows both workers holding a subscriber
            subs.append(wsclient.WebSocket(s.port, "/sub"))
            log = s.log()
            if "worker[0] 101 GET /sub" in log and "worker[1] 101 GET /sub" in log:
                break
            assert time.monotonic() < deadline, "every subscriber landed on one worker"
        for i in range(3):
            with connect(s.port) as conn:
                conn.request("POST", "/pub", body=("hello %d" % i).encode())
                assert conn.read_response("POST").status == 204
            for ws in subs:
                assert ws.recv() == "hello %d" % i
        chat = wsclient.WebSocket(s.port, "/chat")
        chat.send("from a socket")
        for ws in subs + [chat]:
            assert ws.recv() == "from a socket"
        for ws in subs + [chat]:
            ws.close()


def test_websocket_drain_timeout_runs_from_the_drain_start():
    """The 1001 comes --websocket-drain-timeout after the drain began even while an idle HTTP
    keep-alive connection still holds the HTTP drain (its grace is long here)."""
    with server("--websocket-drain-timeout=1", "--drain-idle-grace=600", app="wsecho.so",
                procs=1) as s:
        old = [w.pid for w in s.wait_workers(1, gen=1)]
        a = wsclient.WebSocket(s.port, "/echo")
        echo(a, "x")
        idle = connect(s.port)
        idle.request("POST", "/pub", body=b"keep-alive")
        assert idle.read_response("POST").status == 204
        s.hup()
        try:
            while True:
                a.recv()
        except wsclient.Closed as e:
            assert e.code == 1001, "closed with %r %r" % (e.code, e.reason)
        assert alive(old[0]), "the old worker should still wait for its idle HTTP connection"
        idle.close()
        left = wait_gone(old, 60)
        assert not left, "the old worker %r did not exit once its last connection closed" % left
