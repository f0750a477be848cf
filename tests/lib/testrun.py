"""What the black-box suites (tests/blackbox, tests/prefork) share: test markers, collection,
the run loop with a watchdog per test, and the closing line "N passed, M failed"."""
import importlib
import os
import resource
import signal
import time
import traceback

import portfile

# How a harness waits for a server to listen: tests/lib/portfile.py (port 0 and a port file).
wait_port_file = portfile.wait

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")


class TestTimeout(AssertionError):
    pass


class Skip(Exception):
    """Raised by a test that cannot run in this configuration."""


class ServerFailure(AssertionError):
    pass


def wait_until(cond, timeout, what, interval=0.02):
    """Polls cond() until it returns a true value, which is returned. After timeout seconds
    raises AssertionError("WHAT: not within N s", with cond's last value; what may be a
    function, called then, to describe the state at that moment). Tests wait for the
    condition they check this way, never for a sleep or a fixed number of requests: the
    deadline is only there to end a test whose condition never comes, so make it generous
    (a loaded 2-core machine can be 10 times slower than an idle one)."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("%s: not within %.1f s (last: %r)"
                                 % (what() if callable(what) else what, timeout, v))
        time.sleep(interval)


def tcp_listeners():
    """(port, socket inode) of every listening TCP socket, IPv4 and IPv6 (/proc/net/tcp*)."""
    for port, _, state, _, inode in _tcp_sockets():
        if state == "0A":
            yield port, inode


def _tcp_sockets():
    """(local port, remote port, state, rx queue, inode) of every TCP socket (/proc/net/tcp*)."""
    for fn in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(fn) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if len(f) >= 10:
                yield (int(f[1].rsplit(":", 1)[1], 16), int(f[2].rsplit(":", 1)[1], 16), f[3],
                       int(f[4].split(":")[1], 16), int(f[9]))


def server_read_all(sock):
    """True once the server end of sock (a TCP connection this process made on loopback) was
    accepted by the server and has read everything sent on it: its socket has an inode (an
    accept made it a file) and an empty receive queue. Wait for this, not for a sleep, before
    signalling a server that must have a request in hand."""
    lport, rport = sock.getsockname()[1], sock.getpeername()[1]
    for local, remote, state, rx, inode in _tcp_sockets():
        if local == rport and remote == lport and state == "01":
            return inode != 0 and rx == 0
    return False


def slow(fn):
    """A long load test: skipped with --quick."""
    fn.slow = True
    return fn


def known_failure(reason):
    """A test of a requirement not met yet: run only when asked (--known), and reported as
    KNOWN with the reason otherwise, never counted as passed."""
    def deco(fn):
        fn.known_failure = reason
        return fn
    return deco


def timeout(seconds):
    """Sets a test's watchdog (seconds)."""
    def deco(fn):
        fn.timeout = seconds
        return fn
    return deco


def sanitizer_report(text):
    """The first sanitizer report in a server's output (with some context), or None."""
    for m in SANITIZER_MARKERS:
        i = text.find(m)
        if i >= 0:
            return text[max(0, i - 200):i + 3000]
    return None


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


def collect(directory, pattern):
    """Every test_* function of directory/test_*.py (files sorted, functions in file order)
    whose "module.function" name contains pattern."""
    tests = []
    for name in sorted(os.listdir(directory)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        mod = importlib.import_module(name[:-3])
        # Another suite's module of the same name (tests/blackbox and tests/prefork both have
        # test_tls.py, test_h2.py, test_websocket.py) must never stand in for this one.
        if os.path.realpath(os.path.dirname(mod.__file__)) != os.path.realpath(directory):
            raise RuntimeError("%s/%s: imported %s instead (a sys.path entry before %s)"
                               % (directory, name, mod.__file__, directory))
        for attr, fn in list(vars(mod).items()):
            if attr.startswith("test_") and callable(fn):
                full = "%s.%s" % (mod.__name__, attr)
                if not pattern or pattern in full:
                    tests.append((full, fn))
    return tests


def _alarm(signo, frame):
    raise TestTimeout("test timed out (watchdog)")


def _run_one(fn, limit, after_each):
    """Runs fn under the watchdog, then after_each(); returns (error, traceback, skip reason)."""
    err, tb, skip = None, "", None
    try:
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            fn()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except Skip as e:
        skip = str(e)
    except KeyboardInterrupt:
        after_each()
        raise
    except BaseException as e:  # noqa: B902 -- a test failure of any kind
        err, tb = e, traceback.format_exc()
    try:
        after_each()
    except BaseException as e:  # noqa: B902 -- the test broke the server or left processes
        if err is None:
            err, tb = e, traceback.format_exc()
        else:
            err = AssertionError("%s: %s\n%s" % (type(err).__name__, err, e))
    return err, tb, skip


class Results:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.failures = []
        self.started = time.monotonic()

    def fail(self, name, message):
        self.failed += 1
        self.failures.append(name)
        print("FAIL %s\n     %s" % (name, message), flush=True)

    def finish(self):
        """Prints the summary; returns the exit status."""
        if self.failures:
            print("failed: " + ", ".join(self.failures))
        print("(%d skipped, %.1fs)" % (self.skipped, time.monotonic() - self.started))
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        return 1 if self.failed else 0


def run(tests, quick, verbose, default_timeout, after_each, known=False):
    """Runs the tests, one line each; after_each() runs after every test and may fail it."""
    signal.signal(signal.SIGALRM, _alarm)
    res = Results()
    for name, fn in tests:
        if getattr(fn, "known_failure", None) and not known:
            res.skipped += 1
            print("KNOWN %s: not met yet: %s (run with --known)" % (name, fn.known_failure),
                  flush=True)
            continue
        if quick and getattr(fn, "slow", False):
            res.skipped += 1
            print("SKIP %s (slow)" % name, flush=True)
            continue
        t0 = time.monotonic()
        err, tb, skip = _run_one(fn, getattr(fn, "timeout", default_timeout), after_each)
        dt = time.monotonic() - t0
        if skip is not None:
            res.skipped += 1
            print("SKIP %s (%s)" % (name, skip), flush=True)
        elif err is None:
            res.passed += 1
            print("ok   %s (%.2fs)" % (name, dt), flush=True)
        else:
            msg = "%s: %s" % (type(err).__name__, err)
            res.fail("%s (%.2fs)" % (name, dt), msg.replace("\n", "\n     "))
            res.failures[-1] = name
            if verbose or not isinstance(err, AssertionError):
                print("     " + tb.replace("\n", "\n     "), flush=True)
    return res
