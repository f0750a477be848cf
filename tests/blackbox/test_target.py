"""Absolute-form request targets (RFC 9112 §3.2.2, §7.2): `GET http://host:port/path?q` is
routed by its path and query, and its authority replaces Host: request.host is the authority,
request.uri the origin form "/path?q" ("/" when the target has no path). The scheme is http or
https in any case; another scheme or a bad authority gets 400. The Host header is still
required (HTTP/1.1) and checked. Tornado routes the whole URL as a path (404).

testapp's /target echoes uri, path, query, host, host_name and protocol."""
from harness import server, server_of, shared, wait_stderr
import http_client as hc
from http_client import expect_error, expect_ok


def _target(raw, port=None):
    r = expect_ok(hc.fetch(port or shared(), raw))
    return dict(line.split("=", 1) for line in r.body.decode().splitlines())


def test_absolute_form_routed_by_path_and_authority_is_host():
    seen = _target(b"GET http://Example.COM:8080/target?x=1&y=%20 HTTP/1.1\r\n"
                   b"Host: other.test\r\n\r\n")
    assert seen == {"uri": "/target?x=1&y=%20", "path": "/target", "query": "x=1&y=%20",
                    "host": "Example.COM:8080", "host_name": "example.com",
                    "protocol": "http"}, seen


def test_absolute_form_scheme_any_case_https():
    for scheme in (b"https", b"HTTP", b"hTTpS"):
        seen = _target(b"GET %s://a.test/target HTTP/1.1\r\nHost: a.test\r\n\r\n" % scheme)
        assert seen["host"] == "a.test" and seen["path"] == "/target", (scheme, seen)
        assert seen["protocol"] == "http", seen  # the connection's, not the target's


def test_absolute_form_without_path_is_root():
    with server("--logging=info") as port:
        for target in (b"http://a.test", b"http://a.test:81?q=1"):
            r = hc.fetch(port, b"GET %s HTTP/1.1\r\nHost: a.test\r\n\r\n" % target)
            expect_ok(r, "Hello, world")
        wait_stderr(port, "200 GET /?q=1 ")
        log = server_of(port).stderr()
        assert "200 GET / (" in log and "200 GET /?q=1 (" in log, log


def test_absolute_form_ipv6_authority():
    seen = _target(b"GET http://[::1]:8888/target HTTP/1.1\r\nHost: x\r\n\r\n")
    assert seen["host"] == "[::1]:8888" and seen["host_name"] == "[::1]", seen


def test_absolute_form_host_routing_uses_authority():
    # testapp's /host answers "example host" for (www.)example.com only
    r = hc.fetch(shared(), b"GET http://example.com/host HTTP/1.1\r\nHost: other.test\r\n\r\n")
    expect_ok(r, "example host")
    r = hc.fetch(shared(), b"GET http://other.test/host HTTP/1.1\r\nHost: example.com\r\n\r\n")
    expect_ok(r, "any host")


def test_absolute_form_http10_without_host():
    seen = _target(b"GET http://a.test:90/target?z HTTP/1.0\r\n\r\n")
    assert seen["host"] == "a.test:90" and seen["uri"] == "/target?z", seen


def test_absolute_form_still_needs_host_in_http11():
    expect_error(shared(), b"GET http://a.test/target HTTP/1.1\r\n\r\n", 400)
    expect_error(shared(), b"GET http://a.test/target HTTP/1.1\r\nHost: a b\r\n\r\n", 400)


def test_absolute_form_bad_scheme_or_authority_400():
    for target in (b"ftp://a.test/target", b"file:///etc/passwd", b"foo:bar", b"http:/a.test/x",
                   b"http:a.test", b"http:///target", b"http://user@a.test/target",
                   b"http://user:pw@a.test/", b"http://a.test:8o/target", b"http://:80/target",
                   b"http://a.test:80:81/", b"http://[::1/target", b"http://[]/target",
                   b"http://[::1]x/target", b"http://a<b/target", b"http://a.test#frag"):
        expect_error(shared(), b"GET %s HTTP/1.1\r\nHost: a.test\r\n\r\n" % target, 400)


def test_absolute_form_xheaders_as_before():
    with server("--xheaders") as port:
        seen = _target(b"GET http://a.test/target HTTP/1.1\r\nHost: b.test\r\n"
                       b"X-Scheme: https\r\nX-Real-Ip: 10.0.0.9\r\n\r\n", port)
        assert seen["protocol"] == "https" and seen["host"] == "a.test", seen


def test_other_targets_as_before():
    # asterisk-form, CONNECT's authority-form and a relative path are not absolute-form:
    # handled as before, never 400 (no route matches them; CONNECT is no handler method).
    for raw, status in ((b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 404),
                        (b"CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n", 405),
                        (b"GET target HTTP/1.1\r\nHost: x\r\n\r\n", 404)):
        r = hc.fetch(shared(), raw)
        assert r.status == status, (raw, r)
    expect_ok(hc.get(shared(), "/target?a=b"))
