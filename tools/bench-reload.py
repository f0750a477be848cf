#!/usr/bin/env python3
"""Time from SIGHUP to the new generation answering, for the hello-style test app.
Usage: tools/bench-reload.py [rounds] [procs]   (from the repository root, after `make
prefork-apps`). Prints each round and the median, plus the master's own "boot X ms"."""
import os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
procs = sys.argv[2] if len(sys.argv) > 2 else "2"
d = tempfile.mkdtemp()
apps = {v: os.path.abspath(f"build/tests/prefork/app_{v}.so") for v in ("v1", "v2")}
app = os.path.join(d, "app.so")
shutil.copy(apps["v1"], app)
log = open(os.path.join(d, "log"), "w")
srv = subprocess.Popen(["build/tornado-prefork", f"--procs={procs}", "--address=127.0.0.1",
                        "--port=0", f"--port-file={d}/port", "--no-access-log", app],
                       stderr=log)
for _ in range(100):
    if os.path.exists(f"{d}/port"):
        break
    time.sleep(0.05)
port = int(open(f"{d}/port").read())

def version():
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    return data.rsplit(b"\r\n\r\n", 1)[1].decode()

times = []
for i in range(rounds):
    want = "v2" if i % 2 == 0 else "v1"
    shutil.copy(apps[want], app + ".new")
    os.rename(app + ".new", app)
    t0 = time.monotonic()
    srv.send_signal(signal.SIGHUP)
    while version() != want:
        time.sleep(0.0005)
    times.append((time.monotonic() - t0) * 1000)
    time.sleep(0.3)
srv.send_signal(signal.SIGTERM)
srv.wait()
boots = [float(m) for m in re.findall(r"boot (\d+) ms\); draining", open(f"{d}/log").read())]
print("HUP to new version answering, ms:", " ".join(f"{t:.1f}" for t in times))
print(f"median {statistics.median(times):.1f} ms, max {max(times):.1f} ms "
      f"(master's boot figure: median {statistics.median(boots):.0f} ms)")
shutil.rmtree(d)
