#!/usr/bin/env python3
"""Black-box tests of the prefork master/worker server (build/tornado-prefork).

Usage: python3 tests/prefork/run.py --build=build [--quick] [-k substring] [-v]

Imports every tests/prefork/test_*.py and runs each test_* function (in file order), each under
a watchdog (default 60 s, @prefork.timeout(N) to change it). @prefork.slow tests (the 30-second
wrk runs and the 200-reload test) are skipped with --quick. After each test every process it
started is killed; at the end no process titled or named tornado-prefork may remain from this
run (the runner is a child subreaper, so orphaned workers stay in its tree). Prints one line
per test, then exactly one summary line "N passed, M failed"; exits 1 if anything failed.
Needs the test apps (make prefork-apps) and Debian's wrk.
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
DEFAULT_TIMEOUT = 60.0


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


def raise_limits():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
    # Workers killed with SIGABRT or SIGSEGV must not leave core files around.
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    except (ValueError, OSError):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--quick", action="store_true",
                    help="skip the 30-second wrk tests and the 200-reload test")
    ap.add_argument("-k", dest="pattern", default="", help="only tests whose name contains this")
    ap.add_argument("-v", dest="verbose", action="store_true", help="full tracebacks")
    args = ap.parse_args()

    sys.dont_write_bytecode = True  # keep the source tree clean
    sys.path.insert(0, HERE)
    import prefork
    prefork.BUILD = os.path.abspath(args.build)
    prefork.QUICK = args.quick
    if not prefork.set_subreaper():
        print("warning: cannot become a child subreaper; orphan checks are weaker", flush=True)
    exe = os.path.join(prefork.BUILD, prefork.NAME)
    if not os.path.exists(exe):
        print("warning: %s is not built: every test will fail" % exe, flush=True)
    socket.setdefaulttimeout(10)
    raise_limits()
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
        tb = ""
        try:
            signal.setitimer(signal.ITIMER_REAL, limit)
            try:
                fn()
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except prefork.Skip as e:
            skip = str(e)
        except BaseException as e:  # noqa: B902 -- a test failure of any kind
            if isinstance(e, KeyboardInterrupt):
                prefork.kill_leftovers()
                raise
            err = e
            tb = traceback.format_exc()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            try:
                prefork.kill_leftovers()
            except BaseException as e:  # noqa: B902
                if err is None:
                    err, tb = e, traceback.format_exc()
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

    # No tornado-prefork process may survive this run.
    time.sleep(0.2)
    prefork.reap()
    left = prefork.server_processes()
    if left:
        failed += 1
        failures.append("leftover processes")
        print("FAIL leftover processes: %r" % left, flush=True)
        prefork.kill_leftovers()
    if failures:
        print("failed: " + ", ".join(failures))
    print("(%d skipped, %.1fs)" % (skipped, time.monotonic() - t_start))
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
