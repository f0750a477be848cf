"""A small blocking WebSocket client on the standard library, for the Python suites that run
without Debian's `websockets` (the prefork tests): the handshake, masked frames out, frames in
(fragments joined, pings answered), and the close handshake."""
import base64
import hashlib
import os
import socket
import struct
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Closed(Exception):
    """The server closed: code (None without a Close frame) and reason."""

    def __init__(self, code, reason):
        super().__init__("closed %r %r" % (code, reason))
        self.code = code
        self.reason = reason


class WebSocket:
    def __init__(self, port, path="/", host="127.0.0.1", timeout=30.0, headers=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n%s\r\n"
                           % (path, host, port, key, extra)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            self.headers[k.strip().lower()] = v.strip()
        want = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        if self.status != 101 or self.headers.get("sec-websocket-accept") != want:
            raise AssertionError("handshake failed: %s" % lines[0])

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise Closed(None, "")
        self.buf += data

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send_frame(self, opcode, payload, fin=True):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        body = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + body)

    def send(self, text):
        self.send_frame(0x1, text.encode() if isinstance(text, str) else text)

    def recv_frame(self):
        b0, b1 = self._take(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._take(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._take(8))[0]
        if b1 & 0x80:
            raise AssertionError("the server masked a frame")
        return b0 & 0x80, b0 & 0x0F, self._take(n)

    def recv(self):
        """The next message (str for text, bytes for binary); answers pings; raises Closed."""
        parts, kind = [], None
        while True:
            fin, op, payload = self.recv_frame()
            if op == 0x9:
                self.send_frame(0xA, payload)
                continue
            if op == 0xA:
                continue
            if op == 0x8:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
                try:
                    self.send_frame(0x8, payload[:2])
                except OSError:
                    pass
                raise Closed(code, payload[2:].decode("utf-8", "replace"))
            kind = kind or op
            parts.append(payload)
            if fin:
                data = b"".join(parts)
                return data.decode() if kind == 0x1 else data

    def close(self, code=1000):
        try:
            self.send_frame(0x8, struct.pack(">H", code))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                self.recv()
        except (Closed, OSError):
            pass
        self.sock.close()
