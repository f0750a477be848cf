"""WebSocket frames end to end (RFC 6455) against build/tests/wsapp: every rule that fails the
connection (the Close code and reason the server sends, then the TCP close), the close
handshake both ways, pings and pongs, fragmentation, the ping/timeout settings and
max_message_size. After each abuse the worker must still serve and hold no more file
descriptors than before."""
import contextlib
import struct
import time

from harness import server, timeout
from testrun import wait_until
from ws_client import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, WS,
                       close_payload, fd_count, frame, server_pid, still_serving, wait_fds)


@contextlib.contextmanager
def wsapp():
    with server(binary="tests/wsapp") as port:
        yield port


@contextlib.contextmanager
def abuse(port, path="/echo"):
    """An open connection; afterwards the server holds no more descriptors than before it
    and still answers."""
    pid = server_pid(port)
    base = fd_count(pid)
    with WS(port, path) as c:
        assert c.status == 101, c.status
        yield c
    wait_fds(pid, base)
    still_serving(port)


def fails_with(code, reason, *frames, path="/echo"):
    """Sends frames (bytes) on a fresh connection; the server must answer Close(code,
    reason) and close the TCP connection."""
    with wsapp() as port:
        with abuse(port, path) as c:
            c.send(b"".join(frames))
            c.expect_close(code, reason)


# ---- the rules that fail a connection ---------------------------------------------------


def test_unmasked_client_frame_1002():
    # On purpose unlike Tornado (which accepts unmasked client frames): RFC 6455 §5.1 says the
    # server MUST close the connection; we send 1002.
    fails_with(1002, "unmasked frame from the client", frame(OP_TEXT, "hi", mask=False))


def test_unmasked_after_good_frames_1002():
    with wsapp() as port:
        with abuse(port) as c:
            c.send_frame(OP_TEXT, "ok")
            assert c.recv_message() == (OP_TEXT, b"ok")
            c.send_frame(OP_PING, "p", mask=False)
            c.expect_close(1002, "unmasked frame from the client")


def test_rsv_bits_1002():
    for rsv in (1, 2, 4, 7):  # RSV1 too: no extension was negotiated on /echo
        fails_with(1002, "reserved bits set", frame(OP_TEXT, "hi", rsv=rsv))


def test_rsv1_on_control_frame_with_deflate_1002():
    with wsapp() as port:
        pid = server_pid(port)
        base = fd_count(pid)
        with WS(port, "/compress",
                headers={"Sec-WebSocket-Extensions": "permessage-deflate"}) as c:
            assert c.header("Sec-WebSocket-Extensions") == "permessage-deflate"
            c.send_frame(OP_PING, "p", rsv=4)
            c.expect_close(1002, "reserved bits set")
        with WS(port, "/compress",
                headers={"Sec-WebSocket-Extensions": "permessage-deflate"}) as c:
            c.send(frame(OP_TEXT, "a", fin=False) + frame(OP_CONT, "b", rsv=4))
            c.expect_close(1002, "reserved bits set")  # RSV1 only on a message's first frame
        wait_fds(pid, base)
        still_serving(port)


def test_unknown_opcodes_1002():
    for op in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15):
        fails_with(1002, "unknown opcode", frame(op, "x"))


def test_fragmented_control_frame_1002():
    for op in (OP_PING, OP_PONG, OP_CLOSE):
        fails_with(1002, "fragmented or oversized control frame", frame(op, b"", fin=False))


def test_oversized_control_frame_1002():
    for op in (OP_PING, OP_PONG):
        fails_with(1002, "fragmented or oversized control frame", frame(op, b"x" * 126))
    fails_with(1002, "fragmented or oversized control frame",
               frame(OP_CLOSE, close_payload(1000, "x" * 124)))


def test_control_frame_125_bytes_ok():
    with wsapp() as port:
        with abuse(port, "/ping") as c:
            c.send_frame(OP_PING, b"y" * 125)
            fin, rsv, op, p = c.recv_frame()
            assert (op, p) == (OP_PONG, b"y" * 125)


def test_continuation_without_start_1002():
    fails_with(1002, "continuation without a message", frame(OP_CONT, "x"))
    fails_with(1002, "continuation without a message", frame(OP_CONT, "x", fin=False))


def test_continuation_after_finished_message_1002():
    with wsapp() as port:
        with abuse(port) as c:
            c.send(frame(OP_TEXT, "a", fin=False) + frame(OP_CONT, "b"))
            assert c.recv_message() == (OP_TEXT, b"ab")
            c.send_frame(OP_CONT, "c")
            c.expect_close(1002, "continuation without a message")


def test_new_data_frame_inside_fragmented_message_1002():
    for op in (OP_TEXT, OP_BINARY):
        fails_with(1002, "new message inside a fragmented one",
                   frame(OP_TEXT, "a", fin=False), frame(op, "b"))


def test_invalid_utf8_text_1007():
    for bad in (b"\xff", b"a\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80"):
        fails_with(1007, "invalid UTF-8 in text message", frame(OP_TEXT, bad))
    # in a fragmented message too, checked on the whole message
    fails_with(1007, "invalid UTF-8 in text message",
               frame(OP_TEXT, b"ok", fin=False), frame(OP_CONT, b"\xfe"))


def test_utf8_split_across_fragments_ok():
    # A character split between two frames is valid: the message is checked whole.
    with wsapp() as port:
        with abuse(port) as c:
            c.send(frame(OP_TEXT, b"caf\xc3", fin=False) +
                   frame(OP_CONT, b"\xa9 \xe4\xb8", fin=False) +
                   frame(OP_CONT, b"\xad"))
            assert c.recv_message() == (OP_TEXT, "caf\u00e9 \u4e2d".encode())
            c.send_frame(OP_BINARY, b"\xff\xfe")  # binary is not checked
            assert c.recv_message() == (OP_BINARY, b"\xff\xfe")


def test_invalid_close_codes_1002():
    for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535):
        fails_with(1002, "invalid close code", frame(OP_CLOSE, close_payload(code)))


def test_valid_close_codes_echoed():
    with wsapp() as port:
        pid = server_pid(port)
        base = fd_count(pid)
        for code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                     3000, 4999):
            with WS(port) as c:
                c.send_frame(OP_CLOSE, close_payload(code, "r"))
                c.expect_close(code, "")
        wait_fds(pid, base)
        still_serving(port)


def test_one_byte_close_payload_1002():
    fails_with(1002, "bad close frame", frame(OP_CLOSE, b"\x03"))


def test_invalid_utf8_close_reason_1007():
    fails_with(1007, "invalid UTF-8 in close reason", frame(OP_CLOSE, close_payload(1000, b"\xff")))


def test_oversized_message_1009():
    # Tornado's MaxMessageSizeTest: websocket_max_message_size=1024 (/small/).
    with wsapp() as port:
        with abuse(port, "/small/echo") as c:
            c.send_frame(OP_BINARY, b"x" * 1024)
            assert c.recv_message() == (OP_BINARY, b"x" * 1024)
            c.send_frame(OP_TEXT, "y" * 1025)
            c.expect_close(1009, "message too big")


def test_oversized_fragmented_message_1009():
    # The limit is on the whole message, summed over its fragments.
    with wsapp() as port:
        with abuse(port, "/small/echo") as c:
            c.send(frame(OP_BINARY, b"a" * 600, fin=False) + frame(OP_CONT, b"b" * 424))
            assert c.recv_message() == (OP_BINARY, b"a" * 600 + b"b" * 424)
            c.send(frame(OP_BINARY, b"a" * 600, fin=False) + frame(OP_CONT, b"b" * 425))
            c.expect_close(1009, "message too big")


def test_oversized_announced_length_1009():
    # A frame announcing 2^63-1 bytes: refused from its head, nothing allocated.
    with wsapp() as port:
        with abuse(port) as c:
            c.send(struct.pack("!BBQ", 0x82, 0xFF, (1 << 63) - 1) + b"\x00" * 4)
            c.expect_close(1009, "message too big")


def test_bad_length_encoding_1002():
    # 64-bit length with the top bit set (RFC 6455 §5.2).
    fails_with(1002, "bad frame length", struct.pack("!BBQ", 0x82, 0xFF, 1 << 63) + b"\0" * 4)


def test_error_then_worker_alive_after_many_abuses():
    # Every kind of abuse in turn on one server, then ordinary echo still works.
    bad = [frame(OP_TEXT, "x", mask=False), frame(OP_TEXT, "x", rsv=2), frame(5, "x"),
           frame(OP_PING, b"", fin=False), frame(OP_CONT, "x"), frame(OP_TEXT, b"\xff"),
           frame(OP_CLOSE, b"\x03"), frame(OP_CLOSE, close_payload(1005))]
    with wsapp() as port:
        pid = server_pid(port)
        base = fd_count(pid)
        for i in range(3):
            for b in bad:
                with WS(port) as c:
                    c.send(b)
                    c.expect_eof()
        wait_fds(pid, base)
        with WS(port) as c:
            c.send_frame(OP_TEXT, "still here")
            assert c.recv_message() == (OP_TEXT, b"still here")


# ---- the close handshake ---------------------------------------------------------------


def test_client_close_echoed_then_tcp_closed():
    with wsapp() as port:
        with abuse(port) as c:
            c.send_frame(OP_CLOSE, close_payload(1000, "done"))
            fin, rsv, op, p = c.recv_frame()
            assert (fin, op, p) == (True, OP_CLOSE, close_payload(1000)), (op, p)
            c.expect_eof()
            assert c.buf == b""


def test_messages_after_client_close_ignored():
    with wsapp() as port:
        with abuse(port) as c:
            c.send(frame(OP_CLOSE, close_payload(1000)) + frame(OP_TEXT, "late"))
            c.expect_close(1000, "")


def test_server_close_waits_for_client_close():
    # /close_after/100: the server closes 100 ms after open; the connection stays open until
    # the client's Close, which may come much later than the server's.
    with wsapp() as port:
        with abuse(port, "/close_after/100?id=waits") as c:
            assert c.recv_message() == ("close", 1000, "bye")
            time.sleep(0.5)  # not for correctness: a late answer must still be accepted
            c.send_frame(OP_CLOSE, close_payload(1000))
            c.expect_eof()
        wait_until(lambda: closed(port, "waits"), 30, "on_close")
        assert closed(port, "waits") == "1000 None"


@timeout(60)
def test_server_close_aborts_without_client_close():
    # No Close from the client: the server aborts 5 s after its own Close (Tornado's
    # close timeout), never before.
    with wsapp() as port:
        with abuse(port, "/close_after/0?id=noanswer") as c:
            assert c.recv_message() == ("close", 1000, "bye")
            t0 = time.monotonic()
            c.expect_eof(timeout=40)
            dt = time.monotonic() - t0
            assert 4.0 <= dt <= 40, "aborted %.2f s after the Close, expected 5 s" % dt
        wait_until(lambda: closed(port, "noanswer"), 30, "on_close")
        assert closed(port, "noanswer") == "0 None"


def test_messages_after_server_close_still_read():
    # While the server waits for the client's Close, data frames are read (and dropped), the
    # Close that follows ends the handshake.
    with wsapp() as port:
        with abuse(port, "/close_after/0") as c:
            assert c.recv_message() == ("close", 1000, "bye")
            c.send(frame(OP_TEXT, "late") + frame(OP_CLOSE, close_payload(1000)))
            c.expect_eof()
            assert c.buf == b"", "answered after its Close: %r" % c.buf


def closed(port, ident):
    with WS(port, "/", raw=("GET /closed/%s HTTP/1.1\r\nHost: x\r\n\r\n" % ident).encode()) as c:
        return c.body.decode() if c.status == 200 else None


# ---- ping and pong ---------------------------------------------------------------------


def test_ping_answered_with_same_payload():
    with wsapp() as port:
        with abuse(port, "/ping") as c:
            for data in (b"", b"hello", bytes(range(125))):
                c.send_frame(OP_PING, data)
                fin, rsv, op, p = c.recv_frame()
                assert (fin, op, p) == (True, OP_PONG, data), (op, p)
                assert c.recv_message() == (OP_BINARY, b"got ping " + data)  # on_ping


def test_server_ping_and_on_pong():
    with wsapp() as port:
        with abuse(port, "/ping") as c:
            c.send_frame(OP_TEXT, "ping:abc")
            fin, rsv, op, p = c.recv_frame()
            assert (op, p) == (OP_PING, b"abc"), (op, p)
            c.send_frame(OP_PONG, p)
            assert c.recv_message() == (OP_BINARY, b"got pong abc")
            c.send_frame(OP_PONG, b"unsolicited")  # allowed (RFC 6455 §5.5.3)
            assert c.recv_message() == (OP_BINARY, b"got pong unsolicited")


def test_fragmented_message_with_interleaved_pings():
    with wsapp() as port:
        with abuse(port) as c:
            c.send(frame(OP_TEXT, "frag", fin=False) + frame(OP_PING, "p1") +
                   frame(OP_CONT, "ment", fin=False) + frame(OP_PING, "p2") +
                   frame(OP_CONT, "", fin=False) + frame(OP_CONT, "ed"))
            got = [c.recv_frame() for _ in range(3)]
            assert [(op, p) for _, _, op, p in got] == [
                (OP_PONG, b"p1"), (OP_PONG, b"p2"), (OP_TEXT, b"fragmented")], got


def test_many_small_fragments():
    with wsapp() as port:
        with abuse(port) as c:
            msg = bytes(i % 251 for i in range(3000))
            parts = [msg[i:i + 7] for i in range(0, len(msg), 7)]
            raw = frame(OP_BINARY, parts[0], fin=False)
            raw += b"".join(frame(OP_CONT, p, fin=False) for p in parts[1:-1])
            raw += frame(OP_CONT, parts[-1])
            c.send(raw)
            assert c.recv_message() == (OP_BINARY, msg)


def test_frame_bytes_one_at_a_time():
    # A frame split over many TCP segments (head and masking key too).
    with wsapp() as port:
        with abuse(port) as c:
            raw = frame(OP_TEXT, "slowly " * 30) + frame(OP_PING, "pp")
            for i in range(len(raw)):
                c.send(raw[i:i + 1])
            assert c.recv_message(pong=False) == (OP_TEXT, b"slowly " * 30)
            fin, rsv, op, p = c.recv_frame()
            assert (op, p) == (OP_PONG, b"pp")


# ---- websocket_ping_interval / _timeout (/pinging/: 0.5 s each) -------------------------


def test_periodic_ping_answered_stays_open():
    with wsapp() as port:
        with abuse(port, "/pinging/echo") as c:
            pings = 0
            t0 = time.monotonic()
            while pings < 4:  # four intervals: well past one timeout
                fin, rsv, op, p = c.recv_frame(timeout=30)
                assert op in (OP_PING, OP_BINARY), (op, p)
                if op == OP_PING:
                    assert p == b""
                    pings += 1
                    c.send_frame(OP_PONG, p)
            assert time.monotonic() - t0 >= 1.0  # 4 pings, 0.5 s apart, the first at 0.5 s
            c.send_frame(OP_TEXT, "alive")
            while True:  # on_pong's "got pong" messages come first
                m = c.recv_message()
                if m[0] != OP_BINARY:
                    break
                assert m == (OP_BINARY, b"got pong "), m
            assert m == (OP_TEXT, b"alive"), m


def test_periodic_ping_unanswered_closes():
    # Never a pong: Close 1000 "ping timed out" once the interval and the timeout have gone.
    with wsapp() as port:
        with abuse(port, "/pinging/echo") as c:
            t0 = time.monotonic()
            fin, rsv, op, p = c.recv_frame(timeout=30)
            assert (op, p) == (OP_PING, b"")
            msg = c.recv_message(timeout=30, pong=False)
            dt = time.monotonic() - t0
            assert msg == ("close", 1000, "ping timed out"), msg
            assert dt >= 0.4, "closed %.2f s after the ping, the timeout is 0.5 s" % dt
            c.send_frame(OP_CLOSE, close_payload(1000))
            c.expect_eof()


@timeout(120)
def test_ping_timeout_capped_to_interval():
    # websocket_ping_timeout 60 s with a 0.5 s interval: the timeout is the interval, so an
    # unanswered ping closes the connection long before 60 s.
    with wsapp() as port:
        with abuse(port, "/pingcap/echo") as c:
            t0 = time.monotonic()
            msg = c.recv_message(timeout=50, pong=False)
            dt = time.monotonic() - t0
            assert msg == ("close", 1000, "ping timed out"), msg
            assert dt < 50, "closed after %.1f s: the 60 s timeout was not capped" % dt
            c.send_frame(OP_CLOSE, close_payload(1000))
            c.expect_eof()


# ---- large messages ----------------------------------------------------------------------


@timeout(300)
def test_16mib_message_raw():
    # 16 MiB in one frame to wsapp's /echo (its max is 16 MiB), and one byte more refused.
    with wsapp() as port:
        with abuse(port) as c:
            msg = bytes(i % 253 for i in range(1 << 16)) * 256
            c.send_frame(OP_BINARY, msg)
            assert c.recv_message(timeout=120) == (OP_BINARY, msg)
            c.send_frame(OP_BINARY, msg + b"!")
            c.expect_close(1009, "message too big", timeout=120)
