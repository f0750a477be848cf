"""HTTP/2 through tornado-prefork: a graceful stop (TERM) sends GOAWAY naming the last stream
taken; the stream in flight finishes, then the worker closes the connection and exits."""
import signal
import time

from prefork import Server, timeout  # prefork puts tests/blackbox on sys.path (after this dir)
from h2_client import Raw, hf  # noqa: E402


def _get(raw, sid, path):
    raw.send(hf.HeadersFrame(sid, raw.headers_block(path), flags=["END_HEADERS", "END_STREAM"]))


@timeout(240)
def test_h2_goaway_on_graceful_stop():
    # Stream 1 sleeps 10 s: long enough to be in flight at the TERM on a loaded machine; the
    # worker waiting for the shutdown timeout (120 s) instead of the stream would take 120 s.
    s = Server("--shutdown-timeout=120", procs=1)
    raw = None
    try:
        raw = Raw(s.port)
        _get(raw, 1, "/sleep?s=10")
        _get(raw, 3, "/")
        # stream 3 answered: stream 1 is in the worker's hands
        assert raw.frames_until(lambda f: isinstance(f, hf.DataFrame) and f.stream_id == 3)
        t0 = time.monotonic()
        s.signal(signal.SIGTERM)
        f = raw.goaway_or_close()
        assert f is not None and f.error_code == 0 and f.last_stream_id == 3, f
        body = b""
        while True:
            f = raw.frames_until(lambda f: f.stream_id == 1)
            assert f is not None, "the connection closed before stream 1 ended"
            if isinstance(f, hf.DataFrame):
                body += f.data
            if "END_STREAM" in f.flags:
                break
        assert body == b"slept", body
        assert raw.frames_until(lambda f: False) is None  # then the connection ends
        assert s.proc.wait(60) == 0
        assert time.monotonic() - t0 < 60, "exit at the shutdown timeout, not after the stream"
    finally:
        if raw:
            raw.close()
        s.kill()
