"""examples/blog (build/examples/blog and blog.so), Tornado's blog demo on MariaDB: the
first author and sign-in, compose and edit, unique slugs, Markdown in safe mode with hostile
entries, XSRF and non-authors refused, the archive and the Atom feed (parsed as XML), GitHub
sign-in against a fake GitHub (tests/lib/fake_github.py), and tornado-prefork --procs=2 with
both workers on the same database. One private MariaDB (tests/lib/mariadb.py) serves the
whole file, a fresh database per test; it is stopped when the run ends."""
import atexit
import contextlib
import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.parse
import xml.etree.ElementTree as ET

import harness
import testrun
from harness import server, ServerFailure, Skip
from http_client import Conn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import fake_github  # noqa: E402
import mariadb  # noqa: E402

SECRET = "blog-test-secret"
EMAIL, NAME, PASSWORD = "author@example.com", "The Author", "correct horse"

_db = None
_serial = itertools.count(1)


def _mariadb():
    """The file's MariaDB, started on first use."""
    global _db
    if _db is None:
        if not os.path.exists(mariadb.MARIADBD):
            raise Skip("mariadbd is not installed")
        _db = mariadb.Server()
        try:
            _db.start()
        except BaseException:
            _db.stop()
            _db = None
            raise
        atexit.register(_db.stop)
    return _db


def _fresh_database():
    """A new empty database the test user may use; its URL."""
    db = _mariadb()
    name = "blog%d_%d" % (os.getpid(), next(_serial))
    db.sql("CREATE DATABASE `%s` CHARACTER SET utf8mb4; GRANT ALL ON `%s`.* TO '%s'@'localhost';"
           % (name, name, db.user))
    return "mysql://%s:%s@/%s?unix_socket=%s" % (db.user, db.password, name, db.socket), name


@contextlib.contextmanager
def _env(**env):
    """os.environ with env set (the harness copies it into the server it starts)."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def blog(**env):
    """build/examples/blog on a fresh database; yields (port, database name)."""
    url, name = _fresh_database()
    env.setdefault("BLOG_DB", url)
    env.setdefault("BLOG_COOKIE_SECRET", SECRET)
    with _env(**env):
        cm = server(binary="examples/blog")
        port = cm.__enter__()
    try:
        yield port, name
    except BaseException:
        cm.__exit__(*sys.exc_info())
        raise
    cm.__exit__(None, None, None)


class Client:
    """A browser's cookie jar over one-request connections."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, form=None, headers=()):
        hdrs = list(headers)
        if self.cookies:
            hdrs.append(("Cookie", "; ".join("%s=%s" % kv for kv in self.cookies.items())))
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            hdrs += [("Content-Type", "application/x-www-form-urlencoded"),
                     ("Content-Length", str(len(body)))]
        with Conn(self.port) as c:
            c.request(method, path, headers=hdrs, body=body)
            r = c.read_response(method)
        for v in r.header_all("Set-Cookie"):
            name, value = v.split(";")[0].split("=", 1)
            if value in ("", '""') and "expires=" in v.lower():
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return r

    def get(self, path, headers=()):
        return self.request("GET", path, headers=headers)

    def post(self, path, form, xsrf=True):
        if xsrf:
            form = dict(form, _xsrf=self.xsrf())
        return self.request("POST", path, form)

    def xsrf(self):
        """The form token of a page with a form (which also sets the _xsrf cookie)."""
        r = self.get("/auth/create")
        m = re.search(rb'name="_xsrf" value="([^"]+)"', r.body)
        assert m, r
        return m.group(1).decode()

    def create_author(self, next_url="/"):
        return self.post("/auth/create", {"email": EMAIL, "name": NAME, "password": PASSWORD,
                                          "next": next_url})

    def login(self, email=EMAIL, password=PASSWORD, next_url="/"):
        return self.post("/auth/login", {"email": email, "password": password, "next": next_url})

    def publish(self, title, text="Some *text*.", entry_id=None):
        form = {"title": title, "markdown": text}
        if entry_id:
            form["id"] = str(entry_id)
        r = self.post("/compose", form)
        assert r.status == 302 and r.header("Location").startswith("/entry/"), r
        return r.header("Location")[len("/entry/"):]


def _author(port):
    c = Client(port)
    r = c.create_author()
    assert r.status == 302 and "blogdemo_user" in c.cookies, r
    return c


def _entry_id(page):
    m = re.search(rb'href="/compose\?id=(\d+)"', page)
    assert m, page
    return int(m.group(1))


# ---- pages, authors, compose, edit --------------------------------------------------------

@harness.timeout(180)
def test_blog_first_author_compose_edit_archive_feed():
    with blog() as (port, _):
        c = Client(port)
        r = c.get("/")  # no entries: the demo sends the visitor to compose, then to sign in
        assert r.status == 302 and r.header("Location") == "/compose", r
        r = c.get("/compose")
        assert r.status == 302 and r.header("Location") == "/auth/login?next=%2Fcompose", r
        r = c.get("/auth/login?next=%2Fcompose")  # no author yet: create one
        assert r.status == 302 and r.header("Location") == "/auth/create?next=%2Fcompose", r
        r = c.create_author(next_url="/compose")
        assert r.status == 302 and r.header("Location") == "/compose", r
        (v,) = [v for v in r.header_all("Set-Cookie") if v.startswith("blogdemo_user=")]
        assert "HttpOnly" in v, v
        assert Client(port).create_author().status == 400  # only the first author
        assert b'name="_xsrf"' in c.get("/compose").body

        slug = c.publish("First post", "Hello *world*.\n\n- one\n- two\n")
        assert slug == "first-post", slug
        page = c.get("/entry/first-post")
        assert page.status == 200, page
        assert b"<p>Hello <em>world</em>.</p>" in page.body and b"<li>one</li>" in page.body
        assert b"Edit this post" in page.body and b"Sign out" in page.body
        assert Client(port).get("/entry/nothing-here").status == 404
        anon = Client(port).get("/entry/first-post")
        assert b"Edit this post" not in anon.body and b"Sign in</a> to compose" in anon.body

        # Edit: the form holds the Markdown, the slug stays.
        eid = _entry_id(page.body)
        form = c.get("/compose?id=%d" % eid)
        assert form.status == 200 and b"Hello *world*." in form.body, form
        assert b'name="id" value="%d"' % eid in form.body
        assert c.publish("First post, edited", "New **text**.", entry_id=eid) == "first-post"
        page = c.get("/entry/first-post").body
        assert b"First post, edited" in page and b"<strong>text</strong>" in page, page
        assert b"Hello" not in page
        assert c.get("/compose?id=99999").status == 404

        c.publish("Second post", "Two.")
        home = Client(port).get("/")
        assert home.status == 200, home
        assert home.body.index(b"Second post") < home.body.index(b"First post, edited")
        assert re.search(rb'href="/static/blog\.css\?v=[0-9a-f]+"', home.body), home.body
        archive = Client(port).get("/archive").body
        assert b'href="/entry/first-post"' in archive and b'href="/entry/second-post"' in archive

        feed = Client(port).get("/feed")
        assert feed.status == 200 and feed.header("Content-Type") == "application/atom+xml", feed
        root = ET.fromstring(feed.body)
        ns = {"a": "http://www.w3.org/2005/Atom"}
        titles = [e.find("a:title", ns).text for e in root.findall("a:entry", ns)]
        assert titles == ["Second post", "First post, edited"], titles
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", root.find("a:updated", ns).text)

        # Sign out: the session goes, compose needs a sign-in again; a password signs in.
        r = c.get("/auth/logout?next=/archive")
        assert r.status == 302 and r.header("Location") == "/archive", r
        assert "blogdemo_user" not in c.cookies
        assert c.get("/compose").status == 302
        r = c.login(next_url="/compose")
        assert r.status == 302 and r.header("Location") == "/compose", r
        assert c.get("/compose").status == 200
        # No open redirect: "//host", "/\\host", and "/<TAB>/host" (browsers drop the tab).
        for bad in ("//evil.example/", "/%5Cevil.example", "/%09/evil.example", "/%0A/evil"):
            assert c.get("/auth/logout?next=" + bad).status == 400, bad


@harness.timeout(180)
def test_blog_slugs_unique():
    with blog() as (port, _):
        c = _author(port)
        assert [c.publish("Same title") for _ in range(3)] == [
            "same-title", "same-title-2", "same-title-2-2"]
        assert c.publish("Café au lait, naïve!") == "cafe-au-lait-nai-ve"  # the demo's NFKD
        assert c.publish("日本語") == "entry"
        assert c.publish("日本語") == "entry-2"
        long_slug = c.publish("word " * 60)
        assert len(long_slug) <= 80 and not long_slug.endswith("-"), long_slug
        for s in ("same-title-2-2", "cafe-au-lait-nai-ve", "entry-2", long_slug):
            assert Client(port).get("/entry/" + s).status == 200, s
        r = c.post("/compose", {"title": "", "markdown": "x"})  # no title: the form again
        assert r.status == 400 and b"A title is required." in r.body, r
        # VARCHAR(512) counts characters: 300 CJK ones (900 bytes) fit, 513 do not
        assert c.publish("語" * 300).startswith("entry")
        r = c.post("/compose", {"title": "x" * 513, "markdown": "x"})
        assert r.status == 400 and b"The title is too long." in r.body, r


def test_blog_author_fields_too_long():
    """authors.email and .name are VARCHAR(100): a longer one is the form again with 400,
    not a database error (500)."""
    with blog() as (port, _):
        c = Client(port)
        for email, name in (("a@x" + "x" * 100, "Name"), ("a@example.com", "n" * 101)):
            r = c.post("/auth/create", {"email": email, "name": name, "password": "pw",
                                        "next": "/"})
            assert r.status == 400 and b"100 characters at most" in r.body, r
        r = c.post("/auth/create", {"email": "a@example.com", "name": "é" * 100,
                                    "password": "pw", "next": "/"})
        assert r.status == 302, r  # 100 characters of two bytes each fit


def test_blog_tables_made_once_the_database_is_there():
    """A failed first try at the tables (the database did not exist yet) is tried again by
    the next request: pages are 500 until the database exists, then served."""
    db = _mariadb()
    url, name = _fresh_database()
    db.sql("DROP DATABASE `%s`;" % name)
    with _env(BLOG_DB=url, BLOG_COOKIE_SECRET=SECRET):
        with server(binary="examples/blog") as port:
            assert Client(port).get("/").status == 500
            db.sql("CREATE DATABASE `%s` CHARACTER SET utf8mb4;" % name)
            # served: the home page of a blog without an author sends to /auth/create
            testrun.wait_until(lambda: Client(port).get("/").status == 302, 60,
                               "the blog making its tables once the database existed", 0.1)
            assert Client(port).get("/archive").status == 200


HOSTILE = [
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    "<div onclick=\"alert(1)\">raw</div>",
    "![i](javascript:alert(1))",
    "[y](JaVaScRiPt:alert(1))",
]


@harness.timeout(180)
def test_blog_markdown_safe_mode():
    with blog() as (port, _):
        c = _author(port)
        slug = c.publish("<script>alert('t')</script> title", "\n\n".join(HOSTILE) + "\n\nfine")
        assert slug == "script-alert-t-script-title", slug
        for path in ("/entry/" + slug, "/", "/archive", "/feed"):
            body = Client(port).get(path).body.lower()
            assert b"<script>alert" not in body, (path, body)
            assert b"javascript:" not in body and b"onerror" not in body, (path, body)
            assert b"onclick" not in body, (path, body)
        page = Client(port).get("/entry/" + slug).body
        assert b"&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt; title" in page, page
        assert b"raw HTML omitted" in page and b"<p>fine</p>" in page, page
        ET.fromstring(Client(port).get("/feed").body)  # still well-formed XML
        # The Markdown itself is kept as written (the edit form shows it, escaped).
        form = c.get("/compose?id=%d" % _entry_id(c.get("/entry/" + slug).body)).body
        assert b"&lt;img src=x onerror=alert(1)&gt;" in form, form


@harness.timeout(180)
def test_blog_sign_ins_abandoned_while_hashing():
    """Sign-ins whose clients leave while the password check waits on the one hashing thread:
    the queued checks are skipped and their inputs freed (ASan's leak check at the server's
    exit, in the ASan pass), and the server goes on answering."""
    import socket
    import struct
    with blog() as (port, _):
        c = _author(port)
        token = c.xsrf()
        form = urllib.parse.urlencode({"email": EMAIL, "password": PASSWORD, "next": "/",
                                       "_xsrf": token}).encode()
        cookie = "; ".join("%s=%s" % kv for kv in c.cookies.items())
        raw = (b"POST /auth/login HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n"
               b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n"
               % (cookie.encode(), len(form))) + form
        socks = []
        for _ in range(8):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(raw)
            socks.append(s)
        for s in socks:  # a reset each: the server sees every client leave
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        # A sign-in after them waits behind every one of them on the hashing thread.
        d = Client(port)
        d.xsrf()
        r = d.login()
        assert r.status == 302 and "blogdemo_user" in d.cookies, r


def test_blog_xsrf_and_non_authors_refused():
    with blog() as (port, _):
        c = _author(port)
        # Without the token (with and without the _xsrf cookie): 403, nothing saved.
        for form in ({"title": "No token", "markdown": "x"},
                     {"title": "Bad token", "markdown": "x", "_xsrf": "2|00|00|0"}):
            r = c.post("/compose", form, xsrf=False)
            assert r.status == 403, r
        c.xsrf()
        assert c.post("/compose", {"title": "No token", "markdown": "x"}, xsrf=False).status == 403
        assert c.post("/auth/login", {"email": EMAIL, "password": PASSWORD},
                      xsrf=False).status == 403
        c.publish("Kept")
        assert b"No token" not in Client(port).get("/archive").body

        anon = Client(port)
        r = anon.get("/compose")
        assert r.status == 302 and r.header("Location").startswith("/auth/login?next="), r
        assert anon.post("/compose", {"title": "Anon", "markdown": "x"}).status == 403
        r = anon.login(password="wrong")
        assert r.status == 403 and b"incorrect password" in r.body, r
        assert "blogdemo_user" not in anon.cookies
        r = anon.login(email="nobody@example.com")
        assert r.status == 403 and b"email not found" in r.body, r
        # A forged or altered session cookie is no session.
        forged = Client(port)
        good = c.cookies["blogdemo_user"]
        for value in ('"2|1:0|10:1700000000|13:blogdemo_user|16:eyJpZCI6MX0=|00"',
                      good.replace("|1:0|", "|1:1|"), '{"id": 1, "name": "x"}'):
            forged.cookies = {"blogdemo_user": value}
            assert forged.get("/compose").status == 302, value
        assert b"Anon" not in Client(port).get("/archive").body
        assert Client(port).get("/auth/github").status == 404  # not configured


@harness.timeout(180)
def test_blog_github_sign_in():
    alice = {"login": "alice", "id": 501, "name": "Alice"}
    users = {"code-alice": alice, "code-alice2": alice,
             "code-mallory": {"login": "mallory", "id": 666}}
    with fake_github.FakeGitHub(users=users) as gh:
        env = dict(BLOG_GITHUB_CLIENT_ID="cid", BLOG_GITHUB_CLIENT_SECRET="csecret",
                   BLOG_GITHUB_AUTHORIZE_URL=gh.url + "/login/oauth/authorize",
                   BLOG_GITHUB_TOKEN_URL=gh.url + "/login/oauth/access_token",
                   BLOG_GITHUB_USER_URL=gh.url + "/user", BLOG_GITHUB_AUTHORS="alice,bob")
        with blog(**env) as (port, _):
            _author(port).publish("Local post")

            def sign_in(code):
                c = Client(port)
                assert b'href="/auth/github?next=%2Fcompose"' in c.get(
                    "/auth/login?next=%2Fcompose").body
                r = c.get("/auth/github?next=%2Fcompose")
                assert r.status == 302 and r.header("Location").startswith(gh.url), r
                q = urllib.parse.parse_qs(urllib.parse.urlsplit(r.header("Location")).query)
                assert q["client_id"] == ["cid"] and q["state"], q
                back = "/auth/github?code=%s&state=%s" % (code, q["state"][0])
                return c, c.get(back)

            c, r = sign_in("code-alice")
            assert r.status == 302 and r.header("Location") == "/compose", r
            assert "blogdemo_user" in c.cookies
            slug = c.publish("From GitHub")
            assert b"From GitHub" in Client(port).get("/entry/" + slug).body
            c2, r = sign_in("code-alice2")  # the same author again, not a new one
            assert r.status == 302, r
            assert b"Edit this post" in c2.get("/entry/" + slug).body
            c3, r = sign_in("code-alice")  # a code used once already: refused by GitHub
            assert r.status == 500 and "blogdemo_user" not in c3.cookies, r
            c, r = sign_in("code-mallory")  # not in BLOG_GITHUB_AUTHORS
            assert r.status == 403 and "blogdemo_user" not in c.cookies, r
            # A forged state is refused before any call to GitHub.
            c = Client(port)
            c.get("/auth/github")
            r = c.get("/auth/github?code=code-alice&state=forged")
            assert r.status == 400 and "blogdemo_user" not in c.cookies, r
        assert gh.token_requests == 4, gh.token_requests


# ---- under the prefork server -------------------------------------------------------------

class Prefork:
    """build/tornado-prefork --procs=2 --reuseport on build/examples/blog.so, in a temp dir
    (one socket per worker: the kernel spreads new connections over both)."""

    def __init__(self, tmp, db_url):
        exe = os.path.join(harness.BUILD, "tornado-prefork")
        app = os.path.join(harness.BUILD, "examples", "blog.so")
        if not (os.path.exists(exe) and os.path.exists(app)):
            raise Skip("tornado-prefork or examples/blog.so is not built")
        port_file = os.path.join(tmp, "port")
        self.log = os.path.join(tmp, "log")
        env = dict(os.environ, BLOG_DB=db_url, BLOG_COOKIE_SECRET=SECRET)
        args = [exe, "--procs=2", "--reuseport", "--address=127.0.0.1", "--port=0",
                "--port-file=" + port_file, "--log-file=" + self.log, "--logging=info",
                "--access-log", "--shutdown-timeout=5", app]
        self.stderr_path = os.path.join(tmp, "stderr")
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                         cwd=tmp, env=env)
        self.port = testrun.wait_port_file(port_file, self.proc, 60)
        if self.port is None:
            self.stop()
            raise ServerFailure("tornado-prefork did not start: %s" % self.log_text()[-2000:])

    def log_text(self, path=None):
        try:
            with open(path or self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


def _lines(log, what):
    """The worker numbers of the log lines matching what, in order."""
    return [m.group(1) for m in re.finditer(r"worker\[(\d)\] %s" % what, log)]


@harness.timeout(300)
def test_blog_under_prefork_workers_share_the_database():
    tmp = tempfile.mkdtemp(prefix="tp-blog-prefork-")
    try:
        url, _ = _fresh_database()
        p = Prefork(tmp, url)
        try:
            c = _author(p.port)
            # Fresh connections land on either worker (the kernel's choice): entries are
            # written and read back on fresh connections until an entry written by each
            # worker was read by the other one (the access log says which worker answered),
            # up to 100 entries.
            crossed = set()
            n = 0
            while len(crossed) < 2:
                assert n < 100, "100 entries and no read across workers both ways:\n%s" % (
                    p.log_text()[-2000:])
                slug = c.publish("Prefork post %d" % n)
                n += 1
                writers = testrun.wait_until(
                    lambda: (lambda w: w if len(w) == n else None)(
                        _lines(p.log_text(), r"302 POST /compose")),
                    30, "the access log line of POST %d" % n)
                for i in range(2):
                    page = Client(p.port).get("/entry/" + slug)
                    assert page.status == 200 and b"Prefork post" in page.body, (slug, page)
                    readers = testrun.wait_until(
                        lambda: (lambda r: r if len(r) == i + 1 else None)(
                            _lines(p.log_text(), r"200 GET /entry/%s " % slug)),
                        30, "the access log line of GET %s" % slug)
                    if readers[-1] != writers[-1]:
                        crossed.add(writers[-1])
            archive = Client(p.port).get("/archive").body
            assert archive.count(b"Prefork post") == n, (n, archive)
        finally:
            rc = p.stop()
        log = p.log_text()
        assert rc == 0, (rc, log[-2000:])
        assert "[E " not in log, log[-2000:]
        rep = harness.sanitizer_report(p.log_text(p.stderr_path))
        assert not rep, rep
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
