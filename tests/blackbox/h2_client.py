"""A small HTTP/2 client for the tests: python3-h2 over a plain socket (prior knowledge), and
raw frames (hyperframe, hpack) for the attack tests. Debian's h2, hpack and hyperframe are
pure Python: when the running interpreter lacks them, Debian's dist-packages is added."""
import socket
import sys
import time

try:
    import h2.connection  # noqa: F401
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")
import h2.config  # noqa: E402
import h2.connection  # noqa: E402
import h2.events  # noqa: E402
import h2.settings  # noqa: E402
import hpack  # noqa: E402
from hyperframe import frame as hf  # noqa: E402

SettingCodes = h2.settings.SettingCodes

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class Response:
    def __init__(self):
        self.status = None
        self.headers = []
        self.body = bytearray()
        self.ended = False
        self.reset = None

    def header(self, name):
        for k, v in self.headers:
            if k == name:
                return v
        return None


class Client:
    """One connection; request() sends, run_until() reads and dispatches events."""

    def __init__(self, port, settings=None, auto_window=True):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        self.auto_window = auto_window
        self.responses = {}
        self.goaway = None
        self.ping_acks = 0
        self.closed = False
        self.flush()

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, method, path, body=None, headers=(), end=True, scheme="http"):
        sid = self.conn.get_next_available_stream_id()
        hs = [(":method", method), (":path", path), (":scheme", scheme),
              (":authority", "127.0.0.1")] + list(headers)
        self.conn.send_headers(sid, hs, end_stream=body is None and end)
        self.responses[sid] = Response()
        if body is not None:
            self.send_body(sid, body, end)
        self.flush()
        return sid

    def send_body(self, sid, body, end=True):
        """Sends as much of body as the windows allow, reading meanwhile."""
        view = memoryview(body)
        while view:
            n = min(len(view), self.conn.local_flow_control_window(sid),
                    self.conn.max_outbound_frame_size)
            if n <= 0:
                self.read_once()
                continue
            self.conn.send_data(sid, bytes(view[:n]))
            view = view[n:]
            self.flush()
        if end:
            self.conn.end_stream(sid)
            self.flush()

    def read_once(self, timeout=30):
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        if not data:
            self.closed = True
            raise ConnectionError("server closed the connection")
        for ev in self.conn.receive_data(data):
            self.handle(ev)
        self.flush()

    def handle(self, ev):
        if isinstance(ev, h2.events.ResponseReceived):
            r = self.responses[ev.stream_id]
            r.status = int(dict(ev.headers)[":status"])
            r.headers = ev.headers
        elif isinstance(ev, h2.events.DataReceived):
            self.responses[ev.stream_id].body += ev.data
            if self.auto_window:
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            self.responses[ev.stream_id].ended = True
        elif isinstance(ev, h2.events.StreamReset):
            if ev.stream_id in self.responses:
                self.responses[ev.stream_id].reset = ev.error_code
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.goaway = ev
        elif isinstance(ev, h2.events.PingAckReceived):
            self.ping_acks += 1

    def run_until(self, cond, timeout=30):
        deadline = time.monotonic() + timeout
        while not cond():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("condition not reached")
            self.read_once(left)

    def get(self, path, method="GET", body=None, headers=()):
        sid = self.request(method, path, body, headers)
        r = self.responses[sid]
        self.run_until(lambda: r.ended or r.reset is not None)
        return r

    def round_trip(self):
        """A PING answered: what the server sent before reading it has been handled."""
        acks = self.ping_acks
        self.conn.ping(b"roundtri")
        self.flush()
        self.run_until(lambda: self.ping_acks > acks)

    def close(self):
        self.sock.close()


def fetch(port, path, method="GET", body=None, headers=()):
    c = Client(port)
    try:
        return c.get(path, method, body, headers)
    finally:
        c.close()


class Raw:
    """Raw frames: the preface and a SETTINGS frame, then whatever the test sends."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.enc = hpack.Encoder()
        self.buf = b""
        self.sock.sendall(PREFACE + hf.SettingsFrame(0).serialize())

    def send(self, *frames):
        self.sock.sendall(b"".join(f.serialize() for f in frames))

    def headers_block(self, path="/", extra=()):
        return self.enc.encode([(":method", "GET"), (":path", path), (":scheme", "http"),
                                (":authority", "127.0.0.1")] + list(extra))

    def frames_until(self, cond, timeout=30):
        """Reads frames until cond(frame) is true (returned) or the server closes (None)."""
        deadline = time.monotonic() + timeout
        while True:
            while len(self.buf) >= 9:
                f, length = hf.Frame.parse_frame_header(memoryview(self.buf[:9]))
                if len(self.buf) < 9 + length:
                    break
                f.parse_body(memoryview(self.buf[9:9 + length]))
                self.buf = self.buf[9 + length:]
                if cond(f):
                    return f
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no such frame from the server")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                return None
            if not data:
                return None
            self.buf += data

    def goaway_or_close(self, timeout=30):
        """The GOAWAY frame the server sent, or None when it closed without one."""
        return self.frames_until(lambda f: isinstance(f, hf.GoAwayFrame), timeout)

    def close(self):
        self.sock.close()
