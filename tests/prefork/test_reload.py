"""Reloads (SIGHUP, the reload command, autoreload): happy path, rollback of every broken app,
in-place overwrite, HUP storms, keep-alive drain, a strict client through 20 reloads, fd hygiene,
200 reloads without leaks (§9.9 rows 5, 6, 7, 9, 10, 11, 15, 18; §9.4)."""
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from prefork import (server, Server, Client, connect, body, app_path, app_mappings, binary,
                     fd_targets, socket_fds, listen_inodes, vm_rss_kb, wait_gone, run_cmd, spawn,
                     read_after_response, SERVING, FAILED, slow, timeout)


def wait_body(port, want, timeout=5.0):
    """Polls GET / until it answers want (an old worker may still take a connection or two
    before it handles DRAIN); returns the seconds it took."""
    t0 = time.monotonic()
    last = None
    while time.monotonic() - t0 < timeout:
        last = body(port)
        if last == want:
            return time.monotonic() - t0
        time.sleep(0.01)
    raise AssertionError("GET / still answers %r after %.1f s, expected %r" % (last, timeout, want))


def test_reload_happy_path():
    with server(procs=2) as s:
        old = s.wait_workers(2, gen=1)
        maps = {}
        for w in old:
            maps.update(app_mappings(w.pid))
        assert maps, "no app mapping found in the gen-1 workers' maps"
        snap_dirs = {os.path.dirname(p) for p in maps.values() if p.startswith("/")
                     and not p.endswith("(deleted)")}
        direct = [p for p in maps.values() if p.replace(" (deleted)", "") == s.app]
        assert not direct, "workers map APP.so itself, not a per-generation snapshot: %r" % direct
        c = Client(s.port, conns=2).start()
        try:
            s.swap_app("app_v2.so")
            g = s.hup(timeout=30)
            assert g == 2, "first reload logged generation %d" % g
            wait_body(s.port, "v2", 5)
            left = wait_gone([w.pid for w in old], 8)
            assert not left, "generation-1 workers %r still running 8 s after the reload" % left
            new = s.wait_workers(2, gen=2, timeout=3)
            for _ in range(10):
                assert body(s.port) == "v2"
        finally:
            c.stop()
        c.check_clean()
        # The generation-1 snapshot is gone: not on disk, not held by the master, not mapped
        # by the new workers.
        new_maps = {}
        for w in new:
            new_maps.update(app_mappings(w.pid))
        held = set()
        for fd in fd_targets(s.pid):
            try:
                st = os.stat("/proc/%d/fd/%d" % (s.pid, fd))
                held.add((st.st_dev, st.st_ino))
            except OSError:
                pass
        deadline = time.monotonic() + 3
        while True:
            problems = []
            for key, path in maps.items():
                if key in new_maps:
                    problems.append("generation 2 maps the generation-1 snapshot %s" % path)
                if key in held:
                    problems.append("the master still holds the generation-1 snapshot %s" % path)
                p = path.replace(" (deleted)", "")
                if not path.endswith("(deleted)") and not p.startswith("/memfd:") \
                        and os.path.exists(p) and os.stat(p).st_ino == key[1]:
                    problems.append("the generation-1 snapshot %s still exists" % p)
            if not problems or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert not problems, "; ".join(problems)
    # After a graceful stop no snapshot is left behind.
    left = [os.path.join(d, f) for d in snap_dirs if os.path.isdir(d) for f in os.listdir(d)]
    assert not left, "snapshots left after the server stopped: %r" % left


ROLLBACK_APPS = ["not_elf", "missing", "broken_no_symbol", "broken_abi", "broken_init_fails",
                 "broken_init_crashes", "broken_init_hangs"]


def _rollback_test(name):
    def test():
        with server("--boot-timeout=2", procs=2) as s:
            old = s.wait_workers(2, gen=1)
            ka = Client(s.port, conns=2, accept=(b"v1",)).start()
            fresh = Client(s.port, conns=1, keepalive=False, accept=(b"v1",)).start()
            try:
                assert ka.wait_requests(2) and fresh.wait_requests(2), ka.summary()
                s.swap_app(None if name == "missing" else name + ".so")
                t0 = time.monotonic()
                m = s.hup_expect_failure(timeout=15)
                dt = time.monotonic() - t0
                stage, reason, gen = m.group(1), m.group(2), m.group(3)
                assert gen == "1" and stage.strip() and reason.strip(), m.group(0)
                assert s.alive(), "the master exited after a failed reload"
                ws = s.wait_workers(2, gen=1, timeout=5)
                assert {w.pid for w in ws} == {w.pid for w in old}, \
                    "generation-1 workers changed during the failed reload: %r -> %r" % (old, ws)
                time.sleep(0.3)
            finally:
                ka.stop()
                fresh.stop()
            ka.check_clean()
            fresh.check_clean()
            if name == "broken_init_hangs":
                assert dt >= 1.5, "reload failed after %.1f s with --boot-timeout=2" % dt
            assert body(s.port) == "v1"
            s.swap_app("app_v2.so")
            g = s.hup(timeout=15)
            assert g >= 2, g
            wait_body(s.port, "v2", 5)
            s.settle()
    test.__name__ = "test_reload_rollback_" + name
    return test


for _n in ROLLBACK_APPS:
    globals()["test_reload_rollback_" + _n] = _rollback_test(_n)
del _n


def test_reload_in_place_overwrite():
    with server(procs=2) as s:
        old = s.wait_workers(2, gen=1)
        c = Client(s.port, conns=2, accept=(b"v1",)).start()
        try:
            assert c.wait_requests(2), c.summary()
            ino = os.stat(s.app).st_ino
            s.mark()
            shutil.copyfile(app_path("app_v2.so"), s.app)  # cp: same inode, rewritten in place
            assert os.stat(s.app).st_ino == ino
            time.sleep(0.5)
        finally:
            c.stop()
        c.check_clean()
        assert "exited" not in s.log()[s.log_mark:], s.log()[s.log_mark:]
        assert [w.pid for w in s.wait_workers(2, gen=1)] == [w.pid for w in old]
        # Respawns of generation 1 load its snapshot, not the overwritten file.
        for w in old:
            os.kill(w.pid, signal.SIGSEGV)
            s.wait_respawn(w.slot, w.pid, 2)
        s.wait_workers(2, gen=1)
        for _ in range(20):
            assert body(s.port) == "v1", "a respawned generation-1 worker serves the new file"
        g = s.hup()
        wait_body(s.port, "v2", 5)
        s.wait_workers(2, gen=g)


def _sampler(s, stop, out):
    while not stop.is_set():
        out.append(len(s.children()))
        time.sleep(0.002)


@timeout(60)
def test_hup_storm_coalesced():
    with server(procs=2) as s:
        s.wait_workers(2, gen=1)
        stop = threading.Event()
        counts = []
        th = threading.Thread(target=_sampler, args=(s, stop, counts), daemon=True)
        th.start()
        try:
            # 20 HUPs back to back (well within 100 ms): at most two reloads.
            s.swap_app("app_v2.so")
            mark = s.mark()
            for _ in range(20):
                s.signal(signal.SIGHUP)
            s.wait_log(SERVING.pattern, 15)
            time.sleep(1.5)
            s.settle()
            time.sleep(0.5)
            gens = [int(m.group(1)) for m in SERVING.finditer(s.log()[mark:])]
            assert 1 <= len(gens) <= 2, "20 HUPs within 100 ms ran %d reloads %r" % (len(gens),
                                                                                      gens)
            assert body(s.port) == "v2"
            # 20 HUPs 5 ms apart, app.so replaced after the 10th: the last HUP is never lost.
            s.swap_app("app_v1.so")
            mark = s.mark()
            for i in range(20):
                s.signal(signal.SIGHUP)
                if i == 9:
                    s.swap_app("app_v2.so")
                time.sleep(0.005)
            s.wait_log(SERVING.pattern, 15)
            deadline = time.monotonic() + 20
            last = None
            while time.monotonic() < deadline:  # until no new generation for 1.5 s
                n = len(SERVING.findall(s.log()[mark:]))
                if n == last:
                    break
                last = n
                time.sleep(1.5)
            ws = s.settle()
            assert "reload failed" not in s.log(), s.log_tail()
            wait_body(s.port, "v2", 3)
        finally:
            stop.set()
            th.join(2)
        assert max(counts) <= 3 * 2, \
            "the master had %d children at once with --procs=2 (limit 3N)" % max(counts)
        assert all(w.gen == s.gen() for w in ws)


def test_keepalive_drain_connection_close_and_fin():
    with server(procs=2) as s:
        old = s.wait_workers(2, gen=1)
        a = connect(s.port)
        a.request("GET", "/")
        r = a.read_response()
        assert r.body == b"v1" and (r.header("Connection") or "").lower() != "close", r
        b = connect(s.port)
        b.request("GET", "/")
        assert b.read_response().body == b"v1"
        inflight = connect(s.port, timeout=10)
        inflight.request("GET", "/sleep?s=2")
        time.sleep(0.2)
        s.swap_app("app_v2.so")
        s.hup()
        # The next request on the keep-alive connection: answered (by the old code), with
        # Connection: close, then a clean FIN.
        a.request("GET", "/")
        r = a.read_response()
        assert r.status == 200 and r.body == b"v1", r
        assert (r.header("Connection") or "").lower() == "close", \
            "no Connection: close on a draining worker's response: %r" % r
        how = read_after_response(a, 5)
        a.close()
        assert how == "fin", "after the Connection: close response: %s" % how
        # The request in flight across the reload finishes.
        r = inflight.read_response()
        inflight.close()
        assert r.status == 200 and r.body == b"slept", r
        # The idle keep-alive connection is closed with a FIN, not a reset.
        how = read_after_response(b, 8)
        b.close()
        assert how == "fin", "idle keep-alive connection of a draining worker: %s" % how
        left = wait_gone([w.pid for w in old], 8)
        assert not left, "old workers %r still running" % left
        assert body(s.port) == "v2"


def _strict_client(flags, procs):
    with server(*flags, procs=procs) as s:
        s.wait_workers(procs, gen=1)
        c = Client(s.port, conns=8).start()
        try:
            assert c.wait_requests(3), c.summary()
            v = "v1"
            for i in range(20):
                v = "v2" if v == "v1" else "v1"
                s.reload("app_%s.so" % v)
                time.sleep(0.2)
            time.sleep(0.5)
        finally:
            c.stop()
        c.check_clean()
        assert c.total("closes") >= 20, \
            "keep-alive connections were not drained with Connection: close: " + c.summary()
        assert body(s.port) == v
        s.settle()


@timeout(90)
def test_strict_client_20_hups():
    _strict_client((), 2)


@timeout(90)
def test_strict_client_20_hups_reuseport_procs1():
    _strict_client(("--reuseport",), 1)


def _listener_check(s, listeners):
    problems = []
    msocks = {ino for _, ino in socket_fds(s.pid)}
    if not listeners <= msocks:
        problems.append("the master does not hold the listening sockets %r" % (listeners - msocks))
    for w in s.workers():
        other = [(fd, ino) for fd, ino in socket_fds(w.pid) if ino not in listeners]
        if len(other) != 1:
            problems.append("worker[%d] pid %d holds %d sockets besides the listeners: %r"
                            % (w.slot, w.pid, len(other), other))
    return problems


@timeout(90)
def test_fd_hygiene_and_listener_after_20_reloads():
    with server(procs=2) as s:
        listeners = listen_inodes(s.port)
        assert listeners, "no listening socket on port %d in /proc/net/tcp" % s.port
        assert not _listener_check(s, listeners), _listener_check(s, listeners)
        v = "v1"
        for i in range(20):
            v = "v2" if v == "v1" else "v1"
            s.reload("app_%s.so" % v)
            if i == 1:
                s.settle()
                time.sleep(0.3)
                base = fd_targets(s.pid)
        s.settle()
        deadline = time.monotonic() + 3
        while True:
            now = fd_targets(s.pid)
            problems = _listener_check(s, listeners)
            if (len(now) == len(base) and not problems) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert listen_inodes(s.port) == listeners, \
            "the listening socket changed: %r -> %r" % (listeners, listen_inodes(s.port))
        assert len(now) == len(base), "master fds after reload 2: %d, after reload 20: %d; " \
            "new: %r" % (len(base), len(now), sorted(set(now.values()) - set(base.values())))
        assert not problems, "; ".join(problems)
        assert body(s.port) == v


@slow
@timeout(300)
def test_200_reloads_no_fd_or_memory_leak():
    with server(procs=2) as s:
        v = "v1"
        for i in range(200):
            v = "v2" if v == "v1" else "v1"
            s.reload("app_%s.so" % v, timeout=20)
            if i == 9:
                s.settle(timeout=20)
                time.sleep(0.3)
                base = fd_targets(s.pid)
                rss0 = vm_rss_kb(s.pid)
        s.settle(timeout=20)
        deadline = time.monotonic() + 3
        while True:
            now = fd_targets(s.pid)
            if len(now) == len(base) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        rss = vm_rss_kb(s.pid)
        assert len(now) == len(base), "master fds after 10 reloads: %d, after 200: %d; new: %r" % (
            len(base), len(now), sorted(set(now.values()) - set(base.values()))[:20])
        assert rss <= rss0 + 512, "master VmRSS after 10 reloads %d KiB, after 200: %d KiB" % (
            rss0, rss)
        assert body(s.port) == v
        assert s.gen() >= 201, "only %d generations for 200 reloads" % s.gen()


@timeout(60)
def test_autoreload():
    with server("--autoreload", procs=2) as s:
        s.wait_workers(2, gen=1)
        ka = Client(s.port, conns=2).start()
        fresh = Client(s.port, conns=1, keepalive=False).start()
        try:
            assert ka.wait_requests(2) and fresh.wait_requests(2), ka.summary()
            s.mark()
            s.swap_app("app_v2.so")
            s.wait_log(SERVING.pattern, 10, fail_regex=FAILED.pattern)
            wait_body(s.port, "v2", 5)
            s.mark()
            s.swap_app("broken_init_fails.so")
            s.wait_log(FAILED.pattern, 10, fail_regex=SERVING.pattern)
            time.sleep(0.3)
            for _ in range(5):
                assert body(s.port) == "v2", "the broken build replaced the good one"
            s.mark()
            s.swap_app("app_v1.so")
            s.wait_log(SERVING.pattern, 10, fail_regex=FAILED.pattern)
            wait_body(s.port, "v1", 5)
            time.sleep(0.3)
        finally:
            ka.stop()
            fresh.stop()
        ka.check_clean()
        fresh.check_clean()
        s.settle()


def test_autoreload_watch_path():
    d = tempfile.mkdtemp(prefix="tp-prefork-watch-")
    watched = os.path.join(d, "settings.txt")
    with open(watched, "w") as f:
        f.write("one\n")
    try:
        with server("--autoreload", "--watch=" + watched, procs=2) as s:
            s.wait_workers(2, gen=1)
            time.sleep(0.3)
            s.mark()
            tmp = os.path.join(d, "settings.tmp")
            with open(tmp, "w") as f:
                f.write("two\n")
            os.rename(tmp, watched)
            g = int(s.wait_log(SERVING.pattern, 10, fail_regex=FAILED.pattern).group(1))
            assert g == 2
            s.settle()
    finally:
        shutil.rmtree(d, ignore_errors=True)


@timeout(60)
def test_cli_status_reload_stop():
    s = Server(procs=2)
    try:
        ws = s.wait_workers(2, gen=1)
        for _ in range(6):
            body(s.port)
        deadline = time.monotonic() + 2.5  # the counters may lag by a heartbeat (1 s)
        while True:
            rc, out, err = run_cmd([binary(), "status", "--pid-file=" + s.pid_file], timeout=5)
            assert rc == 0, "status exit %r: %r" % (rc, err)
            lines = [ln for ln in out.splitlines() if ln.strip()]
            assert lines and lines[0].split() == ["slot", "pid", "gen", "uptime", "requests",
                                                  "connections"], "status header: %r" % lines[:1]
            rows = [ln.split() for ln in lines[1:]]
            assert len(rows) == 2 and all(len(r) == 6 for r in rows), "status rows: %r" % rows
            try:
                got = sorted((int(r[0]), int(r[1]), int(r[2])) for r in rows)
                reqs = [int(r[4]) for r in rows]
                conns = [int(r[5]) for r in rows]
            except ValueError:
                raise AssertionError("status fields are not numbers: %r" % rows)
            assert got == sorted((w.slot, w.pid, w.gen) for w in ws), (got, ws)
            if sum(reqs) >= 6 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert sum(reqs) >= 6 and min(conns) >= 0, \
            "status rows 2.5 s after 6 requests: %r" % rows

        s.swap_app("app_v2.so")
        s.mark()
        rc, out, err = run_cmd([binary(), "reload", "--pid-file=" + s.pid_file], timeout=20)
        assert rc == 0, "reload exit %r: %r" % (rc, err)
        s.wait_log(SERVING.pattern, 15, fail_regex=FAILED.pattern)
        wait_body(s.port, "v2", 5)
        s.settle()

        pids = s.tree()
        stopper = spawn([binary(), "stop", "--pid-file=" + s.pid_file], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        master_done = None
        while time.monotonic() < deadline:
            s.proc.poll()  # reaps the master (the runner is its parent)
            if stopper.poll() is not None:
                master_done = s.proc.poll() is not None
                break
            time.sleep(0.005)
        out, err = stopper.communicate(timeout=5)
        assert stopper.returncode == 0, "stop exit %r: %r" % (stopper.returncode, err)
        assert master_done, "stop returned before the master exited"
        assert s.proc.returncode == 0, "master exit %r after stop" % s.proc.returncode
        left = wait_gone(pids[1:], 2)
        assert not left, "workers left after stop: %r" % left

        rc, out, err = run_cmd([binary(), "status", "--pid-file=" + s.pid_file], timeout=5)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert rc == 1 and len(lines) == 1 and lines[0].startswith("error:"), \
            "status without a server: exit %r, stderr %r" % (rc, err)
        rc, out, err = run_cmd([binary(), "status", "--pid-file=" + s.pid_file + ".none"],
                               timeout=5)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert rc == 1 and len(lines) == 1 and lines[0].startswith("error:"), \
            "status with a missing pid file: exit %r, stderr %r" % (rc, err)
    finally:
        s.kill()
