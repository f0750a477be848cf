#!/usr/bin/env python3
"""Black-box tests of the prefork master/worker server (build/tornado-prefork).

Usage: python3 tests/prefork/run.py --build=build [--quick] [-k substring] [-v]

Imports every tests/prefork/test_*.py and runs each test_* function (in file order), each under
a watchdog (default 180 s, @prefork.timeout(N) to change it). @prefork.slow tests (the 30-second
wrk runs and the 200-reload test) are skipped with --quick. After each test every process it
started is killed; at the end no process titled or named tornado-prefork may remain from this
run (the runner is a child subreaper, so orphaned workers stay in its tree). Prints one line
per test, then exactly one summary line "N passed, M failed"; exits 1 if anything failed.
Needs the test apps (make prefork-apps) and Debian's wrk.
"""
import argparse
import os
import resource
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import testrun  # noqa: E402

DEFAULT_TIMEOUT = 180.0


def no_core_files():
    """Workers killed with SIGABRT or SIGSEGV must not leave core files around."""
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
    ap.add_argument("--known", action="store_true", help="also run the known failures")
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
    testrun.raise_nofile()
    no_core_files()

    res = testrun.run(testrun.collect(HERE, args.pattern), args.quick, args.verbose,
                      DEFAULT_TIMEOUT, prefork.kill_leftovers, known=args.known)
    # No tornado-prefork process may survive this run.
    time.sleep(0.2)
    prefork.reap()
    left = prefork.server_processes()
    if left:
        res.fail("leftover processes", repr(left))
        prefork.kill_leftovers()
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
