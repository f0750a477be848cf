"""tp_write_file: file bodies sent with sendfile after written bytes (tests/apps/testapp.c
/file, a 2,008,000-byte pattern file whose byte i is i % 251)."""
from harness import shared
from http_client import Conn


def _pattern(off, n):
    return bytes((i % 251) for i in range(off, off + n))


def _get(path, method="GET"):
    with Conn(shared()) as c:
        c.request(method, path)
        r = c.read_response(method=method)
        c.request("GET", "/")  # the connection stays usable after the file
        assert c.read_response().body == b"Hello, world"
        return r


def test_file_after_written_bytes_has_content_length():
    r = _get("/file?pre=abc&off=10&n=1000")
    assert r.status == 200
    assert r.header("Content-Length") == "1003"
    assert r.body == b"abc" + _pattern(10, 1000)


def test_big_file_arrives_intact():
    r = _get("/file?off=7&n=2000000")
    assert r.header("Content-Length") == "2000000"
    assert r.body == _pattern(7, 2000000)


def test_head_has_length_and_no_body():
    r = _get("/file?pre=xy&n=500", method="HEAD")
    assert r.header("Content-Length") == "502"
    assert r.body == b""


def test_flushed_file_is_chunked_and_followed_by_writes():
    r = _get("/file?pre=a&off=3&n=70000&flush=1")
    assert r.header("Transfer-Encoding") == "chunked"
    assert r.body == b"a" + _pattern(3, 70000) + b"post"


def test_empty_file_part():
    r = _get("/file?pre=only&n=0")
    assert r.header("Content-Length") == "4"
    assert r.body == b"only"
