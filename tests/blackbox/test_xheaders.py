"""--xheaders: X-Real-Ip, X-Forwarded-For, X-Scheme, X-Forwarded-Proto (Tornado semantics)."""
from harness import shared, server
import http_client as hc
from http_client import Conn, expect_ok


def _seen(port, headers, conn=None):
    """(remote_ip, protocol) as the server saw them."""
    raw = b"GET /headers HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"%s: %s\r\n" % (k.encode(), v.encode()) for k, v in headers) + b"\r\n"
    if conn is None:
        r = hc.fetch(port, raw)
    else:
        conn.send(raw)
        r = conn.read_response()
    expect_ok(r)
    fields = dict(line.split("=", 1) for line in r.body.decode("latin-1").split("\n")
                  if "=" in line and ":" not in line.split("=", 1)[0])
    return fields["remote_ip"], fields["protocol"]


def test_xheaders_real_ip():
    with server("--xheaders") as port:
        assert _seen(port, [("X-Real-Ip", "10.1.2.3")]) == ("10.1.2.3", "http")


def test_xheaders_real_ip_ipv6():
    with server("--xheaders") as port:
        assert _seen(port, [("X-Real-Ip", "2001:db8::1")])[0] == "2001:db8::1"


def test_xheaders_forwarded_for_last_hop():
    with server("--xheaders") as port:
        assert _seen(port, [("X-Forwarded-For", "1.1.1.1, 2.2.2.2")])[0] == "2.2.2.2"
        assert _seen(port, [("X-Forwarded-For", "5.6.7.8")])[0] == "5.6.7.8"


def test_xheaders_trusted_downstream_skipped():
    with server("--xheaders", "--trusted_downstream=2.2.2.2,3.3.3.3") as port:
        xff = [("X-Forwarded-For", "1.1.1.1, 2.2.2.2, 3.3.3.3")]
        assert _seen(port, xff)[0] == "1.1.1.1"
        assert _seen(port, [("X-Forwarded-For", "9.9.9.9,3.3.3.3")])[0] == "9.9.9.9"


def test_xheaders_real_ip_wins_over_forwarded_for():
    with server("--xheaders") as port:
        hdrs = [("X-Forwarded-For", "1.1.1.1"), ("X-Real-Ip", "4.4.4.4")]
        assert _seen(port, hdrs)[0] == "4.4.4.4"


def test_xheaders_invalid_ip_ignored():
    with server("--xheaders") as port:
        assert _seen(port, [("X-Real-Ip", "not-an-ip")])[0] == "127.0.0.1"
        assert _seen(port, [("X-Real-Ip", "999.1.1.1")])[0] == "127.0.0.1"
        assert _seen(port, [("X-Forwarded-For", "1.1.1.1, bogus")])[0] == "127.0.0.1"
        assert _seen(port, [("X-Real-Ip", "1.2.3.4; drop table")])[0] == "127.0.0.1"


def test_xheaders_scheme():
    with server("--xheaders") as port:
        assert _seen(port, [("X-Scheme", "https")])[1] == "https"
        assert _seen(port, [("X-Forwarded-Proto", "https")])[1] == "https"
        assert _seen(port, [("X-Forwarded-Proto", "http")])[1] == "http"


def test_xheaders_scheme_only_http_https():
    with server("--xheaders") as port:
        assert _seen(port, [("X-Scheme", "ftp")])[1] == "http"
        assert _seen(port, [("X-Forwarded-Proto", "javascript")])[1] == "http"
        assert _seen(port, [("X-Scheme", "")])[1] == "http"


def test_xheaders_forwarded_proto_list_last():
    with server("--xheaders") as port:
        assert _seen(port, [("X-Forwarded-Proto", "http, https")])[1] == "https"


def test_xheaders_per_request_on_keepalive():
    # The override applies to its own request only.
    with server("--xheaders") as port:
        with Conn(port) as c:
            assert _seen(port, [("X-Real-Ip", "10.0.0.9"), ("X-Scheme", "https")], c) == \
                ("10.0.0.9", "https")
            assert _seen(port, [], c) == ("127.0.0.1", "http")


def test_without_xheaders_ignored():
    hdrs = [("X-Real-Ip", "10.1.2.3"), ("X-Forwarded-For", "1.1.1.1"), ("X-Scheme", "https"),
            ("X-Forwarded-Proto", "https")]
    assert _seen(shared(), hdrs) == ("127.0.0.1", "http")


def test_remote_ip_of_ipv4_and_ipv6_peers():
    """Without xheaders remote_ip is the peer's address, kept per connection and the same on
    every request of a keep-alive connection."""
    import socket
    with Conn(shared()) as c:
        assert _seen(None, [], conn=c)[0] == "127.0.0.1"
        assert _seen(None, [], conn=c)[0] == "127.0.0.1"
    with server("--address=::1") as port:
        s = socket.create_connection(("::1", port), timeout=10)
        c = Conn(port, sock=s)
        try:
            assert _seen(None, [], conn=c)[0] == "::1"
            assert _seen(None, [], conn=c)[0] == "::1"
        finally:
            c.close()
