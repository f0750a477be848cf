"""Process lifecycle and logging options."""
import signal

import testrun
from harness import server, wait_stderr, final_stderr
import http_client as hc
from http_client import Conn, expect_ok


def test_sigint_exits_cleanly():
    with server(sig=signal.SIGINT) as port:
        expect_ok(hc.get(port, "/"), "Hello, world")


def test_sigterm_with_open_connections():
    with server() as port:
        conns = [Conn(port) for _ in range(20)]
        conns[0].request("GET", "/")
        expect_ok(conns[0].read_response(), "Hello, world")
        conns[1].send(b"GET / HTTP/1.1\r\nHost: x\r\n")        # half a head
        conns[2].send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
    # server() stopped it with SIGTERM and checked exit 0 while these were open
    for c in conns:
        c.close()


def test_sigterm_with_request_in_flight():
    with server() as port:
        waiting = Conn(port)
        waiting.request("GET", "/wait")
        slow = Conn(port)
        slow.request("GET", "/async?ms=5000")
        streaming = Conn(port)
        streaming.send(b"POST /stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        # TERM only once the server has read all three (on a loaded machine it may not have)
        for c in (waiting, slow, streaming):
            testrun.wait_until(lambda: testrun.server_read_all(c.sock), 30,
                               "the server reading a request")
    for c in (waiting, slow, streaming):
        c.close()


def test_sigterm_during_big_download():
    with server() as port:
        c = Conn(port)
        c.request("GET", "/big?n=50000000")
        c.read_exact(1000)
    c.close()


def test_access_log_on_info():
    with server("--logging=info") as port:
        expect_ok(hc.get(port, "/path/logged"), "logged")
        assert hc.get(port, "/missing").status == 404
        err = wait_stderr(port, "404 GET /missing")
        assert "GET /path/logged" in err, err
        assert "404 GET /missing" in err, err


def test_no_access_log_option():
    with server("--logging=info", "--no-access-log") as port:
        expect_ok(hc.get(port, "/path/quiet"), "quiet")
    err = final_stderr[port]
    assert "/path/quiet" not in err, err


def test_logging_none_is_silent():
    with server("--logging=none") as port:
        expect_ok(hc.get(port, "/"), "Hello, world")
        hc.expect_error(port, b"GARBAGE\r\n\r\n", 400)
        assert hc.get(port, "/error").status == 500
    err = final_stderr[port]
    assert err.strip() == "", err


def test_linger_zero_still_answers_errors():
    with server("--linger=0") as port:
        hc.expect_error(port, b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505)
        expect_ok(hc.get(port, "/"), "Hello, world")


def test_access_log_levels():
    # --logging=warning: 2xx/3xx access lines (INFO) hidden, 4xx WARNING, 5xx ERROR, as the
    # docs (and Tornado's log_request) say.
    with server("--logging=warning") as port:
        expect_ok(hc.get(port, "/path/fine"), "fine")
        assert hc.get(port, "/missing").status == 404
        assert hc.get(port, "/error").status == 500
    err = final_stderr[port]
    assert "/path/fine" not in err, err
    lines = err.splitlines()
    assert any(l.startswith("[W ") and "404 GET /missing" in l for l in lines), \
        "no WARNING access line for the 404: %r" % err
    assert any(l.startswith("[E ") and "500 GET /error" in l for l in lines), \
        "no ERROR access line for the 500: %r" % err


def test_log_file_prefix_rotates_by_size():
    """Tornado's log options in the one-process runner (core/log_options.h): the log goes to
    --log-file-prefix, rotated by size into PREFIX.1, PREFIX.2; not to stderr then."""
    import os
    import re
    import shutil
    import tempfile
    import time
    d = tempfile.mkdtemp(prefix="tp-blackbox-logs-")
    prefix = os.path.join(d, "app.log")
    try:
        with server("--logging=info", "--log-file-prefix=" + prefix, "--log-file-max-size=400",
                    "--log-file-num-backups=2") as port:
            deadline = time.monotonic() + 60
            while not os.path.exists(prefix + ".2"):
                assert time.monotonic() < deadline, "no second rotation: %r" % os.listdir(d)
                expect_ok(hc.get(port, "/"), "Hello, world")
            assert sorted(os.listdir(d)) == ["app.log", "app.log.1", "app.log.2"], os.listdir(d)
            for name in ("app.log.1", "app.log.2"):
                path = os.path.join(d, name)
                assert os.path.getsize(path) < 400, (name, os.path.getsize(path))
                with open(path) as f:
                    lines = f.read().splitlines()
                assert lines and all(re.match(r"\[[IW] \d{6} [\d:]{8} \w+:\d+\] ", ln)
                                         for ln in lines), lines
                assert any("200 GET / (127.0.0.1)" in ln for ln in lines), lines
        assert "GET /" not in final_stderr[port], final_stderr[port][-300:]
    finally:
        shutil.rmtree(d, ignore_errors=True)
