"""WebSocket connections through reloads: a draining generation keeps its connections until
they close or --websocket-drain-timeout passes, then closes them with 1001; new connections
reach the new generation meanwhile; a worker holding none exits at once."""
import time

import wsclient
from prefork import alive, server, wait_gone


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
