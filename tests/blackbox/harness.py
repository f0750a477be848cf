"""Server management for the black-box tests: starting testapp (or another example) on a free
port, the shared default server, sanitizer-report checks, and test decorators.

run.py configures BUILD and QUICK before importing the test modules.
"""
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time

import testrun  # tests/lib: the runner puts it on sys.path

BUILD = "build"
QUICK = False
# Generous: they end a test whose server never starts or stops, and must not fail one on a
# loaded machine (an ASan build, other jobs).
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0

# Every server process still running, so the runner can kill leftovers of a test that timed
# out (only processes this harness started, by their Popen object).
_live = []
_by_port = {}
_shared = None


# Markers and exceptions shared with the other suite (tests/lib/testrun.py).
Skip, ServerFailure, slow, timeout = testrun.Skip, testrun.ServerFailure, testrun.slow, testrun.timeout


sanitizer_report = testrun.sanitizer_report


class Server:
    def __init__(self, flags, binary="tests/testapp", env=None):
        self.binary = os.path.join(BUILD, binary)
        if not os.path.exists(self.binary):
            raise Skip("%s is not built" % self.binary)
        self.dir = tempfile.mkdtemp(prefix="tp-blackbox-")
        self.port_file = os.path.join(self.dir, "port")
        self.stderr_path = os.path.join(self.dir, "stderr")
        self.stderr_seen = 0
        args = [self.binary, "--port=0", "--port-file=" + self.port_file,
                "--address=127.0.0.1"]
        if not any(f.startswith("--logging") for f in flags):
            args.append("--logging=warning")
        args += list(flags)
        self.args = args
        env = dict(os.environ, **(env or {}))
        env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        self.stderr_f = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.stderr_f,
                                     stderr=self.stderr_f, env=env)
        _live.append(self)
        self.port = None
        self.port = testrun.wait_port_file(self.port_file, self.proc, START_TIMEOUT)
        if self.port is None:
            rc = self.proc.poll()
            text = self.stderr()
            self.kill()
            raise ServerFailure("server %r did not start (exit %r): %s"
                                % (" ".join(args), rc, text[-2000:]))
        _by_port[self.port] = self

    def stderr(self):
        try:
            if not self.stderr_f.closed:
                self.stderr_f.flush()
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def new_stderr(self):
        """stderr written since the last call."""
        text = self.stderr()
        out = text[self.stderr_seen:]
        self.stderr_seen = len(text)
        return out

    def alive(self):
        return self.proc.poll() is None

    def check_sanitizer(self):
        rep = sanitizer_report(self.new_stderr())
        if rep:
            raise ServerFailure("sanitizer report from the server:\n" + rep)

    def stop(self, sig=signal.SIGTERM):
        """Stops the server and checks it exited 0 without sanitizer reports."""
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(sig)
            try:
                rc = self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                rep = sanitizer_report(self.stderr())
                self.kill()
                raise ServerFailure("server did not exit within %.0f s of signal %d%s"
                                    % (STOP_TIMEOUT, sig, "\n" + rep if rep else ""))
            died = False
        else:
            died = True
        self._cleanup()
        text = self.stderr()
        rep = sanitizer_report(text)
        shutil.rmtree(self.dir, ignore_errors=True)
        if rep:
            raise ServerFailure("sanitizer report from the server:\n" + rep)
        if died:
            raise ServerFailure("server died before it was stopped (exit %r): %s"
                                % (rc, text[-2000:]))
        if rc != 0:
            raise ServerFailure("server exited %r after signal %d: %s" % (rc, sig, text[-2000:]))
        return text

    def kill(self):
        """SIGKILL (if still running) and forget the server, its temp dir included."""
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self._cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _cleanup(self):
        if self in _live:
            _live.remove(self)
        _by_port.pop(self.port, None)
        try:
            self.stderr_f.close()
        except OSError:
            pass


@contextlib.contextmanager
def server(*flags, binary="tests/testapp", sig=signal.SIGTERM, env=None):
    """A fresh server with the given flags (and env added to its environment); yields its
    port. On exit the server is stopped with SIGTERM and must exit 0 with no sanitizer
    report."""
    s = Server(flags, binary, env)
    try:
        yield s.port
    except BaseException as e:
        # The test already failed: clean up, and report a crash alongside if there was one
        # (a server crash or sanitizer report is usually the cause of the failure).
        try:
            s.stop(sig)
        except ServerFailure as e2:
            if isinstance(e, (Skip, KeyboardInterrupt)):
                raise
            raise ServerFailure("%s: %s\n%s" % (type(e).__name__, e, e2)) from e
        except BaseException:
            s.kill()
        raise
    final_stderr[s.port] = s.stop(sig)


# port -> everything a server started with server() wrote, once it has stopped cleanly.
final_stderr = {}


def wait_stderr(port, text, timeout=30.0):
    """Waits until the running server on port has written text (logs are buffered per loop
    iteration); returns its stderr so far."""
    s = _by_port[port]
    deadline = time.monotonic() + timeout
    while True:
        err = s.stderr()
        if text in err or time.monotonic() > deadline:
            return err
        time.sleep(0.02)


def server_of(port):
    """The Server object listening on port (for its stderr)."""
    return _by_port[port]


def shared():
    """The port of the shared default server (started on first use)."""
    global _shared
    if _shared is None or not _shared.alive():
        _shared = Server(())
    return _shared.port


def check_shared():
    """After each test: the shared server must still be running and sanitizer-clean."""
    global _shared
    if _shared is None:
        return
    s = _shared
    try:
        s.check_sanitizer()
    except ServerFailure:
        _shared = None
        s.kill()
        raise
    if not s.alive():
        _shared = None
        rc = s.proc.poll()
        text = s.stderr()
        s.kill()
        raise ServerFailure("the shared server died (exit %r): %s" % (rc, text[-2000:]))
    # A quick probe, so a server left broken by this test is blamed on it.
    import http_client
    try:
        r = http_client.get(s.port, "/", timeout=30)
        ok = r.status == 200 and r.body == b"Hello, world"
        why = repr(r)
    except (OSError, AssertionError) as e:
        ok, why = False, "%s: %s" % (type(e).__name__, e)
    if not ok:
        time.sleep(0.2)
        _shared = None
        rc = s.proc.poll()
        rep = sanitizer_report(s.stderr())
        s.kill()
        raise ServerFailure("the shared server stopped serving after this test (%s, exit %r)%s"
                            % (why, rc, "\n" + rep if rep else ""))


def stop_shared():
    global _shared
    s, _shared = _shared, None
    if s is not None:
        s.stop()


def kill_leftovers():
    """Kills servers a timed-out test left running (never the shared one)."""
    for s in list(_live):
        if s is not _shared:
            s.kill()
