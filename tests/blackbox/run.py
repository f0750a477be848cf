#!/usr/bin/env python3
"""Black-box protocol tests for tornado-prefork.

Usage: python3 tests/blackbox/run.py --build=build [--quick] [-k substring] [-v]

Imports every tests/blackbox/test_*.py and runs each test_* function (in file order). Tests
that need special server options start their own server with harness.server(*flags); the
others share one default server (harness.shared()). Each test has a watchdog timeout
(default 30 s, @harness.timeout(N) to change it); @harness.slow tests are skipped with
--quick. Prints one line per test, then exactly one summary line "N passed, M failed";
exits 1 if anything failed.
"""
import argparse
import importlib
import os
import resource
import signal
import socket
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TIMEOUT = 30.0


class TestTimeout(AssertionError):
    pass


def _alarm(signo, frame):
    raise TestTimeout("test timed out (watchdog)")


def collect(pattern):
    tests = []
    for name in sorted(os.listdir(HERE)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        mod = importlib.import_module(name[:-3])
        for attr, fn in list(vars(mod).items()):
            if attr.startswith("test_") and callable(fn):
                full = "%s.%s" % (mod.__name__, attr)
                if pattern and pattern not in full:
                    continue
                tests.append((full, fn))
    return tests


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--quick", action="store_true", help="skip the slow load tests")
    ap.add_argument("-k", dest="pattern", default="", help="only tests whose name contains this")
    ap.add_argument("-v", dest="verbose", action="store_true", help="full tracebacks")
    args = ap.parse_args()

    sys.dont_write_bytecode = True  # keep the source tree clean
    sys.path.insert(0, HERE)
    import harness
    harness.BUILD = os.path.abspath(args.build)
    harness.QUICK = args.quick
    if not os.path.exists(os.path.join(harness.BUILD, "tests", "testapp")):
        print("error: %s/tests/testapp is not built" % args.build, file=sys.stderr)
        return 2
    socket.setdefaulttimeout(10)
    raise_nofile()
    signal.signal(signal.SIGALRM, _alarm)

    tests = collect(args.pattern)
    passed = failed = skipped = 0
    failures = []
    t_start = time.monotonic()
    for name, fn in tests:
        if args.quick and getattr(fn, "slow", False):
            skipped += 1
            print("SKIP %s (slow)" % name, flush=True)
            continue
        limit = getattr(fn, "timeout", DEFAULT_TIMEOUT)
        t0 = time.monotonic()
        err = None
        skip = None
        try:
            signal.setitimer(signal.ITIMER_REAL, limit)
            try:
                fn()
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except harness.Skip as e:
            skip = str(e)
        except BaseException as e:  # noqa: B902 -- a test failure of any kind
            if isinstance(e, KeyboardInterrupt):
                raise
            err = e
            tb = traceback.format_exc()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            harness.kill_leftovers()
        try:
            harness.check_shared()
        except BaseException as e:
            if err is None:
                err = e
                tb = traceback.format_exc()
            else:
                err = AssertionError("%s: %s\n%s" % (type(err).__name__, err, e))
        dt = time.monotonic() - t0
        if skip is not None:
            skipped += 1
            print("SKIP %s (%s)" % (name, skip), flush=True)
        elif err is None:
            passed += 1
            print("ok   %s (%.2fs)" % (name, dt), flush=True)
        else:
            failed += 1
            failures.append(name)
            msg = "%s: %s" % (type(err).__name__, err)
            print("FAIL %s (%.2fs)\n     %s" % (name, dt, msg.replace("\n", "\n     ")),
                  flush=True)
            if args.verbose or not isinstance(err, AssertionError):
                print("     " + tb.replace("\n", "\n     "), flush=True)
    try:
        harness.stop_shared()
    except BaseException as e:
        failed += 1
        failures.append("shared server shutdown")
        print("FAIL shared server shutdown\n     %s" % e, flush=True)
    if failures:
        print("failed: " + ", ".join(failures))
    print("(%d skipped, %.1fs)" % (skipped, time.monotonic() - t_start))
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
