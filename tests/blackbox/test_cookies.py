"""Cookies through the handler API (tests/apps/testapp.c /cookie/...): parsing, Set-Cookie
format, injection refused, signed cookies checked against Debian's Tornado in both directions."""
import subprocess

from harness import shared
import http_client as hc
from http_client import Conn, expect_ok

SECRET = "test-secret"
TORNADO = "/usr/bin/python3"


def _tornado(code):
    """Runs Python code with Debian's Tornado imported as w; returns its stdout line."""
    out = subprocess.run([TORNADO, "-c", "import tornado.web as w\n" + code],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def _get(path, cookie=None):
    with Conn(shared()) as c:
        headers = [("Cookie", cookie)] if cookie else []
        c.request("GET", path, headers=headers)
        return c.read_response()


def _set_cookie(r):
    return [v for k, v in r.headers if k.lower() == "set-cookie"]


def test_cookie_header_parsed():
    assert _get("/cookie/get?name=x", 'x="a b"; y=2').body == b"a b"
    assert _get("/cookie/get?name=y", 'x="a b"; y=2').body == b"2"
    assert _get("/cookie/get?name=z", "x=1").body == b"(none)"


def test_set_cookie_format_matches_tornado():
    r = expect_ok(_get("/cookie/set?name=a&value=b&httponly=1&secure=1&domain=example.com"), "0")
    ours = _set_cookie(r)
    theirs = _tornado(
        "import http.cookies\n"
        "m = http.cookies.SimpleCookie(); m['a'] = 'b'\n"
        "m['a']['domain'] = 'example.com'; m['a']['path'] = '/'\n"
        "m['a']['httponly'] = True; m['a']['secure'] = True\n"
        "print(m['a'].OutputString())")
    assert ours == [theirs], (ours, theirs)


def test_set_cookie_injection_refused():
    r = expect_ok(_get("/cookie/set?name=a&value=x%0d%0aSet-Cookie:%20evil=1"), "-22")
    assert _set_cookie(r) == []
    r = expect_ok(_get("/cookie/set?name=a&value=b&domain=x%3b%20evil"), "-22")
    assert _set_cookie(r) == []


def test_clear_cookie_expires_in_the_past():
    r = expect_ok(_get("/cookie/clear?name=a"), "0")
    (v,) = _set_cookie(r)
    assert v.startswith('a=""; expires=') and v.endswith("; Path=/"), v


def test_signed_cookie_round_trip_and_tornado_verifies_ours():
    r = expect_ok(_get("/cookie/signed_set?name=u&value=alice"), "0")
    (v,) = _set_cookie(r)
    cookie = v.split(";")[0]
    assert _get("/cookie/signed_get?name=u", cookie).body == b"alice"
    raw = cookie.split("=", 1)[1].strip('"')
    assert _tornado("print(w.decode_signed_value(%r, 'u', %r).decode())" % (SECRET, raw)) == "alice"


def test_tornado_signed_cookie_verifies_here():
    for version in (1, 2):
        value = _tornado("print(w.create_signed_value(%r, 'u', 'bob', version=%d).decode())"
                         % (SECRET, version))
        assert _get("/cookie/signed_get?name=u", 'u="%s"' % value).body == b"bob", version


def test_forged_and_misnamed_signed_cookies_refused():
    value = _tornado("print(w.create_signed_value(%r, 'u', 'bob').decode())" % SECRET)
    forged = value[:-1] + ("0" if value[-1] != "0" else "1")
    assert _get("/cookie/signed_get?name=u", 'u="%s"' % forged).body == b"(invalid)"
    other = _tornado("print(w.create_signed_value('other-secret', 'u', 'bob').decode())")
    assert _get("/cookie/signed_get?name=u", 'u="%s"' % other).body == b"(invalid)"
    renamed = _tornado("print(w.create_signed_value(%r, 'v', 'bob').decode())" % SECRET)
    assert _get("/cookie/signed_get?name=u", 'u="%s"' % renamed).body == b"(invalid)"
    expired = _tornado("import time\nprint(w.create_signed_value(%r, 'u', 'bob', "
                       "clock=lambda: time.time() - 40 * 86400).decode())" % SECRET)
    assert _get("/cookie/signed_get?name=u", 'u="%s"' % expired).body == b"(invalid)"


def test_clear_all_cookies_clears_each_request_cookie():
    r = expect_ok(_get("/cookie/clear_all?name=x", 'a=1; b="2 3"; c=4'), "0")
    got = sorted(v.split(";")[0] for v in _set_cookie(r))
    assert got == ['a=""', 'b=""', 'c=""'], got
    assert all("; Path=/p" in v and "expires=" in v for v in _set_cookie(r)), _set_cookie(r)
