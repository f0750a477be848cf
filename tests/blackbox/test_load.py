"""Many connections at once, concurrent clients, and large transfers."""
import resource
import selectors
import socket
import threading
import time

from harness import shared, server, slow, timeout, Skip
import http_client as hc
from http_client import Conn, expect_ok, HOST

REQ = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
RESP_BODY = b"Hello, world"


def _complete(buf):
    """True once buf holds one whole "Hello, world" response."""
    i = buf.find(b"\r\n\r\n")
    if i < 0:
        return False
    head = buf[:i].lower()
    assert head.startswith(b"http/1.1 200 "), buf[:200]
    cl = int(head.split(b"content-length:")[1].split(b"\r\n")[0])
    return len(buf) >= i + 4 + cl


def _many_connections(port, n, in_flight=1000, limit_s=600.0):
    """Opens n connections (at most in_flight handshakes pending at once), sends one request
    on each and reads every response, all with one selector. Returns the open sockets."""
    sel = selectors.DefaultSelector()
    socks = []
    bufs = {}
    pending = 0          # connecting or waiting for a response
    opened = 0
    done = 0
    errors = []
    deadline = time.monotonic() + limit_s
    try:
        while done < n:
            if time.monotonic() > deadline:
                raise AssertionError("only %d of %d responses after %.0f s (%d opened, errors %r)"
                                     % (done, n, limit_s, opened, errors[:5]))
            while opened < n and pending < in_flight:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                err = s.connect_ex((HOST, port))
                if err not in (0, 115):  # EINPROGRESS
                    s.close()
                    raise AssertionError("connect failed: errno %d after %d" % (err, opened))
                socks.append(s)
                bufs[s] = b""
                sel.register(s, selectors.EVENT_WRITE, "connect")
                opened += 1
                pending += 1
            for key, ev in sel.select(timeout=1.0):
                s = key.fileobj
                if key.data == "connect":
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        errors.append(err)
                        raise AssertionError("connection %d failed: errno %d" % (opened, err))
                    s.send(REQ)
                    sel.modify(s, selectors.EVENT_READ, "read")
                else:
                    data = s.recv(4096)
                    if not data:
                        raise AssertionError("server closed a keep-alive connection (%d done)"
                                             % done)
                    bufs[s] += data
                    if _complete(bufs[s]):
                        assert bufs[s].endswith(RESP_BODY), bufs[s][-100:]
                        sel.unregister(s)
                        done += 1
                        pending -= 1
        return socks
    except BaseException:
        for s in socks:
            s.close()
        raise
    finally:
        sel.close()


def _second_request(socks):
    for s in socks:
        s.setblocking(True)
        s.settimeout(60)
        s.sendall(REQ)
    for s in socks:
        buf = b""
        while not _complete(buf):
            data = s.recv(4096)
            assert data, "sample connection closed before its second response"
            buf += data
        assert buf.endswith(RESP_BODY), buf[-100:]


@slow
@timeout(900)
def test_10000_concurrent_keepalive_connections():
    n = 10000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 200:
        raise Skip("RLIMIT_NOFILE %d too low for %d connections" % (soft, n))
    with server() as port:
        socks = _many_connections(port, n, limit_s=600)
        try:
            assert len(socks) == n
            sample = socks[::50]
            _second_request(sample)
            # the other connections are all still open and idle
            for s in socks[1::97]:
                s.setblocking(False)
                try:
                    data = s.recv(1)
                    raise AssertionError("idle connection got %r" % data)
                except BlockingIOError:
                    pass
            expect_ok(hc.get(port, "/"), "Hello, world")
        finally:
            for s in socks:
                s.close()


def test_500_concurrent_connections():
    port = shared()
    socks = _many_connections(port, 500, in_flight=500, limit_s=120)
    try:
        _second_request(socks[::10])
    finally:
        for s in socks:
            s.close()


def test_concurrent_clients_threads():
    port = shared()
    errors = []

    def client(k):
        try:
            with Conn(port, timeout=60) as c:
                for i in range(40):
                    if i % 4 == 0:
                        body = b"%d-%d" % (k, i) * 50
                        c.request("POST", "/echo", body=body)
                        expect_ok(c.read_response(), body)
                    elif i % 4 == 1:
                        c.request("GET", "/path/%d-%d" % (k, i))
                        expect_ok(c.read_response(), "%d-%d" % (k, i))
                    elif i % 4 == 2:
                        c.request("GET", "/flush")
                        expect_ok(c.read_response(), "part1,part2")
                    else:
                        c.request("GET", "/async?ms=2")
                        expect_ok(c.read_response(), "async done")
        except BaseException as e:  # reported below
            errors.append("client %d: %r" % (k, e))

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not any(t.is_alive() for t in threads), "clients still running"
    assert not errors, errors[:3]


def test_many_short_connections():
    port = shared()
    for i in range(300):
        with Conn(port) as c:
            c.send(b"GET /path/%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % i)
            expect_ok(c.read_response(), str(i))


def test_big_download_complete():
    r = expect_ok(hc.get(shared(), "/big?n=5000000", timeout=60))
    assert len(r.body) == 5000000 and r.body.count(b"x") == 5000000


def test_big_upload_streamed():
    body = b"u" * (8 << 20)
    with Conn(shared(), timeout=60) as c:
        c.request("POST", "/stream", body=body)
        r = expect_ok(c.read_response())
        assert r.body.startswith(b"total=%d " % len(body)), r.body[:80]


@slow
@timeout(900)
def test_many_big_downloads_in_parallel():
    port = shared()
    errors = []

    def client():
        try:
            for _ in range(3):
                r = hc.get(port, "/big?n=5000000", timeout=120)
                assert len(r.body) == 5000000
        except BaseException as e:
            errors.append(repr(e))

    threads = [threading.Thread(target=client, daemon=True) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert not errors, errors[:3]
