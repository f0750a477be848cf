"""StaticFileHandler (tests/apps/staticapp.c over a copy of tests/blackbox/static_root), most
cases checked against Debian's Tornado serving the same directory with the same routes:
status, headers (Date and Server aside; Expires within a few seconds) and body must match."""
import atexit
import contextlib
import email.utils
import hashlib
import os
import shutil
import subprocess
import tempfile
import time

import harness
import portfile
from harness import server
from http_client import Conn

TORNADO = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
BIG = 3 * 1024 * 1024 + 123

# The same routes as staticapp.c, on Tornado.
TORNADO_APP = r"""
import asyncio, logging, sys
import tornado.web
root, port_file = sys.argv[1], sys.argv[2]
sys.path.insert(0, sys.argv[3])
import portfile
logging.getLogger("tornado").setLevel(logging.CRITICAL)
class Url(tornado.web.RequestHandler):
    def get(self):
        self.write(self.static_url(self.get_argument("path", ""),
                                   include_version=self.get_argument("v", "1") == "1"))
async def main():
    idx = {"path": root, "default_filename": "index.html"}
    app = tornado.web.Application([("/url", Url),
                                   ("/index/(.*)", tornado.web.StaticFileHandler, idx),
                                   ("/(.*)", tornado.web.StaticFileHandler, idx)],
                                  static_path=root)
    portfile.listen_tornado(app, port_file)
    await asyncio.Event().wait()
asyncio.run(main())
"""

_root = None


def root():
    """A temporary copy of static_root plus what git should not hold: a 3 MiB file, a symlink
    out of the root, a broken symlink, and a sibling directory whose name extends the root's."""
    global _root
    if _root is None:
        base = tempfile.mkdtemp(prefix="tp-static-")
        atexit.register(shutil.rmtree, base, True)
        r = os.path.join(base, "root")
        shutil.copytree(os.path.join(HERE, "static_root"), r, symlinks=True)
        with open(os.path.join(base, "outside.txt"), "w") as f:
            f.write("outside the root\n")
        os.mkdir(os.path.join(base, "root2"))
        with open(os.path.join(base, "root2", "secret.txt"), "w") as f:
            f.write("sibling secret\n")
        os.symlink("../outside.txt", os.path.join(r, "escape.txt"))
        os.symlink("missing.txt", os.path.join(r, "broken.txt"))
        with open(os.path.join(r, "big.bin"), "wb") as f:
            f.write(os.urandom(BIG))
        _root = r
    return _root


def content(rel):
    with open(os.path.join(root(), rel), "rb") as f:
        return f.read()


@contextlib.contextmanager
def ours():
    """staticapp serving root() (it reads TP_STATIC_ROOT at start)."""
    old = os.environ.get("TP_STATIC_ROOT")
    os.environ["TP_STATIC_ROOT"] = root()
    try:
        with server(binary="tests/staticapp") as port:
            yield port
    finally:
        if old is None:
            os.environ.pop("TP_STATIC_ROOT", None)
        else:
            os.environ["TP_STATIC_ROOT"] = old


@contextlib.contextmanager
def theirs():
    if not os.path.exists(TORNADO):
        raise harness.Skip("no %s" % TORNADO)
    d = tempfile.mkdtemp(prefix="tp-static-tornado-")
    port_file = os.path.join(d, "port")
    lib = os.path.join(HERE, "..", "lib")
    p = subprocess.Popen([TORNADO, "-c", TORNADO_APP, root(), port_file, lib],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL)
    try:
        port = portfile.wait(port_file, p, 30)
        if port is None and p.poll() is not None:  # no python3-tornado
            raise harness.Skip("Tornado reference app exited %r" % p.returncode)
        if port is None:
            raise harness.ServerFailure("Tornado reference app did not listen within 30 s")
        yield port
    finally:
        p.kill()
        p.wait(5)
        shutil.rmtree(d, ignore_errors=True)


@contextlib.contextmanager
def both():
    with ours() as a, theirs() as b:
        yield a, b


def fetch(port, path, headers=(), method="GET"):
    with Conn(port) as c:
        c.request(method, path, list(headers))
        return c.read_response(method)


def norm(r):
    """status, headers without Date/Server/Expires (sorted), body."""
    hs = sorted((k.lower(), v) for k, v in r.headers if k.lower() not in ("date", "server", "expires"))
    return r.status, hs, r.body


def same(pair, path, headers=(), method="GET"):
    """Fetches path from both servers; asserts identical responses; returns ours."""
    a = fetch(pair[0], path, headers, method)
    b = fetch(pair[1], path, headers, method)
    assert norm(a) == norm(b), (method, path, headers, norm(a), norm(b))
    ea, eb = a.header("Expires"), b.header("Expires")
    assert (ea is None) == (eb is None), (path, ea, eb)
    if ea:
        ta = email.utils.parsedate_to_datetime(ea).timestamp()
        tb = email.utils.parsedate_to_datetime(eb).timestamp()
        assert abs(ta - tb) <= 60, (ea, eb)  # now + 10 years, at two requests' times
    return a


FILES = ["hello.txt", "style.css", "app.js", "data.json", "index.html", "bytes.bin",
         "archive.tar.gz", "notes.bz2", "pixel.png", "noext", "UPPER.TXT", ".hidden",
         "empty.txt", "h%C3%A9llo%20w%C3%B6rld.txt", "sub/dir/deep.txt", "sub/index.html"]


def test_files_and_heads_match_tornado():
    with both() as pair:
        for f in FILES:
            r = same(pair, "/static/" + f)
            assert r.status == 200, (f, r)
            name = f.replace("%C3%A9", "\u00e9").replace("%C3%B6", "\u00f6").replace("%20", " ")
            assert r.body == content(name), f
            h = same(pair, "/static/" + f, method="HEAD")
            assert h.body == b"" and h.header("Content-Length") == str(len(r.body)), f
            assert norm(h)[1] == norm(r)[1], f
        for path in ("/favicon.ico", "/robots.txt", "/index/hello.txt", "/hello.txt"):
            assert same(pair, path).status == 200, path


def test_content_types():
    want = {"hello.txt": "text/plain", "style.css": "text/css", "app.js": "text/javascript",
            "data.json": "application/json", "index.html": "text/html",
            "pixel.png": "image/png", "bytes.bin": "application/octet-stream",
            "archive.tar.gz": "application/gzip", "notes.bz2": "application/octet-stream",
            "noext": "application/octet-stream", "UPPER.TXT": "text/plain",
            ".hidden": "application/octet-stream", "favicon.ico": "image/vnd.microsoft.icon"}
    with ours() as port:
        for f, ct in want.items():
            assert fetch(port, "/static/" + f).header("Content-Type") == ct, f


def test_etag_is_sha512_and_last_modified_whole_seconds():
    with ours() as port:
        r = fetch(port, "/static/hello.txt")
        assert r.header("Etag") == '"%s"' % hashlib.sha512(content("hello.txt")).hexdigest()
        mtime = int(os.stat(os.path.join(root(), "hello.txt")).st_mtime)
        assert r.header("Last-Modified") == email.utils.formatdate(mtime, usegmt=True)
        assert r.header("Accept-Ranges") == "bytes"
        assert r.header("Cache-Control") is None and r.header("Expires") is None


def test_if_none_match():
    etag = '"%s"' % hashlib.sha512(content("hello.txt")).hexdigest()
    future = email.utils.formatdate(time.time() + 86400, usegmt=True)
    cases = [(etag, 304), ("W/" + etag, 304), ("*", 304), ('"x", %s' % etag, 304),
             ('"x", "y"', 200), ('"x", *', 200), ("garbage", 200)]
    with both() as pair:
        for inm, status in cases:
            r = same(pair, "/static/hello.txt", [("If-None-Match", inm)])
            assert r.status == status, (inm, r)
            if status == 304:
                assert r.body == b"" and r.header("Etag") == etag
                assert r.header("Content-Type") is None and r.header("Content-Length") is None
        # If-None-Match decides alone: a mismatch is a 200 even with a later If-Modified-Since.
        r = same(pair, "/static/hello.txt", [("If-None-Match", '"x"'),
                                            ("If-Modified-Since", future)])
        assert r.status == 200
        # An empty If-None-Match does not count: If-Modified-Since decides.
        r = same(pair, "/static/hello.txt", [("If-None-Match", ""), ("If-Modified-Since", future)])
        assert r.status == 304
        assert same(pair, "/static/hello.txt", [("If-None-Match", etag)], "HEAD").status == 304


def test_if_modified_since():
    mtime = int(os.stat(os.path.join(root(), "hello.txt")).st_mtime)
    fix = email.utils.formatdate(mtime, usegmt=True)
    before = email.utils.formatdate(mtime - 1, usegmt=True)
    t = time.gmtime(mtime)
    rfc850 = time.strftime("%A, %d-%b-%y %H:%M:%S GMT", t)
    asctime = time.strftime("%a %b ", t) + "%2d" % t.tm_mday + time.strftime(" %H:%M:%S %Y", t)
    with both() as pair:
        for ims, status in [(fix, 304), (before, 200), ("not a date", 200), (rfc850, 304),
                            (asctime, 304), ("Thu, 01 Jan 1970 00:00:00 GMT", 200)]:
            r = same(pair, "/static/hello.txt", [("If-Modified-Since", ims)])
            assert r.status == status, (ims, r)


RANGES = ["bytes=0-4", "bytes=5-", "bytes=-5", "bytes=-100", "bytes=0-", "bytes=0-1000",
          "bytes=19-19", "bytes=19-", "bytes=20-", "bytes=100-200", "bytes=-0", "bytes=5-2",
          "bytes=5-4", "bytes=0-0", "bytes=0-1,3-4", "bytes=abc", "items=0-4", "bytes=",
          "bytes", " bytes = 2 - 3 ", "bytes=+2-3", "bytes=1_0-", "bytes=--5", "bytes=5--3",
          "Bytes=0-4", "bytes=-", "bytes=99999999999999999999999-"]


def test_ranges_match_tornado():
    with both() as pair:
        for rng in RANGES:
            for method in ("GET", "HEAD"):
                same(pair, "/static/hello.txt", [("Range", rng)], method)
        for rng in ("bytes=0-", "bytes=-5", "bytes=0-0", "bytes="):
            same(pair, "/static/empty.txt", [("Range", rng)])


def test_range_cases():
    body = content("hello.txt")
    size = len(body)
    with ours() as port:
        def get(rng, method="GET"):
            return fetch(port, "/static/hello.txt", [("Range", rng)], method)
        r = get("bytes=0-4")
        assert r.status == 206 and r.body == body[:5]
        assert r.header("Content-Range") == "bytes 0-4/%d" % size
        assert r.header("Content-Length") == "5"
        r = get("bytes=-5")
        assert r.status == 206 and r.body == body[-5:]
        assert r.header("Content-Range") == "bytes %d-%d/%d" % (size - 5, size - 1, size)
        r = get("bytes=5-")
        assert r.status == 206 and r.body == body[5:]
        r = get("bytes=3-1000")
        assert r.status == 206 and r.body == body[3:]
        assert r.header("Content-Range") == "bytes 3-%d/%d" % (size - 1, size)
        for whole in ("bytes=0-", "bytes=-1000", "bytes=0-1000", "bytes=0-1,3-4", "bytes=x"):
            r = get(whole)
            assert r.status == 200 and r.body == body and not r.has("Content-Range"), whole
        for bad in ("bytes=%d-" % size, "bytes=-0", "bytes=5-2"):
            r = get(bad)
            assert r.status == 416 and r.body == b"", bad
            assert r.header("Content-Range") == "bytes */%d" % size
            assert r.header("Content-Type") == "text/plain"
            assert r.header("Content-Length") == "0"
        r = get("bytes=2-3", "HEAD")
        assert r.status == 206 and r.header("Content-Length") == "2" and r.body == b""
        etag = fetch(port, "/static/hello.txt").header("Etag")
        r = fetch(port, "/static/hello.txt", [("Range", "bytes=0-4"), ("If-None-Match", etag)])
        assert r.status == 304  # 304 beats Range


TRAVERSALS = ["/static/../outside.txt", "/static/%2e%2e/outside.txt",
              "/static/..%2foutside.txt", "/static/%2E%2E%2Foutside.txt",
              "/static/sub/../../outside.txt", "/static/sub/%2e%2e/%2e%2e/outside.txt",
              "/static/../root2/secret.txt", "/static//etc/passwd", "/static/%2fetc%2fpasswd",
              "/static/%2Fetc/passwd", "/index/../outside.txt", "/..%2f..%2fetc%2fpasswd"]


def test_traversal_refused():
    with both() as pair:
        for path in TRAVERSALS:
            r = same(pair, path)
            assert r.status == 403, (path, r)
            assert b"outside" not in r.body and b"root:" not in r.body
        # The refusal is logged as Tornado does, control characters of the path made harmless.
        assert same(pair, "/static/..%2f%0aevil").status == 403
        err = harness.wait_stderr(pair[0], "?evil is not in root static directory")
        assert "403 GET /static/..%2f%0aevil (127.0.0.1): ../?evil is not in root" in err, err
        # Paths that leave a directory and come back in are fine.
        assert same(pair, "/static/sub/../hello.txt").status == 200
        assert same(pair, "/static/sub/%2e%2e/hello.txt").status == 200


def test_symlinks_follow_tornado():
    # Tornado's check is lexical (abspath, not realpath): a symlink placed in the root is
    # served wherever it points; a broken one is a 404.
    with both() as pair:
        r = same(pair, "/static/escape.txt")
        assert r.status == 200 and r.body == b"outside the root\n"
        assert same(pair, "/static/broken.txt").status == 404


def test_missing_and_odd_paths():
    with both() as pair:
        for path in ("/static/nope.txt", "/static/sub/nope/", "/static/hello.txt%00",
                     "/index/noindex/", "/static/noindex/file.txt/x", "/static/escape.txt%00"):
            assert same(pair, path).status == 404, path
        # abspath drops a trailing slash, so Tornado serves the file.
        assert same(pair, "/static/hello.txt/").body == content("hello.txt")
        assert same(pair, "/static/nope.txt").status == 404
        assert same(pair, "/static/%ff.txt").status == 400  # not UTF-8
        assert same(pair, "/static/hello.txt", method="POST").status == 405


def test_directories():
    r_abs = root()
    with both() as pair:
        for path in ("/static/sub", "/static/", "/static/sub/", "/static/noindex"):
            assert same(pair, path).status == 403, path  # no default_filename
        r = same(pair, "/index/sub")
        assert r.status == 301 and r.header("Location") == "/index/sub/"
        r = same(pair, "/index/sub?x=1")
        assert r.status == 301 and r.header("Location") == "/index/sub/"
        r = same(pair, "/index/sub/")
        assert r.status == 200 and r.body == content("sub/index.html")
        assert r.header("Content-Type") == "text/html"
        assert same(pair, "/index/").body == content("index.html")
        assert same(pair, "/index/noindex").status == 301
        assert same(pair, "/index/noindex/").status == 404
        assert same(pair, "/sub").status == 301
        # "//evil.com/..": a redirect to "//evil.com/../root/sub/" would leave the site.
        r = same(pair, "//evil.com/..%s/sub" % r_abs)
        assert r.status == 403 and not r.has("Location")


def static_url(pair, query):
    """/url's text from both servers (only the text: the page's own Etag is not ours)."""
    a, b = (fetch(port, "/url?" + query) for port in pair)
    assert a.status == b.status == 200 and a.body == b.body, (query, a, b)
    return a.body.decode()


def test_versioned_urls():
    digest = hashlib.sha512(content("hello.txt")).hexdigest()
    with both() as pair:
        url = static_url(pair, "path=hello.txt")
        assert url == "/static/hello.txt?v=" + digest
        assert static_url(pair, "path=hello.txt&v=0") == "/static/hello.txt"
        assert static_url(pair, "path=sub/dir/deep.txt").startswith("/static/sub/dir/deep.txt?v=")
        assert static_url(pair, "path=nope.txt") == "/static/nope.txt"
        assert static_url(pair, "path=sub") == "/static/sub"
        for path in (url, "/static/hello.txt?v=", "/static/hello.txt?v=1&x=2"):
            r = same(pair, path)
            assert r.header("Cache-Control") == "max-age=315360000", path
            expires = email.utils.parsedate_to_datetime(r.header("Expires")).timestamp()
            assert abs(expires - (time.time() + 315360000)) < 60
        r = same(pair, "/static/hello.txt?w=1")
        assert not r.has("Cache-Control") and not r.has("Expires")
        r = same(pair, url, [("Range", "bytes=1-2")])
        assert r.status == 206 and r.header("Cache-Control") == "max-age=315360000"


def test_hash_follows_file_changes():
    # Tornado keeps a version hash until restart; ours is keyed by the file's stat, so an
    # edited file gets a new Etag and static_url at once (a deliberate difference).
    path = os.path.join(root(), "changing.txt")
    with open(path, "w") as f:
        f.write("first\n")
    os.utime(path, (1000000000, 1000000000))
    with ours() as port:
        r1 = fetch(port, "/static/changing.txt")
        u1 = fetch(port, "/url?path=changing.txt").body
        assert r1.header("Etag") == '"%s"' % hashlib.sha512(b"first\n").hexdigest()
        assert fetch(port, "/static/changing.txt").header("Etag") == r1.header("Etag")
        with open(path, "w") as f:
            f.write("second version\n")
        os.utime(path, (1000000100, 1000000100))
        r2 = fetch(port, "/static/changing.txt")
        assert r2.body == b"second version\n"
        assert r2.header("Etag") == '"%s"' % hashlib.sha512(b"second version\n").hexdigest()
        assert fetch(port, "/url?path=changing.txt").body != u1
        assert r2.header("Last-Modified") == "Sun, 09 Sep 2001 01:48:20 GMT"


def test_big_file_by_sendfile():
    data = content("big.bin")
    with ours() as port:
        with Conn(port, timeout=60) as c:
            c.request("GET", "/static/big.bin")
            r = c.read_response()
            assert r.status == 200 and len(r.body) == BIG and r.body == data
            assert r.header("Content-Length") == str(BIG) and not r.chunked
            # The connection stays usable after a sendfile body: a range, then a HEAD.
            c.request("GET", "/static/big.bin", [("Range", "bytes=1000000-2999999")])
            r = c.read_response()
            assert r.status == 206 and r.body == data[1000000:3000000]
            c.request("HEAD", "/static/big.bin")
            r = c.read_response("HEAD")
            assert r.status == 200 and r.header("Content-Length") == str(BIG)
            c.request("GET", "/static/hello.txt")
            assert c.read_response().body == content("hello.txt")
    with theirs() as port:
        r = fetch(port, "/static/big.bin")
        assert r.body == data and r.header("Etag") == '"%s"' % hashlib.sha512(data).hexdigest()
