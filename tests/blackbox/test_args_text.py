"""Argument names as text, where tornado-prefork differs from Tornado on purpose
(docs/differences-from-tornado.md, "argument names"): a query or urlencoded name is
percent-decoded and read as UTF-8, like a value, so `%C3%A9` in the query, in a urlencoded
body and `é` as a multipart name are one argument; a name that is not UTF-8 answers 400 once
the handler reads arguments. Tornado keeps such names as latin-1 text (checked below with
Debian's Tornado, so this test notices if Tornado changes). Runs tests/apps/diffapp.c's
/argnames, the handler the differential suite compares with Tornado for ASCII names."""
import os
import subprocess

from harness import server
import http_client as hc
from http_client import Conn, expect_ok

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TP_DIFF_STATIC", os.path.join(ROOT, "tests", "diff", "static"))
FORM = ("Content-Type", "application/x-www-form-urlencoded")
BOUNDARY = "ArgsTextBoundary"
MP = ("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)


def _diffapp():
    return server(binary="tests/diffapp")


def _post(port, path, headers, body):
    with Conn(port) as c:
        c.request("POST", path, headers=headers, body=body)
        return c.read_response()


def _multipart(*fields):
    out = b""
    for name, value in fields:
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                % (BOUNDARY, name, value)).encode("utf-8")
    return out + ("--%s--\r\n" % BOUNDARY).encode()


def _line(resp, label):
    for line in resp.body.decode("utf-8").split("\n"):
        if line.startswith(label + ":"):
            return line
    raise AssertionError("no %s line in %r" % (label, resp.body))


def test_tornado_keeps_query_names_latin1():
    """The premise of the difference: Tornado's parse_qs_bytes gives 'Ã©' for %C3%A9."""
    out = subprocess.run(["/usr/bin/python3", "-c",
                          "from tornado.escape import parse_qs_bytes as p\n"
                          "print(ascii(list(p('%C3%A9=1&%FF=2'))))"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['\\xc3\\xa9', '\\xff']", out.stdout


def test_utf8_name_query_and_urlencoded_body_are_one_argument():
    with _diffapp() as port:
        r = expect_ok(_post(port, "/argnames?%C3%A9=q&x=1", [FORM], b"%C3%A9=f1&y=2&%C3%A9=f2"))
        assert _line(r, "arguments") == "arguments: \u00e9=[q]|[f1]|[f2] x=[1] y=[2]", r.body
        assert _line(r, "query") == "query: \u00e9=[q] x=[1]", r.body
        assert _line(r, "body") == "body: \u00e9=[f1]|[f2] y=[2]", r.body


def test_utf8_name_query_and_multipart_are_one_argument():
    with _diffapp() as port:
        r = expect_ok(_post(port, "/argnames?%C3%A9=q", [MP],
                            _multipart(("\u00e9", "m1"), ("z", "1"), ("\u00e9", "m2"))))
        assert _line(r, "arguments") == "arguments: \u00e9=[q]|[m1]|[m2] z=[1]", r.body


def test_name_plus_is_space_and_raw_bytes_are_utf8():
    with _diffapp() as port:
        r = expect_ok(hc.get(port, "/argnames?caf%C3%A9+x=1&caf\xc3\xa9%20x=2"))
        assert _line(r, "arguments") == "arguments: caf\u00e9 x=[1]|[2]", r.body


def test_invalid_utf8_name_is_400_when_arguments_are_read():
    with _diffapp() as port:
        r = hc.get(port, "/argnames?%FF=1&a=2")
        assert r.status == 400, r
        assert b"400: Bad Request" in r.body, r.body
        r = _post(port, "/argnames", [FORM], b"a=1&b%C3=2")
        assert r.status == 400, r
        # /fullurl reads no argument: the name is never decoded, as a value never read
        expect_ok(hc.get(port, "/fullurl?%FF=1"), "http://localhost/fullurl?%FF=1")
