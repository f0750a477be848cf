"""--metrics-port (Prometheus text from the scoreboard) and `tornado-prefork status`: request
counts by method and status class, the latency histogram, open connections, and the master's
counters (worker starts, exits and restarts by cause, reloads, rollbacks, generation), per
worker and summed, through a crash, a reload and a failed reload."""
import os
import re
import signal
import socket
import time

import http_client
import testrun
from prefork import (server, binary, run_cmd, get, body, connect, listen_ports, start_fails,
                     check_one_error_line, app_path)

SERIES = re.compile(r'^(tornado_prefork_[a-z_]+)(\{[^}]*\})? (\S+)$')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port):
    """{(name, frozenset(labels)): value} of one GET /metrics (checked line by line)."""
    r = http_client.get(port, "/metrics", timeout=30)
    assert r.status == 200, r
    assert r.header("content-type", "").startswith("text/plain; version=0.0.4"), r.headers
    out = {}
    for line in r.body.decode().splitlines():
        if line.startswith("#"):
            assert re.match(r"# (HELP|TYPE) tornado_prefork_\w+ ", line), line
            continue
        m = SERIES.match(line)
        assert m, "not a Prometheus sample line: %r" % line
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def total(samples, name, **want):
    """The summed series (no worker label) of name whose labels include want."""
    return sum(v for (n, lb), v in samples.items()
               if n == name and not any(k == "worker" for k, _ in lb)
               and set(want.items()) <= set(lb))


def per_worker(samples, name, **want):
    return sum(v for (n, lb), v in samples.items()
               if n == name and any(k == "worker" for k, _ in lb) and set(want.items()) <= set(lb))


def wait_metrics(port, cond, what, timeout=30.0):
    last = {}

    def ok():
        nonlocal last
        last = scrape(port)
        return cond(last)
    if not testrun.wait_until(ok, timeout, 0.05):
        raise AssertionError("metrics never showed %s within %.0f s; last scrape:\n%s" % (
            what, timeout, "\n".join("%s %s %s" % (n, sorted(lb), v)
                                     for (n, lb), v in sorted(last.items(), key=str)
                                     if v and "bucket" not in n)))
    return last


def metrics_port_of(s):
    m = s.wait_log(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", 30)
    return int(m.group(1))


def test_metrics_count_requests_workers_reloads():
    with server("--metrics-port=%d" % free_port(), procs=2) as s:
        mport = metrics_port_of(s)
        ws = s.wait_workers(2, gen=1)
        for w in ws:
            assert mport not in listen_ports(w.pid), "a worker holds the metrics socket"
        for _ in range(6):
            assert body(s.port) == "v1"
        assert get(s.port, "/nothere").status == 404
        c = connect(s.port)
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        assert c.read_response().status == 405  # kept open: an open connection
        m = wait_metrics(mport, lambda m: (
            total(m, "tornado_prefork_http_requests_total", method="GET", code="2xx") >= 6
            and total(m, "tornado_prefork_http_requests_total", method="GET", code="4xx") >= 1
            and total(m, "tornado_prefork_http_requests_total", method="POST", code="4xx") >= 1
            and total(m, "tornado_prefork_open_connections") >= 1), "9 requests and 1 open conn")
        assert total(m, "tornado_prefork_http_request_body_bytes_total") == 5
        # The per-worker series add up to the totals while no worker has exited.
        for name in ("tornado_prefork_http_requests_total",
                     "tornado_prefork_http_response_body_bytes_total",
                     "tornado_prefork_http_connections_total"):
            assert total(m, name) == per_worker(m, name), name
        n = total(m, "tornado_prefork_http_requests_total")
        assert total(m, "tornado_prefork_http_request_duration_seconds_count") == n
        assert total(m, "tornado_prefork_http_request_duration_seconds_bucket", le="+Inf") == n
        assert total(m, "tornado_prefork_worker_starts_total") == 2
        assert total(m, "tornado_prefork_generation") == 1
        assert total(m, "tornado_prefork_workers", state="ready") == 2
        pids = {dict(lb)["pid"] for (nm, lb) in m if nm == "tornado_prefork_worker_info"}
        assert pids == {str(w.pid) for w in ws}, (pids, ws)
        c.close()

        # A crash: counted by cause, the slot restarted, the dead worker's requests kept.
        before = total(m, "tornado_prefork_http_requests_total")
        victim = s.slot_pid(0)
        os.kill(victim, signal.SIGKILL)
        s.wait_respawn(0, victim, 30)
        m = wait_metrics(mport, lambda m: (
            total(m, "tornado_prefork_worker_exits_total", cause="crashed") == 1
            and total(m, "tornado_prefork_worker_restarts_total", cause="crashed") == 1
            and total(m, "tornado_prefork_worker_starts_total") == 3), "the crash and restart")
        assert total(m, "tornado_prefork_http_requests_total") >= before
        assert str(victim) not in {dict(lb).get("pid") for (_, lb) in m}

        # A reload and a failed one.
        s.swap_app("app_v2.so")
        assert s.hup() == 2
        s.settle()
        m = wait_metrics(mport, lambda m: (
            total(m, "tornado_prefork_reloads_total") == 1
            and total(m, "tornado_prefork_generation") == 2
            and total(m, "tornado_prefork_worker_exits_total", cause="drained") == 2),
            "reload 1 to generation 2")
        assert total(m, "tornado_prefork_rollbacks_total") == 0
        s.swap_app("broken_init_fails.so")
        s.hup_expect_failure()
        m = wait_metrics(mport, lambda m: (
            total(m, "tornado_prefork_reloads_total") == 2
            and total(m, "tornado_prefork_rollbacks_total") == 1), "the rollback")
        assert total(m, "tornado_prefork_generation") == 2
        assert total(m, "tornado_prefork_worker_exits_total", cause="boot_failed") == 1

        # The status command shows the same figures.
        m = scrape(mport)
        rc, out, err = run_cmd([binary(), "status", "--pid-file=" + s.pid_file])
        assert rc == 0, err
        assert re.search(r"generation 2, 2 workers wanted, 2 reloads, 1 rollbacks", out), out
        assert "crashed 1" in out, out
        lines = out.splitlines()
        head = next(i for i, ln in enumerate(lines) if ln.startswith("slot "))
        cols = lines[head].split()
        rows = [dict(zip(cols, ln.split())) for ln in lines[head + 1:] if ln.strip()]
        workers = [r for r in rows if r["slot"] != "all"]
        assert sorted(int(r["pid"]) for r in workers) == sorted(w.pid for w in s.workers()), out
        assert all(r["gen"] == "2" and r["state"] == "ready" for r in workers), out
        all_row = next(r for r in rows if r["slot"] == "all")
        assert int(all_row["requests"]) == total(m, "tornado_prefork_http_requests_total"), out
        assert int(all_row["2xx"]) == total(m, "tornado_prefork_http_requests_total", code="2xx")

        # Only GET /metrics.
        assert http_client.get(mport, "/", timeout=30).status == 404
        c = connect(mport)
        c.send(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        assert c.read_response().status == 405
        c.close()


def test_metrics_port_taken_fails_start():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        rc, lines, _, _ = start_fails(["--metrics-port=%d" % port, "--port=0",
                                       "--address=127.0.0.1", app_path("app_v1.so")])
        check_one_error_line(rc, lines, 1, "a taken metrics port")
        assert "--metrics-port=%d" % port in lines[0], lines


def test_metrics_count_http2_requests_and_refusals():
    """HTTP/2 with prior knowledge: its requests are counted as HTTP/1's are, its connection
    once (not as an HTTP/1 connection and again as an HTTP/2 one), and a head refused before
    the app (431) too."""
    import subprocess
    with server("--metrics-port=%d" % free_port(), "--http2-max-header-list-size=2048",
                procs=1) as s:
        mport = metrics_port_of(s)
        s.wait_workers(1, gen=1)
        url = "http://127.0.0.1:%d/" % s.port

        def curl(*extra):
            r = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-o", "/dev/null",
                                "-w", "%{http_code}", *extra, url], capture_output=True,
                               timeout=60)
            return r.stdout.decode()
        assert [curl() for _ in range(3)] == ["200"] * 3
        assert curl("-H", "X-Big: " + "x" * 3000) == "431"
        m = wait_metrics(mport, lambda m: (
            total(m, "tornado_prefork_http_requests_total", method="GET", code="2xx") == 3
            and total(m, "tornado_prefork_http_requests_total", code="4xx") == 1),
            "3 HTTP/2 GETs and one 431")
        assert total(m, "tornado_prefork_http_connections_total") == 4, m
