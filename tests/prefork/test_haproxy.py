"""Debian's haproxy in front of two tornado-prefork instances with --proxy-protocol (the way
users scale past one machine): one frontend sends the PROXY header v1 (send-proxy), the other
v2 (send-proxy-v2). Requests balance over both instances, the app sees the client's address
(the client connects to haproxy from 127.0.0.2, haproxy to the instances from 127.0.0.1), and a
graceful stop (TERM) of one instance while clients keep sending loses no request. The haproxy
configuration is the one docs/proxy-protocol.md recommends."""
import os
import shutil
import socket
import tempfile
import threading
import time

import http_client
import testrun
from portfile import reserved_port
from prefork import Server, spawn, kill_tree, timeout

CLIENT_IP = "127.0.0.2"

CONFIG = """\
global
    maxconn 256
    log stderr format raw local0 info

defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 10s
    # a stopping instance refuses new connections and closes idle ones: the request is
    # retried, on the other instance
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout
    # health checks carry the PROXY header too (send-proxy applies to them)
    option httpchk GET /pid
    default-server check inter 200ms fall 1 rise 2

frontend fe_v1
    bind 127.0.0.1:{fe_v1}
    default_backend be_v1

frontend fe_v2
    bind 127.0.0.1:{fe_v2}
    default_backend be_v2

backend be_v1
    balance roundrobin
    server a 127.0.0.1:{a} send-proxy
    server b 127.0.0.1:{b} send-proxy

backend be_v2
    balance roundrobin
    server a 127.0.0.1:{a} send-proxy-v2
    server b 127.0.0.1:{b} send-proxy-v2
"""


class Haproxy:
    def __init__(self, fe_v1, fe_v2, a, b):
        self.dir = tempfile.mkdtemp(prefix="tp-haproxy-")
        self.cfg = os.path.join(self.dir, "haproxy.cfg")
        with open(self.cfg, "w") as f:
            f.write(CONFIG.format(fe_v1=fe_v1, fe_v2=fe_v2, a=a, b=b))
        self.err_path = os.path.join(self.dir, "stderr")
        self.err = open(self.err_path, "wb")
        self.proc = spawn(["haproxy", "-db", "-f", self.cfg], stdout=self.err, stderr=self.err,
                          cwd=self.dir)

    def stderr(self):
        self.err.flush()
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def close(self):
        kill_tree(self.proc.pid, popen=self.proc)
        self.err.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def client_conn(port, timeout=30.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((CLIENT_IP, 0))
    s.connect(("127.0.0.1", port))
    return http_client.Conn(port, timeout, sock=s)


def ask(conn):
    """GET /ip on conn: (remote_ip, protocol, pid) the app saw."""
    conn.request("GET", "/ip")
    r = conn.read_response()
    assert r.status == 200, "GET /ip through haproxy: %r" % r
    ip, proto, pid = r.body.decode("latin-1").split()
    return ip, proto, int(pid)


def fresh_ask(port):
    """One request on a new connection (None while haproxy is not up yet)."""
    try:
        with client_conn(port, 10.0) as c:
            return ask(c)
    except (OSError, AssertionError, http_client.Closed, http_client.ProtocolError):
        return None


class Sender:
    """Threads sending GET /ip through haproxy on keep-alive connections (a new one when
    haproxy closes), recording every answer and every failure."""

    def __init__(self, port, n=2):
        self.port = port
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.answers, self.failures = [], []
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(n)]
        for t in self.threads:
            t.start()

    def run(self):
        conn = None
        while not self.stop_ev.is_set():
            try:
                if conn is None:
                    conn = client_conn(self.port)
                a = ask(conn)
                with self.lock:
                    self.answers.append(a)
            except (OSError, AssertionError, http_client.Closed, http_client.ProtocolError) as e:
                with self.lock:
                    self.failures.append("%s: %s" % (type(e).__name__, e))
                if conn:
                    conn.close()
                conn = None
        if conn:
            conn.close()

    def count(self, pid=None):
        with self.lock:
            return sum(1 for a in self.answers if pid is None or a[2] == pid)

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(60)


def pids_of(s):
    return {w.pid for w in s.workers()}


@timeout(240)
def test_haproxy_balances_with_client_address_and_loses_nothing_on_stop():
    if not shutil.which("haproxy"):
        raise AssertionError("haproxy is not installed (tools/deps.sh --test installs it)")
    flags = ("--proxy-protocol", "--trusted-downstream=127.0.0.1", "--shutdown-timeout=20")
    a = Server(*flags, procs=1)
    b = Server(*flags, procs=1)
    hp = sender = None
    try:
        with reserved_port() as fe_v1, reserved_port() as fe_v2:
            hp = Haproxy(fe_v1, fe_v2, a.port, b.port)
            pa, pb = pids_of(a), pids_of(b)
            for fe in (fe_v1, fe_v2):
                # both instances answer through each frontend (balancing), each seeing the
                # client's address from the PROXY header
                seen = set()

                def both():
                    got = fresh_ask(fe)
                    if got:
                        assert got[:2] == (CLIENT_IP, "http"), got
                        seen.add(got[2])
                    return seen & pa and seen & pb
                testrun.wait_until(both, 60, lambda: "answers from %r of a %r b %r; haproxy: %s"
                                   % (seen, pa, pb, hp.stderr()[-1500:]))
            # a graceful stop of a while clients keep sending through the v2 frontend
            sender = Sender(fe_v2)
            pid_a, pid_b = pa.copy().pop(), pb.copy().pop()
            testrun.wait_until(lambda: sender.count(pid_a) >= 10 and sender.count(pid_b) >= 10,
                               60, "requests flowing to both")
            a.stop(timeout=60)
            after = sender.count()
            testrun.wait_until(lambda: sender.count() >= after + 50, 60,
                               "requests after the stop")
            sender.stop()
            assert not sender.failures, "lost requests: %r; haproxy: %s" % (
                sender.failures[:5], hp.stderr()[-2000:])
            assert {x[0] for x in sender.answers} == {CLIENT_IP}
            assert sender.count(pid_b) >= 50
            # the survivor still serves both frontends
            assert fresh_ask(fe_v1)[:2] == (CLIENT_IP, "http")
            b.stop()
    finally:
        if sender:
            sender.stop()
        if hp:
            hp.close()
        for s in (a, b):
            if s.alive():
                s.kill()


@timeout(120)
def test_proxy_protocol_header_pending_at_graceful_stop():
    """A worker draining with a connection still inside its PROXY header: the header is
    waited for (at most --proxy-protocol-timeout), then the master exits 0."""
    s = Server("--proxy-protocol", "--trusted-downstream=127.0.0.1",
               "--proxy-protocol-timeout=1", procs=1)
    c = http_client.Conn(s.port)
    try:
        c.send(b"PROXY TCP4 203.0.113.7 ")
        testrun.wait_until(lambda: testrun.server_read_all(c.sock), 30, "the worker reading")
        s.stop(timeout=60)
        assert c.closed(30.0)
    finally:
        c.close()
