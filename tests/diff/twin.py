#!/usr/bin/python3
"""The Python twin of tests/apps/diffapp.c, on tornado.web (Debian's python3-tornado).

    /usr/bin/python3 tests/diff/twin.py --port-file=FILE [STATIC_DIR]
    /usr/bin/python3 tests/diff/twin.py PORT [STATIC_DIR]

With --port-file it listens on a port the kernel picks (port 0) and writes it to FILE once
listening (tests/lib/portfile.py), as diffapp does with --port=0 --port-file=FILE: that is
how tests/diff/run.py starts it. A PORT number is for running it by hand.

Every handler here has a C counterpart in diffapp.c with the same route, settings and
output; tests/diff/run.py sends both the same requests and compares the answers. Keep the
two files in step: a change here needs the same change there.
"""
import datetime
import os
import sys

import tornado.ioloop
import tornado.web
import tornado.websocket
from tornado.web import (ErrorHandler, FallbackHandler, HTTPError, RedirectHandler,
                         RequestHandler, addslash, authenticated, removeslash, url)

HERE = os.path.dirname(os.path.abspath(__file__))
COOKIE_SECRET = "diff-secret-shared-by-both"
ARG_NAMES = ("a", "b", "c", "s", "u")

# Tornado 6.2 (Debian) has set/get_secure_cookie; 6.3+ renamed them *_signed_cookie.
_set_signed = getattr(RequestHandler, "set_signed_cookie", None) or RequestHandler.set_secure_cookie
_get_signed = getattr(RequestHandler, "get_signed_cookie", None) or RequestHandler.get_secure_cookie


class NoXsrf(RequestHandler):
    def check_xsrf_cookie(self):
        pass


class Methods(NoXsrf):
    def _say(self):
        self.write("%s /methods" % self.request.method)

    get = post = put = delete = patch = _say


class Methods2(NoXsrf):
    def get(self):
        self.write("GET /methods2")

    def head(self):
        self.set_header("X-Head", "1")

    def options(self):
        self.set_header("Allow", "GET, HEAD, OPTIONS")
        self.set_status(204)


class Args(NoXsrf):
    def _show(self):
        for n in ARG_NAMES:
            self.write("%s: arg=%s all=[%s] q=[%s] body=[%s]\n" % (
                n, self.get_argument(n, "(none)"), "|".join(self.get_arguments(n)),
                "|".join(self.get_query_arguments(n)), "|".join(self.get_body_arguments(n))))
        self.write("qa=%s ba=%s\n" % (self.get_query_argument("a", "(none)"),
                                      self.get_body_argument("a", "(none)")))

    get = post = put = _show


class Required(NoXsrf):
    def get(self):
        self.write("name=%s" % self.get_argument("name"))

    post = get


class Files(NoXsrf):
    def post(self):
        for field in ("f", "g"):
            for f in self.request.files.get(field, []):
                self.write("%s: filename=%s type=%s len=%d\n" % (field, f["filename"],
                                                                 f["content_type"], len(f["body"])))
                self.write(f["body"])
                self.write("\n")
        self.write("t=%s\n" % self.get_body_argument("t", "(none)"))


class Status(RequestHandler):
    def get(self):
        code = int(self.get_argument("code"))
        try:
            self.set_status(code, self.get_argument("reason", None))
        except ValueError:
            self.write("refused ")
        self.write("status body")


class Headers(RequestHandler):
    def get(self):
        op = self.get_argument("op", "")
        self.set_header("X-Set", "1")
        self.set_header("X-Set", "2")
        self.add_header("X-Add", "a")
        self.add_header("X-Add", "b")
        self.set_header("X-Gone", "x")
        self.clear_header("X-Gone")
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        if op == "inject":
            self.set_header("X-Bad", "a\r\nSet-Cookie: evil=1")
        if op == "clear":
            self.write("before clear")
            self.clear()
        self.write("headers")


class Json(RequestHandler):
    def get(self):
        self.write({"a": 1, "s": "</script>", "u": "\u00e9\u4e2d", "l": [1, 2, None, True, False],
                    "f": 1.5, "n": {"k": "v\"q\\"}})


class Flush(RequestHandler):
    def get(self):
        self.write("part1,")
        self.flush()
        self.write("part2")


class Redirect(RequestHandler):
    def get(self):
        status = self.get_argument("status", None)  # redirect(url, status=...)
        self.redirect(self.get_argument("to"), permanent=self.get_argument("perm", "0") == "1",
                      status=int(status) if status else None)


class SendError(RequestHandler):
    def get(self):
        self.write("discarded")
        self.send_error(int(self.get_argument("code")))


class Raise(RequestHandler):
    def get(self):
        self.write("discarded")
        raise Exception("boom")


class CustomError(RequestHandler):
    def get(self):
        self.send_error(int(self.get_argument("code")))

    def write_error(self, status_code, **kwargs):
        self.set_header("X-Error", str(status_code))
        self.write("custom error %d %s\n" % (status_code, self._reason))


class Cookies(RequestHandler):
    def get(self, what):
        if what == "get":
            for n in self.get_arguments("name"):
                self.write("%s=%s\n" % (n, self.get_cookie(n, "(none)")))
            return
        name = self.get_argument("name", "c")
        if what == "clear":
            kw = {}
            for k in ("path", "domain"):
                if self.get_argument(k, None) is not None:
                    kw[k] = self.get_argument(k)
            self.clear_cookie(name, **kw)
            self.write("cleared")
            return
        if what == "signed_set":
            _set_signed(self, name, self.get_argument("value", ""))
            self.write("signed")
            return
        if what == "signed_get":
            v = _get_signed(self, name)
            self.write(v if v is not None else "(invalid)")
            return
        kw = {}
        for k in ("domain", "path", "samesite"):
            if self.get_argument(k, None) is not None:
                kw[k] = self.get_argument(k)
        if self.get_argument("expires", None):
            kw["expires"] = datetime.datetime.fromtimestamp(int(self.get_argument("expires")),
                                                            datetime.timezone.utc)
        if self.get_argument("max_age", None):
            kw["max_age"] = int(self.get_argument("max_age"))
        for k in ("secure", "httponly"):
            if self.get_argument(k, None):
                kw[k] = True
        self.set_cookie(name, self.get_argument("value", ""), **kw)
        self.write("set")


class Xsrf(RequestHandler):
    def get(self):
        self.write(self.xsrf_token)

    def post(self):
        self.write("xsrf ok")

    put = delete = patch = post


class XsrfForm(RequestHandler):
    def get(self):
        self.write(self.xsrf_form_html())


class Etag(RequestHandler):
    def get(self):
        self.write(self.get_argument("body", "etag body"))


class NoEtag(Etag):
    def compute_etag(self):
        return None


class SetEtag(RequestHandler):
    def get(self):
        self.set_header("Etag", '"custom"')
        self.write("custom etag body")


class StaticUrl(RequestHandler):
    def get(self):
        self.write(self.static_url(self.get_argument("path"),
                                   include_version=self.get_argument("v", "1") == "1"))


class AddSlash(NoXsrf):
    @addslash
    def get(self):
        self.write("addslash " + self.request.path)

    post = get


class RemoveSlash(NoXsrf):
    @removeslash
    def get(self):
        self.write("removeslash " + self.request.path)

    post = get


class Private(NoXsrf):
    def get_current_user(self):
        return self.get_cookie("user")

    @authenticated
    def get(self):
        self.write("hello " + self.current_user)

    post = get


class Login(RequestHandler):
    def get(self):
        self.write("login page next=" + self.get_argument("next", "(none)"))


class Reverse(RequestHandler):
    def get(self):
        self.write(self.reverse_url("item", "42", "abc") + "\n")
        self.write(self.reverse_url("item", "7", "x y/z") + "\n")
        self.write(self.reverse_url("plain") + "\n")


class Item(RequestHandler):
    def get(self, num, name):
        self.write("item %s %s" % (num, name))


class HostA(RequestHandler):
    def get(self):
        self.write("host example.com")


class HostB(RequestHandler):
    def get(self):
        self.write("host any")


class Gz(RequestHandler):
    def get(self):
        n = int(self.get_argument("n", "2000"))
        self.set_header("Content-Type", self.get_argument("ctype", "text/plain"))
        if self.get_argument("vary", None):
            self.set_header("Vary", self.get_argument("vary"))
        line = "gzip me please, line of text %d\n"
        out, i = "", 0
        while len(out) < n:
            out += line % i
            i += 1
        self.write(out[:n])


class GzFlush(RequestHandler):
    def get(self):
        self.write("x" * 3000)
        self.flush()
        self.write("y" * 3000)


class Inner(RequestHandler):
    def get(self, rest):
        self.write("inner app: " + rest)


class Default(RequestHandler):
    def prepare(self):
        self.set_status(404)
        self.write("no route for " + self.request.path)
        self.finish()


# ---- arguments as text, request extras, cookies, signed values, header values ----


def _bracket(vals):
    return "|".join("[%s]" % v for v in vals)


class ArgNames(NoXsrf):
    """Names of each argument dict in order, values unstripped (strip=False)."""

    def _show(self):
        r = self.request
        for label, d, getter in (("arguments", r.arguments, self.get_arguments),
                                 ("query", r.query_arguments, self.get_query_arguments),
                                 ("body", r.body_arguments, self.get_body_arguments)):
            self.write("%s:" % label)
            for k in d:
                self.write(" %s=%s" % (k, _bracket(getter(k, strip=False))))
            self.write("\n")
        self.write("files:")
        for k, fs in r.files.items():
            self.write(" %s=%s" % (k, _bracket(f["filename"] for f in fs)))
        self.write("\n")
        for n in ("a", "b"):
            self.write("%s: arg=[%s] q=[%s] body=[%s] stripped=[%s]\n" % (
                n, self.get_argument(n, "(none)", strip=False),
                self.get_query_argument(n, "(none)", strip=False),
                self.get_body_argument(n, "(none)", strip=False), self.get_argument(n, "(none)")))

    get = post = put = _show


class RequiredSource(NoXsrf):
    def _show(self):
        if self.get_argument("src") == "query":
            self.write("query name=[%s]" % self.get_query_argument("name"))
        else:
            self.write("body name=[%s]" % self.get_body_argument("name"))

    get = post = _show


class FullUrl(RequestHandler):
    def get(self):
        self.write(self.request.full_url())


class CustomEtag(RequestHandler):
    def compute_etag(self):
        v = self.get_argument("v", "")
        return None if v == "none" else '"custom-%s"' % v

    def get(self):
        if self.get_argument("manual", None):
            self.set_etag_header()
            if self.check_etag_header():
                self.set_status(304)
                return
            self.write("manual ")
        self.write("body")


class DefaultHeaders(RequestHandler):
    def set_default_headers(self):
        self.set_header("X-Default", "d")
        self.set_header("Content-Type", "text/plain")
        self.set_header("Access-Control-Allow-Origin", "*")

    def get(self):
        op = self.get_argument("op", "")
        if op == "override":
            self.set_header("X-Default", "changed")
        elif op == "clear":
            self.clear_header("X-Default")
            self.set_header("X-Default", "again")
        elif op == "error":
            self.set_header("X-Lost", "1")
            self.send_error(404)
            return
        elif op == "raise":
            raise Exception("boom")
        elif op == "clear_all":
            self.set_header("X-Lost", "1")
            self.clear()
        t = self.request.request_time()
        self.write("time ok\n" if 0 <= t < 60 else "time %r\n" % t)


class Extra(NoXsrf):
    SUPPORTED_METHODS = RequestHandler.SUPPORTED_METHODS + ("PURGE", "PROPFIND", "LOCK")

    def get(self):
        self.write("GET /extra")

    def purge(self):
        self.write("PURGE /extra a=%s" % self.get_argument("a", "(none)"))

    def propfind(self):
        self.set_status(207)
        self.write("PROPFIND /extra")


class ExtraXsrf(Extra):
    check_xsrf_cookie = RequestHandler.check_xsrf_cookie


class CookieList(RequestHandler):
    def get(self):
        for k, m in self.request.cookies.items():
            self.write("%s=[%s]\n" % (k, m.value))


class SignedCreate(RequestHandler):
    def get(self):
        name = self.get_argument("name", "c")
        version = int(self.get_argument("version", "0")) or None
        v = self.create_signed_value(name, self.get_argument("value", ""), version=version)
        if self.get_argument("check", None):
            s = v.decode()
            back = tornado.web.decode_signed_value(COOKIE_SECRET, name, s, min_version=1)
            fields = s.split("|")
            self.write("fields=%d v1payload=%s back=%s" % (
                len(fields), fields[0] if version == 1 else "-", back.decode()))
            return
        self.set_cookie(name, v)
        self.write("created")


class SignedMin(RequestHandler):
    def get(self):
        name = self.get_argument("name", "c")
        v = _get_signed(self, name, min_version=int(self.get_argument("min", "1")))
        if v is None:
            self.write("(invalid)")
        else:
            self.write("len=%d hex=%s" % (len(v), v.hex()))


class HeaderValues(RequestHandler):
    def get(self):
        utc = datetime.timezone.utc
        self.set_header("X-Int", 42)
        self.add_header("X-Int", 1)
        self.set_header("X-Neg", -7)
        self.set_header("X-Date", datetime.datetime(1994, 11, 6, 8, 49, 37, tzinfo=utc))
        self.add_header("X-Date", datetime.datetime.fromtimestamp(0, utc))
        self.set_header("X-Big", 9223372036854775807)
        self.write("header values")


class PathCap(RequestHandler):
    def get(self, a):
        self.write("a=[%s] len=%d" % (a, len(a)))


REQUEST_API_ROUTES = [
    (r"/argnames", ArgNames),
    (r"/required_src", RequiredSource),
    (r"/fullurl", FullUrl),
    (r"/default_headers", DefaultHeaders),
    (r"/custom_etag", CustomEtag),
    (r"/extra", Extra),
    (r"/extra_xsrf", ExtraXsrf),
    (r"/cookie_list", CookieList),
    (r"/signed_create", SignedCreate),
    (r"/signed_min", SignedMin),
    (r"/header_values", HeaderValues),
    (r"/pathcap/([^/]*)", PathCap),
]
# ---- header order, Etag for 200 only, reasons, redirects, errors ----


class Order(RequestHandler):
    """Python dict semantics of the response headers, Set-Cookie after the rest."""

    def get(self):
        op = self.get_argument("op", "")
        if op == "manual":  # an app's own Set-Cookie: the cookies join its group
            self.add_header("Set-Cookie", "m=1")
        self.set_header("X-First", "1")
        self.set_cookie("c1", "v1")
        self.add_header("X-Multi", "a")
        self.set_header("X-Second", "2")
        self.add_header("X-Multi", "b")
        self.set_header("Content-Type", "text/plain")
        self.set_header("X-First", "one")
        self.clear_header("X-Second")
        self.set_header("X-Second", "again")
        self.set_cookie("c2", "v2")
        self.set_cookie("c1", "v1b")
        if op == "error":
            self.send_error(404)
            return
        if op == "raise":
            raise Exception("boom")
        if op == "httperror":
            raise HTTPError(403, reason="Not You")
        if op == "conn":
            self.set_header("Connection", "x-app")
        if op == "flush":
            self.write("x")
            self.flush()
        self.write("order " * int(self.get_argument("n", "1")))


class StatusOnly(RequestHandler):
    """A status set by the handler, a body or none: the automatic Etag is for a 200 only."""

    def get(self):
        self.set_status(int(self.get_argument("code")))
        if self.get_argument("body", None):
            self.write(self.get_argument("body"))


class SendErrorWrite(RequestHandler):
    def get(self):
        self.send_error(int(self.get_argument("code")))

    def write_error(self, status_code, **kwargs):
        self.set_header("X-Write-Error", str(status_code))
        self.write("page")


class HeaderValue(RequestHandler):
    """A reason (UTF-8 in hex) and an X-V header value (bytes in hex), set as given: the
    query cannot carry every control character through get_argument."""

    def get(self):
        reason = self.get_argument("reason", None)
        if reason is not None:
            self.set_status(int(self.get_argument("code", "200")),
                            bytes.fromhex(reason).decode("utf-8", "surrogateescape"))
        value = self.get_argument("v", None)
        if value is not None:
            self.set_header("X-V", bytes.fromhex(value))
        self.write("value ok")


class RaiseHTTPError(RequestHandler):
    """HTTPError with a reason and a log message (msg=1: with arguments, msg=2: without), or
    send_error(reason=...) (send=1); write_error shows what it can read (default=1: the
    default page)."""

    def get(self):
        self.write("discarded")
        code = int(self.get_argument("code"))
        reason = self.get_argument("reason", None)
        if self.get_argument("send", None):
            self.send_error(code, reason=reason)
            return
        msg = self.get_argument("msg", "0")
        if msg == "1":
            raise HTTPError(code, "custom log %s and %s", self.get_argument("a", ""),
                            self.get_argument("b", ""), reason=reason)
        if msg == "2":
            raise HTTPError(code, "plain log message", reason=reason)
        raise HTTPError(code, reason=reason)

    def write_error(self, status_code, **kwargs):
        if self.get_argument("default", None):
            return super().write_error(status_code, **kwargs)
        e = kwargs.get("exc_info", (None, None, None))[1]
        log = None
        if isinstance(e, HTTPError) and e.log_message:
            log = e.log_message % e.args if e.args else e.log_message
        self.write("status=%d get_status=%d reason=%s log=%s\n" % (
            status_code, self.get_status(), self._reason, log))



# ---- WebSocket (tornado.websocket): the handshake; run.py compares the 101's head only ----


class WsEcho(tornado.websocket.WebSocketHandler):
    """Default check_origin, a subprotocol choice, compression with Tornado's defaults."""

    def select_subprotocol(self, subprotocols):
        for p in ("chat", "superchat"):
            if p in subprotocols:
                return p
        return None

    def get_compression_options(self):
        return {}

    def on_message(self, message):
        self.write_message(message, binary=isinstance(message, bytes))


class WsPlain(tornado.websocket.WebSocketHandler):
    """No subprotocol choice, no compression."""

    def on_message(self, message):
        self.write_message(message, binary=isinstance(message, bytes))


class WsBadProto(tornado.websocket.WebSocketHandler):
    """select_subprotocol answers something the client did not offer."""

    def select_subprotocol(self, subprotocols):
        return "notoffered"


class WsHeaders(tornado.websocket.WebSocketHandler):
    """Headers set in set_default_headers and prepare reach the 101."""

    def set_default_headers(self):
        self.set_header("X-Default", "d")

    def prepare(self):
        self.set_header("X-Prepared", "p")
        self.set_header("Content-Type", "text/plain")

def make_app(static_dir):
    inner = tornado.web.Application([(r"/fb/inner/(.*)", Inner)])
    app = tornado.web.Application(
        [
            (r"/methods", Methods),
            (r"/methods2", Methods2),
            (r"/args", Args),
            (r"/required", Required),
            (r"/files", Files),
            (r"/status", Status),
            (r"/headers", Headers),
            (r"/json", Json),
            (r"/flush", Flush),
            (r"/redirect", Redirect),
            (r"/senderror", SendError),
            (r"/raise", Raise),
            (r"/customerror", CustomError),
            (r"/cookie/(\w+)", Cookies),
            (r"/xsrf", Xsrf),
            (r"/xsrf/form", XsrfForm),
            (r"/etag", Etag),
            (r"/noetag", NoEtag),
            (r"/setetag", SetEtag),
            (r"/static_url", StaticUrl),
            (r"/r/(\d+)/(.*)", RedirectHandler, {"url": "/target/{1}/{0}"}),
            (r"/rt/(.*)", RedirectHandler, {"url": "/t?x={0}", "permanent": False}),
            (r"/gone", ErrorHandler, {"status_code": 410}),
            (r"/as/?", AddSlash),
            (r"/rs/*", RemoveSlash),
            (r"/private", Private),
            (r"/login", Login),
            (r"/reverse", Reverse),
            url(r"/item/(\d+)/([^/]+)", Item, name="item"),
            url(r"/plain", Item, name="plain"),
            (r"/host", HostB),
            (r"/gz", Gz),
            (r"/gzflush", GzFlush),
            (r"/fb/.*", FallbackHandler, {"fallback": inner}),
            (r"/order", Order),
            (r"/status_only", StatusOnly),
            (r"/senderror_write", SendErrorWrite),
            (r"/hval", HeaderValue),
            (r"/httperror", RaiseHTTPError),
            (r"/rf/(.*)", RedirectHandler, {"url": "/t?x={0}&y=#frag", "permanent": False}),
            (r"/ra/(.*)", RedirectHandler, {"url": "http://other.test/t/{0}", "permanent": False}),
            (r"/ws", WsEcho),
            (r"/ws_plain", WsPlain),
            (r"/ws_badproto", WsBadProto),
            (r"/ws_headers", WsHeaders),
        ] + REQUEST_API_ROUTES,
        cookie_secret=COOKIE_SECRET,
        xsrf_cookies=True,
        login_url="/login",
        compress_response=True,
        default_handler_class=Default,
        static_path=static_dir,
    )
    app.add_handlers(r"example\.com", [(r"/host", HostA)])
    return app


def main():
    where = sys.argv[1]
    static_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "static")
    app = make_app(static_dir)
    # Tornado's log format on stderr, as the C app's (run.py compares LOG_CASES)
    import tornado.log
    tornado.log.enable_pretty_logging()
    if where.startswith("--port-file="):
        sys.path.insert(0, os.path.join(HERE, "..", "lib"))
        import portfile
        portfile.listen_tornado(app, where.split("=", 1)[1])
    else:
        app.listen(int(where), address="127.0.0.1")
    tornado.ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
