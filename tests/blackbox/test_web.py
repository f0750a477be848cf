"""The web layer's Application and RequestHandler features (tests/apps/testapp.c): arguments
(decode, strip, lists, multipart files), XSRF, gzip, @authenticated, add/removeslash, the
built-in Redirect/Error/Fallback handlers, host routing, reverse_url, default_handler_class.
The /x/ routes live in a second route table (FallbackHandler) with xsrf_cookies,
compress_response, login_url and a 410 default handler."""
import gzip
import re

from harness import shared
from http_client import Conn, expect_ok


def _req(method, path, headers=(), body=None, host="localhost"):
    with Conn(shared()) as c:
        c.request(method, path, headers=list(headers), body=body, host=host)
        return c.read_response(method)


def _get(path, headers=(), host="localhost"):
    return _req("GET", path, headers, host=host)


def _post(path, body=b"", ctype="application/x-www-form-urlencoded", headers=()):
    return _req("POST", path, [("Content-Type", ctype), ("Content-Length", str(len(body)))] +
                list(headers), body)


# ---- arguments ----------------------------------------------------------------------------

def test_arguments_are_decoded_and_stripped():
    expect_ok(_get("/argv?a=+x+&a=%01y%C2%A0&a=&a=%e2%80%83z"), "[x|y||z]")
    expect_ok(_get("/args?a=%20%20spaced%09"), "a=spaced")


def test_arguments_query_then_body():
    expect_ok(_post("/argv?a=q1&a=q2", b"a=b1&a=b2"), "[q1|q2|b1|b2]")


def test_invalid_utf8_argument_is_400():
    assert _get("/argv?a=%ff").status == 400
    assert _get("/args?a=%c3%28").status == 400


def test_multipart_arguments_and_files():
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nfirst\r\n"
            b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"hi.txt\"\r\n"
            b"Content-Type: text/plain\r\n\r\nfile body\r\n"
            b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"b.bin\"\r\n\r\n\x00\x01\r\n"
            b"--XyZ--\r\n")
    r = _post("/argv?a=q", body, "multipart/form-data; boundary=XyZ")
    expect_ok(r, b"[q|first]f:hi.txt:text/plain:file body;f:b.bin:application/unknown:\x00\x01;")


def test_bad_multipart_is_400():
    body = b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--XyZ--\r\n"
    assert _post("/argv", body, "multipart/form-data; boundary=XyZ").status == 400
    assert _post("/argv", b"--XyZ\r\nno end", "multipart/form-data; boundary=XyZ").status == 400
    assert _post("/argv", b"a=1", "multipart/form-data").status == 400  # no boundary


def test_multipart_part_limit_is_400():
    part = b"--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n"
    assert _post("/argv", part * 101 + b"--B--\r\n", "multipart/form-data; boundary=B").status == 400
    r = _post("/argv", part * 100 + b"--B--\r\n", "multipart/form-data; boundary=B")
    assert r.status == 200 and r.body.startswith(b"[v|v|v|")


# ---- XSRF ---------------------------------------------------------------------------------

def _token_and_cookie():
    r = _get("/x/form")
    assert r.status == 200
    token, form = r.body.decode().split("\n")
    cookie = r.header("Set-Cookie")
    assert cookie and cookie.startswith("_xsrf="), r
    assert form == '<input type="hidden" name="_xsrf" value="%s"/>' % token.replace("|", "|")
    return token, cookie.split(";")[0]


def test_xsrf_v2_token_shape_and_fresh_mask():
    token, cookie = _token_and_cookie()
    assert re.fullmatch(r"2\|[0-9a-f]{8}\|[0-9a-f]{32}\|\d+", token), token
    r = _get("/x/form", [("Cookie", cookie)])
    again = r.body.decode().split("\n")[0]
    assert r.header("Set-Cookie") is None  # a valid cookie is not rewritten
    assert again != token and again.split("|")[3] == token.split("|")[3]


def test_xsrf_post_checks():
    token, cookie = _token_and_cookie()
    ok = _post("/x/form", ("_xsrf=%s&v=1" % token).encode(), headers=[("Cookie", cookie)])
    expect_ok(ok, "posted 1")
    # every masked form of the same token is accepted, from each source
    other = _get("/x/form", [("Cookie", cookie)]).body.decode().split("\n")[0]
    for h in ("X-Xsrftoken", "X-Csrftoken"):
        expect_ok(_post("/x/form", b"v=2", headers=[("Cookie", cookie), (h, other)]), "posted 2")
    assert _post("/x/form", b"v=3", headers=[("Cookie", cookie)]).status == 403  # missing
    assert _post("/x/form", b"_xsrf=2|zz|zz|1", headers=[("Cookie", cookie)]).status == 403
    assert _post("/x/form", b"_xsrf=3|ab|cd|1", headers=[("Cookie", cookie)]).status == 403
    other_token, _ = _token_and_cookie()
    r = _post("/x/form", ("_xsrf=" + other_token).encode(), headers=[("Cookie", cookie)])
    assert r.status == 403  # another browser's token
    assert _post("/x/form", ("_xsrf=" + token).encode()).status == 403  # no cookie


def test_xsrf_v1_and_plain_tokens():
    for raw in ("deadbeef", "xoxo", "00112233445566778899aabbccddeeff"):
        r = _post("/x/form", ("_xsrf=%s&v=ok" % raw).encode(), headers=[("Cookie", "_xsrf=" + raw)])
        expect_ok(r, "posted ok")


def test_xsrf_not_checked_for_get_and_unknown_routes():
    assert _get("/x/form").status == 200
    assert _post("/x/nowhere", b"").status == 410  # the default handler skips the check


# ---- gzip (compress_response) -------------------------------------------------------------

def _text(n):
    return bytes(b"abcdefghijklmnopqrstuvwxyz\n"[i % 27] for i in range(n))


def test_gzip_big_text():
    r = _get("/x/text?n=5000", [("Accept-Encoding", "gzip, deflate")])
    assert r.header("Content-Encoding") == "gzip" and r.header("Vary") == "Accept-Encoding"
    assert int(r.header("Content-Length")) == len(r.body) < 5000
    assert gzip.decompress(r.body) == _text(5000)


def test_gzip_needs_accept_encoding_type_and_size():
    r = _get("/x/text?n=5000")
    assert r.header("Content-Encoding") is None and r.body == _text(5000)
    assert r.header("Vary") == "Accept-Encoding"
    small = _get("/x/text?n=1000", [("Accept-Encoding", "gzip")])
    assert small.header("Content-Encoding") is None and small.body == _text(1000)
    binary = _get("/x/text?n=5000&ct=image/png", [("Accept-Encoding", "gzip")])
    assert binary.header("Content-Encoding") is None
    js = _get("/x/text?n=5000&ct=application/json", [("Accept-Encoding", "gzip")])
    assert js.header("Content-Encoding") == "gzip"


def test_gzip_streamed_and_vary_merged():
    r = _get("/x/text?n=5000&flush=1&vary=Cookie", [("Accept-Encoding", "gzip")])
    assert r.header("Transfer-Encoding") == "chunked" and r.header("Content-Length") is None
    assert r.header("Vary") == "Cookie, Accept-Encoding"
    assert gzip.decompress(r.body) == _text(5000)


def test_gzip_etag_is_of_the_uncompressed_body():
    import hashlib
    r = _get("/x/text?n=3000", [("Accept-Encoding", "gzip")])
    assert r.header("Etag") == '"%s"' % hashlib.sha1(_text(3000)).hexdigest()
    again = _get("/x/text?n=3000", [("Accept-Encoding", "gzip"), ("If-None-Match", r.header("Etag"))])
    assert again.status == 304 and again.body == b""


# ---- decorators ---------------------------------------------------------------------------

def test_authenticated():
    r = _get("/x/secret?a=1")
    assert r.status == 302 and r.header("Location") == "/x/login?next=%2Fx%2Fsecret%3Fa%3D1"
    assert _post("/x/secret", b"").status == 403
    expect_ok(_get("/x/secret", [("Cookie", "user=ann")]), "hello ann")


def test_addslash_removeslash():
    r = _get("/x/add?y=1")
    assert r.status == 301 and r.header("Location") == "/x/add/?y=1"
    expect_ok(_get("/x/add/"), "at /x/add/")
    r = _get("/x/remove///?k")
    assert r.status == 301 and r.header("Location") == "/x/remove?k"
    expect_ok(_get("/x/remove"), "at /x/remove")
    # other methods: 404, after the XSRF check (Tornado checks it before the decorators run)
    assert _post("/x/add", b"").status == 403
    token, cookie = _token_and_cookie()
    body = ("_xsrf=" + token).encode()
    assert _post("/x/add", body, headers=[("Cookie", cookie)]).status == 404
    assert _post("/x/remove/", body, headers=[("Cookie", cookie)]).status == 404


# ---- routing and built-in handlers --------------------------------------------------------

def test_redirect_handler():
    r = _get("/redir/abc?q=1&z=%20&q=2")
    assert r.status == 301 and r.header("Location") == "/target/abc?x=1&q=1&q=2&z=+"
    r = _get("/tmp/a/b")
    assert r.status == 302 and r.header("Location") == "/to/b/a"


def test_error_handler_and_default_handler():
    r = _get("/gone")
    assert r.status == 410 and r.body == b"<html><title>410: Gone</title><body>410: Gone</body></html>"
    assert _get("/x/nothing/here").status == 410
    assert _get("/no/such/route").status == 404


def test_host_routing():
    expect_ok(_get("/host", host="example.com"), "example host")
    expect_ok(_get("/host", host="WWW.Example.com:8080"), "example host")
    expect_ok(_get("/host", host="other.com"), "any host")
    expect_ok(_get("/host", host="example.com.evil"), "any host")


def test_reverse_url():
    expect_ok(_get("/reverse"), "/user/42/x")
    expect_ok(_get("/reverse?a=7&b=a%20b"), "/user/7/a%20b")
    expect_ok(_get("/reverse?name=files&n=1&a=a/b%20c"), "/files/a/b%20c")
    expect_ok(_get("/reverse?name=regex&n=0"), "(none)")  # \d outside a group
    expect_ok(_get("/reverse?n=1"), "(none)")  # wrong argument count
    expect_ok(_get("/reverse?name=nope&n=0"), "(none)")


# ---- detach -------------------------------------------------------------------------------

def test_detach_hands_over_the_stream_with_buffered_bytes():
    with Conn(shared()) as c:  # the next line arrives in the same packet as the request
        c.send(b"GET /detach HTTP/1.1\r\nHost: x\r\n\r\nhello\n")
        assert c.read_until_close() == b"detached\nHELLO\n"
    with Conn(shared()) as c:  # and later, read by the app's own read_until
        c.send(b"GET /detach HTTP/1.1\r\nHost: x\r\n\r\n")
        assert c.read_exact(9) == b"detached\n"  # the app has the stream: send the line now
        c.send(b"later\n")
        assert c.read_until_close() == b"LATER\n"
    expect_ok(_get("/"), "Hello, world")  # the server is fine


# ---- debug mode: serve_traceback ----------------------------------------------------------

def test_debug_mode_serves_a_c_traceback():
    from harness import server
    with server("--debug") as port:
        with Conn(port) as c:
            c.request("GET", "/error")
            r = c.read_response()
    assert r.status == 500 and r.header("Content-Type") == "text/plain"
    text = r.body.decode()
    assert text.startswith("Traceback (C stack, innermost first):\n  #0 "), text
    assert "Error: the method of Error returned -1 for GET /error\n" in text, text
    plain = _get("/error")  # without --debug: Tornado's page, no stack
    assert plain.status == 500 and b"Traceback" not in plain.body


# ---- write(dict) and header case ----------------------------------------------------------

def test_write_json_object_and_header_case():
    r = expect_ok(_get("/json"), b'{"html": "<\\/script>", "n": 1}')
    assert r.header("Content-Type") == "application/json; charset=UTF-8"
    names = [k for k, _ in r.headers]
    assert "X-Custom-Thing" in names and names.count("X-Multi") == 2, names
    refused = expect_ok(_get("/json?list=1"), "refused -22")
    assert refused.header("Content-Type") == "text/html; charset=UTF-8"


# ---- XSRF and login settings (the /y/, /z/ route tables) ----------------------------------

def test_xsrf_version_1_cookie_name_and_attributes():
    r = expect_ok(_get("/y/form"))
    token = r.body.decode().split("\n")[0]
    assert re.fullmatch(r"[0-9a-f]{32}", token), token  # version 1: the raw token in hex
    cookie = r.header("Set-Cookie")
    assert cookie.startswith("csrf=%s;" % token) and "; HttpOnly" in cookie, cookie
    assert "; Path=/y" in cookie and "expires=" not in cookie, cookie  # a session cookie
    again = _get("/y/form", [("Cookie", "csrf=" + token)])
    assert again.body.decode().split("\n")[0] == token and again.header("Set-Cookie") is None
    ok = _post("/y/form", ("_xsrf=%s&v=1" % token).encode(), headers=[("Cookie", "csrf=" + token)])
    expect_ok(ok, "posted 1")
    # the cookie named _xsrf is not the one this app reads
    bad = _post("/y/form", ("_xsrf=" + token).encode(), headers=[("Cookie", "_xsrf=" + token)])
    assert bad.status == 403


def test_xsrf_cookie_lasts_30_days_for_a_logged_in_user():
    import email.utils
    import time
    r = _get("/x/form", [("Cookie", "user=ann")])
    cookie = r.header("Set-Cookie")
    m = re.search(r"expires=([^;]+)", cookie)
    assert m, cookie
    left = email.utils.parsedate_to_datetime(m.group(1)).timestamp() - time.time()
    assert 29.9 * 86400 < left <= 30 * 86400 + 5, (cookie, left)
    assert "expires=" not in _get("/x/form").header("Set-Cookie")  # no user: session cookie


def test_login_url_variants():
    r = _get("/y/secret?q=1", host="site.example:8080")
    assert r.status == 302  # an absolute login_url gets the full URL as next
    assert r.header("Location") == ("https://login.example/auth?next=" +
                                    "http%3A%2F%2Fsite.example%3A8080%2Fy%2Fsecret%3Fq%3D1")
    r = _get("/z/secret")
    assert r.status == 302 and r.header("Location") == "/in?from=z"  # has a query: no next
    assert _get("/needlogin").status == 500  # no login_url setting


def test_redirect_handler_keeps_target_query_and_fragment():
    r = _get("/fredir/abc?b=2")
    assert r.status == 301 and r.header("Location") == "/frag/abc?a=1&b=2#top", r


def test_redirect_handler_bad_format_is_500():
    # str.format raises for a missing index and for a single '}': Tornado answers 500
    assert _get("/badredir1/abc").status == 500
    assert _get("/badredir2/abc").status == 500
