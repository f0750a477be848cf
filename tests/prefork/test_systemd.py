"""systemd integration: Type=notify messages on $NOTIFY_SOCKET, and listeners inherited through
LISTEN_FDS (socket activation)."""
import os
import signal
import socket
import sys
import tempfile
import time

from prefork import Server, body, timeout

HERE = os.path.dirname(os.path.abspath(__file__))


def _messages(sock, until, seconds=60.0):
    """Datagrams received until one equals `until` (returned in order)."""
    got = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            got.append(sock.recv(4096).decode())
        except socket.timeout:
            break
        if got[-1] == until:
            return got
    raise AssertionError("no %r from the master; got %r" % (until, got))


@timeout(180)
def test_sd_notify_ready_reload_stopping():
    d = tempfile.mkdtemp(prefix="tp-notify-")
    path = os.path.join(d, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.environ["NOTIFY_SOCKET"] = path
    try:
        s = Server(procs=2)
    finally:
        del os.environ["NOTIFY_SOCKET"]
    try:
        assert _messages(sock, "READY=1") == ["READY=1"]
        s.signal(signal.SIGHUP)
        got = _messages(sock, "READY=1")
        assert got == ["RELOADING=1", "READY=1"], got
        assert body(s.port) == "v1"
        s.signal(signal.SIGTERM)
        assert _messages(sock, "STOPPING=1") == ["STOPPING=1"]
        assert s.proc.wait(timeout=60) == 0
    finally:
        if s.alive():
            s.kill()
        sock.close()
        os.unlink(path)
        os.rmdir(d)


@timeout(180)
def test_listen_fds_inherited_listener():
    s = Server("--port=1", procs=2, prefix=(sys.executable, os.path.join(HERE, "systemd_exec.py")))
    try:
        # The master bound nothing itself (--port=1 would need root): it serves the inherited
        # socket, whose port it wrote to the port file.
        assert s.port != 1
        assert body(s.port) == "v1"
        assert "cannot listen" not in s.log()
        s.signal(signal.SIGTERM)
        assert s.proc.wait(timeout=60) == 0
    finally:
        if s.alive():
            s.kill()
