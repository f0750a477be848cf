"""Handler-level create_signed_value and get_signed_cookie with min_version on an
app whose cookie_secret is a key table (tests/apps/testapp.c /kv/: keys 0 "kv-old" and 1
"kv-new", key_version 1), checked with Debian's Tornado in both directions. The same calls
on a single secret are compared with Tornado by tests/diff/run.py (signed-create-*,
signed-min-*)."""
import subprocess

from harness import shared
from http_client import Conn, expect_ok

KEYS = "{0: 'kv-old', 1: 'kv-new'}"


def _tornado(code):
    out = subprocess.run(["/usr/bin/python3", "-c", "import tornado.web as w\n" + code],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def _get(path, cookie=None):
    with Conn(shared()) as c:
        c.request("GET", path, headers=[("Cookie", cookie)] if cookie else [])
        return c.read_response()


def test_create_signed_value_signs_with_key_version():
    v = expect_ok(_get("/kv/create?value=h%C3%A9llo")).body.decode()
    assert v.startswith("2|1:1|"), v  # version 2 by default, key version 1
    back = _tornado("print(w.decode_signed_value(%s, 'kv', %r).decode('utf-8'))" % (KEYS, v))
    assert back == "h\u00e9llo", back
    assert _tornado("print(w.get_signature_key_version(%r))" % v) == "1"
    # and we verify it ourselves
    assert expect_ok(_get("/kv/get", "kv=" + v)).body == "h\u00e9llo".encode()


def test_create_signed_value_v1_refused_with_key_table():
    # Tornado: create_signed_value(dict, ..., version=1) asserts (key tables are v2 only)
    assert expect_ok(_get("/kv/create?value=x&version=1")).body == b"(none)"
    assert expect_ok(_get("/kv/create?value=x&version=3")).body == b"(none)"


def test_tornado_value_of_older_key_accepted():
    v = _tornado("print(w.create_signed_value(%s, 'kv', b'a\\x00b', key_version=0).decode())"
                 % KEYS)
    assert v.startswith("2|1:0|"), v
    assert expect_ok(_get("/kv/get", "kv=" + v)).body == b"a\x00b"

