"""Traffic: wrk through 20 reloads (the acceptance bar, §9.9 row 8), connection distribution
(row 16, informative), unix sockets."""
import collections
import os
import shutil
import tempfile
import time

import testrun
from prefork import (server, Client, UnixConn, body, listen_inodes, socket_fds, wrk,
                     wrk_stop_clean, slow, timeout)


def _wrk_through_reloads(flags=(), procs=2, pipeline=0):
    """wrk (64 connections) through 20 reloads about a second apart: no socket error and no
    non-2xx answer. Each reload is waited for (its "generation G serving" line), and the next
    HUP waits until at most one older generation is still draining, so all 20 happen however
    slow the machine is; wrk runs until 2 s after the last one, then SIGINT makes it stop and
    print its results."""
    with server(*flags, procs=procs) as s:
        s.wait_workers(procs, gen=1)
        p = wrk(s.port, seconds=900, conns=64, threads=2, pipeline=pipeline)
        v = "v1"
        try:
            time.sleep(2)  # pacing: traffic before the first reload
            for _ in range(20):
                v = "v2" if v == "v1" else "v1"
                testrun.wait_until(lambda: len({w.gen for w in s.workers()}) <= 2, 60,
                                   lambda: "at most one old generation draining (workers %r)"
                                   % s.workers())
                s.swap_app("app_%s.so" % v)
                s.hup()
                time.sleep(1.0)  # pacing
            time.sleep(2)  # traffic after the last reload
        finally:
            out, n = wrk_stop_clean(p, "through 20 reloads", 1000)
        log = s.log()
        assert "reload failed" not in log, s.log_tail()
        # a healthy worker aborted for a "missed" heartbeat resets its connections (the
        # master once read the beat after its clock and the difference wrapped)
        assert "missed its heartbeat" not in log, s.log_tail()
        assert s.alive()
        assert s.gen() == 21, "%d generations for 20 reloads" % s.gen()
        s.settle()
        testrun.wait_until(lambda: body(s.port) == v, 60, "the last reload (%s) served" % v)
        print("     wrk: %s requests, %d generations, %s" % (
            n, s.gen(), " ".join(ln.strip() for ln in out.splitlines()
                                          if "Requests/sec" in ln)), flush=True)


@slow
@timeout(600)
def test_wrk_20_reloads():
    _wrk_through_reloads()


@slow
@timeout(600)
def test_wrk_20_reloads_reuseport():
    _wrk_through_reloads(("--reuseport",))


@slow
@timeout(600)
def test_wrk_20_reloads_pipelined():
    _wrk_through_reloads(pipeline=16)


@slow
@timeout(600)
def test_wrk_20_reloads_procs1():
    _wrk_through_reloads(procs=1)


def _distribution(flags):
    with server(*flags, procs=2) as s:
        ws = s.wait_workers(2, gen=1)
        counts = collections.Counter()
        for _ in range(400):
            counts[int(body(s.port, "/pid"))] += 1
        pids = {w.pid for w in ws}
        assert set(counts) <= pids, "answers from unknown pids: %r (workers %r)" % (counts, ws)
        print("     400 connections per worker: %s" % ", ".join(
            "worker[%d] %d" % (w.slot, counts[w.pid]) for w in ws), flush=True)
        assert all(counts[w.pid] >= 1 for w in ws), \
            "a worker got none of 400 connections: %r" % dict(counts)


def test_distribution_shared_listener():
    _distribution(())


def test_distribution_reuseport():
    with server("--reuseport", procs=2) as s:
        ws = s.wait_workers(2, gen=1)
        listeners = listen_inodes(s.port)
        held = {ino for _, ino in socket_fds(s.pid)}
        assert listeners and listeners <= held, \
            "the master does not hold every SO_REUSEPORT listener: %r, master sockets %r" % (
                listeners, held)
        counts = collections.Counter(int(body(s.port, "/pid")) for _ in range(400))
        print("     400 connections per worker (reuseport): %s" % ", ".join(
            "worker[%d] %d" % (w.slot, counts[w.pid]) for w in ws), flush=True)
        assert all(counts[w.pid] >= 1 for w in ws), dict(counts)
        s.reload("app_v2.so")
        s.settle()
        assert listen_inodes(s.port) == listeners, "a reload changed the listeners"


def test_unix_socket():
    d = tempfile.mkdtemp(prefix="tp-prefork-unix-")
    path = os.path.join(d, "s.sock")
    try:
        with server("--unix-socket=" + path, procs=2) as s:
            with UnixConn(path) as c:
                c.request("GET", "/")
                r = c.read_response()
                assert r.status == 200 and r.body == b"v1", r
            assert body(s.port) == "v1"  # TCP still served too
            cl = Client(None, conns=2, unix=path).start()
            try:
                assert cl.wait_requests(2), cl.summary()
                s.reload("app_v2.so")
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    with UnixConn(path) as c:
                        c.request("GET", "/")
                        if c.read_response().body == b"v2":
                            break
                    time.sleep(0.02)
                else:
                    raise AssertionError("the unix socket still serves v1 60 s after the reload")
                cl.wait_progress(2)
            finally:
                cl.stop()
            cl.check_clean()
    finally:
        shutil.rmtree(d, ignore_errors=True)
