"""Request framing and header validation: malformed requests get the documented error
response (exact bytes) and the connection is closed; valid oddities are served."""
from harness import shared, server, wait_stderr
import http_client as hc
from http_client import expect_error, expect_ok, Conn

H = b"Host: x\r\n"


def _post(cl_lines, body=b"hello"):
    return b"POST /echo HTTP/1.1\r\n" + H + cl_lines + b"\r\n" + body


# -- Content-Length / Transfer-Encoding --------------------------------------------------------

def test_cl_with_te_400():
    expect_error(shared(), _post(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                                 hc.chunked("hello")), 400)


def test_cl_conflicting_list_400():
    expect_error(shared(), _post(b"Content-Length: 5, 6\r\n"), 400)


def test_cl_conflicting_headers_400():
    expect_error(shared(), _post(b"Content-Length: 5\r\nContent-Length: 6\r\n"), 400)


def test_cl_equal_list_accepted():
    r = hc.fetch(shared(), _post(b"Content-Length: 5, 5\r\n"))
    expect_ok(r, "hello")


def test_cl_equal_repeated_headers_accepted():
    r = hc.fetch(shared(), _post(b"Content-Length: 5\r\nContent-Length: 5\r\n"))
    expect_ok(r, "hello")


def test_cl_plus_sign_400():
    expect_error(shared(), _post(b"Content-Length: +5\r\n"), 400)


def test_cl_trailing_garbage_400():
    expect_error(shared(), _post(b"Content-Length: 5a\r\n"), 400)


def test_cl_negative_400():
    expect_error(shared(), _post(b"Content-Length: -1\r\n"), 400)


def test_te_chunked_then_gzip_400():
    expect_error(shared(), _post(b"Transfer-Encoding: chunked, gzip\r\n", hc.chunked("hello")), 400)


def test_te_gzip_only_400():
    expect_error(shared(), _post(b"Transfer-Encoding: gzip\r\n", hc.chunked("hello")), 400)


def test_te_chunked_twice_400():
    expect_error(shared(), _post(b"Transfer-Encoding: chunked, chunked\r\n", hc.chunked("hello")),
                 400)


def test_te_chunked_twice_in_two_headers_400():
    # Two Transfer-Encoding headers are one list: "chunked, chunked".
    expect_error(shared(), _post(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                                 hc.chunked("hello")), 400)


def test_te_gzip_then_chunked_501():
    expect_error(shared(), _post(b"Transfer-Encoding: gzip, chunked\r\n", hc.chunked("hello")), 501)


# -- header syntax --------------------------------------------------------------------------

def test_obs_fold_400():
    expect_error(shared(), b"GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n", 400)


def test_obs_fold_tab_400():
    expect_error(shared(), b"GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n\ttwo\r\n\r\n", 400)


def test_space_before_colon_400():
    expect_error(shared(), b"GET / HTTP/1.1\r\nHost: x\r\nX-A : v\r\n\r\n", 400)


def test_tab_before_colon_400():
    expect_error(shared(), b"GET / HTTP/1.1\r\nHost: x\r\nX-A\t: v\r\n\r\n", 400)


def test_nul_in_header_value_400():
    expect_error(shared(), b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400)


def test_ctl_01_in_header_value_400():
    expect_error(shared(), b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n", 400)


def test_del_in_header_value_400():
    expect_error(shared(), b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\n", 400)


def test_bare_cr_in_header_value_400():
    expect_error(shared(), b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400)


def test_no_host_http11_400():
    expect_error(shared(), b"GET / HTTP/1.1\r\nX-A: v\r\n\r\n", 400)


def test_no_host_http10_served():
    r, closed = hc.exchange(shared(), b"GET / HTTP/1.0\r\n\r\n")
    expect_ok(r, "Hello, world")
    assert closed


def test_two_hosts_400():
    expect_error(shared(), b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)


def test_host_with_space_400():
    expect_error(shared(), b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400)


def test_header_without_colon_400():
    expect_error(shared(), b"GET / HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", 400)


# -- start line ---------------------------------------------------------------------------

def test_garbage_start_line_400():
    expect_error(shared(), b"HELLO\r\n\r\n", 400)


def test_garbage_binary_start_line_400():
    # A TLS ClientHello sent to the plain-HTTP port.
    expect_error(shared(), b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40, 400)


def test_start_line_extra_token_400():
    expect_error(shared(), b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n", 400)


def test_start_line_double_space_400():
    expect_error(shared(), b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400)


def test_start_line_bad_version_400():
    expect_error(shared(), b"GET / HTTX/1.1\r\nHost: x\r\n\r\n", 400)


def test_http2_version_505():
    expect_error(shared(), b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505)


def test_http09_version_505():
    expect_error(shared(), b"GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505)


# -- lenient but valid --------------------------------------------------------------------

def test_bare_lf_request_served():
    with Conn(shared()) as c:
        c.send(b"GET / HTTP/1.1\nHost: x\n\nGET /path/two HTTP/1.1\nHost: x\n\n")
        expect_ok(c.read_response(), "Hello, world")
        expect_ok(c.read_response(), "two")


def test_bare_lf_post_served():
    r = hc.fetch(shared(), b"POST /echo HTTP/1.1\nHost: x\nContent-Length: 3\n\nabc")
    expect_ok(r, "abc")


def test_stray_crlf_between_requests_ignored():
    with Conn(shared()) as c:
        c.send(b"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n\r\n\r\nGET /path/b HTTP/1.1\r\nHost: x\r\n\r\n")
        expect_ok(c.read_response(), "Hello, world")
        expect_ok(c.read_response(), "b")
        c.send(b"\r\n")
        assert c.idle(0.2), "a stray CRLF produced output or closed the connection"
        c.send(b"GET /path/c HTTP/1.1\r\nHost: x\r\n\r\n")
        expect_ok(c.read_response(), "c")


def test_header_value_obs_text_accepted():
    # obs-text (0x80-0xFF) in a value is allowed, as in Tornado.
    r = hc.fetch(shared(), b"GET /headers HTTP/1.1\r\nHost: x\r\nX-Latin: caf\xe9\r\n\r\n")
    expect_ok(r)
    assert b"X-Latin: caf\xe9\n" in r.body, r.body


def test_header_value_ows_trimmed():
    r = hc.fetch(shared(), b"GET /headers HTTP/1.1\r\nHost: x\r\nX-Pad: \t padded \t\r\n\r\n")
    expect_ok(r)
    assert b"X-Pad: padded\n" in r.body, r.body


def test_error_on_second_pipelined_request_after_first_answered():
    # A good request then a malformed one: the first is answered normally, then the error.
    with Conn(shared()) as c:
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n")
        expect_ok(c.read_response(), "Hello, world")
        hc.check_error_head(c.read_head_raw(), 400)
        assert c.closed(), "connection open after the error"


# -- more header and length edge cases ---------------------------------------------------------

def test_cl_leading_zeros_accepted():
    expect_ok(hc.fetch(shared(), _post(b"Content-Length: 005\r\n")), "hello")


def test_cl_empty_400():
    expect_error(shared(), _post(b"Content-Length: \r\n", b""), 400)


def test_cl_hex_400():
    expect_error(shared(), _post(b"Content-Length: 0x5\r\n"), 400)


def test_cl_huge_refused():
    # Far beyond any limit (and beyond 64 bits): refused with the documented error format.
    with Conn(shared()) as c:
        c.send(_post(b"Content-Length: 99999999999999999999999999\r\n", b""))
        head = c.read_head_raw()
        code = int(head.split(b" ")[1])
        assert code in (400, 413), head
        hc.check_error_head(head, code)
        assert c.closed()


def test_header_names_case_insensitive():
    r = hc.fetch(shared(), b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\nabc")
    expect_ok(r, "abc")
    r = hc.fetch(shared(), b"POST /echo HTTP/1.1\r\nHOST: x\r\nTRANSFER-ENCODING: Chunked\r\n\r\n"
                           + hc.chunked("up"))
    expect_ok(r, "up")


def test_header_name_bad_char_400():
    expect_error(shared(), b"GET / HTTP/1.1\r\nHost: x\r\nX@Y: v\r\n\r\n", 400)


def test_header_empty_name_400():
    expect_error(shared(), b"GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", 400)


def test_get_with_body_consumed():
    with Conn(shared()) as c:
        inner = b"GET /path/evil HTTP/1.1\r\n\r\n"
        c.send(b"GET /path/a HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(inner)
               + inner
               + b"GET /path/b HTTP/1.1\r\nHost: x\r\n\r\n")
        expect_ok(c.read_response(), "a")
        expect_ok(c.read_response(), "b")
        assert c.idle(0.1)


def test_unknown_method_405():
    with Conn(shared()) as c:
        c.send(b"BREW /head HTTP/1.1\r\nHost: x\r\n\r\nget /head HTTP/1.1\r\nHost: x\r\n\r\n")
        assert c.read_response().status == 405
        assert c.read_response().status == 405
        c.request("GET", "/head")
        expect_ok(c.read_response(), "body of GET")


def test_host_with_invalid_character_400():
    expect_error(shared(), b"GET / HTTP/1.1\r\nHost: a<b\r\n\r\n", 400)
    expect_error(shared(), b"GET / HTTP/1.1\r\nHost: a\"b\r\n\r\n", 400)


def test_host_forms_accepted():
    for host in (b"example.com", b"example.com:8080", b"127.0.0.1:1", b"[::1]:80", b"a-b.c_d~e"):
        r = hc.fetch(shared(), b"GET /headers HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
        expect_ok(r)
        assert b"host=" + host + b"\n" in r.body, (host, r.body)


def test_bad_method_token_400():
    expect_error(shared(), b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400)


def test_bad_target_characters_400():
    expect_error(shared(), b"GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n", 400)
    expect_error(shared(), b"GET /a\x7fb HTTP/1.1\r\nHost: x\r\n\r\n", 400)


def test_tls_first_byte_refused_at_once():
    # One byte that cannot start a request is enough for the 400: no newline is awaited.
    expect_error(shared(), b"\x16", 400)


def test_http12_accepted_as_http11():
    with Conn(shared()) as c:
        c.send(b"GET /path/v HTTP/1.2\r\nHost: x\r\n\r\n")
        expect_ok(c.read_response(), "v")
        assert c.idle(0.1), "HTTP/1.2 connection not kept alive like HTTP/1.1"


def test_connection_header_token_list():
    with Conn(shared()) as c:
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close, foo\r\n\r\n")
        r = expect_ok(c.read_response(), "Hello, world")
        assert r.header("Connection", "").lower() == "close", r
        assert c.closed()
    with Conn(shared()) as c:
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Keep-Alive, CLOSE\r\n\r\n")
        expect_ok(c.read_response(), "Hello, world")
        assert c.closed()


def test_malformed_request_logged():
    with server("--logging=info") as port:
        expect_error(port, b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400)
        err = wait_stderr(port, "Malformed HTTP message")
    assert "Malformed HTTP message from 127.0.0.1" in err, err
