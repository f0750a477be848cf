"""Clients reset their connections while the old generation drains after a reload: a request
in flight in an async handler, a half-sent head, a half-sent body, an idle keep-alive
connection. The draining worker must end (it has no connection left), the new generation
serves, the master keeps its fd count, and no sanitizer report appears (tests/blackbox's
test_reset covers the other steps of a request against one process)."""
import os

from prefork import server, connect, body, wait_gone, timeout

DEADLINE = 30.0


def _held(port, version):
    """Connections of the current workers in every state a drain can meet."""
    slow = connect(port, timeout=DEADLINE)
    slow.request("GET", "/sleep?s=0.5")
    forever = connect(port, timeout=DEADLINE)
    forever.request("GET", "/sleep?s=600")
    head = connect(port, timeout=DEADLINE)
    head.send(b"GET / HTTP/1.1\r\nHost: x\r\nX-Half: ")
    body_ = connect(port, timeout=DEADLINE)
    body_.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc")
    idle = connect(port, timeout=DEADLINE)
    idle.request("GET", "/")
    assert idle.read_response().body == version
    return [slow, forever, head, body_, idle]


@timeout(120)
def test_reset_during_drain():
    with server(procs=1) as s:
        old = s.wait_workers(1, gen=1)
        master_fds = len(os.listdir("/proc/%d/fd" % s.pid))
        version = b"v1"
        for _ in range(3):
            conns = _held(s.port, version)
            version = b"v2" if version == b"v1" else b"v1"
            s.swap_app("app_%s.so" % version.decode())
            s.hup()
            for c in conns:
                c.reset()
            left = wait_gone([w.pid for w in old], DEADLINE)
            assert not left, "draining workers %r did not end after their clients reset" % left
            assert body(s.port) == version.decode()
            old = s.wait_workers(1, gen=s.gen())
            s.check_sanitizer()
        assert len(os.listdir("/proc/%d/fd" % s.pid)) == master_fds
