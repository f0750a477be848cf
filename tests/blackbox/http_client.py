"""Raw-socket HTTP/1.x client helpers for the black-box tests.

Everything here talks to 127.0.0.1 only and every blocking call has a timeout, so a
misbehaving server makes a test fail instead of hanging it. The timeouts are generous (30 s):
they end a test whose server never answers, and must not fail one whose server answers slowly
on a loaded machine. A test that checks that nothing happens for a while (idle()) passes its
own short wait.
"""
import re
import socket
import struct
import time

HOST = "127.0.0.1"
DEFAULT_TIMEOUT = 30.0


class ProtocolError(AssertionError):
    """The server sent something that is not valid HTTP framing."""


class Closed(AssertionError):
    """The server closed the connection before a complete response arrived."""


class Response:
    def __init__(self, version, status, reason, headers, body, raw_head, chunks=None, trailers=None):
        self.version = version          # "HTTP/1.1"
        self.status = status            # int
        self.reason = reason            # str
        self.headers = headers          # list of (name, value) as sent
        self.body = body                # bytes
        self.raw_head = raw_head        # bytes, status line through the blank line
        self.chunks = chunks            # list of chunk payloads when chunked, else None
        self.trailers = trailers or []

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def has(self, name):
        return self.header(name) is not None

    @property
    def chunked(self):
        return self.chunks is not None

    def __repr__(self):
        return "<Response %s %d %r headers=%r body=%r>" % (
            self.version, self.status, self.reason, self.headers, self.body[:200])


def parse_head(raw):
    """Parses a response head (bytes without the final blank line)."""
    lines = raw.split(b"\r\n")
    first = lines[0].decode("latin-1")
    parts = first.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError("bad status line %r" % first)
    version, status = parts[0], int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        if b":" not in line:
            raise ProtocolError("bad header line %r" % line)
        k, v = line.split(b":", 1)
        if k != k.strip() or not k:
            raise ProtocolError("bad header name %r" % line)
        headers.append((k.decode("latin-1"), v.strip().decode("latin-1")))
    return version, status, reason, headers


class Conn:
    """One client connection with its own read buffer."""

    def __init__(self, port, timeout=DEFAULT_TIMEOUT, sock=None):
        self.port = port
        if sock is None:
            sock = socket.create_connection((HOST, port), timeout=timeout)
        sock.settimeout(timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.buf = b""
        self.eof = False

    # -- context manager --------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def settimeout(self, t):
        self.sock.settimeout(t)

    # -- sending ----------------------------------------------------------------------
    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)
        return self

    def send_slowly(self, data, delay, step=1, max_time=30.0):
        """Sends data a few bytes at a time, sleeping delay between pieces. Stops (returns
        False) as soon as the server closes the connection."""
        deadline = time.monotonic() + max_time
        for i in range(0, len(data), step):
            if time.monotonic() > deadline:
                return True
            try:
                self.sock.sendall(data[i:i + step])
            except OSError:
                return False
            time.sleep(delay)
        return True

    def request(self, method="GET", path="/", headers=None, body=None, version="HTTP/1.1",
                host="localhost"):
        """Sends a well-formed request. headers is a list of (name, value) pairs."""
        self.send(build_request(method, path, headers, body, version, host))
        return self

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def reset(self):
        """Closes with an RST instead of a FIN (SO_LINGER with a zero timeout)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    # -- receiving --------------------------------------------------------------------
    def _fill(self, n=65536):
        """Reads more into the buffer; returns False on EOF (or reset)."""
        if self.eof:
            return False
        try:
            data = self.sock.recv(n)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_exact(self, n):
        while len(self.buf) < n:
            if not self._fill(max(65536, n - len(self.buf))):
                raise Closed("connection closed after %d of %d bytes" % (len(self.buf), n))
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_line(self, limit=1 << 20):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                out, self.buf = self.buf[:i + 1], self.buf[i + 1:]
                return out
            if len(self.buf) > limit:
                raise ProtocolError("line too long")
            if not self._fill():
                raise Closed("connection closed mid-line (have %r)" % self.buf[:200])

    def read_head_raw(self, limit=1 << 20):
        """Raw bytes of the next response head including its blank line."""
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                out, self.buf = self.buf[:i + 4], self.buf[i + 4:]
                return out
            if len(self.buf) > limit:
                raise ProtocolError("response head too long")
            if not self._fill():
                if self.buf:
                    raise Closed("connection closed mid-head (have %r)" % self.buf[:300])
                raise Closed("connection closed before a response")

    def read_head(self):
        """(version, status, reason, headers, raw) of the next response head."""
        raw = self.read_head_raw()
        version, status, reason, headers = parse_head(raw[:-4])
        return version, status, reason, headers, raw

    def read_until_close(self, limit=64 << 20):
        while self._fill():
            if len(self.buf) > limit:
                raise ProtocolError("too much data")
        out, self.buf = self.buf, b""
        return out

    def read_chunked(self):
        chunks = []
        while True:
            line = self.read_line()
            if not line.endswith(b"\r\n"):
                raise ProtocolError("chunk size line without CRLF: %r" % line)
            size_s = line[:-2].split(b";", 1)[0].strip()
            try:
                size = int(size_s, 16)
            except ValueError:
                raise ProtocolError("bad chunk size line %r" % line)
            if size == 0:
                trailers = []
                while True:
                    t = self.read_line()
                    if t == b"\r\n":
                        return chunks, trailers
                    trailers.append(t)
            data = self.read_exact(size)
            if self.read_exact(2) != b"\r\n":
                raise ProtocolError("chunk data not followed by CRLF")
            chunks.append(data)

    def read_response(self, method="GET", allow_informational=False):
        """Reads one complete response, framed by its headers. 1xx responses are skipped
        unless allow_informational."""
        while True:
            version, status, reason, headers, raw = self.read_head()
            if 100 <= status < 200 and not allow_informational:
                continue
            break
        resp = Response(version, status, reason, headers, b"", raw)
        if method == "HEAD" or 100 <= status < 200 or status in (204, 304):
            return resp
        te = resp.header("Transfer-Encoding")
        cl = resp.header("Content-Length")
        if te is not None:
            if te.lower() != "chunked":
                raise ProtocolError("unexpected Transfer-Encoding %r" % te)
            chunks, trailers = self.read_chunked()
            resp.chunks = chunks
            resp.trailers = trailers
            resp.body = b"".join(chunks)
        elif cl is not None:
            if not cl.isdigit():
                raise ProtocolError("bad Content-Length %r" % cl)
            resp.body = self.read_exact(int(cl))
        else:
            resp.body = self.read_until_close()
        return resp

    def closed(self, timeout=DEFAULT_TIMEOUT):
        """True if the server closes the connection (EOF or RST) within timeout. Any bytes
        arriving meanwhile are kept in the buffer (and do not count as closing)."""
        old = self.sock.gettimeout()
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.sock.settimeout(left)
                try:
                    data = self.sock.recv(65536)
                except socket.timeout:
                    return False
                except (ConnectionResetError, BrokenPipeError):
                    self.eof = True
                    return True
                if not data:
                    self.eof = True
                    return True
                self.buf += data
        finally:
            try:
                self.sock.settimeout(old)
            except OSError:
                pass

    def idle(self, wait=0.2):
        """True if nothing arrives (and the connection stays open) for `wait` seconds."""
        return not self.closed(wait) and not self.buf


def build_request(method="GET", path="/", headers=None, body=None, version="HTTP/1.1",
                  host="localhost"):
    lines = ["%s %s %s" % (method, path, version)]
    hdrs = list(headers or [])
    names = {k.lower() for k, _ in hdrs}
    if host is not None and "host" not in names:
        lines.append("Host: %s" % host)
    if body is not None and "content-length" not in names and "transfer-encoding" not in names:
        hdrs.append(("Content-Length", str(len(body))))
    for k, v in hdrs:
        lines.append("%s: %s" % (k, v))
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if body is not None:
        data += body if isinstance(body, bytes) else body.encode("latin-1")
    return data


def chunked(*parts, trailer=b""):
    """A chunked body made of the given parts, then the last chunk and optional trailers."""
    out = b""
    for p in parts:
        if isinstance(p, str):
            p = p.encode()
        out += b"%x\r\n%s\r\n" % (len(p), p)
    return out + b"0\r\n" + trailer + b"\r\n"


def connect(port, timeout=DEFAULT_TIMEOUT):
    return Conn(port, timeout)


def fetch(port, raw, method="GET", timeout=DEFAULT_TIMEOUT):
    """Sends raw request bytes on a new connection and returns the first response."""
    with Conn(port, timeout) as c:
        c.send(raw)
        return c.read_response(method)


def get(port, path="/", headers=None, version="HTTP/1.1", timeout=DEFAULT_TIMEOUT):
    with Conn(port, timeout) as c:
        c.request("GET", path, headers, version=version)
        return c.read_response()


def exchange(port, raw, timeout=DEFAULT_TIMEOUT):
    """Sends raw bytes and returns (response, closed_afterwards)."""
    with Conn(port, timeout) as c:
        c.send(raw)
        r = c.read_response()
        return r, c.closed(timeout)


# -- assertions shared by the test modules ---------------------------------------------------

REASONS = {
    400: "Bad Request",
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    505: "HTTP Version Not Supported",
}
DATE_RE = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT"


def check_error_head(raw, code):
    """raw must be exactly the documented error response for code."""
    want = (r"HTTP/1\.1 %d %s\r\nDate: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            % (code, re.escape(REASONS[code]), DATE_RE))
    assert re.fullmatch(want.encode(), raw), \
        "expected the documented %d error response, got %r" % (code, raw)


def expect_error(port, raw, code, shutdown=False, timeout=DEFAULT_TIMEOUT):
    """Sends raw on a fresh connection; the server must answer exactly the documented error
    response for code (and nothing else) and then close the connection."""
    with Conn(port, timeout) as c:
        try:
            c.send(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may already have answered and closed; the answer is buffered
        if shutdown:
            c.shutdown_write()
        head = c.read_head_raw()
        check_error_head(head, code)
        assert c.closed(timeout), "connection still open after the %d error response" % code
        assert c.buf == b"", "bytes after the error response: %r" % c.buf[:200]


def expect_ok(resp, body=None, status=200):
    assert resp.status == status, "expected %d, got %r" % (status, resp)
    if body is not None:
        if isinstance(body, str):
            body = body.encode()
        assert resp.body == body, "expected body %r, got %r" % (body[:200], resp.body[:200])
    return resp
