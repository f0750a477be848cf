"""A raw WebSocket client for the black-box tests: the handshake as bytes, frames built bit by
bit (so a test can send what no client library would: unmasked frames, RSV bits, bad
opcodes, oversized control frames), frames read one at a time, and the server's file
descriptors counted. websockets_run() runs a script with /usr/bin/python3's websockets
package (the harness may run under another python3)."""
import base64
import hashlib
import os
import select
import socket
import struct
import subprocess
import time
import zlib

import harness
import testrun

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 §1.3's example
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


def accept_of(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def frame(op, payload=b"", fin=True, rsv=0, mask=True, key=b"\x12\x34\x56\x78"):
    """One frame: rsv is the three RSV bits as a number (4 = RSV1)."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    n = len(payload)
    m = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, m | 126, n)
    else:
        head = struct.pack("!BBQ", b0, m | 127, n)
    if not mask:
        return head + payload
    masked = bytes(c ^ key[i % 4] for i, c in enumerate(payload)) if n < 4096 else \
        _mask_fast(payload, key)
    return head + key + masked


def _mask_fast(payload, key):
    n = len(payload)
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


def close_payload(code, reason=b""):
    return struct.pack("!H", code) + (reason.encode() if isinstance(reason, str) else reason)


def handshake_request(path="/echo", headers=None, host="127.0.0.1", method="GET",
                      version="HTTP/1.1"):
    """The upgrade request; headers (a dict, None value = leave the header out) replace the
    defaults."""
    h = {"Host": host, "Upgrade": "websocket", "Connection": "Upgrade",
         "Sec-WebSocket-Key": KEY, "Sec-WebSocket-Version": "13"}
    for k, v in (headers or {}).items():
        h.pop(next((x for x in h if x.lower() == k.lower()), k), None)
        if v is not None:
            h[k] = v
    lines = ["%s %s %s" % (method, path, version)] + ["%s: %s" % kv for kv in h.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Closed(AssertionError):
    pass


class WS:
    """A connection: the handshake is sent at once; status/headers/body after it."""

    def __init__(self, port, path="/echo", headers=None, raw=None, timeout=10.0, **kw):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.timeout = timeout
        self.sock.sendall(raw if raw is not None else handshake_request(path, headers, **kw))
        self.status, self.reason, self.headers, self.body = self._read_head()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([self.sock], [], [], left)[0]:
            raise TimeoutError("nothing from the server in time")
        try:
            d = self.sock.recv(1 << 20)
        except ConnectionResetError:
            d = b""
        if not d:
            raise Closed("connection closed by the server")
        self.buf += d

    def _take(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _read_head(self):
        deadline = time.monotonic() + self.timeout
        try:
            while b"\r\n\r\n" not in self.buf:
                self._fill(deadline)
        except Closed:
            return 0, "(closed)", [], b""
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        status, reason = int(parts[1]), parts[2] if len(parts) > 2 else ""
        headers = [tuple(x.strip() for x in ln.split(":", 1)) for ln in lines[1:]]
        body = b""
        if status != 101:
            n = int(dict((k.lower(), v) for k, v in headers).get("content-length", "0"))
            body = self._take(n, deadline)
        return status, reason, headers, body

    def send(self, data):
        self.sock.sendall(data)

    def send_frame(self, op, payload=b"", **kw):
        self.sock.sendall(frame(op, payload, **kw))

    def recv_frame(self, timeout=None):
        """(fin, rsv, opcode, payload) of the next frame; Closed at EOF."""
        deadline = time.monotonic() + (timeout or self.timeout)
        b0, b1 = self._take(2, deadline)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._take(2, deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._take(8, deadline))[0]
        assert not b1 & 0x80, "the server masked a frame"
        return bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF, self._take(n, deadline)

    def recv_message(self, timeout=None, pong=True):
        """(opcode, payload) of the next data message (fragments joined); pings answered
        with pongs when pong; ("close", code, reason) for a Close."""
        parts, op0 = [], None
        while True:
            fin, rsv, op, p = self.recv_frame(timeout)
            if op == OP_PING:
                if pong:
                    self.send_frame(OP_PONG, p)
                continue
            if op == OP_PONG:
                continue
            if op == OP_CLOSE:
                code = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else None
                return ("close", code, p[2:].decode("utf-8"))
            if op != OP_CONT:
                op0 = op
            parts.append(p)
            if fin:
                return op0, b"".join(parts)

    def expect_close(self, code, reason=None, timeout=None):
        """The next frame is a Close with code (and reason), then EOF."""
        fin, rsv, op, p = self.recv_frame(timeout)
        assert op == OP_CLOSE, "expected a Close, got opcode %d %r" % (op, p[:100])
        got = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else None
        assert got == code, "Close code %r, expected %r (payload %r)" % (got, code, p)
        if reason is not None:
            assert p[2:] == reason.encode(), "Close reason %r, expected %r" % (p[2:], reason)
        self.expect_eof(timeout)

    def expect_eof(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                self._fill(deadline)
            except Closed:
                return
            except TimeoutError:
                raise AssertionError("the server did not close the connection (buffered: %r)"
                                     % self.buf[:200])


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def server_pid(port):
    return harness.server_of(port).proc.pid


def wait_fds(pid, n, what="the server's fd count back to its baseline"):
    """Waits until the server has at most n descriptors open again (connections close
    asynchronously)."""
    testrun.wait_until(lambda: fd_count(pid) <= n, 30,
                       lambda: "%s (%d, now %d)\n%s" % (what, n, fd_count(pid), fd_dump(pid)))


def fd_dump(pid):
    """The server's descriptors and its sockets' states, for a failure message."""
    fds = []
    for fd in sorted(os.listdir("/proc/%d/fd" % pid), key=int):
        try:
            fds.append("%s -> %s" % (fd, os.readlink("/proc/%d/fd/%s" % (pid, fd))))
        except OSError:
            pass
    try:
        ss = subprocess.run(["ss", "-tanpeo"], capture_output=True, text=True).stdout
    except OSError:  # no iproute2
        ss = ""
    mine = [l for l in ss.splitlines() if "pid=%d," % pid in l]
    return "\n".join(fds + mine)


def still_serving(port):
    """The worker is alive and answers HTTP."""
    with WS(port, "/", raw=b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") as c:
        assert c.status == 200 and c.body == b"ok", (c.status, c.body)


class Deflate:
    """One direction of permessage-deflate as a client sees it: raw deflate, SYNC_FLUSH, the
    trailing 00 00 ff ff removed; takeover keeps the context between messages."""

    def __init__(self, wbits=15, takeover=True):
        self.wbits, self.takeover = wbits, takeover
        self.c = zlib.compressobj(6, zlib.DEFLATED, -wbits)
        self.d = zlib.decompressobj(-wbits)

    def compress(self, data):
        out = self.c.compress(data) + self.c.flush(zlib.Z_SYNC_FLUSH)
        assert out.endswith(b"\x00\x00\xff\xff")
        if not self.takeover:
            self.c = zlib.compressobj(6, zlib.DEFLATED, -self.wbits)
        return out[:-4]

    def decompress(self, data):
        out = self.d.decompress(data + b"\x00\x00\xff\xff")
        if not self.takeover:
            self.d = zlib.decompressobj(-self.wbits)
        return out


def websockets_run(script, timeout=300):
    """Runs script with /usr/bin/python3 (which has the websockets package); returns its
    stdout. Fails the test on a non-zero exit."""
    py = "/usr/bin/python3"
    assert subprocess.run([py, "-c", "import websockets"], capture_output=True).returncode == 0, \
        "/usr/bin/python3 has no websockets package (Debian: python3-websockets)"
    p = subprocess.run([py, "-c", script], capture_output=True, timeout=timeout)
    assert p.returncode == 0, "websockets client failed (%d):\n%s\n%s" % (
        p.returncode, p.stdout.decode()[-2000:], p.stderr.decode()[-3000:])
    return p.stdout.decode()
