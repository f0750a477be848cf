"""The reverse proxy handler (tp_proxy_route; tests/apps/proxyapp.c) in front of Debian's nginx
and a Debian Tornado app (proxy_upstream.py), both started here in temp dirs on free ports:
headers (hop-by-hop, X-Forwarded-*), bodies both ways (chunked, big, memory bounded),
keep-alive reuse counted on the upstream, 502/504, truncation, HEAD, Expect, WebSocket, and
request smuggling refused before anything is proxied."""
import atexit
import contextlib
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import harness
import http_client as hc
import portfile
import testrun
import ws_client
from harness import server

HERE = os.path.dirname(os.path.abspath(__file__))
BIG = 100 << 20
_up = {}


def _wait_listening(port, proc, what):
    def up():
        if proc.poll() is not None:
            raise AssertionError("%s exited %r" % (what, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    testrun.wait_until(up, 60, what + " listening")


NGINX_CONF = """
daemon off; master_process off; worker_processes 1;
pid %(d)s/nginx.pid; error_log %(d)s/error.log warn;
events { worker_connections 1024; }
http {
    access_log off; client_body_temp_path %(d)s/body; proxy_temp_path %(d)s/proxy;
    fastcgi_temp_path %(d)s/fcgi; uwsgi_temp_path %(d)s/uwsgi; scgi_temp_path %(d)s/scgi;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:%(port)d reuseport;
        root %(d)s/www;
        location = /hello.txt { add_header X-Nginx yes; }
    }
}
"""


def _start_nginx(d):
    os.makedirs(os.path.join(d, "www"))
    with open(os.path.join(d, "www", "hello.txt"), "w") as f:
        f.write("hello from nginx\n")
    with open(os.path.join(d, "www", "big.bin"), "wb") as f:
        f.truncate(BIG)  # sparse: 100 MB of zeros without the disk
    with portfile.reserved_port() as port:
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(NGINX_CONF % {"d": d, "port": port})
        proc = subprocess.Popen(["/usr/sbin/nginx", "-c", os.path.join(d, "nginx.conf"),
                                 "-p", d, "-e", os.path.join(d, "error.log")],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        _up["procs"].append(proc)
        _wait_listening(port, proc, "nginx")
    return port


def _start_tornado(d):
    pf = os.path.join(d, "tornado.port")
    proc = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "proxy_upstream.py"), pf],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(d, "tornado.err"), "wb"))
    _up["procs"].append(proc)
    port = portfile.wait(pf, proc, 60)
    assert port, "the Tornado upstream did not start"
    return port


class RawUpstream:
    """A scripted HTTP/1.1 upstream on a raw socket, for what nginx and Tornado never send:
    paths (after /raw) choose the answer; self.conns counts the connections accepted."""

    ANSWERS = {
        "/ok": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        "/close-delimited": b"HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nuntil the close",
        "/http10": b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nold!",
        "/interim": b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal",
        "/smuggle": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"
                    b"\r\n0\r\n\r\n",
        "/garbage": b"HTTP/1.1 2x0 OK\r\n\r\n",
        "/bad-field": b"HTTP/1.1 200 OK\r\nX A: b\r\nContent-Length: 0\r\n\r\n",
    }

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        buf, served = b"", 0
        with c:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = c.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                path = head.split(b" ")[1].decode()
                if path == "/flaky":  # a keep-alive connection the upstream drops when reused
                    if served:
                        return
                    path = "/ok"
                answer = self.ANSWERS.get(path, self.ANSWERS["/ok"])
                c.sendall(answer)
                served += 1
                if path in ("/close-delimited", "/http10"):
                    return


def _blackhole():
    """A listener with a full backlog (listen(0), never accepting, filled by connections
    held here): further connects hang, as to a host that drops SYNs."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(0)
    held = []
    for _ in range(3):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(s.getsockname())
        except BlockingIOError:
            pass
        held.append(c)
    return s, held


def _stop_upstreams():
    for p in _up.get("procs", []):
        if p.poll() is None:
            p.kill()
            p.wait(10)
    if _up.get("dir"):
        shutil.rmtree(_up["dir"], ignore_errors=True)


def upstreams():
    """(nginx port, tornado port, dead port), started once for this file's tests."""
    if "ports" not in _up:
        if not os.path.exists("/usr/sbin/nginx"):
            raise harness.Skip("nginx is not installed (tools/deps.sh --test)")
        _up["procs"] = []
        _up["dir"] = tempfile.mkdtemp(prefix="tp-proxy-")
        atexit.register(_stop_upstreams)
        dead = socket.socket()
        dead.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        _up["dead"] = dead
        _up["raw"] = RawUpstream()
        _up["blackhole"] = _blackhole()
        _up["ports"] = (_start_nginx(_up["dir"]), _start_tornado(_up["dir"]),
                        dead.getsockname()[1])
    return _up["ports"]


@contextlib.contextmanager
def proxy(*flags):
    ng, tor, dead = upstreams()
    env = {"PROXY_NGINX": "127.0.0.1:%d" % ng, "PROXY_TORNADO": "127.0.0.1:%d" % tor,
           "PROXY_DEAD": "127.0.0.1:%d" % dead, "PROXY_RAW": "127.0.0.1:%d" % _up["raw"].port,
           "PROXY_BLACKHOLE": "127.0.0.1:%d" % _up["blackhole"][0].getsockname()[1],
           # an ASan build: freed memory goes back at once, so peak RSS means what it says
           "ASAN_OPTIONS": "abort_on_error=0:detect_leaks=1:quarantine_size_mb=1:"
                           "thread_local_quarantine_size_kb=64"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with server(*flags, binary="tests/proxyapp") as port:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k)
                else:
                    os.environ[k] = v
            yield port
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def echo(port, method="GET", path="/tornado/echo", headers=None, body=None, host="proxy.test"):
    with hc.Conn(port) as c:
        c.request(method, path, headers, body, host=host)
        r = c.read_response(method)
    assert r.status == 200, r
    return r, json.loads(r.body)


def fields(seen):
    out = {}
    for k, v in seen["headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


def tornado_count(port):
    return int(hc.get(port, "/tornado/count").body)


def test_proxy_echo_and_forwarded_headers():
    with proxy() as port:
        _, tor, _ = upstreams()
        r, seen = echo(port, path="/tornado/echo/a%20b?x=1&y=%0d%0a")
        assert seen["method"] == "GET"
        assert seen["uri"] == "/echo/a%20b?x=1&y=%0d%0a", seen["uri"]
        f = fields(seen)
        assert f["host"] == ["127.0.0.1:%d" % tor]
        assert f["x-forwarded-for"] == ["127.0.0.1"]
        assert f["x-real-ip"] == ["127.0.0.1"]
        assert f["x-forwarded-proto"] == ["http"]
        assert f["x-forwarded-host"] == ["proxy.test"]
        assert r.header("Server").startswith("TornadoServer/6"), r
        assert hc.get(port, "/local").body == b"local"


def test_proxy_pass_host():
    with proxy() as port:
        _, seen = echo(port, path="/host/echo", host="client.example:81")
        assert fields(seen)["host"] == ["client.example:81"]


def test_proxy_hop_by_hop_request_fields():
    with proxy() as port:
        _, seen = echo(port, headers=[
            ("Connection", "keep-alive, X-Secret"), ("X-Secret", "1"), ("Keep-Alive", "300"),
            ("TE", "trailers"), ("Proxy-Authorization", "Basic eA=="), ("Trailer", "X-T"),
            ("Upgrade", "h2c"), ("Proxy-Connection", "keep-alive"), ("X-End", "kept")])
        f = fields(seen)
        for name in ("x-secret", "keep-alive", "te", "proxy-authorization", "trailer",
                     "upgrade", "proxy-connection"):
            assert name not in f, (name, f)
        assert f["x-end"] == ["kept"]
        assert f.get("connection", ["keep-alive"]) != ["keep-alive, X-Secret"]


def test_proxy_hop_by_hop_response_fields():
    with proxy() as port:
        r = hc.get(port, "/tornado/hop")
        assert r.status == 200 and r.body == b"hop", r
        for name in ("X-Hop-Secret", "Keep-Alive", "Proxy-Authenticate", "Trailer"):
            assert not r.has(name), (name, r)
        assert r.header("X-End-To-End") == "kept"
        assert r.header("Connection") is None, r


def test_proxy_forwarded_untrusted_client():
    spoof = [("X-Forwarded-For", "6.6.6.6"), ("X-Real-Ip", "6.6.6.6"),
             ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "evil"), ("X-Scheme", "https")]
    with proxy() as port:
        _, seen = echo(port, headers=spoof)
        f = fields(seen)
        assert f["x-forwarded-for"] == ["127.0.0.1"], f
        assert f["x-real-ip"] == ["127.0.0.1"], f
        assert f["x-forwarded-proto"] == ["http"], f
        assert f["x-forwarded-host"] == ["proxy.test"], f
        assert "x-scheme" not in f, f


def test_proxy_forwarded_trusted_downstream():
    with proxy("--xheaders") as port:
        _, seen = echo(port, headers=[("X-Forwarded-For", "6.6.6.6"),
                                      ("X-Forwarded-Proto", "https")])
        f = fields(seen)
        assert f["x-forwarded-for"] == ["6.6.6.6, 127.0.0.1"], f
        assert f["x-real-ip"] == ["6.6.6.6"], f
        assert f["x-forwarded-proto"] == ["https"], f


def test_proxy_keepalive_reuse():
    with proxy() as port:
        conns = set()
        for i in range(20):
            _, seen = echo(port, path="/tornado/echo?i=%d" % i)
            conns.add(seen["conn"])
        # sequential requests: one upstream connection serves them all
        assert len(conns) == 1, conns
        connects, reuses = map(int, hc.get(port, "/stats").body.split())
        assert connects == 1 and reuses >= 19, (connects, reuses)


def test_proxy_request_bodies():
    with proxy() as port:
        body = os.urandom(300000)
        _, seen = echo(port, "POST", body=body)
        assert seen["body_len"] == len(body)
        assert seen["body_sha1"] == hashlib.sha1(body).hexdigest()
        parts = [os.urandom(n) for n in (1, 70000, 5, 200000)]
        _, seen = echo(port, "PUT", headers=[("Transfer-Encoding", "chunked")],
                       body=hc.chunked(*parts))
        assert seen["body_len"] == sum(map(len, parts))
        assert seen["body_sha1"] == hashlib.sha1(b"".join(parts)).hexdigest()
        _, seen = echo(port, "PROPFIND", body=b"<x/>")
        assert seen["method"] == "PROPFIND" and seen["body"] == "<x/>"


def test_proxy_expect_continue():
    with proxy() as port:
        with hc.Conn(port) as c:
            c.send(b"POST /tornado/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                   b"Expect: 100-continue\r\n\r\n")
            r = c.read_response(allow_informational=True)
            assert r.status == 100, r
            c.send(b"hello")
            r = c.read_response()
            seen = json.loads(r.body)
            assert seen["body"] == "hello" and "expect" not in fields(seen), seen


def test_proxy_chunked_response():
    with proxy() as port:
        r = hc.get(port, "/tornado/stream?n=40")
        assert r.status == 200 and r.chunked, r
        assert r.body == b"".join(b"piece %d\n" % i for i in range(40))
        with hc.Conn(port) as c:  # an HTTP/1.0 client gets it delimited by the close
            c.request("GET", "/tornado/stream?n=3", version="HTTP/1.0")
            r = c.read_response()
            assert r.status == 200 and not r.chunked and not r.has("Content-Length"), r
            assert r.body == b"piece 0\npiece 1\npiece 2\n"


def test_proxy_head_and_nginx():
    with proxy() as port:
        with hc.Conn(port) as c:
            c.request("HEAD", "/tornado/echo")
            r = c.read_response("HEAD")
            assert r.status == 200 and r.header("Content-Length") == "1234", r
            assert r.header("X-Head") == "yes"
            c.request("GET", "/nginx/hello.txt")  # the same connection goes on
            r = c.read_response()
            assert r.body == b"hello from nginx\n" and r.header("X-Nginx") == "yes", r
            c.request("HEAD", "/nginx/hello.txt")
            r = c.read_response("HEAD")
            assert r.status == 200 and r.header("Content-Length") == "17", r
            c.request("GET", "/nginx/missing")
            assert c.read_response().status == 404
            c.request("GET", "/nginx/hello.txt", [("If-None-Match", r.header("ETag"))])
            r304 = c.read_response()
            assert r304.status == 304 and r304.body == b"", r304
            c.request("GET", "/local")  # the 304 had no body: the connection is in step
            assert c.read_response().body == b"local"


def test_proxy_502_refused_and_reset():
    with proxy() as port:
        assert hc.get(port, "/dead/x").status == 502
        assert hc.get(port, "/tornado/reset").status == 502
        assert hc.get(port, "/local").body == b"local"


def test_proxy_504_slow_upstream():
    with proxy() as port:
        t0 = time.monotonic()
        r = hc.get(port, "/slow/slow?s=20", timeout=30)
        assert r.status == 504, r
        assert time.monotonic() - t0 < 15
        with hc.Conn(port) as c:  # a fast answer within the timeout is fine
            c.request("GET", "/slow/slow?s=0")
            assert c.read_response().body == b"slow done"


def test_proxy_504_connect_timeout():
    with proxy() as port:
        t0 = time.monotonic()
        assert hc.get(port, "/blackhole/x", timeout=30).status == 504
        assert time.monotonic() - t0 < 15


def test_proxy_truncated_response_closes_client():
    with proxy() as port:
        with hc.Conn(port) as c:
            c.request("GET", "/tornado/half")
            version, status, reason, headers, raw = c.read_head()
            assert status == 200 and dict((k.lower(), v) for k, v in headers).get(
                "content-length") == "100000", raw
            assert c.closed(30), "the client connection stayed open"
            assert len(c.buf) < 100000


def test_proxy_websocket_echo():
    with proxy() as port:
        with ws_client.WS(port, "/tornado/ws") as ws:
            assert ws.status == 101, (ws.status, ws.headers)
            assert ws.header("Sec-WebSocket-Accept") == ws_client.ACCEPT
            ws.send_frame(ws_client.OP_TEXT, "hello through the proxy")
            assert ws.recv_message() == (ws_client.OP_TEXT, b"hello through the proxy")
            big = os.urandom(1 << 20)
            ws.send_frame(ws_client.OP_BINARY, big)
            assert ws.recv_message() == (ws_client.OP_BINARY, big)
            ws.send_frame(ws_client.OP_CLOSE, ws_client.close_payload(1000))
            op = ws.recv_message()
            assert op[0] == "close", op


def test_proxy_client_leaves_mid_exchange():
    with proxy() as port:
        for path in ("/tornado/slow?s=1", "/tornado/stream?n=3"):
            with hc.Conn(port) as c:
                c.request("GET", path)
                c.reset()
        with hc.Conn(port) as c:  # a body still coming when the client goes
            c.send(b"PUT /tornado/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n\r\nab")
            c.reset()
        for i in range(5):
            assert echo(port, path="/tornado/echo?after=%d" % i)[1]["uri"].endswith(str(i))
        assert hc.get(port, "/local").body == b"local"


def test_proxy_upstream_framing_cases():
    with proxy() as port:
        with hc.Conn(port) as c:
            c.request("GET", "/raw/close-delimited")
            r = c.read_response()
            assert r.status == 200 and r.chunked and r.body == b"until the close", r
            c.request("GET", "/raw/http10")  # the client connection goes on
            r = c.read_response()
            assert r.body == b"old!" and r.header("Content-Length") == "4", r
            c.request("GET", "/raw/interim")
            r = c.read_response(allow_informational=True)
            assert r.status == 200 and r.body == b"final", r
        for path in ("/raw/smuggle", "/raw/garbage", "/raw/bad-field"):
            assert hc.get(port, path).status == 502, path


def test_proxy_stale_keepalive_retried():
    with proxy() as port:
        raw = _up["raw"]
        with hc.Conn(port) as c:
            c.request("GET", "/raw/flaky")
            assert c.read_response().body == b"ok"
        before = raw.conns
        with hc.Conn(port) as c:  # the pooled connection is dropped: one retry, fresh
            c.request("GET", "/raw/flaky")
            r = c.read_response()
            assert r.status == 200 and r.body == b"ok", r
        assert raw.conns == before + 1


def test_proxy_smuggling_refused_before_proxying():
    bad = [
        b"POST /tornado/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST /tornado/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n"
        b"\r\nhello!",
        b"POST /tornado/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, x\r\n\r\n",
        b"GET /tornado/echo HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
        b"GET /tornado/echo HTTP/1.1\r\nHost: x\r\nX-A : a\r\n\r\n",
        b"GET /tornado/echo HTTP/1.1\r\nHost: x\r\nX-A: a\rX-Injected: b\r\n\r\n",
    ]
    with proxy() as port:
        before = tornado_count(port)
        for raw in bad:
            r = hc.fetch(port, raw)
            assert r.status in (400, 501), (raw, r)
        assert tornado_count(port) == before  # /count does not count itself


def _rss_peak(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) << 10
    raise AssertionError("no VmHWM")


@harness.slow
@harness.timeout(180)
def test_proxy_big_bodies_memory_bounded():
    with proxy() as port:
        pid = harness.server_of(port).proc.pid
        echo(port)  # warm: the pool and the request path have run once
        peak0 = _rss_peak(pid)
        with hc.Conn(port, timeout=60) as c:  # 100 MB down, from nginx
            c.request("GET", "/nginx/big.bin")
            version, status, reason, headers, raw = c.read_head()
            assert status == 200, raw
            left = BIG - len(c.buf)
            c.buf = b""
            while left > 0:
                data = c.sock.recv(1 << 20)
                assert data, "EOF with %d bytes left" % left
                left -= len(data)
            assert left == 0
        with hc.Conn(port, timeout=60) as c:  # 100 MB up, to Tornado
            c.send(b"PUT /tornado/upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % BIG)
            block = b"z" * (1 << 20)
            for _ in range(BIG >> 20):
                c.sock.sendall(block)
            r = c.read_response()
            assert r.status == 200, r
            assert json.loads(r.body)["body_len"] == BIG
        grew = _rss_peak(pid) - peak0
        assert grew < 32 << 20, "peak RSS grew by %d MB" % (grew >> 20)
