#!/usr/bin/env python3
"""Instructions per request, counted by callgrind (deterministic, unlike timings).

Runs BINARY under valgrind --tool=callgrind twice, sends N1 and then N2 sequential requests on
one keep-alive connection, and prints (Ir(N2) - Ir(N1)) / (N2 - N1): the per-request cost of
loop, parse, route, handler and response in user space, start-up and exit cancelled out.

    python3 tools/bench-instructions.py build/examples/hello [--path /] [--n1 1000 --n2 11000]
    python3 tools/bench-instructions.py build/tests/bench_routes -- --routes=200
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(binary, extra, path, n):
    port = free_port()
    out = tempfile.mktemp(prefix="callgrind.")
    p = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                          binary, "--port=%d" % port, "--logging=none"] + extra,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            c = socket.create_connection(("127.0.0.1", port))
            break
        except OSError:
            if time.monotonic() > deadline:
                p.kill()
                sys.exit("server did not start")
            time.sleep(0.1)
    req = ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode()
    buf = b""
    for _ in range(n):
        c.sendall(req)
        while True:
            head_end = buf.find(b"\r\n\r\n")
            if head_end >= 0:
                m = re.search(rb"(?i)content-length: *(\d+)", buf[:head_end])
                total = head_end + 4 + (int(m.group(1)) if m else 0)
                if len(buf) >= total:
                    buf = buf[total:]
                    break
            data = c.recv(65536)
            if not data:
                sys.exit("connection closed")
            buf += data
    c.close()
    p.send_signal(signal.SIGINT)
    p.wait(timeout=60)
    with open(out) as f:
        text = f.read()
    os.unlink(out)
    m = re.search(r"^summary: (\d+)", text, re.M) or re.search(r"^totals: (\d+)", text, re.M)
    return int(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--path", default="/")
    ap.add_argument("--n1", type=int, default=1000)
    ap.add_argument("--n2", type=int, default=11000)
    ap.add_argument("extra", nargs="*", help="more server flags (after --)")
    a = ap.parse_args()
    i1 = run(a.binary, a.extra, a.path, a.n1)
    i2 = run(a.binary, a.extra, a.path, a.n2)
    print("%.0f instructions per request (%s %s)" % ((i2 - i1) / (a.n2 - a.n1), a.binary, a.path))


if __name__ == "__main__":
    main()
