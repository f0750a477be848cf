"""render / render_string in handlers (tests/apps/testapp.c /render/<name>): templates from
tests/blackbox/templates with the handler namespace (current_user, request, locale, _,
pgettext, xsrf_form_html, reverse_url, a UI method, a UI module and its resources), the
CSV locale of tests/blackbox/locale; errors give 500. The page is compared with what Debian's
Tornado renders from the same files."""
import os
import re
import subprocess

from harness import shared
from http_client import Conn, expect_ok

HERE = os.path.dirname(os.path.abspath(__file__))

TWIN = r'''
import sys, re, tornado.web, tornado.locale, tornado.httputil
from tornado.web import Application, RequestHandler, UIModule
tornado.locale.load_translations(sys.argv[2])
class Entry(UIModule):
    def render(self, s): return "<b>entry:%s</b>" % s
    def embedded_javascript(self): return "var entry = 1;"
    def embedded_css(self): return "b { color: red }"
    def html_head(self): return '<meta name="entry">'
    def html_body(self): return "<!-- entry body -->"
    def javascript_files(self): return ["/js/entry.js"]
    def css_files(self): return ["/css/entry.css", "http://cdn.example/e.css", "/css/entry.css"]
def shout(handler, s): return s.upper()
class Page(RequestHandler):
    def get_current_user(self): return self.get_cookie("user")
    def get_user_locale(self):
        lang = self.get_argument("lang", None)
        return tornado.locale.get(lang) if lang else None
    def get(self): self.render(sys.argv[5], items=[1, 2, 3], title="<T>")
class User(RequestHandler):
    def get(self, a, b): pass
app = Application([(r"/render/page", Page), tornado.web.url(r"/user/(\d+)/([a-z ]+)", User, name="user")],
                  template_path=sys.argv[1], ui_modules={"Entry": Entry}, ui_methods={"shout": shout},
                  cookie_secret="x", static_path=sys.argv[6])
req = tornado.httputil.HTTPServerRequest(method="GET", uri=sys.argv[3], headers=tornado.httputil.HTTPHeaders(eval(sys.argv[4])))
class Conn:
    def __init__(self): self.out = b""
    def set_close_callback(self, cb): pass
    def write_headers(self, start, headers, chunk=None):
        self.out += chunk or b""
        import tornado.concurrent; f = tornado.concurrent.Future(); f.set_result(None); return f
    def write(self, chunk):
        self.out += chunk
        import tornado.concurrent; f = tornado.concurrent.Future(); f.set_result(None); return f
    def finish(self): pass
req.connection = Conn()
h = Page(app, req)
h._transforms = []
h.get()
sys.stdout.buffer.write(req.connection.out)
'''


def _tornado(uri, headers, name="page.html"):
    out = subprocess.run(["/usr/bin/python3", "-c", TWIN, os.path.join(HERE, "templates"),
                          os.path.join(HERE, "locale"), uri, repr(dict(headers)), name,
                          os.path.join(HERE, "static_root")],
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    return out.stdout


def _get(path, headers=()):
    with Conn(shared()) as c:
        c.request("GET", path, headers=list(headers))
        return c.read_response()


def _no_token(body):
    return re.sub(rb'value="2\|[0-9a-f]{8}\|[0-9a-f]{32}\|\d+"', b'value="TOKEN"', body)


def test_page_matches_tornado():
    for uri, headers in (("/render/page", [("Cookie", "user=ann"), ("Accept-Language", "es-LA")]),
                         ("/render/page?lang=en_US", [("Accept-Language", "es-LA")]),
                         ("/render/page", [("Accept-Language", "fr, es-LA;q=0.5")])):
        ours = _get(uri, headers)
        assert ours.status == 200, ours
        assert ours.header("Content-Type") == "text/html; charset=UTF-8"
        theirs = _tornado(uri, headers)
        assert _no_token(ours.body) == _no_token(theirs), (ours.body.decode(), theirs.decode())


def test_builtin_modules_match_tornado():
    headers = [("Cookie", "user=bo")]
    ours = expect_ok(_get("/render/modules", headers))
    theirs = _tornado("/render/modules", headers, "modules.html")
    assert _no_token(ours.body) == _no_token(theirs), (ours.body.decode(), theirs.decode())
    assert b'<div class="entry">2 of &lt;T&gt; for bo</div>' in ours.body


def test_static_url_in_templates_matches_tornado():
    ours = expect_ok(_get("/render/static"))
    assert _no_token(ours.body) == _tornado("/render/static", [], "static.html")
    assert re.match(rb"<p>/static/hello.txt\?v=[0-9a-f]{128}\|/static/app.js</p>", ours.body), \
        ours.body


def test_namespace_and_resources():
    r = expect_ok(_get("/render/page", [("Cookie", "user=ann"), ("Accept-Language", "es-LA")]))
    body = r.body.decode()
    assert "<p>Hola ann at /render/page (es_LA)</p>" in body
    assert "<p>3 artículos</p>" in body
    assert "<title>&lt;T&gt;</title>" in body
    assert '<a href="/user/5/ann">u</a>' in body and "<i>QUIET</i>" in body
    assert body.count('<link href="/css/entry.css"') == 1  # deduplicated
    assert body.index("<style") < body.index("</head>") < body.index("<script src=")
    # the XSRF cookie that goes with the form's token is set
    assert (r.header("Set-Cookie") or "").startswith("_xsrf=")


def test_template_errors_are_500():
    for name in ("broken", "runtime", "nohead", "missing"):
        r = _get("/render/" + name)
        assert r.status == 500, (name, r)
        assert b"<title>500: Internal Server Error</title>" in r.body
    r = expect_ok(_get("/render_string"))
    assert r.body == b"r=-22 len=0"  # a failed render_string appends nothing


def test_debug_mode_shows_the_template_error():
    from harness import server
    with server("--debug") as port:
        with Conn(port) as c:
            c.request("GET", "/render/runtime")
            r = c.read_response()
    assert r.status == 500 and r.header("Content-Type") == "text/plain"
    assert r.body.decode() == ("Traceback (template):\n  runtime.html\n"
                               "Error: NameError: name 'missing_name' is not defined at "
                               "runtime.html:1\n"), r.body
