"""WebSocketHandler end to end (build/tests/wsapp, tests/apps/wsapp.c): Tornado's handshake
checks in its order with their statuses and bodies, the 101, and the handlers of Tornado's
tornado/test/websocket_test.py. Frame-level rules: test_websocket_frames.py; compression:
test_websocket_deflate.py."""
import contextlib
import signal

from harness import Server, server
from testrun import wait_until
from ws_client import (ACCEPT, OP_BINARY, OP_CLOSE, OP_TEXT, WS, accept_of, close_payload,
                       fd_count, frame, server_pid, still_serving, wait_fds)

UPGRADE_400 = b'Can "Upgrade" only to "WebSocket".'
CONNECTION_400 = b'"Connection" must be "Upgrade".'
ORIGIN_403 = b"Cross origin websockets not allowed"
MISSING_400 = b"Missing/Invalid WebSocket headers"


@contextlib.contextmanager
def wsapp(*flags):
    with server(*flags, binary="tests/wsapp") as port:
        yield port


def refused(port, status, body, path="/echo", **kw):
    with WS(port, path, **kw) as c:
        assert c.status == status, "status %d %r, expected %d" % (c.status, c.body, status)
        assert c.body == body, "body %r, expected %r" % (c.body, body)
        return c


# ---- the handshake ------------------------------------------------------------------------


def test_handshake_101_headers():
    with wsapp() as port:
        with WS(port) as c:
            assert c.status == 101 and c.reason == "Switching Protocols", (c.status, c.reason)
            assert c.header("Upgrade") == "websocket"
            assert c.header("Connection") == "Upgrade"
            assert c.header("Sec-WebSocket-Accept") == ACCEPT
            for absent in ("Content-Type", "Content-Length", "Transfer-Encoding",
                           "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "Etag"):
                assert c.header(absent) is None, "%s in the 101: %r" % (absent, c.headers)
            c.send_frame(OP_TEXT, "hello")
            assert c.recv_message() == (OP_TEXT, b"hello")


def test_handshake_accept_key_computed():
    key = "AQIDBAUGBwgJCgsMDQ4PEA=="
    with wsapp() as port:
        with WS(port, headers={"Sec-WebSocket-Key": key}) as c:
            assert c.status == 101
            assert c.header("Sec-WebSocket-Accept") == accept_of(key) != ACCEPT


def test_handshake_versions_7_8_13_accepted():
    with wsapp() as port:
        for v in ("7", "8", "13"):
            with WS(port, headers={"Sec-WebSocket-Version": v}) as c:
                assert c.status == 101, "version %s: %d" % (v, c.status)
                c.send_frame(OP_TEXT, "v" + v)
                assert c.recv_message() == (OP_TEXT, b"v" + v.encode())


def test_handshake_426_other_versions():
    with wsapp() as port:
        for v in ("12", "14", "0", "", "13, 8", None):
            c = refused(port, 426, b"", headers={"Sec-WebSocket-Version": v})
            assert c.reason == "Upgrade Required"
            assert c.header("Sec-WebSocket-Version") == "7, 8, 13", (v, c.headers)


def test_handshake_upgrade_400():
    with wsapp() as port:
        for up in (None, "", "h2c", "websocket2", "websocket, h2c"):
            refused(port, 400, UPGRADE_400, headers={"Upgrade": up})
        for up in ("WebSocket", "WEBSOCKET"):  # lowercased before the compare
            with WS(port, headers={"Upgrade": up}) as c:
                assert c.status == 101, (up, c.status)


def test_handshake_connection_400():
    with wsapp() as port:
        for conn in (None, "", "keep-alive", "upgrades", "close"):
            refused(port, 400, CONNECTION_400, headers={"Connection": conn})
        for conn in ("keep-alive, Upgrade", "UPGRADE", "foo,upgrade ,bar"):
            with WS(port, headers={"Connection": conn}) as c:
                assert c.status == 101, (conn, c.status)


def test_handshake_missing_key_400():
    with wsapp() as port:
        refused(port, 400, MISSING_400, headers={"Sec-WebSocket-Key": None})
        refused(port, 400, MISSING_400, headers={"Sec-WebSocket-Key": ""})


def test_handshake_missing_host_400():
    # HTTP/1.1 without Host is a 400 at the HTTP level (RFC 9112); HTTP/1.0 reaches the
    # handler, which refuses it as Tornado does.
    with wsapp() as port:
        c = refused(port, 400, MISSING_400, headers={"Host": None}, version="HTTP/1.0")
        assert c.header("Sec-WebSocket-Version") is None


def test_handshake_order():
    # Each check comes before the later ones: a request failing several gets the first.
    with wsapp() as port:
        bad_all = {"Upgrade": "h2c", "Connection": "close", "Origin": "http://evil.example",
                   "Sec-WebSocket-Version": "99", "Sec-WebSocket-Key": None}
        refused(port, 400, UPGRADE_400, headers=bad_all)
        del bad_all["Upgrade"]
        refused(port, 400, CONNECTION_400, headers=bad_all)
        del bad_all["Connection"]
        refused(port, 403, ORIGIN_403, headers=bad_all)
        del bad_all["Origin"]
        refused(port, 426, b"", headers=bad_all)
        del bad_all["Sec-WebSocket-Version"]
        refused(port, 400, MISSING_400, headers=bad_all)


def test_handshake_method_405():
    with wsapp() as port:
        for m in ("POST", "PUT", "DELETE", "PATCH"):
            with WS(port, headers={"Content-Length": "0"}, method=m) as c:
                assert c.status == 405, (m, c.status)


def test_handshake_not_found_404():
    with wsapp() as port:
        with WS(port, "/notfound") as c:
            assert c.status == 404


def test_non_websocket_handler_answers_normally():
    with wsapp() as port:
        with WS(port, "/non_ws") as c:
            assert c.status == 200 and c.body == b"ok"


def test_redirect_in_prepare():
    with wsapp() as port:
        with WS(port, "/redirect") as c:
            assert c.status == 302 and c.header("Location") == "/doesnotexist", c.headers


def test_async_prepare_unsupported_500():
    # Tornado's AsyncPrepareHandler awaits in prepare; ours must finish synchronously, and a
    # prepare returning TP_AGAIN is a 500, not an upgrade.
    with wsapp() as port:
        with WS(port, "/async_prepare") as c:
            assert c.status == 500 and c.header("Upgrade") is None, (c.status, c.headers)
        still_serving(port)


def test_header_echo_in_101():
    # HeaderEchoHandler: headers set in prepare and set_default_headers are in the 101.
    with wsapp() as port:
        with WS(port, "/header_echo", headers={"X-Test-Hello": "hello"}) as c:
            assert c.status == 101
            assert c.header("X-Test-Hello") == "hello"
            assert c.header("X-Extra-Response-Header") == "Extra-Response-Value"
            assert c.header("Content-Type") is None


def test_http_output_fails_after_upgrade():
    # HeaderHandler: write, redirect, set_header... fail in open; X-Test read from the request.
    with wsapp() as port:
        with WS(port, "/header", headers={"X-Test": "hello"}) as c:
            assert c.status == 101
            assert c.recv_message() == (OP_TEXT, b"hello")


# ---- check_origin ------------------------------------------------------------------------


def test_origin_default_same_host_allowed():
    with wsapp() as port:
        host = "127.0.0.1:%d" % port
        for origin in ("http://" + host, "http://" + host + "/something", "https://" + host,
                       "HTTP://127.0.0.1:%d" % port, "http://%s?q#f" % host):
            with WS(port, host=host, headers={"Origin": origin}) as c:
                assert c.status == 101, (origin, c.status, c.body)
        with WS(port, host="localhost:%d" % port,
                headers={"Origin": "http://LOCALHOST:%d" % port}) as c:
            assert c.status == 101  # the origin is lowercased


def test_origin_default_refused():
    with wsapp() as port:
        host = "127.0.0.1:%d" % port
        for origin in ("http://somewhereelse.com", "127.0.0.1:%d" % port,  # no scheme
                       "http://127.0.0.1:%d" % (port + 1), "http://127.0.0.1",  # other port
                       "null", ""):
            refused(port, 403, ORIGIN_403, host=host, headers={"Origin": origin})
        # subdomains are other origins
        refused(port, 403, ORIGIN_403, host="localhost:%d" % port,
                headers={"Origin": "http://subtenant.localhost:%d" % port})
        refused(port, 403, ORIGIN_403, host="localhost",
                headers={"Origin": "http://subtenant.localhost"})
        # the legacy header is read when Origin is missing
        refused(port, 403, ORIGIN_403, host=host,
                headers={"Sec-WebSocket-Origin": "http://somewhereelse.com"})
        # no Origin at all: allowed (not a browser)
        with WS(port, host=host) as c:
            assert c.status == 101


def test_origin_custom_check():
    with wsapp() as port:
        with WS(port, "/limited_origin", headers={"Origin": "http://allowed.example"}) as c:
            assert c.status == 101
        host = "127.0.0.1:%d" % port
        refused(port, 403, ORIGIN_403, path="/limited_origin", host=host,
                headers={"Origin": "http://" + host})


# ---- subprotocols ------------------------------------------------------------------------


def test_subprotocol_selected_once():
    with wsapp() as port:
        with WS(port, "/subprotocol",
                headers={"Sec-WebSocket-Protocol": "badproto, goodproto"}) as c:
            assert c.status == 101
            assert c.header("Sec-WebSocket-Protocol") == "goodproto"
            assert c.recv_message() == (OP_TEXT, b"subprotocol=goodproto calls=1")


def test_subprotocol_none_chosen():
    with wsapp() as port:
        with WS(port, "/subprotocol", headers={"Sec-WebSocket-Protocol": "badproto"}) as c:
            assert c.status == 101 and c.header("Sec-WebSocket-Protocol") is None
            assert c.recv_message() == (OP_TEXT, b"subprotocol=None calls=1")


def test_subprotocol_not_offered():
    # Tornado (since 5.1) calls select_subprotocol with an empty list when none was offered.
    with wsapp() as port:
        with WS(port, "/subprotocol") as c:
            assert c.status == 101 and c.header("Sec-WebSocket-Protocol") is None
            assert c.recv_message() == (OP_TEXT, b"subprotocol=None calls=1")


def test_subprotocol_unoffered_choice_500():
    with wsapp() as port:
        with WS(port, "/bad_subprotocol", headers={"Sec-WebSocket-Protocol": "a, b"}) as c:
            assert c.status == 500, c.status
        still_serving(port)


# ---- the handlers ------------------------------------------------------------------------


def test_echo_text_binary_unicode():
    with wsapp() as port:
        with WS(port) as c:
            c.send_frame(OP_TEXT, "hello")
            assert c.recv_message() == (OP_TEXT, b"hello")
            c.send_frame(OP_BINARY, b"\x00\xff\xfe binary")
            assert c.recv_message() == (OP_BINARY, b"\x00\xff\xfe binary")
            c.send_frame(OP_TEXT, "hello \u00e9 \u4e2d \U0001f600")
            assert c.recv_message() == (OP_TEXT, "hello \u00e9 \u4e2d \U0001f600".encode())
            c.send_frame(OP_TEXT, "")
            assert c.recv_message() == (OP_TEXT, b"")


def test_close_buffered_data():
    # Messages sent right before the Close are all answered before the Close.
    with wsapp() as port:
        with WS(port) as c:
            c.send(b"".join(frame(op, p) for op, p in
                            ((OP_TEXT, b"hello"), (OP_TEXT, b"world"),
                             (OP_CLOSE, close_payload(1000)))))
            assert c.recv_message() == (OP_TEXT, b"hello")
            assert c.recv_message() == (OP_TEXT, b"world")
            c.expect_close(1000, "")


def test_error_in_on_message_aborts():
    with wsapp() as port:
        pid = server_pid(port)
        with WS(port, "/error_in_on_message?id=err") as c:
            base = fd_count(pid)
            c.send_frame(OP_TEXT, "hello")
            c.expect_eof()  # aborted: no Close frame
            assert c.buf == b"", c.buf
        wait_until(lambda: closed_report(port, "err"), 30, "on_close after the abort")
        assert closed_report(port, "err") == "0 None"
        wait_fds(pid, base - 1)
        still_serving(port)


def closed_report(port, ident):
    """How the /echo?id=ident connection ended ("code reason"), or None before on_close."""
    raw = ("GET /closed/%s HTTP/1.1\r\nHost: x\r\n\r\n" % ident).encode()
    with WS(port, "/", raw=raw) as c:
        return c.body.decode() if c.status == 200 else None


def test_path_args_in_open():
    with wsapp() as port:
        with WS(port, "/path_args/hello") as c:
            assert c.recv_message() == (OP_TEXT, b"hello")


def test_render_message():
    with wsapp() as port:
        with WS(port, "/render") as c:
            c.send_frame(OP_TEXT, "hello")
            assert c.recv_message() == (OP_TEXT, b"<b>hello</b>")
            c.send_frame(OP_TEXT, "<script>")
            assert c.recv_message() == (OP_TEXT, b"<b>&lt;script&gt;</b>")


def test_coroutine_on_message_keeps_order():
    # An async on_message holds further reads: no two run at once, the answers in order.
    with wsapp() as port:
        with WS(port, "/coroutine") as c:
            c.send(b"".join(frame(OP_TEXT, "hello%d" % i) for i in range(10)))
            for i in range(10):
                assert c.recv_message() == (OP_TEXT, b"hello%d" % i)


def test_open_coroutine_holds_messages():
    # A message sent right after the handshake waits until the async open has finished.
    with wsapp() as port:
        with WS(port, "/open_coroutine") as c:
            c.send_frame(OP_TEXT, "message")
            assert c.recv_message() == (OP_TEXT, b"open done")
            assert c.recv_message() == (OP_TEXT, b"ok")


def test_open_error_closes():
    # open returning TP_ERROR: the 101 goes out, then a Close 1011 (web/websocket.h); the
    # client's answering Close ends the connection.
    with wsapp() as port:
        pid = server_pid(port)
        base = fd_count(pid)
        with WS(port, "/open_fail?id=openfail") as c:
            assert c.status == 101
            assert c.recv_message() == ("close", 1011, "")
            c.send_frame(OP_CLOSE, close_payload(1011))
            c.expect_eof()
        wait_until(lambda: closed_report(port, "openfail"), 30, "on_close after open failed")
        assert closed_report(port, "openfail") == "1011 None"
        wait_fds(pid, base)
        still_serving(port)


def test_server_close_reason():
    # The server closes with 1001 "goodbye"; the client answers; the TCP connection ends.
    with wsapp() as port:
        with WS(port, "/close_reason?id=srvclose") as c:
            assert c.recv_message() == ("close", 1001, "goodbye")
            c.send_frame(OP_CLOSE, close_payload(1001))
            c.expect_eof()
        wait_until(lambda: closed_report(port, "srvclose"), 30, "on_close")
        assert closed_report(port, "srvclose") == "1001 None"


def test_client_close_reason():
    # Tornado's close_code/close_reason: the client's; the server echoes the code only.
    with wsapp() as port:
        with WS(port, "/echo?id=cliclose") as c:
            c.send_frame(OP_CLOSE, close_payload(1001, "goodbye"))
            fin, rsv, op, p = c.recv_frame()
            assert (op, p) == (OP_CLOSE, close_payload(1001)), (op, p)
            c.expect_eof()
        wait_until(lambda: closed_report(port, "cliclose"), 30, "on_close")
        assert closed_report(port, "cliclose") == "1001 goodbye"


def test_client_close_without_code():
    with wsapp() as port:
        with WS(port, "/echo?id=cliempty") as c:
            c.send_frame(OP_CLOSE, b"")
            fin, rsv, op, p = c.recv_frame()
            assert (op, p) == (OP_CLOSE, b""), (op, p)
            c.expect_eof()
        wait_until(lambda: closed_report(port, "cliempty"), 30, "on_close")
        assert closed_report(port, "cliempty") == "0 None"


def test_client_disconnect_runs_on_close():
    with wsapp() as port:
        pid = server_pid(port)
        base = fd_count(pid)
        with WS(port, "/echo?id=gone") as c:
            c.send_frame(OP_TEXT, "x")
            assert c.recv_message() == (OP_TEXT, b"x")
        wait_until(lambda: closed_report(port, "gone"), 30, "on_close after the client left")
        assert closed_report(port, "gone") == "0 None"
        wait_fds(pid, base)


def test_sigterm_sends_1001_then_exits():
    # The one-process runner (tp_app_main) stops as a prefork worker drains: each open
    # WebSocket gets Close 1001 "going away", the server waits for the answer, then exits 0.
    s = Server(("--logging=info",), "tests/wsapp")
    try:
        with WS(s.port, "/echo") as c:
            c.send_frame(OP_TEXT, "x")
            assert c.recv_message() == (OP_TEXT, b"x")
            s.proc.send_signal(signal.SIGTERM)
            fin, rsv, op, p = c.recv_frame()
            assert (op, p) == (OP_CLOSE, close_payload(1001, "going away")), (op, p)
            assert s.alive(), "the server exited before the close handshake"
            c.send_frame(OP_CLOSE, close_payload(1001))
            c.expect_eof()
        # The handshake done, the server exits by itself.
        assert s.proc.wait(30) == 0, s.stderr()[-2000:]
        text = s.stderr()
        assert "closing 1 WebSocket connection(s) with 1001" in text, text[-500:]
        s.check_sanitizer()
    finally:
        s.kill()
