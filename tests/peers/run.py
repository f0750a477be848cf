#!/usr/bin/env python3
"""Independent peers of our WebSocket code: other people's implementations as clients of
build/examples/wsecho and as a server for our client (tp_ws_connect).

Usage: python3 tests/peers/run.py --build=build [--quick] [-k substring] [-v]

- test_pywebsockets.py: Debian's python3-websockets (10.4), a strict client, in this process
  (run.py re-executes itself with /usr/bin/python3 when the python3 at hand lacks it).
- test_node_ws.py: the npm `ws` package (v8, build/node, installed by tools/deps.sh --node)
  through tests/peers/ws_peer.js: its client against wsecho, and its echo server against
  build/tests/wsclient_check (our client).
- test_raw.py: Autobahn-style cases over a raw socket (each violation and its close code,
  frames split at every byte, the server's compressed frames inflated by Python's zlib).
- test_prefork_ws.py: wsecho.so under build/tornado-prefork (two workers), and the drain that
  closes open connections with 1001 on TERM.

Each test has a watchdog (default 300 s, @peers.timeout(N)); @peers.slow tests (16 MiB
messages, many connections) are skipped with --quick. The wsecho server is shared by the
tests and must stay up, sanitizer-clean, and exit 0 when stopped at the end. Prints one line
per test, then "N passed, M failed"; exits 1 if anything failed.
"""
import argparse
import os
import socket
import sys

try:
    import websockets  # noqa: F401
except ImportError:  # a python3 without it (pyenv): Debian's has python3-websockets
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "blackbox"))
import testrun  # noqa: E402

DEFAULT_TIMEOUT = 300.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--quick", action="store_true", help="skip the 16 MiB and load tests")
    ap.add_argument("-k", dest="pattern", default="", help="only tests whose name contains this")
    ap.add_argument("-v", dest="verbose", action="store_true", help="full tracebacks")
    args = ap.parse_args()

    sys.dont_write_bytecode = True  # keep the source tree clean
    sys.path.insert(0, HERE)
    import harness
    import peers
    harness.BUILD = peers.BUILD = os.path.abspath(args.build)
    harness.QUICK = peers.QUICK = args.quick
    if not os.path.exists(os.path.join(harness.BUILD, "examples", "wsecho")):
        print("error: %s/examples/wsecho is not built" % args.build, file=sys.stderr)
        return 2
    socket.setdefaulttimeout(30)
    testrun.raise_nofile()

    def after_each():
        peers.kill_leftovers()
        peers.check_echo()

    res = testrun.run(testrun.collect(HERE, args.pattern), args.quick, args.verbose,
                      DEFAULT_TIMEOUT, after_each)
    try:
        peers.stop_echo()
    except BaseException as e:  # noqa: B902
        res.fail("wsecho shutdown", e)
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
