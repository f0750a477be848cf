"""Autobahn-style cases over a raw socket against wsecho: frames split at every byte, control
frames inside fragmented messages, and each protocol violation answered with its close code
(RFC 6455 §7.4.1) before the server closes the TCP connection."""
import base64
import os
import socket
import struct
import time
import zlib

import peers


def connect(extensions=None):
    s = socket.create_connection(("127.0.0.1", peers.echo_port()), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    req = ("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
           % key)
    if extensions:
        req += "Sec-WebSocket-Extensions: %s\r\n" % extensions
    s.sendall((req + "\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(1)
        assert b, "closed during the handshake: %r" % head
        head += b
    assert head.startswith(b"HTTP/1.1 101 "), head
    return s


def frame(op, payload, fin=True, rsv=0, mask=True, first=None):
    b0 = first if first is not None else (0x80 if fin else 0) | rsv << 4 | op
    n = len(payload)
    m = 0x80 if mask else 0
    if n < 126:
        h = bytes([b0, m | n])
    elif n < 65536:
        h = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        h = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if not mask:
        return h + payload
    k = os.urandom(4)
    return h + k + bytes(c ^ k[i % 4] for i, c in enumerate(payload))


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("connection closed after %d of %d bytes" % (len(b), n))
        b += c
    return b


def read_frame(s):
    """(fin, rsv, opcode, payload) of the server's next frame, which must be unmasked."""
    b0, b1 = recv_exact(s, 2)
    assert not b1 & 0x80, "a masked frame from the server"
    n = b1 & 0x7f
    if n == 126:
        n = struct.unpack(">H", recv_exact(s, 2))[0]
    elif n == 127:
        n = struct.unpack(">Q", recv_exact(s, 8))[0]
    return bool(b0 & 0x80), b0 >> 4 & 7, b0 & 15, recv_exact(s, n)


def expect_close(s, code):
    """The server's next frame is a Close with code, then it closes the connection."""
    fin, rsv, op, p = read_frame(s)
    assert op == 8, "expected a Close, got opcode %d (%r)" % (op, p[:50])
    got = struct.unpack(">H", p[:2])[0] if len(p) >= 2 else 1005
    assert got == code, "close code %d, expected %d (%r)" % (got, code, p[2:])
    s.sendall(frame(8, p[:2]))
    peers.wait_until(lambda: s.recv(4096) == b"", 30, "the server closes the connection")
    s.close()


def expect_echo(s, op, payload):
    fin, rsv, got_op, p = read_frame(s)
    assert (fin, rsv, got_op) == (True, 0, op), (fin, rsv, got_op, p[:50])
    assert p == payload, "echo differs: %r" % p[:80]


def test_split_at_every_byte():
    s = connect()
    msg = "byte by byte \u2603".encode()
    data = frame(1, msg)
    for i in range(len(data)):  # each byte in its own segment, the server reads as it comes
        s.sendall(data[i:i + 1])
        time.sleep(0.001)
    expect_echo(s, 1, msg)
    data = frame(2, b"a", fin=False) + frame(0, b"b", fin=False) + frame(0, b"c")
    for i in range(len(data)):
        s.sendall(data[i:i + 1])
    expect_echo(s, 2, b"abc")
    s.sendall(frame(8, struct.pack(">H", 1000)))
    expect_close(s, 1000)


def test_control_inside_fragments():
    s = connect()
    s.sendall(frame(1, b"frag", fin=False) + frame(9, b"ping!") + frame(0, b"ment", fin=False)
              + frame(10, b"unsolicited pong") + frame(0, b"ed"))
    fin, rsv, op, p = read_frame(s)
    assert (op, p) == (10, b"ping!"), (op, p)
    expect_echo(s, 1, b"fragmented")
    s.sendall(frame(9, b"x" * 125))
    fin, rsv, op, p = read_frame(s)
    assert (op, p) == (10, b"x" * 125)
    s.sendall(frame(8, b""))  # no status: answered with an empty Close
    fin, rsv, op, p = read_frame(s)
    assert (op, p) == (8, b""), (op, p)


def test_utf8_split_across_fragments():
    s = connect()
    snow = "\u2603".encode()  # 3 bytes, split over three frames
    s.sendall(frame(1, snow[:1], fin=False) + frame(0, snow[1:2], fin=False) + frame(0, snow[2:]))
    expect_echo(s, 1, snow)
    s.sendall(frame(8, struct.pack(">H", 1000)))
    expect_close(s, 1000)


VIOLATIONS = [
    ("unmasked frame", frame(1, b"hi", mask=False), 1002),
    ("RSV1 without deflate", frame(1, b"hi", rsv=4), 1002),
    ("RSV2", frame(1, b"hi", rsv=2), 1002),
    ("RSV3", frame(1, b"hi", rsv=1), 1002),
    ("opcode 3", frame(3, b"hi"), 1002),
    ("opcode 0xb", frame(11, b""), 1002),
    ("fragmented ping", frame(9, b"hi", fin=False), 1002),
    ("ping of 126 bytes", frame(9, b"x" * 126), 1002),
    ("continuation first", frame(0, b"hi"), 1002),
    ("text inside a fragmented message", frame(1, b"a", fin=False) + frame(1, b"b"), 1002),
    ("invalid UTF-8", frame(1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xed\xa0\x80"), 1007),
    ("invalid UTF-8 over fragments", frame(1, b"\xe2\x82", fin=False) + frame(0, b"("), 1007),
    ("close of one byte", frame(8, b"\x03"), 1002),
    ("close code 1005", frame(8, struct.pack(">H", 1005)), 1002),
    ("close code 999", frame(8, struct.pack(">H", 999)), 1002),
    ("close code 2000", frame(8, struct.pack(">H", 2000)), 1002),
    ("close reason not UTF-8", frame(8, struct.pack(">H", 1000) + b"\xff"), 1007),
    ("64-bit length with the top bit", bytes([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]),
     1002),
    ("one byte over 16 MiB announced", bytes([0x82, 0xff]) + struct.pack(">Q", (16 << 20) + 1)
     + b"\0\0\0\0", 1009),
]


def test_violations():
    failures = []
    for name, data, code in VIOLATIONS:
        s = connect()
        s.sendall(frame(1, b"ok first"))
        expect_echo(s, 1, b"ok first")
        s.sendall(data)
        try:
            expect_close(s, code)
        except (AssertionError, EOFError, OSError) as e:
            failures.append("%s: %s" % (name, e))
    assert not failures, "\n".join(failures)


def test_compressed_violations():
    # RSV1 on a continuation frame, and a corrupt deflate stream (1007).
    s = connect("permessage-deflate")
    s.sendall(frame(1, b"\xf2\x48\xcd\xc9\xc9\x07\x00", fin=False, rsv=4)
              + frame(0, b"", rsv=4))
    expect_close(s, 1002)
    s = connect("permessage-deflate")
    s.sendall(frame(1, b"\xff\xff\xff\xff\xff", rsv=4))
    expect_close(s, 1007)


def test_server_compresses():
    # The echo of a compressible message comes back compressed (RSV1) and inflates, with
    # Python's zlib, to what was sent; the second echo may refer to the first (context
    # takeover), so one decompressor is kept for the connection.
    s = connect("permessage-deflate; client_max_window_bits")
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    dec = zlib.decompressobj(-15)
    for i in range(3):
        msg = ("compress me %d " % i).encode() * 200
        z = comp.compress(msg) + comp.flush(zlib.Z_SYNC_FLUSH)
        s.sendall(frame(1, z[:-4], rsv=4))
        fin, rsv, op, p = read_frame(s)
        assert (fin, rsv, op) == (True, 4, 1), (fin, rsv, op)
        assert len(p) < len(msg) // 10, "hardly compressed: %d bytes" % len(p)
        assert dec.decompress(p + b"\x00\x00\xff\xff") == msg
    s.sendall(frame(8, struct.pack(">H", 1000)))
    expect_close(s, 1000)
