"""Publish/subscribe across the workers of a host (relayed by the master) and across hosts
through Redis (--pubsub=redis://HOST:PORT), with tests/apps/pubsub_app.c: GET /sub?ch=X&n=N
sends its head once subscribed (X-Worker-Pid names the worker), then one chunk per message;
POST /pub?ch=X publishes the body. Nothing here waits for a fixed time: each step waits for
its condition with a generous deadline."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import http_client
import testrun
from prefork import server, spawn, kill_tree, connect, timeout

APP = "pubsub_app.so"
DEADLINE = 60.0


# -- HTTP helpers --------------------------------------------------------------------------------

class Sub:
    """A long-poll subscriber: its head arrived, so the subscription exists in worker pid."""

    def __init__(self, port, ch, n=1):
        self.conn = connect(port, timeout=DEADLINE)
        self.conn.request("GET", "/sub?ch=%s&n=%d" % (ch, n))
        _, status, _, headers, _ = self.conn.read_head()
        assert status == 200, "GET /sub: status %d" % status
        self.pid = int(dict((k.lower(), v) for k, v in headers)["x-worker-pid"])

    def messages(self):
        """The n messages (bytes), once the response ended."""
        chunks, _ = self.conn.read_chunked()
        return b"".join(chunks).split(b"\n")[:-1]

    def close(self):
        self.conn.close()


def subs_on_every_worker(port, ch, pids, n=1):
    """One subscriber on every pid in pids: connections are opened until each worker has
    accepted one (whichever worker accepts is the kernel's choice, uneven under load), and
    those landing on a worker that has one already are closed, so only the deadline bounds
    the tries. All those returned must get the messages."""
    subs = {}
    deadline = time.monotonic() + DEADLINE
    while not set(pids) <= set(subs):
        assert time.monotonic() < deadline, \
            "subscribers reached workers %r of %r" % (sorted(subs), sorted(pids))
        s = Sub(port, ch, n)
        if s.pid in subs:
            s.close()
        else:
            subs[s.pid] = s
    return list(subs.values())


def conn_on(port, pid):
    """A keep-alive connection served by worker pid."""
    deadline = time.monotonic() + DEADLINE
    while True:
        assert time.monotonic() < deadline, "no connection reached worker %d" % pid
        c = connect(port)
        c.request("GET", "/pid")
        r = c.read_response()
        if r.status == 200 and int(r.body) == pid:
            return c
        c.close()


def publish(port, ch, body, count=1, conn=None):
    """POST /pub; returns the publishing worker's pid."""
    c = conn or connect(port)
    try:
        c.request("POST", "/pub?ch=%s&count=%d" % (ch, count), body=body)
        r = c.read_response()
    finally:
        if conn is None:
            c.close()
    assert r.status == 200 and r.body == b"ok", "POST /pub: %r" % r
    return int(r.header("X-Worker-Pid"))


def check_all_get(subs, want):
    for s in subs:
        got = s.messages()
        assert got == want, "subscriber in worker %d got %r, want %r" % (s.pid, got[:5], want[:5])
        s.close()


def pids_of(ws):
    return [w.pid for w in ws]


# -- one host: the master relay -------------------------------------------------------------------

def _every_worker_reaches_every_worker(procs):
    with server(app=APP, procs=procs) as s:
        ws = s.wait_workers(procs, gen=1)
        for k, publisher in enumerate(ws):
            subs = subs_on_every_worker(s.port, "all", pids_of(ws))
            c = conn_on(s.port, publisher.pid)
            assert publish(s.port, "all", b"from-%d" % k, conn=c) == publisher.pid
            c.close()
            check_all_get(subs, [b"from-%d" % k])
        stats = http_client.get(s.port, "/stats").body.decode()
        assert "transport=master" in stats, stats


def test_every_worker_reaches_every_worker_2():
    _every_worker_reaches_every_worker(2)


def test_every_worker_reaches_every_worker_4():
    _every_worker_reaches_every_worker(4)


def _order_kept(procs):
    """200 messages of one publisher (100 in one request, then 100 requests, all on one
    keep-alive connection: one worker) arrive in order at subscribers in every worker. (Two
    workers are two publishers: their messages may interleave in any order.)"""
    with server(app=APP, procs=procs) as s:
        ws = s.wait_workers(procs, gen=1)
        subs = subs_on_every_worker(s.port, "seq", pids_of(ws), n=200)
        c = connect(s.port)
        publisher = publish(s.port, "seq", b"a", count=100, conn=c)
        for i in range(100):
            assert publish(s.port, "seq", b"b-%d" % i, conn=c) == publisher
        c.close()
        check_all_get(subs, [b"a-%d" % i for i in range(100)] + [b"b-%d" % i for i in range(100)])


def test_order_of_one_publisher_2():
    _order_kept(2)


def test_order_of_one_publisher_4():
    _order_kept(4)


def test_unknown_channel_and_bad_names():
    with server(app=APP, procs=2) as s:
        s.wait_workers(2, gen=1)
        publish(s.port, "nobody-listens", b"x")
        c = connect(s.port)
        c.request("GET", "/sub?ch=" + "x" * 256)
        assert c.read_response().status == 400
        c.close()
        sub = Sub(s.port, "after")
        publish(s.port, "after", b"still working")
        check_all_get([sub], [b"still working"])


@timeout(240)
def test_reload_keeps_pubsub_across_generations():
    """A subscriber in a draining gen-1 worker and subscribers in every gen-2 worker get a
    message published after the reload; then only gen 2 is left, and it still works."""
    with server("--shutdown-timeout=120", app=APP, procs=2) as s:
        ws1 = s.wait_workers(2, gen=1)
        old = Sub(s.port, "gen")
        assert old.pid in pids_of(ws1)
        assert s.reload(APP) == 2
        testrun.wait_until(lambda: len([w for w in s.workers() if w.gen == 2]) == 2, DEADLINE,
                           "two gen-2 workers")
        ws2 = [w for w in s.workers() if w.gen == 2]
        subs = subs_on_every_worker(s.port, "gen", pids_of(ws2))
        publish(s.port, "gen", b"after-reload")
        check_all_get([old] + subs, [b"after-reload"])
        ws = s.settle(2)
        subs = subs_on_every_worker(s.port, "gen", pids_of(ws))
        publish(s.port, "gen", b"settled")
        check_all_get(subs, [b"settled"])


def test_respawned_worker_rejoins():
    with server(app=APP, procs=2) as s:
        ws = s.wait_workers(2, gen=1)
        victim = ws[0]
        os.kill(victim.pid, signal.SIGSEGV)
        new = s.wait_respawn(victim.slot, victim.pid, DEADLINE)
        ws = s.wait_workers(2, gen=1)
        assert new.pid in pids_of(ws)
        # The new worker receives...
        subs = subs_on_every_worker(s.port, "re", pids_of(ws))
        publish(s.port, "re", b"to-all")
        check_all_get(subs, [b"to-all"])
        # ...and publishes to every worker.
        subs = subs_on_every_worker(s.port, "re", pids_of(ws))
        c = conn_on(s.port, new.pid)
        assert publish(s.port, "re", b"from-new", conn=c) == new.pid
        c.close()
        check_all_get(subs, [b"from-new"])


@timeout(240)
def test_stopped_worker_gets_drops_not_the_others():
    """A worker that reads nothing (SIGSTOP) fills its 64 MiB queue in the master; what no
    longer fits is dropped for it alone (logged with a count), and the other worker's
    subscribers go on getting every message."""
    with server(app=APP, procs=2) as s:
        slow, fast = s.wait_workers(2, gen=1)
        subs = subs_on_every_worker(s.port, "end", [slow.pid, fast.pid])
        for x in subs:
            if x.pid == slow.pid:
                x.close()
        subs = [x for x in subs if x.pid == fast.pid]
        c = conn_on(s.port, fast.pid)
        s.mark()
        os.kill(slow.pid, signal.SIGSTOP)
        try:
            body = b"x" * (1 << 20)
            for _ in range(80):  # 80 MiB: more than the stopped worker's queue holds
                publish(s.port, "big", body, conn=c)
            publish(s.port, "end", b"done", conn=c)
            check_all_get(subs, [b"done"])
            s.wait_log(r"pubsub: worker\[%d\] pid %d reads too slowly: \d+ message\(s\) "
                       r"dropped for it" % (slow.slot, slow.pid), timeout=DEADLINE)
        finally:
            os.kill(slow.pid, signal.SIGCONT)
            c.close()
        # Once it reads again, it gets what came after.
        subs = subs_on_every_worker(s.port, "again", [slow.pid, fast.pid])
        publish(s.port, "again", b"back")
        check_all_get(subs, [b"back"])


def test_bad_pubsub_url_is_refused():
    from prefork import start_fails, app_path
    for url in ("http://127.0.0.1:6379", "redis://127.0.0.1", "redis://:1", "redis://h:99999"):
        rc, lines, _, _ = start_fails(["--pubsub=" + url, "--port=0", app_path(APP)])
        assert rc != 0 and len(lines) == 1 and "expected redis://HOST:PORT" in lines[0], \
            (url, rc, lines)


# -- hosts through Redis ----------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def resp(port, *args, lines=1, timeout=10.0):
    """One Redis command; the reply, once it has `lines` CRLF-ended lines."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as c:
        c.sendall(b"*%d\r\n" % len(args) +
                  b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
        data = b""
        while data.count(b"\r\n") < lines:
            more = c.recv(65536)
            if not more:
                break
            data += more
        return data


class Redis:
    """redis-server on a free port, in a temp dir, without persistence."""

    def __init__(self):
        if not shutil.which("redis-server"):
            raise AssertionError("redis-server is not installed (tools/deps.sh --test)")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="tp-redis-")
        self.proc = None

    def start(self):
        self.proc = spawn(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                           "--save", "", "--appendonly", "no", "--dir", self.dir],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        testrun.wait_until(self._pong, DEADLINE, "redis-server answering PING")
        return self

    def _pong(self):
        try:
            return resp(self.port, b"PING").startswith(b"+PONG")
        except OSError:
            return False

    def numsub(self, ch):
        reply = resp(self.port, b"PUBSUB", b"NUMSUB", ch, lines=4)  # *2 $n ch :N
        return int(reply.split(b"\r\n")[-2][1:])

    def kill(self):
        if self.proc is not None:
            kill_tree(self.proc.pid, popen=self.proc)
            self.proc = None

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


CONNECTED = r"pubsub: (re)?connected to redis 127\.0\.0\.1:\d+ \(subscribe\)"


@timeout(240)
def test_redis_between_two_hosts():
    r = Redis().start()
    try:
        url = "--pubsub=redis://127.0.0.1:%d" % r.port
        with server(url, app=APP, procs=2) as a, server(url, app=APP, procs=2) as b:
            for s in (a, b):
                s.wait_workers(2, gen=1)
                s.wait_log_count(CONNECTED, 2, timeout=DEADLINE)
            assert "transport=redis" in http_client.get(a.port, "/stats").body.decode()
            # A subscriber on each host; both messages arrive once each, in order.
            sb, sa = Sub(b.port, "x", n=2), Sub(a.port, "x", n=2)
            testrun.wait_until(lambda: r.numsub(b"x") >= 2, DEADLINE, "2 Redis subscribers")
            publish(a.port, "x", b"one")
            publish(a.port, "x", b"two")
            check_all_get([sb, sa], [b"one", b"two"])

            # Redis goes away and comes back: every worker reconnects and resubscribes.
            held = Sub(b.port, "y")
            testrun.wait_until(lambda: r.numsub(b"y") >= 1, DEADLINE, "a Redis subscriber")
            a.mark()
            b.mark()
            r.kill()
            for s in (a, b):
                s.wait_log(r"pubsub: redis 127\.0\.0\.1:\d+ \(subscribe\): .*reconnecting in",
                           timeout=DEADLINE)
            r.start()
            for s in (a, b):
                s.wait_log_count(r"pubsub: reconnected to redis 127\.0\.0\.1:\d+ \(subscribe\)",
                                 2, timeout=DEADLINE)
                s.wait_log_count(r"pubsub: reconnected to redis 127\.0\.0\.1:\d+ \(publish\)",
                                 2, timeout=DEADLINE)
            testrun.wait_until(lambda: r.numsub(b"y") >= 1, DEADLINE, "resubscribed in Redis")
            publish(a.port, "y", b"after-restart")
            check_all_get([held], [b"after-restart"])
    finally:
        r.cleanup()
