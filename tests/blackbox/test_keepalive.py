"""Connection persistence, pipelining, Expect: 100-continue and client disconnects."""
import socket
import time

import testrun
from harness import shared, server
import http_client as hc
from http_client import Conn, expect_ok


def test_http11_keepalive_default():
    with Conn(shared()) as c:
        for i in range(5):
            c.request("GET", "/path/%d" % i)
            r = expect_ok(c.read_response(), str(i))
            assert r.header("Connection") is None, r
        assert c.idle(0.1), "connection closed after a keep-alive response"


def test_http11_connection_close():
    with Conn(shared()) as c:
        c.request("GET", "/", [("Connection", "close")])
        r = expect_ok(c.read_response(), "Hello, world")
        assert r.header("Connection", "").lower() == "close", r
        assert c.closed(), "server kept the connection open after Connection: close"


def test_http11_connection_close_after_pipelined_requests():
    # Requests after the one with Connection: close are not answered.
    with Conn(shared()) as c:
        c.send(b"GET /path/1 HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /path/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
               b"GET /path/3 HTTP/1.1\r\nHost: x\r\n\r\n")
        expect_ok(c.read_response(), "1")
        expect_ok(c.read_response(), "2")
        assert c.closed(), "connection open after Connection: close"
        assert c.buf == b"", "answered a request after Connection: close: %r" % c.buf[:100]


def test_http10_closes_by_default():
    with Conn(shared()) as c:
        c.send(b"GET / HTTP/1.0\r\n\r\n")
        r = expect_ok(c.read_response(), "Hello, world")
        assert r.header("Connection", "").lower() != "keep-alive", r
        assert c.closed(), "HTTP/1.0 connection left open"


def test_http10_keepalive():
    with Conn(shared()) as c:
        for i in range(3):
            c.send(b"GET /path/%d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" % i)
            r = expect_ok(c.read_response(), str(i))
            assert r.header("Connection") == "Keep-Alive", r
        assert c.idle(0.1)
        # a final HTTP/1.0 request without keep-alive closes
        c.send(b"GET / HTTP/1.0\r\n\r\n")
        expect_ok(c.read_response(), "Hello, world")
        assert c.closed()


def test_http10_post_keepalive():
    with Conn(shared()) as c:
        c.send(b"POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc")
        r = expect_ok(c.read_response(), "abc")
        assert r.header("Connection") == "Keep-Alive", r
        c.send(b"GET /path/again HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        expect_ok(c.read_response(), "again")


def test_no_keep_alive_option():
    with server("--no_keep_alive") as port:
        with Conn(port) as c:
            c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
            r = expect_ok(c.read_response(), "Hello, world")
            assert r.header("Connection", "").lower() == "close", r
            assert c.closed(), "connection open with --no_keep_alive"
            assert c.buf == b"", c.buf


def test_no_keep_alive_http10_keepalive_request():
    # Documented: every response carries Connection: close under --no_keep_alive.
    with server("--no_keep_alive") as port:
        with Conn(port) as c:
            c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            r = expect_ok(c.read_response(), "Hello, world")
            assert r.header("Connection", "").lower() == "close", r
            assert c.closed()


def test_no_keep_alive_dashes_spelling():
    with server("--no-keep-alive") as port:
        with Conn(port) as c:
            c.request("GET", "/")
            r = expect_ok(c.read_response(), "Hello, world")
            assert r.header("Connection", "").lower() == "close", r
            assert c.closed()


def test_pipeline_64_in_order():
    with Conn(shared()) as c:
        c.send(b"".join(b"GET /path/req%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(64)))
        for i in range(64):
            expect_ok(c.read_response(), "req%d" % i)
        assert c.idle(0.1)


def test_pipeline_mixed_methods():
    with Conn(shared()) as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
               b"HEAD /head HTTP/1.1\r\nHost: x\r\n\r\n"
               b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
               b"GET /flush HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /status/204 HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /path/last HTTP/1.1\r\nHost: x\r\n\r\n")
        expect_ok(c.read_response(), "body")
        r = c.read_response("HEAD")
        assert r.status == 200 and r.header("Content-Length") == "11", r
        expect_ok(c.read_response(), "abc")
        r = expect_ok(c.read_response(), "part1,part2")
        assert r.chunked, r
        assert c.read_response().status == 204
        expect_ok(c.read_response(), "last")


def test_pipeline_split_at_every_byte():
    # Two requests delivered in tiny pieces still parse.
    data = b"GET /path/a HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok"
    with Conn(shared()) as c:
        for i in range(0, len(data), 7):
            c.send(data[i:i + 7])
            time.sleep(0.002)
        expect_ok(c.read_response(), "a")
        expect_ok(c.read_response(), "ok")


def test_expect_100_continue():
    with Conn(shared()) as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        assert c.read_head_raw() == b"HTTP/1.1 100 Continue\r\n\r\n"
        c.send(b"hello")
        expect_ok(c.read_response(), "hello")
        # and the connection stays usable
        c.request("GET", "/")
        expect_ok(c.read_response(), "Hello, world")


def test_expect_100_continue_chunked():
    with Conn(shared()) as c:
        c.send(b"POST /stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
               b"Expect: 100-continue\r\n\r\n")
        assert c.read_head_raw() == b"HTTP/1.1 100 Continue\r\n\r\n"
        c.send(hc.chunked("abc", "de"))
        r = expect_ok(c.read_response())
        assert r.body.startswith(b"total=5 "), r


def test_expect_100_to_early_gets_401_and_close():
    with Conn(shared()) as c:
        c.send(b"POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n")
        version, status, reason, headers, raw = c.read_head()
        assert status == 401, raw
        c.buf = raw + c.buf
        r = c.read_response()
        assert r.status == 401 and r.body == b"denied", r
        assert c.closed(), "connection open after refusing the body"
        assert b"100 Continue" not in raw


def test_early_without_expect():
    with Conn(shared()) as c:
        c.send(b"POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        r = c.read_response()
        assert r.status == 401 and r.body == b"denied", r


def test_half_close_still_answered():
    with Conn(shared()) as c:
        c.send(b"GET /path/half HTTP/1.1\r\nHost: x\r\n\r\n")
        c.shutdown_write()
        expect_ok(c.read_response(), "half")
        assert c.closed()


def test_half_close_async_still_answered():
    with Conn(shared()) as c:
        c.send(b"GET /async?ms=100 HTTP/1.1\r\nHost: x\r\n\r\n")
        c.shutdown_write()
        expect_ok(c.read_response(), "async done")
        assert c.closed()


def test_half_close_pipelined_all_answered():
    with Conn(shared()) as c:
        c.send(b"GET /async?ms=30 HTTP/1.1\r\nHost: x\r\n\r\n"
               b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
               b"GET /big?n=200000 HTTP/1.1\r\nHost: x\r\n\r\n")
        c.shutdown_write()
        expect_ok(c.read_response(), "async done")
        expect_ok(c.read_response(), "hi")
        r = expect_ok(c.read_response())
        assert len(r.body) == 200000


def _connections_closed(port):
    r = expect_ok(hc.get(port, "/stats"))
    return int(r.body.decode().split("=")[1])


def test_rst_during_wait_notifies_handler():
    # Own server: a crash here must not take the shared one down.
    with server() as port:
        _rst_during_wait(port)


def _rst_during_wait(port):
    before = _connections_closed(port)
    for i in range(5):
        c = Conn(port)
        c.request("GET", "/wait")
        # the handler has the request (the server read it) and does not answer
        testrun.wait_until(lambda: testrun.server_read_all(c.sock), 30,
                           "the server reading GET /wait")
        assert c.idle(0.1), "/wait answered or closed early"
        c.reset()
        want = before + i + 1
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _connections_closed(port) < want:
            time.sleep(0.02)
        got = _connections_closed(port)
        assert got == want, "connections_closed=%d after %d RSTs (was %d)" % (got, i + 1, before)
    expect_ok(hc.get(port, "/"), "Hello, world")


def test_client_vanishes_mid_pipeline():
    port = shared()
    for k in range(3):
        c = Conn(port)
        c.send(b"".join(b"GET /big?n=20000 HTTP/1.1\r\nHost: x\r\n\r\n" for _ in range(64)))
        if k == 0:
            c.close()                  # FIN without reading
        elif k == 1:
            c.reset()                  # RST without reading
        else:
            c.read_head()              # read a little, then RST
            c.reset()
    expect_ok(hc.get(port, "/"), "Hello, world")
    with Conn(port) as c:
        c.send(b"".join(b"GET /path/%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(8)))
        for i in range(8):
            expect_ok(c.read_response(), str(i))


def test_client_vanishes_mid_download():
    port = shared()
    for how in ("close", "reset"):
        c = Conn(port)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.request("GET", "/big?n=5000000")
        c.read_exact(10000)
        time.sleep(0.05)
        if how == "close":
            c.close()
        else:
            c.reset()
    time.sleep(0.1)
    expect_ok(hc.get(port, "/"), "Hello, world")
    r = expect_ok(hc.get(port, "/big?n=5000000", timeout=60))
    assert len(r.body) == 5000000


def test_slow_reader_gets_everything():
    # A client that reads slowly still receives the whole body (server-side buffering).
    with Conn(shared()) as c:
        c.request("GET", "/big?n=2000000")
        got = 0
        version, status, reason, headers, raw = c.read_head()
        assert status == 200
        cl = int(dict((k.lower(), v) for k, v in headers)["content-length"])
        time.sleep(0.3)
        body = c.read_exact(cl)
        got = len(body)
        assert got == 2000000


def test_pipeline_1000_in_one_write():
    with Conn(shared(), timeout=60) as c:
        c.send(b"".join(b"GET /path/%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(1000)))
        for i in range(1000):
            expect_ok(c.read_response(), str(i))


def test_pipeline_big_responses_backpressure():
    # The client sends 64 requests for 100 kB each and only then starts reading.
    with Conn(shared(), timeout=60) as c:
        c.send(b"".join(b"GET /big?n=100000 HTTP/1.1\r\nHost: x\r\n\r\n" for _ in range(64)))
        time.sleep(0.2)
        for i in range(64):
            r = expect_ok(c.read_response())
            assert len(r.body) == 100000, (i, len(r.body))


def test_expect_100_body_sent_without_waiting():
    with Conn(shared()) as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello"
               b"GET /path/next HTTP/1.1\r\nHost: x\r\n\r\n")
        r = c.read_response(allow_informational=True)
        if r.status == 100:
            r = c.read_response()
        expect_ok(r, "hello")
        expect_ok(c.read_response(), "next")


def test_expect_100_continue_stream_handler():
    with Conn(shared()) as c:
        c.send(b"PUT /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        assert c.read_head_raw() == b"HTTP/1.1 100 Continue\r\n\r\n"
        c.send(b"abcd")
        r = expect_ok(c.read_response())
        assert r.body.startswith(b"total=4 "), r.body


def test_expect_100_case_insensitive():
    with Conn(shared()) as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-Continue\r\n\r\n")
        assert c.read_head_raw() == b"HTTP/1.1 100 Continue\r\n\r\n"
        c.send(b"ok")
        expect_ok(c.read_response(), "ok")


def test_expect_100_without_body_no_interim():
    with Conn(shared()) as c:
        c.send(b"GET /path/nobody HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n")
        r = c.read_response(allow_informational=True)
        assert r.status == 200 and r.body == b"nobody", r


def test_expect_100_http10_no_interim():
    with Conn(shared()) as c:
        c.send(b"POST /echo HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        assert c.idle(0.3), "interim response or close on HTTP/1.0: %r" % c.buf
        c.send(b"ok")
        r = c.read_response(allow_informational=True)
        assert r.status == 200 and r.body == b"ok", r
