#!/usr/bin/env python3
"""Differential suite: tests/apps/diffapp.c (tornado-prefork) against its twin
tests/diff/twin.py on Debian's python3-tornado.

    python3 tests/diff/run.py [--build=build/diff] [-v] [-k SUBSTRING] [--tornado=DIR]

Both apps get the same raw HTTP/1.1 requests (one fresh connection each) and must answer
the same status, reason, headers (an ordered list compared line by line: names
case-insensitive, Date and Server left out, order kept) and body. Values that are random by nature are normalised after their
shape and meaning are checked: XSRF tokens (unmasked and compared with the cookie they
belong to), signed cookies (signature verified with the shared secret, value decoded), dates
near "now" (cookie expiry of clear_cookie, static Expires) and the gzip header's mtime (the
rest of the gzip stream is compared byte for byte). Requests built from an earlier answer
(a signed cookie or XSRF token made by one side) are sent to both sides too, so a value made
by Tornado is checked by the C app and the other way round.

--tornado=DIR runs the twin on the Tornado package found in DIR (a source tree's parent of
tornado/, e.g. `git archive v6.5.7 tornado | tar -x -C DIR`) instead of Debian's, and skips the
TORNADO_65 rewrites: a check that those rewrites say what Tornado 6.5 answers.

Exit status 1 on any mismatch that is not in ALLOWED below (each entry must also be listed,
with its reason, in docs/differences-from-tornado.md).
"""
import base64
import binascii
import calendar
import difflib
import email.utils
import hashlib
import hmac
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "tests", "diff")
STATIC = os.path.join(HERE, "static")
DOC = os.path.join(ROOT, "docs", "differences-from-tornado.md")
SECRET = b"diff-secret-shared-by-both"
HOST = "diff.test"

# Known, documented differences: case name -> reason. Every name must appear in DOC (the
# suite checks). Keep this short: a mismatch is a bug until it is listed here with a reason.
ALLOWED = {
    # Tornado reads Cookie header bytes as latin-1 and writes them back as UTF-8; we keep
    # the bytes (docs: "Cookie header bytes >= 0x80").
    "cookie-get-utf8-bytes": "Cookie header bytes >= 0x80 kept as bytes",
    # A status line's code has three digits (RFC 9110 §15); tp_set_status refuses 99.
    "status-99": "status codes outside 100..999 refused",
    # Tornado's finish() asserts on a 204 with a body: write_error's page makes it a 500.
    # A 204 drops the page instead.
    "send-error-204": "send_error(204) answers 204 without the page",
    # Tornado 6.5.5 refuses ';' and control characters in cookie attributes (ValueError,
    # 500 here too); Debian's 6.2 writes Path=/a;b, which injects an attribute.
    "cookie-set-path-semicolon": "';' in a cookie path refused (6.5.5)",
    # RFC 9112 §3.2: a request with no Host or several Host fields gets a 400.
    "host-duplicate": "two Host headers: 400 (RFC 9112)",
    "host-none": "HTTP/1.1 without Host: 400 (RFC 9112)",
    # A method in SUPPORTED_METHODS that the class does not implement: Tornado's getattr
    # fails (500); a listed extra method with a NULL function answers 405.
    "extra-listed-no-function-405": "a listed method without a function: 405",
    # HEAD on a class without head runs get (RFC 9110 §9.3.2); diffapp's
    # main app sets head_requires_head_method (Tornado's 405), its /fb/ inner app does not.
    "fallback-head-runs-get": "HEAD without a head method runs get (Tornado: 405)",
    # an absolute-form target is routed by its path (RFC 9112 §3.2.2);
    # Tornado routes the whole URL as a path: 404.
    "absolute-form-target": "absolute-form target routed by its path (Tornado: 404)",
    # Tornado's _parse_header drops valueless parameters, so its permessage-deflate never
    # sees server_/client_no_context_takeover (answered without them, context kept) nor a
    # valueless unknown parameter (accepted); we read them as RFC 7692 says.
    "ws-deflate-snct": "valueless permessage-deflate parameters honoured (RFC 7692)",
    "ws-deflate-cnct": "valueless permessage-deflate parameters honoured (RFC 7692)",
    "ws-deflate-all": "valueless permessage-deflate parameters honoured (RFC 7692)",
    "ws-deflate-bad-param": "valueless permessage-deflate parameters honoured (RFC 7692)",
}

# Tornado's 500 page as normalise() writes it.
PAGE_500 = ("500 Internal Server Error\ncontent-type: text/html; charset=UTF-8\n"
            "content-length: 93\nvary: Accept-Encoding\n\n<html><title>500: Internal Server "
            "Error</title><body>500: Internal Server Error</body></html>")

# Where Debian's Tornado 6.2 and Tornado 6.5 differ, the suite follows 6.5: these
# replacements turn 6.2's answer into 6.5's before the comparison (case name -> list of
# (6.2 text, 6.5 text)). Each is listed in DOC too.
TORNADO_65 = {
    # 6.4 made xhtml_escape use html.escape: ' is &#x27; (6.2: &#39;).
    "send-error-418": [("&#39;", "&#x27;"), ("content-length: 83", "content-length: 85")],
    # 6.3's set_cookie skips a falsy max_age (6.2 wrote Max-Age=0).
    "cookie-set-max-age-0": [("; Max-Age=0", "")],
    # 6.5's _VALID_HEADER_CHARS ([\x09\x20-\x7e\x80-\xff]) accepts a tab in a header
    # value (6.2 refused [\x00-\x1f]: ValueError, 500) and refuses DEL (6.2 let it through).
    "hval-tab": [(PAGE_500, "200 OK\ncontent-type: text/html; charset=UTF-8\nx-v: a\tb\n"
                            "etag: \"%s\"\n" % hashlib.sha1(b"value ok").hexdigest() +
                            "content-length: 8\nvary: Accept-Encoding\n\nvalue ok")],
    "hval-del": [("200 OK\ncontent-type: text/html; charset=UTF-8\nx-v: a\x7fb\n"
                  "etag: \"%s\"\n" % hashlib.sha1(b"value ok").hexdigest() +
                  "content-length: 8\nvary: Accept-Encoding\n\nvalue ok", PAGE_500)],
    "redirect-status-308-tab": [(PAGE_500, "308 Permanent Redirect\ncontent-type: text/html; "
                                           "charset=UTF-8\nlocation: /a\tb\ncontent-length: 0\n"
                                           "vary: Accept-Encoding\n\n")],
}

# The gzip header's MTIME (Tornado: time.time()) is compared in these cases only; elsewhere
# it is ignored, so that one difference does not hide the others.
GZIP_MTIME_CASES = {"gzip-ae-gzip"}

sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import portfile  # noqa: E402  (port 0 and a port file)

# ---- HTTP plumbing -------------------------------------------------------------------------


def start(args, what, tmp, env=None):
    """Starts a server that binds port 0 and writes its port to a port file
    (tests/lib/portfile.py); returns (Popen, port file, stderr file): stderr goes to tmp, shown if
    the server does not start."""
    port_file = os.path.join(tmp, what + ".port")
    err_path = os.path.join(tmp, what + ".stderr")
    with open(err_path, "wb") as err:
        p = subprocess.Popen(args(port_file), cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                             stdout=err, stderr=err)
    return p, port_file, err_path


def wait_started(p, port_file, err_path, what):
    # Generous: a loaded machine (ASan build, other jobs) starts Python and Tornado slowly.
    port = portfile.wait(port_file, p, 60)
    if port is None:
        try:
            with open(err_path, "rb") as f:
                err = f.read().decode("utf-8", "replace")[-2000:]
        except OSError:
            err = ""
        sys.exit("%s did not start (exit %r, no port in %s):\n%s"
                 % (what, p.poll(), port_file, err))
    return port


class Response:
    def __init__(self, status, reason, headers, body, raw_body, chunked, when):
        self.status, self.reason, self.headers = status, reason, headers
        self.body, self.raw_body, self.chunked, self.when = body, raw_body, chunked, when

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def cookie(self, name):
        """The value (unquoted) of Set-Cookie name, or None."""
        for v in self.all("Set-Cookie"):
            k, _, rest = v.partition("=")
            if k == name:
                val = rest.split(";")[0]
                if len(val) >= 2 and val[0] == val[-1] == '"':
                    val = val[1:-1]
                return val
        return None


def read_exact(f, n):
    data = f.read(n)
    if len(data) != n:
        raise IOError("short body: %d of %d bytes" % (len(data), n))
    return data


def read_response(f, method, when):
    line = f.readline()
    if not line:
        return Response(0, "(connection closed)", [], b"", b"", False, when)
    m = re.match(rb"HTTP/1\.[01] (\d{3})(?: ([^\r\n]*))?\r?\n$", line)
    if not m:
        return Response(0, "(bad status line %r)" % line, [], b"", b"", False, when)
    status, reason = int(m.group(1)), (m.group(2) or b"").decode("latin-1")
    headers = []
    while True:
        line = f.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        k, _, v = line.decode("latin-1").partition(":")
        headers.append((k.strip(), v.strip()))
    r = Response(status, reason, headers, b"", b"", False, when)
    if method == b"HEAD" or status in (204, 304) or status < 200:
        return r
    if (r.header("Transfer-Encoding") or "").lower() == "chunked":
        r.chunked = True
        body = b""
        while True:
            size = int(f.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while f.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += read_exact(f, size)
            f.readline()
        r.raw_body = body
    elif r.header("Content-Length") is not None:
        r.raw_body = read_exact(f, int(r.header("Content-Length")))
    else:
        r.raw_body = f.read()
    r.body = r.raw_body
    return r


def send(port, raw, timeout=10):
    """The response to raw; for a list of requests (a keep-alive case), the list of their
    responses, each request sent on the same connection once the previous one is answered."""
    when = time.time()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = []
    try:
        f = s.makefile("rb")
        for one in (raw if isinstance(raw, list) else [raw]):
            s.sendall(one)
            out.append(read_response(f, one.split(b" ", 1)[0], when))
    except (OSError, ValueError) as e:
        out.append(Response(0, "(error: %s)" % e, [], b"", b"", False, when))
    finally:
        s.close()
    return out if isinstance(raw, list) else out[0]


def request(method, path, headers=(), body=None, host=HOST):
    lines = ["%s %s HTTP/1.1" % (method, path)]
    if host is not None:
        lines.append("Host: " + host)
    for h in headers:
        lines.append(h)
    raw = "\r\n".join(lines).encode("latin-1")  # a str target of chars < 256 gives its bytes
    if body is not None:
        if isinstance(body, str):
            body = body.encode("utf-8")
        raw += b"\r\nContent-Length: %d" % len(body)
    raw += b"\r\n\r\n"
    if body is not None:
        raw += body
    return raw


def multipart(parts, boundary="DiffBoundary1234"):
    out = b""
    for disposition, ctype, data in parts:
        out += b"--" + boundary.encode() + b"\r\n"
        out += b"Content-Disposition: " + disposition.encode("utf-8") + b"\r\n"
        if ctype:
            out += b"Content-Type: " + ctype.encode() + b"\r\n"
        out += b"\r\n" + (data if isinstance(data, bytes) else data.encode("utf-8")) + b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n"
    return out


MP = "Content-Type: multipart/form-data; boundary=DiffBoundary1234"
FORM = "Content-Type: application/x-www-form-urlencoded"

# ---- tokens and signed values (computed here, to send the same bytes to both) --------------


def xsrf_v2(raw, mask=b"\x01\x02\x03\x04", ts=None):
    ts = int(time.time()) if ts is None else ts
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(raw))
    return "2|%s|%s|%d" % (binascii.hexlify(mask).decode(), binascii.hexlify(masked).decode(), ts)


def xsrf_v1(raw):
    return binascii.hexlify(raw).decode()


def decode_xsrf(tok):
    """(version, raw, timestamp) as Tornado's _decode_xsrf_token, or None (which Tornado
    reports as a bad format). A version 1 token that is not hex is its own raw bytes."""
    if tok.startswith("2|"):
        try:
            _, mask, masked, ts = tok.split("|")
            mask, masked = binascii.unhexlify(mask), binascii.unhexlify(masked)
            raw = bytes(b ^ mask[i % 4] for i, b in enumerate(masked))
            return 2, raw, int(ts)
        except (binascii.Error, ValueError):
            return None
    try:
        return 1, binascii.unhexlify(tok), None
    except (binascii.Error, ValueError):
        return 1, tok.encode("latin-1"), None


RAW_A = bytes(range(16))
RAW_B = bytes(range(100, 116))


def signed_v2(name, value, ts=None):
    ts = int(time.time()) if ts is None else ts

    def field(s):
        return b"%d:%s" % (len(s), s)

    to_sign = b"|".join([b"2", field(b"0"), field(str(ts).encode()), field(name.encode()),
                         field(base64.b64encode(value.encode())), b""])
    return (to_sign + hmac.new(SECRET, to_sign, hashlib.sha256).hexdigest().encode()).decode()


def signed_v1(name, value, ts=None):
    ts = str(int(time.time()) if ts is None else ts).encode()
    v = base64.b64encode(value.encode())
    sig = hmac.new(SECRET, name.encode() + v + ts, hashlib.sha1).hexdigest().encode()
    return b"|".join([v, ts, sig]).decode()


def decode_signed_v2(s):
    """(name, value, ts) if s is a well-formed v2 value with a valid signature, else None."""
    m = re.fullmatch(r"2\|1:(\d)\|(\d+):(\d+)\|(\d+):([^|]*)\|(\d+):([A-Za-z0-9+/=]*)\|([0-9a-f]{64})",
                     s)
    if not m:
        return None
    to_sign = s[:-64].encode()
    if not hmac.compare_digest(hmac.new(SECRET, to_sign, hashlib.sha256).hexdigest(), m.group(8)):
        return None
    return m.group(5), base64.b64decode(m.group(7)).decode("utf-8", "replace"), int(m.group(3))


# ---- normalisation -------------------------------------------------------------------------

# A time in an answer is "now" when it is within this many seconds of the request's sending:
# generous, since a loaded machine may answer seconds later.
NOW_SLACK = 60

DATE_RE = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT")
XSRF2_RE = re.compile(r"2\|[0-9a-f]{8}\|(?:[0-9a-f]{2})+\|\d{1,12}")
SIGNED2_RE = re.compile(r"2\|1:\d\|\d+:\d+\|\d+:[^|]*\|\d+:[A-Za-z0-9+/=]*\|[0-9a-f]{64}")


def norm_date(m, when):
    """A date that is "now" plus a whole number of days (clear_cookie, static Expires) is
    written relative to when the request was sent; fixed dates stay as they are."""
    t = calendar.timegm(email.utils.parsedate(m.group(0)))
    delta = t - when
    days = round(delta / 86400)
    if abs(delta - days * 86400) <= NOW_SLACK and abs(days) < 20 * 366:
        return "<now%+dd>" % days
    return m.group(0)


class Ctx:
    """What a request sent: its xsrf cookie token (for the meaning of tokens in answers)."""

    def __init__(self, raw):
        m = re.search(rb"\r\nCookie:[^\r]*_xsrf=\"?([^;\"\r]*)", raw)
        self.req_xsrf = decode_xsrf(m.group(1).decode("latin-1")) if m else None


def norm_xsrf_token(tok, ctx, resp_raw, when, problems):
    d = decode_xsrf(tok)
    if d is None:
        problems.append("malformed xsrf token %r" % tok)
        return "<bad xsrf %s>" % tok
    version, raw, ts = d
    if ctx.req_xsrf and raw == ctx.req_xsrf[1]:
        who = "raw=request-cookie"
    elif resp_raw is not None and raw == resp_raw:
        who = "raw=response-cookie"
    else:
        who = "raw=fresh(%d bytes)" % len(raw)
    if ts is None:
        tss = ""
    elif ctx.req_xsrf and ctx.req_xsrf[2] is not None and ts == ctx.req_xsrf[2]:
        tss = " ts=request-cookie"
    elif abs(ts - when) <= NOW_SLACK:
        tss = " ts=now"
    else:
        tss = " ts=%d" % ts
    return "<xsrf v%d %s%s>" % (version, who, tss)


def normalise(resp, ctx, problems, check_mtime=False):
    """The text compared: status line, headers in the order sent, body, with random parts
    replaced."""
    when = resp.when
    resp_raw = None
    for v in resp.all("Set-Cookie"):
        if v.startswith("_xsrf="):
            d = decode_xsrf(v[6:].split(";")[0].strip('"'))
            if d:
                resp_raw = d[1]
    headers = []
    for k, v in resp.headers:
        lk = k.lower()
        if lk in ("date", "server"):
            continue
        if lk == "content-length" and resp.header("Content-Encoding") == "gzip":
            v = "<gzip length>"  # the mtime-free comparison below covers the bytes
        if lk == "set-cookie":
            v = XSRF2_RE.sub(lambda m: norm_xsrf_token(m.group(0), ctx, None, when, problems), v)
            if v.startswith("_xsrf=") and re.match(r"_xsrf=[0-9a-f]{32}", v):
                v = "_xsrf=" + norm_xsrf_token(v[6:38], ctx, None, when, problems) + v[38:]

            def signed(m):
                d = decode_signed_v2(m.group(0))
                if d is None:
                    problems.append("signed value with a bad signature: %s" % m.group(0))
                    return "<bad signed %s>" % m.group(0)
                ts = "now" if abs(d[2] - when) <= NOW_SLACK else str(d[2])
                return "<signed v2 name=%s value=%r ts=%s>" % (d[0], d[1], ts)

            v = SIGNED2_RE.sub(signed, v)
        v = DATE_RE.sub(lambda m: norm_date(m, when), v) if lk in ("set-cookie", "expires") else v
        headers.append("%s: %s" % (lk, v))
    body = resp.body
    if resp.header("Content-Encoding") == "gzip" and body:
        if len(body) < 10 or body[:2] != b"\x1f\x8b":
            problems.append("gzip body without gzip magic")
        else:
            mtime = int.from_bytes(body[4:8], "little")
            if check_mtime and abs(mtime - when) > NOW_SLACK:
                problems.append("gzip header MTIME %d is not the time of the request" % mtime)
            try:
                plain = zlib.decompress(body, 16 + zlib.MAX_WBITS)
            except zlib.error as e:
                plain = b"(gzip error %s)" % str(e).encode()
            body = (b"<gzip header " + binascii.hexlify(body[:4] + body[8:10]) + b">\n"
                    + b"<gzip stream " + hashlib.sha1(body[10:]).hexdigest().encode() + b">\n"
                    + plain)
    text = body.decode("utf-8", "backslashreplace")
    # long lines (gzip tests) are cut into 100-character pieces so that diffs stay readable
    text = "\n".join(line[i:i + 100] or "" for line in text.split("\n")
                     for i in range(0, max(len(line), 1), 100))
    text2 = XSRF2_RE.sub(lambda m: norm_xsrf_token(m.group(0), ctx, resp_raw, when, problems), text)
    if text2 != text:
        # the body held a random token: its Etag must be the SHA-1 of the bytes sent
        etag = '"%s"' % hashlib.sha1(resp.body).hexdigest()
        headers = [h if h != "etag: " + etag else "etag: <sha1 of the body>" for h in headers]
        text = text2
    lines = ["%d %s" % (resp.status, resp.reason)] + headers + [""]
    if resp.chunked:
        lines.insert(1, "(chunked)")
    return "\n".join(lines) + "\n" + text


# ---- log lines -----------------------------------------------------------------------------

# Cases whose log lines (those naming the request's target) are compared too: both sides log
# in Tornado's format ("[W 261204 21:57:48 web:2255] message"); the time, the source line and
# the request time of the access log line are left out. A case's target must be its own (no
# other case sends it): a late line of another request would be taken for one of its own.
LOG_CASES = {"httperror-code_404_msg_1_a_x_b_7", "httperror-code_404_msg_1_a_x_b_7_reason_Custom_Thing",
             "httperror-code_418_msg_2_reason_Short_and_Stout", "httperror-code_503",
             "httperror-code_400_send_1_reason_Bad_Thing", "httperror-code_299_msg_1_a_25s_b_25d",
             "static-dir-403", "static-traversal-403", "static-absolute-403",
             "args-invalid-utf8-400", "required-src-query-missing-400", "pathcap-invalid-400",
             "xsrf-post-nothing-403", "xsrf-post-mismatch-403", "xsrf-post-bad-format-403",
             "method-unknown-405", "method-unknown-bad-body-405", "raise-500", "headers-inject-500",
             "errorhandler-410", "args-post-multipart-no-boundary-log", "method-get-log"}
LOG_LINE_RE = re.compile(r"^\[([A-Z]) \d{6} \d\d:\d\d:\d\d (\w+):\d+\] (.*)$")


def log_size(path):
    return os.path.getsize(path)


def target_of(raw):
    first = raw[0] if isinstance(raw, list) else raw
    return first.split(b" ", 2)[1] if isinstance(first, bytes) else None


def log_cases_sharing_target(all_cases):
    """LOG_CASES whose request target another case uses too."""
    seen = {}
    for name, raw in all_cases:
        t = target_of(raw)
        if t is not None:
            seen.setdefault(t, []).append(name)
    return sorted(n for names in seen.values() if len(names) > 1 for n in names if n in LOG_CASES)


def log_lines(path, offset, raw, timeout=30):
    """The log lines after offset that name raw's target, normalised, once the access log
    line (which ends a request's lines) is there; "(no access log line)" after timeout."""
    target = raw.split(b" ", 2)[1].decode("latin-1")
    deadline = time.time() + timeout
    while True:
        with open(path, "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", "replace")
        lines = []
        for line in text.splitlines():
            m = LOG_LINE_RE.match(line)
            if m and (" %s " % target) in m.group(3):
                lines.append("%s %s: %s" % (m.group(1), m.group(2),
                                            re.sub(r" \d+\.\d+ms$", " <time>ms", m.group(3))))
        if any(line.endswith("<time>ms") for line in lines):
            return "\n".join(lines)
        if time.time() > deadline:
            return "\n".join(lines + ["(no access log line)"])
        time.sleep(0.02)


# ---- the cases -----------------------------------------------------------------------------


def cases():
    """(name, raw request or function(answers) -> raw request). answers[name] is
    {"py": Response, "c": Response} of an earlier case."""
    C = []

    def add(name, raw):
        C.append((name, raw))

    def get(name, path, *headers):
        add(name, request("GET", path, headers))

    # methods
    for m in ("GET", "POST", "PUT", "DELETE", "PATCH"):
        add("method-%s" % m.lower(), request(m, "/methods", body="" if m != "GET" else None))
    add("method-head-missing-405", request("HEAD", "/methods"))
    add("method-options-missing-405", request("OPTIONS", "/methods"))
    add("method-unknown-405", request("FOO", "/methods?log=1"))
    get("method-get-log", "/methods?log=2")
    # 405 comes before the body is parsed (6.5's _execute): a bad body does not make it a 400
    add("method-unknown-bad-body-405", request("FOO", "/methods?log=3", [MP], "not multipart"))
    add("method-unknown-bad-form-405", request("FOO", "/methods", [FORM], "a=%FF"))
    add("method-lowercase-405", request("get", "/methods"))
    add("xsrf-options-405", request("OPTIONS", "/xsrf"))
    get("method2-get", "/methods2")
    add("method2-head", request("HEAD", "/methods2"))
    add("method2-options-204", request("OPTIONS", "/methods2"))
    add("method2-post-405", request("POST", "/methods2", body=""))
    add("method2-delete-405", request("DELETE", "/methods2"))

    # arguments
    get("args-none", "/args")
    get("args-lists", "/args?a=1&a=2&b=x&a=3")
    get("args-strip", "/args?a=%20%20spaced%20%20&b=%09tab%0A")
    get("args-control", "/args?a=ctl%01%02x%7F%1F&b=%00nul%08")
    get("args-control-keep-crlf", "/args?a=x%0D%0Ay%0Bz%0C")
    get("args-utf8", "/args?u=%C3%A9%E4%B8%AD&u=%F0%9F%98%80")
    get("args-invalid-utf8-400", "/args?u=%FF")
    get("args-truncated-utf8-400", "/args?u=%C3")
    get("args-overlong-utf8-400", "/args?u=%C0%AF")
    get("args-surrogate-utf8-400", "/args?u=%ED%A0%80")
    get("args-plus", "/args?a=+plus+sign+&b=a%2Bb")
    get("args-blank", "/args?a=&b=&c")
    get("args-semicolon", "/args?a=1;b=2")
    get("args-bad-escape", "/args?a=%zz%4&b=100%")
    get("args-unicode-space-strip", "/args?s=%C2%A0nbsp%C2%A0&u=%E3%80%80ideo%E3%80%80")
    get("args-line-sep", "/args?s=%E2%80%A8x%E2%80%A9&u=%C2%85nel%C2%85")
    get("args-last-invalid-400", "/args?a=%C3%A9&a=%FF")
    get("args-invalid-other-name", "/args?zz=%FF&a=ok")
    get("args-raw-utf8-target", "/args?a=caf\u00c3\u00a9")  # raw bytes C3 A9 in the target
    add("args-post-form", request("POST", "/args?a=q1", [FORM], "a=body1&a=body2&b=%C3%A9&c=+x+"))
    add("args-post-form-charset", request("POST", "/args", [FORM + "; charset=utf-8"], "a=1&b=2"))
    add("args-post-form-upper-ctype", request("POST", "/args",
                                              ["Content-Type: APPLICATION/X-WWW-FORM-URLENCODED"],
                                              "a=1"))
    add("args-post-text-plain", request("POST", "/args", ["Content-Type: text/plain"], "a=1"))
    add("args-post-no-ctype", request("POST", "/args", [], "a=1"))
    add("args-post-invalid-utf8-400", request("POST", "/args", [FORM], b"a=%FF"))
    add("args-put-form", request("PUT", "/args?b=q", [FORM], "a=put&b=body"))
    add("args-post-multipart", request("POST", "/args?a=q", [MP], multipart([
        ('form-data; name="a"', None, "mp1"), ('form-data; name="a"', None, "mp2"),
        ('form-data; name="b"', None, "  \u00e9  ")])))
    add("args-post-multipart-quoted-boundary", request(
        "POST", "/args", ['Content-Type: multipart/form-data; boundary="DiffBoundary1234"'],
        multipart([('form-data; name="a"', None, "quoted")])))
    add("args-post-multipart-no-end", request("POST", "/args", [MP],
                                              b"--DiffBoundary1234\r\nContent-Disposition: "
                                              b"form-data; name=\"a\"\r\n\r\nx\r\n"))
    add("args-post-multipart-no-boundary", request("POST", "/args",
                                                   ["Content-Type: multipart/form-data"], "a=1"))
    add("args-post-multipart-no-boundary-log", request(
        "POST", "/args?log=1", ["Content-Type: multipart/form-data"], "a=1"))
    add("args-post-multipart-no-disposition", request("POST", "/args", [MP], multipart([
        ("", None, "x")]).replace(b"Content-Disposition: \r\n", b"")))
    add("args-post-multipart-no-name", request("POST", "/args", [MP], multipart([
        ('form-data; filename="x"', None, "x"), ('form-data; name="b"', None, "ok")])))
    add("args-post-multipart-invalid-utf8-400", request("POST", "/args", [MP], multipart([
        ('form-data; name="a"', None, b"\xff\xfe")])))
    get("required-missing-400", "/required")
    get("required-present", "/required?name=x")
    get("required-empty", "/required?name=")
    get("required-spaces", "/required?name=%20%20")
    add("required-post-body", request("POST", "/required", [FORM], "name=body"))

    # files
    add("files-one", request("POST", "/files", [MP], multipart([
        ('form-data; name="f"; filename="a.txt"', "text/plain", "file body\r\nline 2"),
        ('form-data; name="t"', None, "text field")])))
    add("files-several", request("POST", "/files", [MP], multipart([
        ('form-data; name="f"; filename="1.bin"', "application/octet-stream", bytes(range(256))),
        ('form-data; name="f"; filename="2.txt"', "text/plain", ""),
        ('form-data; name="g"; filename="g.csv"', "text/csv", "a,b\r\n1,2\r\n")])))
    add("files-no-ctype", request("POST", "/files", [MP], multipart([
        ('form-data; name="f"; filename="none"', None, "no type")])))
    add("files-rfc2231-name", request("POST", "/files", [MP], multipart([
        ("form-data; name=\"f\"; filename*=UTF-8''%C3%A9t%C3%A9.txt", "text/plain", "x")])))
    add("files-quoted-name", request("POST", "/files", [MP], multipart([
        ('form-data; name="f"; filename="a \\"q\\".txt"', "text/plain", "q")])))
    add("files-path-name", request("POST", "/files", [MP], multipart([
        ('form-data; name="f"; filename="C:\\dir\\x.txt"', "text/plain", "w")])))
    add("files-boundary-in-body", request("POST", "/files", [MP], multipart([
        ('form-data; name="f"; filename="b"', "text/plain", "--DiffBoundary123 almost")])))

    # status
    for code, reason in ((200, None), (201, None), (299, None), (418, None), (299, "Custom Thing"),
                         (404, "Nope"), (451, None), (600, None), (99, None), (425, None),
                         (200, "Bad%0Dreason"), (200, "%C3%A9t%C3%A9")):
        q = "/status?code=%d" % code + ("&reason=" + reason.replace(" ", "+") if reason else "")
        get("status-%d%s" % (code, "-" + reason.split("%")[0].replace(" ", "-") if reason else ""), q)

    # headers and bodies
    get("headers-set-add-clear", "/headers")
    get("headers-inject-500", "/headers?op=inject")
    get("headers-clear", "/headers?op=clear")
    get("json", "/json")
    get("flush-chunked", "/flush")
    add("flush-http10", b"GET /flush HTTP/1.0\r\nHost: diff.test\r\n\r\n")
    get("redirect-302", "/redirect?to=/x")
    get("redirect-301", "/redirect?to=/x&perm=1")
    get("redirect-absolute", "/redirect?to=http://other.test/a%3Fb")
    get("redirect-utf8", "/redirect?to=/caf%C3%A9")
    get("redirect-cr-500", "/redirect?to=/a%0Db")
    get("redirect-relative", "/redirect?to=rel/path")
    get("redirect-double-slash", "/redirect?to=//evil.test/x")
    for code in (400, 403, 404, 405, 500, 410, 418, 599, 302, 204, 429):
        get("send-error-%d" % code, "/senderror?code=%d" % code)
    get("raise-500", "/raise")
    for code in (404, 500, 418, 503):
        get("custom-error-%d" % code, "/customerror?code=%d" % code)

    # cookies
    get("cookie-set-plain", "/cookie/set?name=a&value=1")
    get("cookie-set-all-attrs", "/cookie/set?name=a&value=1&domain=example.com&path=/p"
        "&expires=1700000000&max_age=3600&secure=1&httponly=1&samesite=Lax")
    get("cookie-set-samesite-none", "/cookie/set?name=a&value=v&samesite=None&secure=1")
    get("cookie-set-samesite-strict", "/cookie/set?name=a&value=v&samesite=Strict")
    get("cookie-set-max-age-0", "/cookie/set?name=a&value=v&max_age=0")
    get("cookie-set-path-empty", "/cookie/set?name=a&value=v&path=")
    get("cookie-set-quote", "/cookie/set?name=a&value=a%22b")
    get("cookie-set-comma", "/cookie/set?name=a&value=a,b")
    get("cookie-set-backslash", "/cookie/set?name=a&value=a%5Cb")
    get("cookie-set-equals", "/cookie/set?name=a&value=a%3Db%3D")
    get("cookie-set-utf8", "/cookie/set?name=a&value=%C3%A9")
    get("cookie-set-space-500", "/cookie/set?name=a&value=a%20b")
    get("cookie-set-semicolon-500", "/cookie/set?name=a&value=a;b")
    get("cookie-set-bad-name-500", "/cookie/set?name=a%3Db&value=1")
    get("cookie-set-path-semicolon", "/cookie/set?name=a&value=1&path=/a;b")
    get("cookie-set-reserved-name", "/cookie/set?name=expires&value=1")
    get("cookie-clear", "/cookie/clear?name=a")
    get("cookie-clear-path-domain", "/cookie/clear?name=a&path=/p&domain=example.com")
    names = "/cookie/get?name=a&name=b&name=c&name="
    get("cookie-get-simple", names, "Cookie: a=1; b=2")
    get("cookie-get-none", names)
    get("cookie-get-no-equals", names, "Cookie: a=1;b=2;;c")
    get("cookie-get-quoted", names, 'Cookie: a="quoted"; b="x\\"y"')
    get("cookie-get-octal", names, 'Cookie: a="\\303\\251"; b="\\101"')
    get("cookie-get-repeat", names, "Cookie: a=1; a=2; b=3")
    get("cookie-get-spaces", names, "Cookie:   a  =  1  ;  b=2  ")
    get("cookie-get-equals-in-value", names, "Cookie: a=x=y; b==")
    get("cookie-get-percent", names, "Cookie: a=%20x")
    get("cookie-get-two-headers", names, "Cookie: a=1", "Cookie: b=2")
    get("cookie-get-dollar", names + "&name=$Version", "Cookie: $Version=1; a=1; $Path=/")
    get("cookie-get-reserved", names + "&name=path", "Cookie: path=/; a=1; b=2")
    get("cookie-get-illegal-name", names + "&name=a+b", "Cookie: a b=1; b=2")
    get("cookie-get-utf8-bytes", names, "Cookie: a=\u00c3\u00a9")  # raw C3 A9
    get("cookie-get-comma", names, "Cookie: a=1, b=2")

    # signed cookies
    get("signed-set", "/cookie/signed_set?name=s&value=secret%20value")
    get("signed-set-utf8", "/cookie/signed_set?name=s&value=%C3%A9t%C3%A9")
    for side in ("py", "c"):
        def from_side(ans, side=side):
            return request("GET", "/cookie/signed_get?name=s",
                           ['Cookie: s="%s"' % ans["signed-set"][side].cookie("s")])
        add("signed-get-made-by-%s" % side, from_side)

        def from_side_utf8(ans, side=side):
            return request("GET", "/cookie/signed_get?name=s",
                           ['Cookie: s="%s"' % ans["signed-set-utf8"][side].cookie("s")])
        add("signed-get-utf8-made-by-%s" % side, from_side_utf8)
    good = signed_v2("s", "made here")
    get("signed-get-v2", "/cookie/signed_get?name=s", 'Cookie: s="%s"' % good)
    get("signed-get-v2-unquoted", "/cookie/signed_get?name=s", "Cookie: s=%s" % good)
    get("signed-get-tampered", "/cookie/signed_get?name=s",
        'Cookie: s="%s"' % (good[:-1] + ("0" if good[-1] != "0" else "1")))
    get("signed-get-other-name", "/cookie/signed_get?name=t", 'Cookie: t="%s"' % good)
    get("signed-get-v1", "/cookie/signed_get?name=s", "Cookie: s=%s" % signed_v1("s", "v1 value"))
    get("signed-get-v1-expired", "/cookie/signed_get?name=s",
        "Cookie: s=%s" % signed_v1("s", "old", int(time.time()) - 40 * 86400))
    get("signed-get-v2-expired", "/cookie/signed_get?name=s",
        'Cookie: s="%s"' % signed_v2("s", "old", int(time.time()) - 40 * 86400))
    get("signed-get-missing", "/cookie/signed_get?name=s")
    get("signed-get-garbage", "/cookie/signed_get?name=s", "Cookie: s=2|garbage")

    # XSRF
    v2a, v1a, v2b = xsrf_v2(RAW_A), xsrf_v1(RAW_A), xsrf_v2(RAW_B, b"\x09\x08\x07\x06")
    get("xsrf-get-new", "/xsrf")
    get("xsrf-get-cookie-v2", "/xsrf", "Cookie: _xsrf=%s" % v2a)
    get("xsrf-get-cookie-v1", "/xsrf", "Cookie: _xsrf=%s" % v1a)
    get("xsrf-get-cookie-garbage", "/xsrf", "Cookie: _xsrf=garbage")
    get("xsrf-form", "/xsrf/form", "Cookie: _xsrf=%s" % v2a)
    add("xsrf-post-form-no-method-403", request("POST", "/xsrf/form", [], ""))
    add("xsrf-post-nothing-403", request("POST", "/xsrf?log=nothing", [], ""))
    add("xsrf-post-cookie-only-403", request("POST", "/xsrf", ["Cookie: _xsrf=%s" % v2a], ""))
    add("xsrf-post-arg-only-403", request("POST", "/xsrf", [FORM], "_xsrf=" + v2a))
    add("xsrf-post-v2-ok", request("POST", "/xsrf", ["Cookie: _xsrf=%s" % v2a, FORM],
                                   "_xsrf=" + xsrf_v2(RAW_A, b"\xaa\xbb\xcc\xdd")))
    add("xsrf-post-v1-cookie-v2-arg", request("POST", "/xsrf", ["Cookie: _xsrf=%s" % v1a, FORM],
                                              "_xsrf=" + v2a))
    add("xsrf-post-v1-both", request("POST", "/xsrf", ["Cookie: _xsrf=%s" % v1a, FORM],
                                     "_xsrf=" + v1a))
    add("xsrf-post-mismatch-403", request("POST", "/xsrf?log=mismatch", ["Cookie: _xsrf=%s" % v2a, FORM],
                                          "_xsrf=" + v2b))
    add("xsrf-post-bad-format-403", request("POST", "/xsrf?log=format", ["Cookie: _xsrf=%s" % v2a, FORM],
                                            "_xsrf=2|zz|yy|1"))
    add("xsrf-post-bad-cookie-403", request("POST", "/xsrf", ["Cookie: _xsrf=junk", FORM],
                                            "_xsrf=" + v2a))
    add("xsrf-post-header-xsrftoken", request("POST", "/xsrf", ["Cookie: _xsrf=%s" % v2a,
                                                                "X-Xsrftoken: " + v1a], ""))
    add("xsrf-post-header-csrftoken", request("POST", "/xsrf", ["Cookie: _xsrf=%s" % v2a,
                                                                "X-Csrftoken: " + v2a], ""))
    add("xsrf-post-query-arg", request("POST", "/xsrf?_xsrf=" + v2a.replace("|", "%7C"),
                                       ["Cookie: _xsrf=%s" % v1a], ""))
    add("xsrf-post-multipart-arg", request("POST", "/xsrf", ["Cookie: _xsrf=%s" % v1a, MP],
                                           multipart([('form-data; name="_xsrf"', None, v2a)])))
    add("xsrf-put-header", request("PUT", "/xsrf", ["Cookie: _xsrf=%s" % v1a,
                                                    "X-Xsrftoken: " + v1a], ""))
    add("xsrf-delete-403", request("DELETE", "/xsrf", ["Cookie: _xsrf=%s" % v1a]))
    add("xsrf-patch-header", request("PATCH", "/xsrf", ["Cookie: _xsrf=%s" % v2a,
                                                        "X-Csrftoken: " + v1a], ""))
    add("xsrf-post-unknown-route-403", request("POST", "/nowhere", [], ""))
    for side in ("py", "c"):
        def cross(ans, side=side):
            r = ans["xsrf-get-new"][side]
            return request("POST", "/xsrf", ["Cookie: _xsrf=%s" % r.cookie("_xsrf"), FORM],
                           "_xsrf=" + r.body.decode())
        add("xsrf-token-made-by-%s" % side, cross)

        def cross_hdr(ans, side=side):
            r = ans["xsrf-get-cookie-v2"][side]
            return request("POST", "/xsrf", ["Cookie: _xsrf=%s" % v2a, "X-Xsrftoken: "
                                             + r.body.decode()], "")
        add("xsrf-header-token-made-by-%s" % side, cross_hdr)

    # etags
    body_tag = '"%s"' % hashlib.sha1(b"etag body").hexdigest()
    get("etag-plain", "/etag")
    get("etag-match-304", "/etag", "If-None-Match: " + body_tag)
    get("etag-weak-304", "/etag", "If-None-Match: W/" + body_tag)
    get("etag-list-304", "/etag", 'If-None-Match: "x", ' + body_tag)
    get("etag-list-nospace-304", "/etag", 'If-None-Match: W/"x",W/' + body_tag)
    get("etag-star-304", "/etag", "If-None-Match: *")
    get("etag-no-match", "/etag", 'If-None-Match: "nope"')
    get("etag-unquoted", "/etag", "If-None-Match: " + body_tag.strip('"'))
    get("etag-empty-body", "/etag?body=")
    get("etag-noetag", "/noetag", "If-None-Match: *")
    get("etag-custom-304", "/setetag", 'If-None-Match: "custom"')
    get("etag-custom-200", "/setetag")
    add("etag-head-405", request("HEAD", "/etag"))
    get("etag-gzip-304", "/etag", "If-None-Match: " + body_tag, "Accept-Encoding: gzip")
    # findall's first token decides "*": after junk or an unclosed quote it still counts
    get("etag-star-after-junk-304", "/etag", "If-None-Match: , *")
    get("etag-star-after-open-quote-304", "/etag", 'If-None-Match: "a*')
    get("etag-star-not-first", "/etag", 'If-None-Match: "x", *')

    # static files
    mtime = int(os.stat(os.path.join(STATIC, "big.txt")).st_mtime)
    lm = email.utils.formatdate(mtime, usegmt=True)
    get("static-hello", "/static/hello.txt")
    add("static-hello-head", request("HEAD", "/static/hello.txt"))
    for rng in ("bytes=0-9", "bytes=10-", "bytes=-10", "bytes=6590-7000", "bytes=7000-",
                "bytes=5-2", "bytes=0-0", "bytes=-0", "bytes=0-9,20-29", "items=0-9",
                "bytes=abc", "bytes=-7000", "bytes= 1-2", "bytes=6599-", "bytes=6600-6700"):
        get("static-range-%s" % rng.replace(" ", "_"), "/static/big.txt", "Range: " + rng)
    add("static-range-head", request("HEAD", "/static/big.txt", ["Range: bytes=0-9"]))
    get("static-ims-equal-304", "/static/big.txt", "If-Modified-Since: " + lm)
    get("static-ims-older", "/static/big.txt",
        "If-Modified-Since: " + email.utils.formatdate(mtime - 10, usegmt=True))
    get("static-ims-newer-304", "/static/big.txt",
        "If-Modified-Since: " + email.utils.formatdate(mtime + 10, usegmt=True))
    get("static-ims-garbage", "/static/big.txt", "If-Modified-Since: yesterday")
    stag = '"%s"' % hashlib.sha512(open(os.path.join(STATIC, "big.txt"), "rb").read()).hexdigest()
    get("static-inm-304", "/static/big.txt", "If-None-Match: " + stag)
    get("static-inm-and-ims", "/static/big.txt", 'If-None-Match: "other"',
        "If-Modified-Since: " + lm)
    get("static-inm-star-after-open-quote-304", "/static/big.txt", 'If-None-Match: "a*')
    get("static-inm-weak-list-304", "/static/big.txt", 'If-None-Match: "x",\tW/' + stag)
    get("static-dir-403", "/static/")
    get("static-subdir-403", "/static/sub")
    get("static-css", "/static/sub/style.css")
    get("static-js", "/static/app.js")
    get("static-json", "/static/data.json")
    get("static-bin", "/static/data.bin")
    get("static-html", "/static/index.html")
    get("static-traversal-403", "/static/../twin.py")
    get("static-traversal-encoded-403", "/static/%2e%2e/twin.py")
    get("static-absolute-403", "/static//etc/passwd")
    get("static-missing-404", "/static/missing.txt")
    get("static-versioned", "/static/hello.txt?v=abc")
    get("static-dotdot-inside", "/static/sub/../hello.txt")
    get("static-nul", "/static/hello.txt%00.png")
    add("static-head-inm-304", request("HEAD", "/static/big.txt", ["If-None-Match: " + stag]))
    get("static-inm-weak-304", "/static/big.txt", "If-None-Match: W/" + stag)
    get("static-robots", "/robots.txt")
    get("static-favicon-404", "/favicon.ico")
    add("static-post-403", request("POST", "/static/hello.txt", [], ""))
    get("static-gzip", "/static/big.txt", "Accept-Encoding: gzip")
    get("static-gzip-range", "/static/big.txt", "Accept-Encoding: gzip", "Range: bytes=0-1999")
    get("static-url", "/static_url?path=hello.txt")
    get("static-url-noversion", "/static_url?path=hello.txt&v=0")
    get("static-url-missing", "/static_url?path=missing.txt")
    get("static-url-sub", "/static_url?path=sub/style.css")

    # built-in handlers, decorators, routing
    get("redirecthandler", "/r/12/abc")
    get("redirecthandler-query", "/r/12/abc?x=1&y=2&x=3")
    get("redirecthandler-temp", "/rt/foo")
    get("redirecthandler-temp-query", "/rt/foo?y=1&x=2")
    get("redirecthandler-encoded", "/rt/a%20b")
    get("errorhandler-410", "/gone?log=1")
    add("errorhandler-post-410", request("POST", "/gone", [], ""))
    get("addslash-redirect", "/as")
    get("addslash-query", "/as?x=1")
    get("addslash-ok", "/as/")
    add("addslash-post-404", request("POST", "/as", [], ""))
    add("addslash-head-405", request("HEAD", "/as"))
    get("removeslash-redirect", "/rs/")
    get("removeslash-many", "/rs///?q=1")
    get("removeslash-ok", "/rs")
    add("removeslash-post-404", request("POST", "/rs/", [], ""))
    get("auth-redirect", "/private")
    get("auth-redirect-query", "/private?x=1&y=%C3%A9")
    get("auth-ok", "/private", "Cookie: user=bob")
    add("auth-post-403", request("POST", "/private", [], ""))
    add("auth-head-405", request("HEAD", "/private"))
    get("login", "/login?next=%2Fprivate")
    get("reverse-url", "/reverse")
    get("item", "/item/5/foo%20bar")
    add("host-match", request("GET", "/host", host="example.com"))
    add("host-duplicate", request("GET", "/host", ["Host: example.com"]))
    add("host-match-case-port", request("GET", "/host", host="EXAMPLE.com:8080"))
    add("host-other", request("GET", "/host", host="www.example.com"))
    add("host-none", request("GET", "/host", host=None))
    get("default-handler", "/nothing/here")
    add("default-handler-head", request("HEAD", "/nothing"))

    # gzip
    for ae in ("gzip", "gzip, deflate, br", "deflate", "GZIP", "gzip;q=0", "x-gzip", "*",
               "identity"):
        get("gzip-ae-%s" % re.sub(r"\W+", "_", ae), "/gz", "Accept-Encoding: " + ae)
    get("gzip-none", "/gz")
    for n in (100, 1023, 1024, 5):
        get("gzip-small-%d" % n, "/gz?n=%d" % n, "Accept-Encoding: gzip")
    for ct in ("image/png", "application/json", "text/html; charset=UTF-8",
               "application/javascript", "application/xml", "application/x-javascript",
               "TEXT/PLAIN", "text/csv", "image/svg+xml"):
        get("gzip-ctype-%s" % re.sub(r"\W+", "_", ct), "/gz?ctype=" + ct.replace(" ", "+"),
            "Accept-Encoding: gzip")
    get("gzip-vary-merge", "/gz?vary=Cookie", "Accept-Encoding: gzip")
    get("gzip-vary-merge-plain", "/gz?vary=Cookie")
    get("gzip-flush", "/gzflush", "Accept-Encoding: gzip")
    get("gzip-json-small", "/json", "Accept-Encoding: gzip")
    get("gzip-error-page", "/senderror?code=404", "Accept-Encoding: gzip")
    add("gzip-head", request("HEAD", "/methods2", ["Accept-Encoding: gzip"]))

    # fallback
    get("fallback-inner", "/fb/inner/x%20y")
    get("fallback-inner-404", "/fb/other")
    get("fallback-gzip", "/fb/inner/x?n=1", "Accept-Encoding: gzip")
    add("fallback-post-403", request("POST", "/fb/inner/x", [], ""))

    # ---- arguments as text, request extras, cookies, signed values, header values
    get("argnames-query-order", "/argnames?b=1&a=%20x%20&b=2&c=&a=+y+")
    add("argnames-query-body-order", request("POST", "/argnames?b=q1&a=q2", [FORM],
                                             "c=1&a=%20b1%20&d=&b=b2"))
    add("argnames-multipart-order", request("POST", "/argnames?z=1&a=q", [MP], multipart([
        ('form-data; name="m"', None, " mp1 "), ('form-data; name="f"; filename="f1"', None, "x"),
        ('form-data; name="a"', None, "\tmp\t"), ('form-data; name="g"; filename="g1"', None, "y"),
        ('form-data; name="f"; filename="f2"', None, "z"), ('form-data; name="m"', None, "mp2")])))
    add("argnames-multipart-utf8-name", request("POST", "/argnames", [MP], multipart([
        ('form-data; name="\u00e9"', None, "v1"), ('form-data; name="\u00e9"', None, "v2")])))
    get("argnames-plus-and-escapes", "/argnames?a+b=1&a%20b=2&%61=3")
    add("argnames-many-repeats", request("POST", "/argnames?ab=1&a=2&=e&aa=3&b=4&a=5&ab=6&ba=",
                                         [FORM], "c=1&a=7&=f&ab=8&cc=&c=9&a%20=x&b=0"))
    get("argnames-nostrip-control", "/argnames?a=%01x%09%0A&b=%C2%A0y%C2%A0")
    get("argnames-nostrip-invalid-400", "/argnames?a=%FF")
    get("argnames-none", "/argnames")
    get("required-src-query", "/required_src?src=query&name=%20q%20")
    get("required-src-query-missing-400", "/required_src?src=query&log=1")
    add("required-src-query-in-body-400", request("POST", "/required_src?src=query", [FORM],
                                                  "name=b"))
    add("required-src-body", request("POST", "/required_src?src=body", [FORM], "name=b"))
    get("required-src-body-in-query-400", "/required_src?src=body&name=q")
    get("fullurl", "/fullurl")
    for op in ("none", "override", "clear", "error", "raise", "clear_all"):
        get("default-headers-" + op, "/default_headers?op=" + op)
    get("default-headers-gzip", "/default_headers", "Accept-Encoding: gzip")
    get("custom-etag", "/custom_etag?v=7")
    get("custom-etag-match-304", "/custom_etag?v=7", 'If-None-Match: "custom-7"')
    get("custom-etag-weak-match-304", "/custom_etag?v=7", 'If-None-Match: W/"x", W/"custom-7"')
    get("custom-etag-other", "/custom_etag?v=8", 'If-None-Match: "custom-7"')
    get("custom-etag-none", "/custom_etag?v=none", 'If-None-Match: "custom-none"')
    get("custom-etag-manual", "/custom_etag?v=3&manual=1")
    get("custom-etag-manual-304", "/custom_etag?v=3&manual=1", 'If-None-Match: "custom-3"')
    get("custom-etag-manual-none", "/custom_etag?v=none&manual=1", "If-None-Match: *")
    add("default-headers-head", request("HEAD", "/default_headers?op=override"))
    get("fullurl-query", "/fullurl?a=1&b=%20#frag")
    add("fullurl-host-port", request("GET", "/fullurl?x", host="diff.test:8080"))
    add("fullurl-http10-no-host", b"GET /fullurl HTTP/1.0\r\n\r\n")
    get("extra-get", "/extra")
    add("extra-purge", request("PURGE", "/extra?a=1"))
    add("extra-purge-body", request("PURGE", "/extra", [FORM], "a=body"))
    add("extra-propfind-207", request("PROPFIND", "/extra", body=""))
    add("extra-undeclared-405", request("MKCOL", "/extra"))
    add("extra-listed-no-function-405", request("LOCK", "/extra"))
    add("extra-lowercase-405", request("purge", "/extra"))
    add("extra-post-405", request("POST", "/extra", body=""))
    add("extra-elsewhere-405", request("PURGE", "/methods2"))
    add("extra-xsrf-403", request("PURGE", "/extra_xsrf"))
    get("cookie-list", "/cookie_list", 'Cookie: b=1; a="q\\"x"; b=2; /=bad; c=; path=p; d')
    get("cookie-list-none", "/cookie_list")
    get("cookie-list-spaces", "/cookie_list", "Cookie:  z = 1 ;y=2;;x=\"a b\"")
    get("signed-create", "/signed_create?name=sc&value=hello")
    get("signed-create-v2", "/signed_create?name=sc&value=v&version=2")
    get("signed-create-v3-500", "/signed_create?name=sc&value=v&version=3")
    get("signed-create-check-v1", "/signed_create?name=sc&value=hello&version=1&check=1")
    get("signed-create-check-v2", "/signed_create?name=sc&value=h%C3%A9&check=1")
    add("signed-create-roundtrip", lambda ans: request(
        "GET", "/signed_min?name=sc&min=2",
        ["Cookie: sc=" + ans["signed-create"]["c"].cookie("sc")]))
    add("signed-create-roundtrip-py", lambda ans: request(
        "GET", "/signed_min?name=sc&min=2",
        ["Cookie: sc=" + ans["signed-create"]["py"].cookie("sc")]))
    v1 = signed_v1("c", "one")
    v2bin = signed_v2("c", "a\x00b\u00e9")
    get("signed-min-v1-min1", "/signed_min?min=1", "Cookie: c=" + v1)
    get("signed-min-v1-min2", "/signed_min?min=2", "Cookie: c=" + v1)
    get("signed-min-v2-min2", "/signed_min?min=2", "Cookie: c=" + signed_v2("c", "two"))
    get("signed-min-binary", "/signed_min?min=2", "Cookie: c=" + v2bin)
    get("signed-min-wrong-name", "/signed_min?name=d&min=1", "Cookie: d=" + v2bin)
    get("header-values", "/header_values")
    get("pathcap-ascii", "/pathcap/abc")
    get("pathcap-escaped-utf8", "/pathcap/caf%C3%A9")
    get("pathcap-slash", "/pathcap/a%2Fb")
    get("pathcap-plus", "/pathcap/a+b%2B")
    get("pathcap-nul", "/pathcap/%00x")
    get("pathcap-empty", "/pathcap/")
    get("pathcap-invalid-400", "/pathcap/%FF")
    get("pathcap-truncated-400", "/pathcap/x%C3")
    get("pathcap-surrogate-400", "/pathcap/%ED%A0%80")
    get("pathcap-raw-utf8", "/pathcap/caf\u00c3\u00a9")  # raw bytes C3 A9: read as latin-1
    get("pathcap-raw-ff", "/pathcap/\u00ff")
    get("pathcap-raw-mixed", "/pathcap/\u00e9%C3%A9")

    # HEAD without head (the inner app has no head_requires_head_method)
    add("fallback-head-runs-get", request("HEAD", "/fb/inner/x"))
    add("absolute-form-target", request("GET", "http://%s/methods?a=1" % HOST))
    # ---- header order (dict semantics, Set-Cookie last, the
    # connection's Connection and Transfer-Encoding), HTTP/1.0 and keep-alive
    get("order-plain", "/order")
    get("order-flush", "/order?op=flush")
    get("order-close", "/order", "Connection: close")
    get("order-close-flush", "/order?op=flush", "Connection: close")
    get("order-gzip", "/order?n=300", "Accept-Encoding: gzip")
    get("order-gzip-flush-close", "/order?op=flush&n=300", "Accept-Encoding: gzip",
        "Connection: close")
    get("order-send-error-keeps-cookies", "/order?op=error")
    get("order-500-keeps-cookies", "/order?op=raise")
    get("order-manual-set-cookie", "/order?op=manual")
    get("order-httperror-keeps-cookies", "/order?op=httperror", "Accept-Encoding: gzip")
    get("order-app-connection-close", "/order?op=conn", "Connection: close")
    add("order-app-connection-http10-keep-alive",
        b"GET /order?op=conn HTTP/1.0\r\nHost: diff.test\r\nConnection: keep-alive\r\n\r\n")
    add("order-http10", b"GET /order HTTP/1.0\r\nHost: diff.test\r\n\r\n")
    add("order-http10-keep-alive", [
        b"GET /order HTTP/1.0\r\nHost: diff.test\r\nConnection: keep-alive\r\n\r\n",
        b"GET /order?n=2 HTTP/1.0\r\nHost: diff.test\r\nConnection: keep-alive\r\n\r\n"])
    add("order-keep-alive", [request("GET", "/order"), request("GET", "/order?op=flush"),
                             request("GET", "/cookie/set?name=a&value=1"),
                             request("GET", "/order?op=error"),
                             request("GET", "/headers", ["Connection: close"])])
    add("order-keep-alive-head", [request("HEAD", "/static/hello.txt"),
                                  request("GET", "/static/hello.txt")])
    # the automatic Etag (and its 304) for a 200 only
    for code in (200, 201, 202, 304, 404, 410):
        get("etag-status-%d" % code, "/status_only?code=%d&body=%s" % (
            code, "" if code == 304 else "b"), "If-None-Match: *")
        get("etag-status-%d-no-inm" % code, "/status_only?code=%d&body=%s" % (
            code, "" if code == 304 else "b"))
    add("etag-status-201-head", request("HEAD", "/status_only?code=201", ["If-None-Match: *"]))
    get("send-error-304-no-page", "/senderror_write?code=304")
    get("send-error-404-write-error", "/senderror_write?code=404")
    # send_error(reason=...) and HTTPError(status, log_message, *args, reason=...), read by
    # write_error (status, reason, log message) or shown on the default page
    for q in ("code=404&msg=1&a=x&b=7", "code=404&msg=1&a=x&b=7&reason=Custom+Thing",
              "code=418&msg=2&reason=Short+and+Stout", "code=503", "code=599",
              "code=404&reason=a%3Cb", "code=404&reason=%C3%A9t%C3%A9", "code=404&reason=",
              "code=400&send=1&reason=Bad+Thing", "code=500&send=1", "code=404&send=1&reason=%09x",
              "code=404&send=1&reason=",
              "code=299&msg=1&a=%25s&b=%25d"):
        for default in ("", "&default=1"):
            get("httperror-%s%s" % (re.sub(r"\W+", "_", q), default and "-default"),
                "/httperror?" + q + default)
    get("httperror-gzip", "/httperror?code=404&reason=Gz&default=1", "Accept-Encoding: gzip")

    # RedirectHandler: url_concat(url, qs_to_qsl(request.query_arguments)): the target's
    # query re-encoded (blanks kept), the request's arguments grouped by name, blank values
    # dropped, names as latin-1 text encoded to UTF-8, values as bytes
    for i, q in enumerate(("a=&b=1", "a", "a=&b=", "x=1&y=2&x=3&y=&z", "a=1;b=2", "a=%FF&b=%C3%A9",
                           "%C3%A9=1", "a+b=c+d", "a=x&a=&a=y&b=1&a=z", "=x&=y", "a=%2&b=%zz",
                           "&&a=1&&", "a=%26%3D%23&b=~._-*!'()", "q=1%2B1%3D2", "x=a#b")):
        for route in ("/r/12/abc", "/rt/foo", "/rf/foo", "/ra/foo"):
            get("redirecthandler-qs%d%s" % (i, route[:3].replace("/", "-")), route + "?" + q)
    for i, arg in enumerate(("a%26b", "a%2Bb", "a%25zz", "%C3%A9", "a%3Db", "a+b", "a%23b",
                             "a%3Fb")):
        get("redirecthandler-arg%d" % i, "/rt/%s?c=1" % arg)
        get("redirecthandler-arg%d-noquery" % i, "/rt/%s" % arg)
        get("redirecthandler-arg%d-fragment" % i, "/rf/%s?c=1" % arg)

    # redirect(url, status=...): any 3xx, else Tornado's assertion (500)
    for code in (300, 301, 302, 303, 304, 305, 307, 308, 399, 200, 299, 400, 500):
        get("redirect-status-%d" % code, "/redirect?to=/x&status=%d" % code)
    get("redirect-status-307-perm", "/redirect?to=/x&status=307&perm=1")
    get("redirect-status-303-cr-500", "/redirect?to=/a%0Db&status=303")
    get("redirect-status-308-tab", "/redirect?to=/a%09b&status=308")

    # reason phrases (Tornado 6.5's rule) and header values (_VALID_HEADER_CHARS), as bytes
    def hexa(t):
        return (t.encode("utf-8") if isinstance(t, str) else t).hex()

    for name, reason in (("tab", "a\tb"), ("space", "Not Here"), ("latin1", "\u00e9t\u00e9"),
                         ("nbsp", "\u00a0x"), ("y-umlaut", "\u00ff"), ("cjk", "\u4e2d"),
                         ("euro", "\u20ac"), ("lt", "a<b"), ("gt", "a>b"), ("amp", "a&b"),
                         ("del", "a\x7fb"), ("ctl-01", "a\x01b"), ("cr", "a\rb"),
                         ("lf", "a\nb"), ("empty", ""), ("c1", "\x85"),
                         ("bad-utf8", b"a\xffb"), ("quote", "it's \"q\"")):
        get("reason-%s" % name, "/hval?code=299&reason=" + hexa(reason))
    for name, value in (("tab", "a\tb"), ("del", "a\x7fb"), ("ctl-01", "a\x01b"),
                        ("ctl-1f", "a\x1fb"), ("cr", "a\rb"), ("lf", "a\nb"), ("latin1-byte", b"a\xe9b"), ("utf8", "\u00e9\u4e2d"),
                        ("empty", ""), ("inner-space", "a  b"), ("high-bytes", b"\x80\xff")):
        get("hval-%s" % name, "/hval?v=" + hexa(value))

    # WebSocket handshakes (tornado.websocket). A 101 is compared by its status line and
    # headers (read_response stops at a 1xx head), then the connection is closed. Frames are
    # not compared here: tests/blackbox/test_websocket*.py check them. On purpose we differ
    # from Tornado on unmasked client frames (RFC 6455 §5.1: we close with 1002, Tornado
    # accepts them): test_websocket_frames.test_unmasked_client_frame_1002.
    ws_ok = ["Upgrade: websocket", "Connection: Upgrade",
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]

    def ws(name, path="/ws", drop=(), extra=()):
        hs = [h for h in ws_ok if h.split(":")[0] not in drop] + list(extra)
        get("ws-" + name, path, *hs)

    ws("101")
    ws("101-plain", "/ws_plain")
    ws("101-headers", "/ws_headers", extra=["X-Test: 1"])
    for v in ("7", "8"):
        ws("101-version-" + v, drop=["Sec-WebSocket-Version"],
           extra=["Sec-WebSocket-Version: " + v])
    ws("101-upgrade-case", drop=["Upgrade"], extra=["Upgrade: WebSocket"])
    ws("101-connection-list", drop=["Connection"], extra=["Connection: keep-alive, Upgrade"])
    for name, up in (("missing", None), ("h2c", "h2c"), ("empty", "")):
        ws("upgrade-400-" + name, drop=["Upgrade"],
           extra=[] if up is None else ["Upgrade: " + up])
    for name, conn in (("missing", None), ("keep-alive", "keep-alive"), ("upgrades", "upgrades")):
        ws("connection-400-" + name, drop=["Connection"],
           extra=[] if conn is None else ["Connection: " + conn])
    for name, origin in (("same", "http://diff.test"), ("same-path", "http://diff.test/x?y"),
                         ("same-upper", "HTTP://DIFF.TEST"), ("other", "http://other.test"),
                         ("subdomain", "http://sub.diff.test"), ("port", "http://diff.test:81"),
                         ("no-scheme", "diff.test"), ("null", "null")):
        ws("origin-" + name, extra=["Origin: " + origin])
    ws("origin-legacy-header", extra=["Sec-WebSocket-Origin: http://other.test"])
    ws("origin-before-version", drop=["Sec-WebSocket-Version"],
       extra=["Origin: http://other.test", "Sec-WebSocket-Version: 99"])
    for v in ("12", "14", "0"):
        ws("version-426-" + v, drop=["Sec-WebSocket-Version"],
           extra=["Sec-WebSocket-Version: " + v])
    ws("version-426-missing", drop=["Sec-WebSocket-Version"])
    ws("version-before-key", drop=["Sec-WebSocket-Version", "Sec-WebSocket-Key"])
    ws("key-400-missing", drop=["Sec-WebSocket-Key"])
    ws("key-400-empty", drop=["Sec-WebSocket-Key"], extra=["Sec-WebSocket-Key: "])
    add("ws-post-405", request("POST", "/ws", ws_ok, body=""))
    add("ws-head-405", request("HEAD", "/ws", ws_ok))
    for name, protos in (("chat", "chat"), ("second", "x, superchat, chat"),
                         ("none", "x, y"), ("spaces", " superchat ,x")):
        ws("subprotocol-" + name, extra=["Sec-WebSocket-Protocol: " + protos])
    ws("subprotocol-plain", "/ws_plain", extra=["Sec-WebSocket-Protocol: chat"])
    ws("subprotocol-unoffered-500", "/ws_badproto", extra=["Sec-WebSocket-Protocol: a, b"])
    pmd = "permessage-deflate"
    for name, offer in (("plain", pmd), ("cmwb", pmd + "; client_max_window_bits"),
                        ("cmwb-10", pmd + "; client_max_window_bits=10"),
                        ("smwb-9", pmd + "; server_max_window_bits=9"),
                        ("both-bits", pmd + "; server_max_window_bits=12; client_max_window_bits=8"),
                        ("snct", pmd + "; server_no_context_takeover"),
                        ("cnct", pmd + "; client_no_context_takeover"),
                        ("all", pmd + "; client_no_context_takeover; server_no_context_takeover;"
                                      " server_max_window_bits=10; client_max_window_bits=11"),
                        ("second-offer", "x-webkit-deflate-frame, " + pmd + "; server_max_window_bits=12, " + pmd),
                        ("unknown-ext", "x-webkit-deflate-frame"),
                        ("bad-param", pmd + "; foo"), ("bad-param-value", pmd + "; foo=1"),
                        ("bad-bits-abc", pmd + "; server_max_window_bits=abc"),
                        ("bad-bits-16", pmd + "; server_max_window_bits=16"),
                        ("bad-bits-7", pmd + "; client_max_window_bits=7")):
        ws("deflate-" + name, extra=["Sec-WebSocket-Extensions: " + offer])
        ws("deflate-off-" + name, "/ws_plain", extra=["Sec-WebSocket-Extensions: " + offer])
    return C


# ---- running -------------------------------------------------------------------------------


def check_allowed_documented():
    text = open(DOC, encoding="utf-8").read()
    missing = [n for n in list(ALLOWED) + list(TORNADO_65) if "`%s`" % n not in text]
    if missing:
        sys.exit("allow-list entries not documented in %s: %s" % (DOC, ", ".join(missing)))


def main():
    build = "build/diff"
    verbose, only, tornado_dir = False, None, None
    args = sys.argv[1:]
    while args:
        a = args.pop(0)
        if a.startswith("--build="):
            build = a.split("=", 1)[1]
        elif a.startswith("--tornado="):
            tornado_dir = os.path.abspath(a.split("=", 1)[1])
        elif a == "-v":
            verbose = True
        elif a == "-k":
            only = args.pop(0)
        else:
            sys.exit(__doc__)
    check_allowed_documented()
    binary = os.path.join(ROOT, build, "tests", "diffapp")
    if not os.access(binary, os.X_OK):
        sys.exit("%s missing: make BUILD=%s %s" % (binary, build, os.path.join(build, "tests/diffapp")))
    started = time.time()
    env = dict(os.environ, TP_DIFF_STATIC=STATIC)
    tmp = tempfile.mkdtemp(prefix="tp-diff-")
    procs = []
    try:
        py_env = dict(os.environ, PYTHONPATH=tornado_dir) if tornado_dir else None
        py = start(lambda pf: ["/usr/bin/python3", os.path.join(HERE, "twin.py"),
                               "--port-file=" + pf, STATIC], "twin.py", tmp, py_env)
        procs.append(py[0])
        c = start(lambda pf: [binary, "--port=0", "--port-file=" + pf, "--address=127.0.0.1",
                              "--logging=info"], "diffapp", tmp, env)
        procs.append(c[0])
        py_port = wait_started(*py, "twin.py")
        c_port = wait_started(*c, "diffapp")
        answers, failed, allowed, total = {}, [], [], 0
        names = {n for n, _ in cases()}
        unknown = [n for n in list(LOG_CASES) + list(ALLOWED) + list(TORNADO_65) if n not in names]
        if unknown:
            sys.exit("LOG_CASES, ALLOWED or TORNADO_65 name no case: " + ", ".join(unknown))
        shared = log_cases_sharing_target(cases())
        if shared:
            sys.exit("LOG_CASES need a target no other case uses (a late log line of the "
                     "other would be taken for theirs): " + ", ".join(shared))
        for name, raw in cases():
            if only and only not in name:
                continue
            if callable(raw):
                try:
                    raw = raw(answers)
                except (KeyError, TypeError, AttributeError) as e:
                    if not only:  # with -k the case it is built from may not have run
                        failed.append((name, "cannot build the request: %r" % e))
                    continue
            total += 1
            logs_before = (log_size(py[2]), log_size(c[2]))
            rp, rc = send(py_port, raw), send(c_port, raw)
            answers[name] = {"py": rp, "c": rc}
            probs_p, probs_c = [], []
            mt = name in GZIP_MTIME_CASES
            if isinstance(raw, list):  # keep-alive: the answers one after the other
                np_ = "\n---- next response\n".join(
                    normalise(r, Ctx(q), probs_p, mt) for r, q in zip(rp, raw))
                nc = "\n---- next response\n".join(
                    normalise(r, Ctx(q), probs_c, mt) for r, q in zip(rc, raw))
                if len(rp) != len(rc):
                    probs_c.append("%d answers, Tornado gave %d" % (len(rc), len(rp)))
                raw = b"".join(raw)
            else:
                ctx = Ctx(raw)
                np_, nc = normalise(rp, ctx, probs_p, mt), normalise(rc, ctx, probs_c, mt)
            for old, new in TORNADO_65.get(name, []) if not tornado_dir else []:
                np_ = np_.replace(old, new)
            if name in LOG_CASES:
                np_ += "\n---- log\n" + log_lines(py[2], logs_before[0], raw)
                nc += "\n---- log\n" + log_lines(c[2], logs_before[1], raw)
            np_ += "".join("\n!! %s" % p for p in probs_p)
            nc += "".join("\n!! %s" % p for p in probs_c)
            if verbose:
                print("=== %s\n%s" % (name, raw.decode("latin-1")))
                print(np_)
            if np_ == nc:
                continue
            diff = "".join(difflib.unified_diff(np_.splitlines(True), nc.splitlines(True),
                                                "tornado", "tornado-prefork"))
            report = "request:\n  %s\n%s" % (
                raw.decode("latin-1").replace("\r\n", "\n  ").rstrip(), diff)
            (allowed if name in ALLOWED else failed).append((name, report))
        for name, report in allowed:
            print("ALLOWED %s (%s)" % (name, ALLOWED[name]))
        for name, report in failed:
            print("\nMISMATCH %s\n%s" % (name, report))
        print("\n%d requests, %d identical, %d allowed differences, %d mismatches (%.1f s)" % (
            total, total - len(allowed) - len(failed), len(allowed), len(failed),
            time.time() - started))
        if failed:
            print("mismatches: " + " ".join(n for n, _ in failed))
        return 1 if failed else 0
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
