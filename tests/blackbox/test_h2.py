"""HTTP/2 (cleartext, prior knowledge): curl, nghttp, h2load and python3-h2 against testapp;
bodies both ways under small windows, errors, GOAWAY on drain, and the known attacks with
raw frames (each stopped within a deadline, the server still answering, fds and memory
bounded)."""
import os
import shutil
import signal
import subprocess
import time

from harness import server, server_of, shared
from h2_client import Client, Raw, SettingCodes, fetch, hf, hpack

WINDOW_MAX = 2 ** 31 - 1
ENHANCE_YOUR_CALM = 0xb


def _tool(name):
    path = shutil.which(name)
    assert path, "%s is missing (tools/deps.sh --test installs it)" % name
    return path


def _pattern(off, n):
    return bytes((i % 251) for i in range(off, off + n))


def _fds(port):
    return len(os.listdir("/proc/%d/fd" % server_of(port).proc.pid))


def _rss_kb(port):
    with open("/proc/%d/status" % server_of(port).proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _still_serves(port):
    r = fetch(port, "/")
    assert r.status == 200 and bytes(r.body) == b"Hello, world", (r.status, r.body)


def _wait_fds(port, limit, timeout=30):
    deadline = time.monotonic() + timeout
    while _fds(port) > limit:
        assert time.monotonic() < deadline, "fds stay at %d (> %d)" % (_fds(port), limit)
        time.sleep(0.05)


# ---- clients --------------------------------------------------------------------------------

def test_h2_curl_prior_knowledge():
    out = subprocess.run([_tool("curl"), "-s", "--http2-prior-knowledge", "-w",
                          "\n%{http_version} %{response_code}",
                          "http://127.0.0.1:%d/" % shared()],
                         capture_output=True, timeout=60, check=True).stdout
    assert out == b"Hello, world\n2 200", out


def test_h2_curl_post_and_http1_still_served():
    port = shared()
    out = subprocess.run([_tool("curl"), "-s", "--http2-prior-knowledge", "-d", "a=1&b=2",
                          "http://127.0.0.1:%d/echo" % port],
                         capture_output=True, timeout=60, check=True).stdout
    assert out == b"a=1&b=2", out
    out = subprocess.run([_tool("curl"), "-s", "--http1.1", "-w", " %{http_version}",
                          "http://127.0.0.1:%d/" % port],
                         capture_output=True, timeout=60, check=True).stdout
    assert out == b"Hello, world 1.1", out


def test_h2_nghttp_several_streams():
    port = shared()
    p = subprocess.run([_tool("nghttp"), "-ns", "http://127.0.0.1:%d/" % port,
                        "http://127.0.0.1:%d/big?n=300000" % port,
                        "http://127.0.0.1:%d/nothing-here" % port],
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    text = p.stdout.decode()
    assert text.count(" 200 ") == 2 and " 404 " in text, text


def test_h2load_many_streams():
    p = subprocess.run([_tool("h2load"), "-c", "4", "-m", "50", "-n", "4000",
                        "http://127.0.0.1:%d/" % shared()],
                       capture_output=True, timeout=120)
    text = p.stdout.decode()
    assert p.returncode == 0 and "4000 succeeded, 0 failed, 0 errored" in text, text


# ---- requests and responses -----------------------------------------------------------------

def test_h2_get_head_post():
    c = Client(shared())
    try:
        r = c.get("/")
        assert r.status == 200 and bytes(r.body) == b"Hello, world"
        assert r.header("content-length") == "12" and r.header("date")
        assert all(k == k.lower() for k, _ in r.headers)
        r = c.get("/head", method="HEAD")
        assert r.status == 200 and r.body == b"" and r.ended
        r = c.get("/echo", method="POST", body=b"x=1&y=2",
                  headers=[("content-type", "application/x-www-form-urlencoded")])
        assert r.status == 200 and bytes(r.body) == b"x=1&y=2", r.body
    finally:
        c.close()


def test_h2_response_fields_lower_case_hop_by_hop_dropped():
    r = fetch(shared(), "/hop")
    names = [k for k, _ in r.headers]
    assert r.status == 200 and bytes(r.body) == b"hop"
    assert r.header("x-mixed-case") == "kept", r.headers
    assert all(k == k.lower() for k in names), names
    for gone in ("keep-alive", "upgrade", "proxy-connection", "connection", "transfer-encoding"):
        assert gone not in names, r.headers
    r = fetch(shared(), "/json")
    assert [v for k, v in r.headers if k == "x-multi"] == ["a", "b"], r.headers


def test_h2_request_fields():
    r = fetch(shared(), "/headers?q=1", headers=[("cookie", "a=1"), ("cookie", "b=2"),
                                                 ("x-test", "yes")])
    text = bytes(r.body).decode()
    assert r.status == 200, text
    assert "Cookie: a=1; b=2" in text and "x-test: yes" in text, text
    assert "host=127.0.0.1\n" in text and "query=q=1" in text, text
    assert "protocol=http\n" in text, text
    # :scheme does not make a cleartext connection https (the protocol is the connection's)
    c = Client(shared())
    try:
        sid = c.request("GET", "/headers", scheme="https")
        r = c.responses[sid]
        c.run_until(lambda: r.ended)
        assert b"protocol=http\n" in bytes(r.body), r.body
    finally:
        c.close()


def test_h2_connection_specific_header_refused():
    port = shared()
    # python3-h2 refuses to send it; a raw HEADERS frame carries it.
    raw = Raw(port)
    try:
        block = raw.headers_block("/", [("connection", "keep-alive")])
        raw.send(hf.HeadersFrame(1, block, flags=["END_HEADERS", "END_STREAM"]))
        f = raw.frames_until(lambda f: isinstance(f, (hf.RstStreamFrame, hf.HeadersFrame)))
        assert isinstance(f, hf.RstStreamFrame) and f.error_code == 1, f  # PROTOCOL_ERROR
    finally:
        raw.close()
    _still_serves(port)


def test_h2_large_bodies_both_ways_small_windows():
    with server("--http2_initial_window_size=4096", "--http2_connection_window_size=65535",
                "--max_body_size=4000000") as port:
        c = Client(port, settings={SettingCodes.INITIAL_WINDOW_SIZE: 1000})
        try:
            r = c.get("/big?n=2000000")
            assert r.status == 200 and len(r.body) == 2000000 and r.body.count(b"x") == 2000000
            body = os.urandom(1500000)
            r = c.get("/stream", method="POST", body=body)
            assert r.status == 200 and bytes(r.body).startswith(b"total=1500000 "), r.body[:80]
            r = c.get("/echo", method="PUT", body=b"z" * 300000)
            assert r.status in (200, 405), r.status
        finally:
            c.close()


def test_h2_streamed_request_body():
    c = Client(shared())
    try:
        sid = c.request("POST", "/stream", body=b"a" * 1000, end=False)
        c.send_body(sid, b"b" * 2000, end=False)
        c.send_body(sid, b"c" * 3000, end=True)
        r = c.responses[sid]
        c.run_until(lambda: r.ended)
        assert bytes(r.body).startswith(b"total=6000 "), r.body
    finally:
        c.close()


def test_h2_paused_body_stops_the_client():
    # The handler pauses after the first chunk: the server acknowledges no more DATA, so the
    # client's window closes; resumed, the rest flows and the whole body arrives.
    with server("--http2_initial_window_size=16384") as port:
        c = Client(port)
        try:
            c.run_until(lambda: c.conn.remote_settings.initial_window_size == 16384)
            body = b"p" * 200000
            sid = c.request("POST", "/pause", end=False)
            sent = 0
            while True:
                n = min(c.conn.local_flow_control_window(sid), c.conn.max_outbound_frame_size,
                        len(body) - sent)
                if n > 0:
                    c.conn.send_data(sid, body[sent:sent + n])
                    sent += n
                    c.flush()
                    continue
                # A PING round trip: window updates for what the server took come before it.
                c.round_trip()
                if c.conn.local_flow_control_window(sid) == 0:
                    break
            assert sent < len(body), "the client sent everything: nothing stopped it"
            assert sent <= 16384 * 3, sent
            got = int(bytes(fetch(port, "/pause/resume").body).split(b"=")[1])
            assert got < sent, (got, sent)  # the rest waits in the server, unacknowledged
            assert fetch(port, "/pause/resume?go=1").status == 200
            c.send_body(sid, body[sent:])
            r = c.responses[sid]
            c.run_until(lambda: r.ended)
            assert bytes(r.body) == b"total=200000", r.body
        finally:
            c.close()


def test_h2_many_concurrent_streams():
    c = Client(shared())
    try:
        sids = [c.request("GET", "/async?ms=20") for _ in range(90)]
        c.run_until(lambda: all(c.responses[s].ended for s in sids), timeout=60)
        assert all(c.responses[s].status == 200 for s in sids)
    finally:
        c.close()


def test_h2_static_file_pread():
    r = fetch(shared(), "/file?off=7&n=300000&pre=AB")
    assert r.status == 200 and bytes(r.body) == b"AB" + _pattern(7, 300000)
    r = fetch(shared(), "/file?off=3&n=1000&flush=1")
    assert bytes(r.body) == _pattern(3, 1000) + b"post"


def test_h2_errors_404_413_431():
    with server("--max_body_size=1000", "--http2_max_header_list_size=2048") as port:
        c = Client(port)
        try:
            assert c.get("/nowhere").status == 404
            r = c.get("/echo", method="POST", body=b"x" * 2000,
                      headers=[("content-length", "2000")])
            assert r.status == 413, r.status
            sid = c.request("POST", "/stream", body=b"y" * 800, end=False)
            c.send_body(sid, b"y" * 800, end=False)
            r = c.responses[sid]
            c.run_until(lambda: r.status is not None or r.reset is not None)
            assert r.status == 413 or r.reset is not None, (r.status, r.reset)
            r = c.get("/", headers=[("x-big", "v" * 3000)])
            assert r.status == 431, r.status
            assert c.get("/").status == 200
        finally:
            c.close()


def test_h2_client_reset_tells_handler():
    port = shared()
    before = bytes(fetch(port, "/stats").body)
    c = Client(port)
    try:
        sid = c.request("GET", "/wait")
        c.run_until(lambda: True)
        time.sleep(0)  # the request is sent; the handler waits for the client to leave
        c.conn.reset_stream(sid)
        c.flush()
        deadline = time.monotonic() + 30
        while bytes(fetch(port, "/stats").body) == before:
            assert time.monotonic() < deadline, "the handler never heard of the reset"
            time.sleep(0.02)
    finally:
        c.close()


# ---- drain ----------------------------------------------------------------------------------

def test_h2_idle_connection_goaway():
    with server("--idle_connection_timeout=0.5") as port:
        raw = Raw(port)
        f = raw.goaway_or_close(timeout=30)
        assert f is None or f.error_code == 0, f
        raw.close()


def test_h2_finish_after_the_client_left():
    """A handler that finishes after its HTTP/2 client closed the connection (the session
    is gone): the worker keeps serving (it used to crash counting the request)."""
    with server() as port:
        raw = Raw(port)
        raw.send(hf.HeadersFrame(1, raw.headers_block("/async?ms=300"),
                                 flags=["END_HEADERS", "END_STREAM"]))
        raw.close()
        # A later request with the same delay ends after the abandoned one's timer fired.
        r = fetch(port, "/async?ms=300")
        assert r.status == 200, r.status
        _still_serves(port)


def test_h2_idle_timeout_with_an_unfinished_head():
    """A stream whose HEADERS never end (no END_HEADERS, no CONTINUATION) does not hold the
    connection past idle_connection_timeout: GOAWAY and close."""
    with server("--idle_connection_timeout=0.5") as port:
        raw = Raw(port)
        raw.send(hf.HeadersFrame(1, raw.headers_block("/"), flags=["END_STREAM"]))
        f = raw.goaway_or_close(timeout=30)
        assert f is None or f.error_code == 0, f
        raw.close()
        _still_serves(port)


# ---- attacks --------------------------------------------------------------------------------

def test_h2_rapid_reset():
    with server("--http2_reset_burst=100", "--http2_reset_rate=10") as port:
        fds = _fds(port)
        raw = Raw(port)
        frames = []
        for i in range(1000):
            sid = 2 * i + 1
            frames.append(hf.HeadersFrame(sid, raw.headers_block("/wait"),
                                          flags=["END_HEADERS", "END_STREAM"]))
            frames.append(hf.RstStreamFrame(sid, error_code=8))  # CANCEL
        try:
            raw.send(*frames)
        except (BrokenPipeError, ConnectionResetError):
            pass
        f = raw.goaway_or_close(timeout=30)
        assert f is not None and f.error_code == ENHANCE_YOUR_CALM, f
        raw.close()
        _still_serves(port)
        _wait_fds(port, fds)


def test_h2_continuation_flood():
    with server() as port:
        raw = Raw(port)
        block = raw.headers_block("/")
        frames = [hf.HeadersFrame(1, block[:5])]
        frames += [hf.ContinuationFrame(1, b"\x40\x01a\x01b") for _ in range(5000)]
        try:
            raw.send(*frames)
        except (BrokenPipeError, ConnectionResetError):
            pass
        f = raw.goaway_or_close(timeout=30)
        assert f is None or f.error_code != 0, f
        raw.close()
        _still_serves(port)


def test_h2_hpack_bomb():
    with server("--http2_max_header_list_size=16384") as port:
        raw = Raw(port)
        # One 4000-byte field goes into the dynamic table, then is referenced (1 byte each)
        # 10000 times: 40 MB decoded from 14 KB.
        first = raw.enc.encode([(":method", "GET"), (":path", "/"), (":scheme", "http"),
                            (":authority", "x"), ("x-bomb", "b" * 4000)])
        index = b"\xbe"  # dynamic table entry 62: the x-bomb field
        block = first + index * 10000
        assert len(block) < 16000
        raw.send(hf.HeadersFrame(1, block, flags=["END_STREAM", "END_HEADERS"]))
        f = raw.frames_until(lambda f: isinstance(f, (hf.HeadersFrame, hf.GoAwayFrame,
                                                      hf.RstStreamFrame)))
        if isinstance(f, hf.HeadersFrame):
            status = dict(hpack.Decoder().decode(f.data)).get(":status")
            assert status == "431", status
        raw.close()
        _still_serves(port)
        # A table size update past what the server allows: COMPRESSION_ERROR.
        raw = Raw(port)
        raw.send(hf.HeadersFrame(1, b"\x3f\xe1\xff\x03" + raw.headers_block("/"),
                                 flags=["END_HEADERS", "END_STREAM"]))
        f = raw.goaway_or_close()
        assert f is None or f.error_code == 9, f  # COMPRESSION_ERROR
        raw.close()
        _still_serves(port)


def _flood(port, frame, count):
    raw = Raw(port)
    data = frame.serialize() * count
    raw.sock.settimeout(30)
    try:
        raw.sock.sendall(data)  # the server may stop reading, or close, mid-way
    except (BrokenPipeError, ConnectionResetError, TimeoutError, OSError):
        pass
    return raw


def test_h2_ping_flood():
    with server("--http2_stall_timeout=2") as port:
        fds, rss = _fds(port), _rss_kb(port)
        raw = _flood(port, hf.PingFrame(0, opaque_data=b"12345678"), 200000)
        f = raw.goaway_or_close(timeout=60)
        assert f is None or f.error_code in (ENHANCE_YOUR_CALM, 0), f
        raw.close()
        _still_serves(port)
        _wait_fds(port, fds)
        assert _rss_kb(port) < rss + 64 * 1024


def test_h2_settings_flood():
    with server("--http2_stall_timeout=2") as port:
        fds = _fds(port)
        raw = _flood(port, hf.SettingsFrame(0, settings={4: 65535}), 100000)
        f = raw.goaway_or_close(timeout=60)
        assert f is None or f.error_code in (ENHANCE_YOUR_CALM, 0), f
        raw.close()
        _still_serves(port)
        _wait_fds(port, fds)
        # Too many entries in one SETTINGS frame.
        raw = Raw(port)
        payload = b"".join(b"\x00\x04" + (65535).to_bytes(4, "big") for _ in range(40))
        raw.sock.sendall(len(payload).to_bytes(3, "big") + b"\x04\x00\x00\x00\x00\x00" + payload)
        f = raw.goaway_or_close()
        assert f is None or f.error_code == ENHANCE_YOUR_CALM, f
        raw.close()
        _still_serves(port)


def test_h2_zero_window_stall():
    with server("--http2_stall_timeout=1") as port:
        fds, rss = _fds(port), _rss_kb(port)
        c = Client(port, settings={SettingCodes.INITIAL_WINDOW_SIZE: 0},
                   auto_window=False)
        sid = c.request("GET", "/big?n=2000000")
        start = time.monotonic()
        try:
            c.run_until(lambda: c.goaway is not None, timeout=30)
        except ConnectionError:
            pass  # closed without a GOAWAY: stopped too
        assert time.monotonic() - start < 30
        assert not c.responses[sid].ended
        c.close()
        _still_serves(port)
        _wait_fds(port, fds)
        assert _rss_kb(port) < rss + 64 * 1024

