"""The testapp routes and basic response framing."""
import re

from harness import shared, server
import http_client as hc
from http_client import Conn, expect_ok, DATE_RE

NOT_FOUND = b"<html><title>404: Not Found</title><body>404: Not Found</body></html>"


def test_hello_get():
    r = expect_ok(hc.get(shared(), "/"), "Hello, world")
    assert r.version == "HTTP/1.1" and r.reason == "OK", r
    assert r.header("Content-Length") == "12", r
    assert r.header("Transfer-Encoding") is None, r
    assert re.fullmatch(DATE_RE, r.header("Date", "")), r


def test_hello_example_binary():
    with server(binary="examples/hello") as port:
        expect_ok(hc.get(port, "/"), "Hello, world")
        assert hc.get(port, "/nope").status == 404


def test_post_root_echoes():
    with Conn(shared()) as c:
        c.request("POST", "/", body=b"posted body")
        expect_ok(c.read_response(), "posted body")


def test_echo_post_and_put():
    with Conn(shared()) as c:
        c.request("POST", "/echo", body=b"one")
        expect_ok(c.read_response(), "one")
        c.request("PUT", "/echo", body=b"two")
        expect_ok(c.read_response(), "two")
        c.request("POST", "/echo", body=b"")
        expect_ok(c.read_response(), "")


def test_echo_binary_body():
    body = bytes(range(256)) * 64
    with Conn(shared()) as c:
        c.request("POST", "/echo", body=body)
        expect_ok(c.read_response(), body)


def test_args_query_and_form():
    expect_ok(hc.get(shared(), "/args?a=1&b=2"), "a=1")
    expect_ok(hc.get(shared(), "/args"), "a=(none)")
    expect_ok(hc.get(shared(), "/args?a=x+y%21"), "a=x y!")
    with Conn(shared()) as c:
        c.request("POST", "/args", [("Content-Type", "application/x-www-form-urlencoded")],
                  body=b"a=form%20value&z=1")
        expect_ok(c.read_response(), "a=form value")


def test_query_utf8_decoded():
    expect_ok(hc.get(shared(), "/args?a=%C3%A9"), "a=\u00e9".encode("utf-8"))


def test_required_argument():
    r = hc.get(shared(), "/required")
    assert r.status == 400, r
    expect_ok(hc.get(shared(), "/required?name=bob"), "name=bob")


def test_not_found_page():
    r = hc.get(shared(), "/no/such/route")
    assert r.status == 404 and r.reason == "Not Found", r
    assert r.body == NOT_FOUND, r.body
    assert r.header("Content-Length") == str(len(NOT_FOUND)), r


def test_method_not_allowed():
    with Conn(shared()) as c:
        c.request("DELETE", "/echo")
        r = c.read_response()
        assert r.status == 405, r
        # the connection survives an application-level error
        c.request("GET", "/")
        expect_ok(c.read_response(), "Hello, world")


def test_handler_error_500():
    with Conn(shared()) as c:
        c.request("GET", "/error")
        r = c.read_response()
        assert r.status == 500, r
        c.request("GET", "/")
        expect_ok(c.read_response(), "Hello, world")


def test_path_argument_decoded():
    expect_ok(hc.get(shared(), "/path/a%2Fb"), "a/b")
    expect_ok(hc.get(shared(), "/path/hello%20world"), "hello world")


def test_double_slash_is_a_path():
    r = hc.get(shared(), "//x")
    assert r.status == 404, r
    expect_ok(hc.get(shared(), "/"), "Hello, world")


def test_header_injection_refused():
    r = expect_ok(hc.get(shared(), "/inject"), "-22 -22 0")
    assert r.header("X-Good") == "fine", r
    assert r.header("Set-Cookie") is None, r
    assert r.header("X-Test") is None, r
    assert b"evil" not in r.raw_head and b"X-Bad" not in r.raw_head, r.raw_head


def test_status_204_framing():
    with Conn(shared()) as c:
        c.send(b"GET /status/204 HTTP/1.1\r\nHost: x\r\n\r\nGET /path/after HTTP/1.1\r\nHost: x\r\n\r\n")
        r = c.read_response()
        assert r.status == 204, r
        assert r.header("Content-Length") is None, r
        assert r.header("Transfer-Encoding") is None, r
        assert r.has("Date"), r
        # nothing between the 204 head and the next response
        expect_ok(c.read_response(), "after")


def test_status_304_no_body():
    with Conn(shared()) as c:
        c.send(b"GET /status/304 HTTP/1.1\r\nHost: x\r\n\r\nGET /path/after HTTP/1.1\r\nHost: x\r\n\r\n")
        r = c.read_response()
        assert r.status == 304, r
        assert r.header("Transfer-Encoding") is None, r
        assert r.header("Content-Length") in (None, "0"), r
        expect_ok(c.read_response(), "after")


def test_status_custom_reason():
    r = hc.get(shared(), "/status/201?reason=Made%20It")
    assert r.status == 201 and r.reason == "Made It", r
    assert r.body == b"body", r
    r = hc.get(shared(), "/status/418")
    assert r.status == 418 and r.body == b"body", r


def test_every_response_has_date():
    with Conn(shared()) as c:
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /status/204 HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /status/304 HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /flush HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /error HTTP/1.1\r\nHost: x\r\n\r\n"
               b"HEAD /head HTTP/1.1\r\nHost: x\r\n\r\n"
               b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx")
        for method in ["GET"] * 6 + ["HEAD", "POST"]:
            r = c.read_response(method)
            dates = r.header_all("Date")
            assert len(dates) == 1 and re.fullmatch(DATE_RE, dates[0]), r


def test_headers_route_reflects_request():
    r = expect_ok(hc.fetch(shared(), b"GET /headers?q=1&r=2 HTTP/1.1\r\nHost: example.com:8080\r\n"
                                     b"X-Custom: yes\r\n\r\n"))
    body = r.body.decode()
    for line in ("remote_ip=127.0.0.1", "protocol=http", "host=example.com:8080",
                 "host_name=example.com", "path=/headers", "query=q=1&r=2", "X-Custom: yes"):
        assert line + "\n" in body, "missing %r in %r" % (line, body)


def test_protocol_option_https():
    with server("--protocol=https") as port:
        r = expect_ok(hc.get(port, "/headers"))
        assert b"protocol=https\n" in r.body, r.body


def test_async_response():
    with Conn(shared()) as c:
        c.request("GET", "/async?ms=50")
        expect_ok(c.read_response(), "async done")
        c.request("GET", "/async?ms=1")
        expect_ok(c.read_response(), "async done")


def test_async_pipelined_order():
    # A slow async response first: the pipelined fast one must wait for it.
    with Conn(shared()) as c:
        c.send(b"GET /async?ms=150 HTTP/1.1\r\nHost: x\r\n\r\nGET /path/fast HTTP/1.1\r\nHost: x\r\n\r\n")
        expect_ok(c.read_response(), "async done")
        expect_ok(c.read_response(), "fast")


def test_big_response():
    r = expect_ok(hc.get(shared(), "/big?n=300000"))
    assert len(r.body) == 300000 and r.body.count(b"x") == 300000


def test_head_request():
    with Conn(shared()) as c:
        c.send(b"HEAD /head HTTP/1.1\r\nHost: x\r\n\r\nGET /head HTTP/1.1\r\nHost: x\r\n\r\n")
        r = c.read_response("HEAD")
        assert r.status == 200, r
        assert r.header("Content-Length") == str(len(b"body of GET")), r
        # the next response follows the HEAD head directly
        r2 = c.read_response()
        assert r2.raw_head.startswith(b"HTTP/1.1 200 "), r2
        expect_ok(r2, "body of GET")


def test_head_flush_no_body():
    with Conn(shared()) as c:
        c.send(b"HEAD /flush HTTP/1.1\r\nHost: x\r\n\r\nGET /path/next HTTP/1.1\r\nHost: x\r\n\r\n")
        r = c.read_response("HEAD")
        assert r.status == 200, r
        # no body and no "0\r\n\r\n" terminator: the next thing is the next status line
        r2 = c.read_response()
        expect_ok(r2, "next")
        c.request("GET", "/")
        expect_ok(c.read_response(), "Hello, world")


def test_server_header_and_content_type():
    r = expect_ok(hc.get(shared(), "/"))
    assert r.header("Content-Type", "").startswith("text/html"), r
