"""tools/ws-load (the WebSocket load generator of tools/bench-ws.sh) against examples/wsecho:
each mode runs briefly and reports sane figures, so the benchmark tool does not rot."""
import os
import socket
import subprocess
import time

import harness
from harness import server, server_of, Skip


def _run(*args):
    """Runs ws-load; returns its key=value result line as a dict (values as strings)."""
    tool = os.path.join(harness.BUILD, "tools", "ws-load")
    if not os.path.exists(tool):
        raise Skip("%s is not built" % tool)
    out = subprocess.run([tool] + list(args), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, (out.returncode, out.stdout, out.stderr)
    line = out.stdout.strip().splitlines()[-1]
    return dict(kv.split("=", 1) for kv in line.split())


def test_ws_load_echo():
    with server(binary="examples/wsecho") as port:
        pid = str(server_of(port).proc.pid)
        url = "ws://127.0.0.1:%d/echo" % port
        r = _run("--url", url, "--connections", "50", "--seconds", "0.5", "--warmup", "0.2",
                 "--server-pid", pid)
        assert r["conns"] == "50/50" and r["failed"] == "0" and r["closed"] == "0", r
        assert int(r["msgs"]) > 50 and r["mismatched"] == "0", r
        assert float(r["p99_us"]) >= float(r["p50_us"]) > 0, r
        assert float(r["server_cpu_s"]) >= 0 and int(r["per_conn_min"]) > 0, r
        # 16- and 64-bit frame lengths, binary, several messages in flight
        for size in ("300", "70000"):
            r = _run("--url", url, "--connections", "4", "--seconds", "0.3", "--warmup", "0",
                     "--size", size, "--depth", "3", "--binary")
            assert r["conns"] == "4/4" and int(r["msgs"]) > 0 and r["mismatched"] == "0", r


def test_ws_load_idle_memory():
    with server(binary="examples/wsecho") as port:
        pid = str(server_of(port).proc.pid)
        url = "ws://127.0.0.1:%d/echo" % port
        r = _run("--idle", "--url", url, "--connections", "200", "--seconds", "0.2",
                 "--server-pid", pid)
        assert r["conns"] == "200/200" and r["deflate"] == "0", r
        assert int(r["rss_after_kb"]) > 0, r
        r = _run("--idle", "--deflate", "--url", url, "--connections", "20", "--seconds", "0.1",
                 "--server-pid", pid)
        assert r["conns"] == "20/20" and r["deflate"] == "20", r


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ws_load_fanout():
    """The fan-out mode against the Tornado peer (tools/bench/ws_echo_tornado.py: /sub, POST
    /pub and /chat), until the pubsub test app has a WebSocket side."""
    peer = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "bench",
                        "ws_echo_tornado.py")
    port = _free_port()
    proc = subprocess.Popen(["/usr/bin/python3", peer, str(port)], stdin=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise Skip("the Tornado peer did not start (python3-tornado?)")
                time.sleep(0.05)
        sub = "ws://127.0.0.1:%d/sub" % port
        for pub in ("http://127.0.0.1:%d/pub" % port, "ws://127.0.0.1:%d/chat" % port):
            r = _run("--fanout", "--url", sub, "--publish-url", pub, "--connections", "100",
                     "--rounds", "3", "--server-pid", str(proc.pid))
            assert r["subs"] == "100/100" and r["rounds"] == "3", r
            assert r["timeouts"] == "0" and r["missing"] == "0" and r["pub_failed"] == "0", r
            assert float(r["last_ms_max"]) >= float(r["first_ms_p50"]) > 0, r
    finally:
        proc.terminate()
        proc.wait(10)
