"""Supervision: crash respawn in the same slot, backoff, hung workers, kill -9 of a worker or of
the master, TTIN/TTOU, --max-requests (§9.9 rows 2, 3, 4, 14; §9.5)."""
import os
import signal
import time

import http_client
from prefork import (server, Server, Client, connect, body, get, wait_gone, server_processes,
                     cpu_ticks, read_after_response, timeout)


def _expect_no_response(conn, what):
    try:
        r = conn.read_response()
    except (http_client.Closed, OSError):
        return
    raise AssertionError("%s: got a response %r" % (what, r))


def test_crash_respawn_same_slot():
    with server(procs=2) as s:
        ws = s.wait_workers(2, gen=1)
        c = Client(s.port, conns=2, keepalive=False).start()
        try:
            assert c.wait_requests(3), "client got no responses: " + c.summary()
            victim = ws[0]
            s.mark()
            t0 = time.monotonic()
            os.kill(victim.pid, signal.SIGSEGV)
            w = s.wait_respawn(0, victim.pid, 1.0)
            assert w.gen == 1, w
            s.wait_log(r"worker\[0\] pid %d gen 1 exited on signal SIGSEGV" % victim.pid, 3)
            time.sleep(0.3)
            before = c.total("received")
            time.sleep(0.5)
            after = c.total("received")
        finally:
            c.stop()
        assert after > before, "requests stopped succeeding after the crash: " + c.summary()
        f = c.failures()
        late = [x for x in f if x[1] > t0 + 1.0 or x[1] < t0 - 0.05]
        assert len(f) <= 2 and not late, \
            "more failures than the requests in flight on the killed worker: " + c.summary()
        assert body(s.port) == "v1"


def test_crash_in_handler_logs_last_request():
    with server(procs=2) as s:
        s.wait_workers(2, gen=1)
        s.mark()
        conn = connect(s.port)
        conn.request("GET", "/crash")
        _expect_no_response(conn, "GET /crash")
        conn.close()
        m = s.wait_log(r"worker\[(\d+)\] pid (\d+) gen 1 exited on signal SIGSEGV"
                       r" \(last request: GET /crash\)", 3)
        slot, pid = int(m.group(1)), int(m.group(2))
        s.wait_respawn(slot, pid, 1.0)
        assert s.alive()
        assert body(s.port) == "v1"


@timeout(60)
def test_crash_loop_backoff():
    """Seven crashes in a row of the only worker: respawn immediately, then after 0.1, 0.2, 0.4,
    0.8, 1.6 and 3.2 s (+-20 % jitter, plus the boot); the master stays idle meanwhile. (The
    10 s cap would take 25 s more: not waited for.)"""
    with server(procs=1) as s:
        s.wait_workers(1, gen=1)
        delays = []
        ticks = None
        for i in range(7):
            conn = connect(s.port, timeout=10)
            conn.request("GET", "/crash")
            _expect_no_response(conn, "GET /crash #%d" % (i + 1))
            conn.close()
            t0 = time.monotonic()
            k0 = cpu_ticks(s.pid)
            r = get(s.port, "/pid", timeout=20)
            delays.append(time.monotonic() - t0)
            if i == 6:
                ticks = cpu_ticks(s.pid) - k0
            assert r.status == 200 and r.body.isdigit(), r
        shown = ", ".join("%.2f" % d for d in delays)
        assert delays[0] < 1.0, "first respawn not immediate: delays %s s" % shown
        for i in range(1, 7):
            nominal = 0.1 * 2 ** (i - 1)
            assert 0.75 * nominal - 0.01 <= delays[i] <= 1.25 * nominal + 0.6, \
                "respawn delay %d is %.2f s, expected %.1f s +-20%% (all: %s s)" % (
                    i + 1, delays[i], nominal, shown)
        assert ticks is not None and ticks <= 10, \
            "the master used %d clock ticks during a 3.2 s backoff" % ticks
        assert s.alive()
        n = s.log().count("exited on signal SIGSEGV")
        assert n == 7, "%d crash lines in the log for 7 crashes" % n


FORK_FAILED = r"worker\[%d\] cannot fork: Resource temporarily unavailable"
RESPAWN_IN = r"respawning worker\[%d\] in ([\d.]+) s"


def _check_retry_delays(s, slot, n):
    """The n retries after failed forks were logged with the slot's doubling backoff: 0.1, 0.2,
    0.4 s ... +-20 % (read from the log lines, whatever the machine's speed)."""
    delays = [float(m.group(1)) for m in s.wait_log_count(RESPAWN_IN % slot, n, 5)]
    for i, d in enumerate(delays[:n]):
        nominal = 0.1 * 2 ** i
        assert 0.8 * nominal - 0.05 <= d <= 1.2 * nominal + 0.05, \
            "retry %d of worker[%d] logged %.1f s, expected %.1f s +-20%% (all: %r)" % (
                i + 1, slot, d, nominal, delays)


@timeout(60)
def test_failed_respawn_fork_is_retried():
    """A crashed worker's respawn whose fork fails (the test hook TP_TEST_FAIL_FORKS=3: the next
    three forks fail with EAGAIN) is retried with the slot's backoff, and the slot has a worker
    again once fork works (before the fix the slot stayed empty for good)."""
    with server(procs=2, extra_env={"TP_TEST_FAIL_FORKS": "3"}) as s:
        ws = s.wait_workers(2, gen=1)
        victim = ws[0]
        s.mark()
        os.kill(victim.pid, signal.SIGKILL)
        s.wait_log(r"worker\[0\] pid %d gen 1 exited on signal SIGKILL" % victim.pid, 10)
        s.wait_log_count(FORK_FAILED % 0, 3, 30)
        nw = s.wait_respawn(0, victim.pid, 30)
        assert nw.gen == 1, nw
        ws = s.wait_workers(2, gen=1, timeout=30)
        _check_retry_delays(s, 0, 3)
        n = len(s.wait_log_count(FORK_FAILED % 0, 3, 1))
        assert n == 3, "%d failed forks logged for TP_TEST_FAIL_FORKS=3" % n
        pids = {w.pid for w in ws}
        seen = {int(body(s.port, "/pid")) for _ in range(20)}
        assert seen <= pids, "answers from pids %r, workers %r" % (seen, pids)


@timeout(60)
def test_failed_ttin_fork_is_retried():
    """TTIN adds a slot; when its fork fails (TP_TEST_FAIL_FORKS=2) the new slot is retried
    with backoff like a crashed one, not left empty."""
    with server(procs=1, extra_env={"TP_TEST_FAIL_FORKS": "2"}) as s:
        s.wait_workers(1, gen=1)
        s.mark()
        s.signal(signal.SIGTTIN)
        s.wait_log_count(FORK_FAILED % 1, 2, 30)
        s.wait_workers(2, gen=1, timeout=30)
        _check_retry_delays(s, 1, 2)
        assert body(s.port) == "v1"


@timeout(40)
def test_hung_worker_heartbeat_kill():
    with server("--worker-timeout=2", procs=1) as s:
        w = s.wait_workers(1, gen=1)[0]
        time.sleep(2.6)  # idle longer than the timeout: the idle heartbeat keeps it alive
        assert s.slot_pid(0) == w.pid and "missed its heartbeat" not in s.log(), \
            "an idle worker was declared hung"
        s.mark()
        conn = connect(s.port, timeout=15)
        conn.request("GET", "/spin")
        t0 = time.monotonic()
        s.wait_log(r"worker\[0\] pid %d missed its heartbeat" % w.pid, 8)
        dt = time.monotonic() - t0
        s.wait_log(r"worker\[0\] pid %d gen 1 exited on signal (SIGABRT|SIGKILL)" % w.pid, 10)
        assert 1.2 <= dt <= 4.5, "hung worker detected after %.1f s with --worker-timeout=2" % dt
        nw = s.wait_respawn(0, w.pid, 3)
        assert body(s.port, "/pid") == str(nw.pid)
        _expect_no_response(conn, "GET /spin")
        conn.close()


def test_kill9_worker_loses_only_its_requests():
    with server(procs=2) as s:
        ws = s.wait_workers(2, gen=1)
        ka = Client(s.port, conns=4, path="/pid", keepalive=True).start()
        fresh = Client(s.port, conns=2, path="/pid", keepalive=False).start()
        try:
            assert ka.wait_requests(5) and fresh.wait_requests(5), ka.summary()
            victim = ka.stats[0]["pid"]
            slot = [w.slot for w in ws if w.pid == victim]
            assert slot, "connection 0 talks to pid %r, not a worker %r" % (victim, ws)
            slot = slot[0]
            open_to_victim = sum(1 for st in ka.stats if st["pid"] == victim)
            t0 = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            nw = s.wait_respawn(slot, victim, 2.0)
            dt = time.monotonic() - t0
            time.sleep(0.5)
            mark = (ka.total("received"), fresh.total("received"))
            time.sleep(0.5)
        finally:
            ka.stop()
            fresh.stop()
        assert dt <= 2.0 and nw.gen == 1
        assert ka.total("received") > mark[0] and fresh.total("received") > mark[1], \
            "requests stopped after the kill: %s / %s" % (ka.summary(), fresh.summary())
        kf, ff = ka.failures(), fresh.failures()
        wrong = [f for f in kf if f[4] != victim]
        assert not wrong, "keep-alive connections to the surviving worker failed: " + ka.summary()
        per_thread = [len(st["failures"]) for st in ka.stats + fresh.stats]
        assert max(per_thread) <= 1, "a connection failed more than once: %s / %s" % (
            ka.summary(), fresh.summary())
        assert len(kf) <= open_to_victim and len(kf) + len(ff) <= open_to_victim + 2, \
            "%d + %d failed requests, the client had %d keep-alive connections to the killed " \
            "worker: %s / %s" % (len(kf), len(ff), open_to_victim, ka.summary(), fresh.summary())
        s.wait_log(r"worker\[%d\] pid %d gen 1 exited on signal SIGKILL" % (slot, victim), 2,
                   since=0)


def test_kill9_master_workers_exit():
    s = Server(procs=2)
    try:
        ws = s.wait_workers(2, gen=1)
        idle = connect(s.port)
        idle.request("GET", "/")
        assert idle.read_response().status == 200
        pids = [w.pid for w in ws]
        os.kill(s.pid, signal.SIGKILL)
        s.proc.wait(5)
        t0 = time.monotonic()
        left = wait_gone(pids, 5.0)
        assert not left, "workers %r still running %.1f s after kill -9 of the master" % (
            left, time.monotonic() - t0)
        rest = server_processes()
        assert not rest, "server processes left after kill -9 of the master: %r" % rest
        how = read_after_response(idle, 1.0)
        assert how != "open", "the idle keep-alive connection is still open"
        idle.close()
    finally:
        s.kill()


def test_ttin_ttou():
    with server(procs=2) as s:
        s.signal(signal.SIGTTIN)
        s.wait_workers(3, gen=1, timeout=5)
        assert body(s.port) == "v1"
        for n in (2, 1):
            s.signal(signal.SIGTTOU)
            s.wait_workers(n, gen=1, timeout=10)
        s.signal(signal.SIGTTOU)  # minimum 1
        time.sleep(1.0)
        s.wait_workers(1, gen=1, timeout=1)
        assert s.alive()
        assert body(s.port) == "v1"
        s.signal(signal.SIGTTIN)
        s.wait_workers(2, gen=1, timeout=5)


def test_max_requests_recycles_without_errors():
    with server("--max-requests=20", "--max-requests-jitter=5", procs=2) as s:
        first = {w.pid for w in s.wait_workers(2, gen=1)}
        c = Client(s.port, conns=2, path="/pid", keepalive=True).start()
        try:
            deadline = time.monotonic() + 20
            while c.total("received") < 150 and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            c.stop()
        c.check_clean()
        assert c.total("received") >= 150, c.summary()
        counts = {}
        for st in c.stats:
            for pid, n in st["pids"].items():
                counts[pid] = counts.get(pid, 0) + n
        assert len(counts) >= 3, "no worker was replaced after 150 requests with " \
            "--max-requests=20: responses per pid %r" % counts
        ws = s.wait_workers(2, gen=1, timeout=10)
        final = {w.pid for w in ws}
        assert final != first
        early = {p: n for p, n in counts.items() if p not in final and n < 20}
        assert not early, "workers recycled before 20 requests: %r" % early
