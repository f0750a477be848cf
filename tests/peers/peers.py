"""What the peer tests share: the wsecho server (started once, checked after every test),
the ws_peer.js processes, and markers. run.py sets BUILD and QUICK."""
import os
import shutil
import subprocess
import tempfile

import harness  # tests/blackbox: Server (port 0, port file, sanitizer checks)
import testrun

BUILD = "build"
QUICK = False
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NODE_MODULES = os.path.join(ROOT, "build", "node", "node_modules")
BIG = 16 << 20  # wsecho's max_message_size

Skip, slow, timeout = testrun.Skip, testrun.slow, testrun.timeout
wait_until = testrun.wait_until

_echo = None
_procs = []  # ws_peer.js servers still running


def echo_port():
    """The port of the shared wsecho server (started on first use)."""
    global _echo
    if _echo is None or not _echo.alive():
        _echo = harness.Server((), binary="examples/wsecho")
    return _echo.port


def echo_url(port=None):
    return "ws://127.0.0.1:%d/echo" % (port or echo_port())


def check_echo():
    """After each test: wsecho still running, no sanitizer report."""
    global _echo
    s = _echo
    if s is None:
        return
    try:
        s.check_sanitizer()
    except testrun.ServerFailure:
        _echo = None
        s.kill()
        raise
    if not s.alive():
        _echo = None
        text = s.stderr()
        s.kill()
        raise testrun.ServerFailure("wsecho died (exit %r): %s" % (s.proc.poll(), text[-2000:]))


def _open_connections(port):
    """TCP connections the server on port still has a file for (its listener aside; closed
    ones in TIME_WAIT or FIN_WAIT have no inode), from /proc/net/tcp*."""
    return [(st, remote) for local, remote, st, _, inode in testrun._tcp_sockets()
            if local == port and st != "0A" and inode != 0]


def stop_echo():
    """Stops wsecho once every connection to it has closed: a TERM stops its loop at once,
    and a WebSocket still in its closing linger (a test that saw the server's FIN returns
    before the server reads the client's) would be left to LeakSanitizer."""
    global _echo
    s, _echo = _echo, None
    if s is not None:
        wait_until(lambda: not _open_connections(s.port), 60,
                   lambda: "connections to wsecho still open: %r" % _open_connections(s.port))
        s.stop()


def need_node():
    if not os.path.isdir(os.path.join(NODE_MODULES, "ws")):
        # make test and make peers-test install it first: missing means that failed
        raise AssertionError("npm ws is not installed in %s (sh tools/deps.sh --node)"
                             % NODE_MODULES)


def node(*args, timeout=240):
    """Runs ws_peer.js with args; returns (exit status, output)."""
    need_node()
    p = subprocess.run(["node", os.path.join(HERE, "ws_peer.js")] + list(args),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace")


class NodeServer:
    """ws_peer.js's echo server in `mode` (plain, deflate, deflate-strict)."""

    def __init__(self, mode):
        need_node()
        self.dir = tempfile.mkdtemp(prefix="tp-peers-")
        port_file = os.path.join(self.dir, "port")
        self.log = open(os.path.join(self.dir, "log"), "wb")
        self.proc = subprocess.Popen(["node", os.path.join(HERE, "ws_peer.js"), "server",
                                      port_file, mode], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        _procs.append(self.proc)
        self.port = testrun.wait_port_file(port_file, self.proc, 60)
        if self.port is None:
            self.stop()
            raise AssertionError("the ws echo server did not start: " + self.output())

    def output(self):
        with open(self.log.name, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        if self.proc in _procs:
            _procs.remove(self.proc)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def kill_leftovers():
    """Kills what a timed-out test left running: node processes, servers but wsecho."""
    for s in list(harness._live):
        if s is not _echo:
            s.kill()
    for p in list(_procs):
        if p.poll() is None:
            p.kill()
            p.wait(30)
        _procs.remove(p)
