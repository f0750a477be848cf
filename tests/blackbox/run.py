#!/usr/bin/env python3
"""Black-box protocol tests for tornado-prefork.

Usage: python3 tests/blackbox/run.py --build=build [--quick] [-k substring] [-v]

Imports every tests/blackbox/test_*.py and runs each test_* function (in file order). Tests
that need special server options start their own server with harness.server(*flags); the
others share one default server (harness.shared()). Each test has a watchdog timeout
(default 120 s, @harness.timeout(N) to change it); @harness.slow tests are skipped with
--quick. Prints one line per test, then exactly one summary line "N passed, M failed";
exits 1 if anything failed.
"""
import argparse
import os
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import testrun  # noqa: E402

DEFAULT_TIMEOUT = 120.0


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
    testrun.raise_nofile()

    def after_each():
        harness.kill_leftovers()
        harness.check_shared()

    res = testrun.run(testrun.collect(HERE, args.pattern), args.quick, args.verbose,
                      DEFAULT_TIMEOUT, after_each)
    try:
        harness.stop_shared()
    except BaseException as e:  # noqa: B902
        res.fail("shared server shutdown", e)
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
