#!/usr/bin/env python3
"""The HTTP client's tests: starts nginx, the Python peers (tests/httpclient/peers.py) and
testapp, runs build/tests/httpclient_check against them (one line per case), then compares
tp-fetch with `/usr/bin/python3 -m tornado.httpclient` on the same URLs.

    python3 tests/httpclient/run.py [--build=build] [CASE...]
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402


def start_testapp(build, tmp):
    port_file = os.path.join(tmp, "port")
    proc = subprocess.Popen([os.path.join(build, "tests/testapp"), "--port=0",
                             "--port-file=" + port_file, "--address=127.0.0.1",
                             "--logging=warning"], stdin=subprocess.DEVNULL)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("testapp exited with %s" % proc.returncode)
        try:
            with open(port_file) as f:
                text = f.read().strip()
            if text:
                return proc, int(text.split()[0])
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError("testapp never wrote its port")


def normalize(text):
    """Drops what differs between two fetches of one URL: the Date header, and Connection
    (Tornado's simple_httpclient asks for "Connection: close", we keep connections)."""
    return re.sub(r"(?m)^(Date|Connection): .*\n", "", text)


def compare_tp_fetch(build, env):
    """tp-fetch against python3 -m tornado.httpclient: same stdout, same exit status; on a
    failure tp-fetch says it in one line where Tornado prints a traceback."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused = "http://127.0.0.1:%d/" % closed.getsockname()[1]
    n = env["NGINX"]
    runs = [
        (["--print_headers"], n + "/hello"),
        ([], n + "/r3"),
        (["--print_headers", "--print_body=false"], n + "/r3"),
        (["--follow_redirects=false"], n + "/r3"),
        ([], n + "/missing"),
        ([], n + "/big.txt"),
        (["--validate_cert=false"], env["TLS"] + "/"),
        ([], env["TLS"] + "/"),
        ([], refused),
    ]
    bad = 0
    for flags, url in runs:
        ours = subprocess.run([os.path.join(build, "tools/tp-fetch")] + flags + [url],
                              capture_output=True, timeout=60)
        theirs = subprocess.run(["/usr/bin/python3", "-m", "tornado.httpclient"] + flags + [url],
                                capture_output=True, timeout=60)
        name = "tp_fetch %s %s" % (" ".join(flags), url.replace(n, ""))
        a, b = normalize(ours.stdout.decode()), normalize(theirs.stdout.decode())
        problems = []
        if a != b:
            problems.append("stdout differs:\n--- tp-fetch\n%s--- tornado\n%s" % (a, b))
        if ours.returncode != theirs.returncode:
            problems.append("exit %d, tornado %d" % (ours.returncode, theirs.returncode))
        if ours.returncode and len(ours.stderr.decode().strip().splitlines()) != 1:
            problems.append("stderr is not one line: %r" % ours.stderr)
        print("%s %s" % ("FAIL" if problems else "ok", name))
        for p in problems:
            print("  " + p)
        bad += bool(problems)
    closed.close()
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("cases", nargs="*")
    args = ap.parse_args()
    t0 = time.monotonic()
    p = peers.Peers()
    tmp = tempfile.mkdtemp(prefix="tp-httpclient-app-")
    app = None
    try:
        app, port = start_testapp(args.build, tmp)
        env = dict(os.environ, **p.env())
        env["APP"] = "http://127.0.0.1:%d" % port
        rc = subprocess.run([os.path.join(args.build, "tests/httpclient_check")] + args.cases,
                            env=env, timeout=300).returncode
        bad = 0 if args.cases else compare_tp_fetch(args.build, env)
    finally:
        if app:
            app.kill()
            app.wait()
        p.stop()
    print("httpclient: %s in %.1f s" % ("FAILED" if rc or bad else "all passed",
                                        time.monotonic() - t0))
    return 1 if rc or bad else 0


if __name__ == "__main__":
    sys.exit(main())
