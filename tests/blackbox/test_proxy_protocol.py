"""--proxy-protocol: the PROXY header (v1, v2) before HTTP, from trusted_downstream peers only,
with raw sockets. The client connects from 127.0.0.1 (trusted below) or from 127.0.0.2 (not)."""
import socket
import struct
import time

import testrun

from harness import server, wait_stderr
import http_client as hc
from http_client import Conn, expect_ok
from test_xheaders import _seen

TRUSTED = "--trusted_downstream=127.0.0.1"
V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2(cmd=0x21, fam=0x11, block=b"", tlvs=b""):
    """A v2 header: PROXY (0x21) or LOCAL (0x20), family/transport, address block, TLVs."""
    body = block + tlvs
    return V2_SIG + bytes([cmd, fam]) + struct.pack("!H", len(body)) + body


def inet4(src, dst, sport, dport):
    return socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)


def tlv(t, v):
    return bytes([t]) + struct.pack("!H", len(v)) + v


def conn(port, source="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(hc.DEFAULT_TIMEOUT)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return Conn(port, sock=s)


def seen(c, headers=()):
    """(remote_ip, protocol) the app saw for a request on c."""
    return _seen(c.port, list(headers), c)


def test_proxy_v1():
    with server("--proxy-protocol", TRUSTED) as port:
        with conn(port) as c:
            c.send(b"PROXY TCP4 203.0.113.7 192.0.2.1 56324 80\r\n")
            assert seen(c) == ("203.0.113.7", "http")
            assert seen(c) == ("203.0.113.7", "http")  # the whole connection is the client's
        with conn(port) as c:
            c.send(b"PROXY TCP6 2001:db8::7 2001:db8::1 1 80\r\n")
            assert seen(c) == ("2001:db8::7", "http")
        with conn(port) as c:  # UNKNOWN: the socket's address
            c.send(b"PROXY UNKNOWN\r\n")
            assert seen(c) == ("127.0.0.1", "http")
        with conn(port) as c:  # the header and two pipelined requests in one segment
            c.send(b"PROXY TCP4 198.51.100.2 192.0.2.1 1 80\r\n"
                   b"GET /headers HTTP/1.1\r\nHost: x\r\n\r\nGET /headers HTTP/1.1\r\nHost: x\r\n\r\n")
            for _ in range(2):
                r = c.read_response()
                expect_ok(r)
                assert b"remote_ip=198.51.100.2\n" in r.body


def test_proxy_v2():
    with server("--proxy-protocol", TRUSTED) as port:
        with conn(port) as c:
            c.send(v2(block=inet4("203.0.113.9", "192.0.2.1", 4000, 443)))
            assert seen(c) == ("203.0.113.9", "http")
        with conn(port) as c:  # the client used TLS (haproxy's send-proxy-v2-ssl)
            ssl = tlv(0x20, b"\x01\0\0\0\0" + tlv(0x21, b"TLSv1.3"))
            c.send(v2(block=inet4("203.0.113.9", "192.0.2.1", 4000, 443),
                      tlvs=tlv(0x02, b"example.com") + ssl))
            assert seen(c) == ("203.0.113.9", "https")
        with conn(port) as c:
            block = socket.inet_pton(socket.AF_INET6, "2001:db8::9") + \
                socket.inet_pton(socket.AF_INET6, "::1") + struct.pack("!HH", 1, 2)
            c.send(v2(fam=0x21, block=block))
            assert seen(c) == ("2001:db8::9", "http")
        with conn(port) as c:  # LOCAL (a health check): the socket's address
            c.send(v2(cmd=0x20, fam=0x00))
            assert seen(c) == ("127.0.0.1", "http")
        with conn(port) as c:  # the header sent a byte at a time
            hdr = v2(block=inet4("203.0.113.10", "192.0.2.1", 4000, 80))
            for i in range(len(hdr)):
                c.send(hdr[i:i + 1])
            assert seen(c) == ("203.0.113.10", "http")


def _refused(port, c, data, log):
    if data:
        c.send(data)
    assert c.closed(30.0), "connection not closed"
    assert not c.buf, "no response is due: %r" % c.buf[:100]
    assert log in wait_stderr(port, log)


def test_proxy_protocol_option_wins():
    """--protocol forces request.protocol over what the connection says (a PROXY header's
    TLS), as it does on HTTP/2 and in Tornado's HTTPServer."""
    ssl = tlv(0x20, b"\x01\0\0\0\0" + tlv(0x21, b"TLSv1.3"))
    with server("--proxy-protocol", TRUSTED, "--protocol=http") as port:
        with conn(port) as c:
            c.send(v2(block=inet4("203.0.113.9", "192.0.2.1", 4000, 443), tlvs=ssl))
            assert seen(c) == ("203.0.113.9", "http")


def test_proxy_untrusted_peer():
    with server("--proxy-protocol", TRUSTED) as port:
        with conn(port, "127.0.0.2") as c:
            _refused(port, c, b"PROXY TCP4 203.0.113.7 192.0.2.1 1 80\r\n",
                     "connection from 127.0.0.2 closed: not in trusted_downstream")
        with conn(port) as c:  # the trusted one still is
            c.send(b"PROXY TCP4 203.0.113.7 192.0.2.1 1 80\r\n")
            assert seen(c) == ("203.0.113.7", "http")


def test_proxy_empty_trusted_downstream_trusts_all():
    with server("--proxy-protocol") as port:
        assert "proxy_protocol without trusted_downstream" in \
            wait_stderr(port, "proxy_protocol without trusted_downstream")
        with conn(port, "127.0.0.2") as c:
            c.send(b"PROXY TCP4 203.0.113.7 192.0.2.1 1 80\r\n")
            assert seen(c) == ("203.0.113.7", "http")


def test_proxy_missing_or_bad_header():
    with server("--proxy-protocol", TRUSTED) as port:
        with conn(port) as c:
            _refused(port, c, b"GET /headers HTTP/1.1\r\nHost: x\r\n\r\n",
                     "closed: no PROXY protocol signature")
        with conn(port) as c:
            _refused(port, c, b"PROXY TCP4 203.0.113.7 192.0.2.1 1 99999\r\n",
                     "closed: v1 address or port invalid")
        with conn(port) as c:
            _refused(port, c, b"PROXY UNKNOWN " + b"a" * 120, "closed: v1 line longer")
        with conn(port) as c:
            _refused(port, c, v2(fam=0x12, block=inet4("1.2.3.4", "1.2.3.5", 1, 2)),
                     "closed: v2 address family or transport unsupported")
        with conn(port) as c:
            _refused(port, c, v2(block=inet4("1.2.3.4", "1.2.3.5", 1, 2),
                                 tlvs=tlv(0x03, b"\0\0\0\0")), "closed: v2 CRC32C mismatch")
        with conn(port) as c:
            c.send(b"PROXY TCP4 1.2.3.4")
            c.shutdown_write()
            _refused(port, c, b"", "closed: end of input inside the header")


def test_proxy_slow_header_timeout():
    with server("--proxy-protocol", TRUSTED, "--proxy_protocol_timeout=0.5") as port:
        with conn(port) as c:
            t0 = time.monotonic()
            c.send(b"PROXY TCP4 203.0.113.7 ")
            _refused(port, c, b"", "closed: header not complete in time")
            assert time.monotonic() - t0 >= 0.4
        with conn(port) as c:  # a prompt one is served by the same server
            c.send(b"PROXY TCP4 203.0.113.7 192.0.2.1 1 80\r\n")
            assert seen(c) == ("203.0.113.7", "http")
    # a connection still sending its header when the server stops: closed, nothing leaks
    with server("--proxy-protocol", TRUSTED) as port:
        c = conn(port)
        c.send(b"PROXY TCP4 203.0.113.7 ")
        testrun.wait_until(lambda: testrun.server_read_all(c.sock), 30, "the server reading")
    assert c.closed(30.0)
    c.close()


def test_proxy_xheaders_on_top():
    with server("--proxy-protocol", "--xheaders", "--trusted_downstream=127.0.0.1,10.0.0.5") \
            as port:
        with conn(port) as c:  # the PROXY client is itself a proxy that sent X-Forwarded-For
            c.send(b"PROXY TCP4 10.0.0.5 192.0.2.1 1 80\r\n")
            assert seen(c, [("X-Forwarded-For", "198.51.100.1, 10.0.0.5"),
                            ("X-Forwarded-Proto", "https")]) == ("198.51.100.1", "https")
            assert seen(c) == ("10.0.0.5", "http")  # per request; without them the header's


def test_proxy_header_then_tls():
    """haproxy in TCP mode in front of a TLS listener: the PROXY header comes first, then the
    client's own TLS handshake; the request sees the header's address and https, over
    HTTP/1.1 and over HTTP/2 (ALPN h2)."""
    import ssl
    from test_tls import _p
    with server("--proxy-protocol", TRUSTED, "--certfile=" + _p("cert.pem"),
                "--keyfile=" + _p("key.pem")) as port:
        for alpn in (["http/1.1"], ["h2", "http/1.1"]):
            ctx = ssl.create_default_context(cafile=_p("ca.pem"))
            ctx.set_alpn_protocols(alpn)
            raw = socket.create_connection(("127.0.0.1", port), timeout=hc.DEFAULT_TIMEOUT)
            raw.sendall(b"PROXY TCP4 203.0.113.9 192.0.2.1 5555 443\r\n")
            tls = ctx.wrap_socket(raw, server_hostname="localhost")
            try:
                assert tls.selected_alpn_protocol() == alpn[0], tls.selected_alpn_protocol()
                if alpn[0] == "http/1.1":
                    assert seen(Conn(port, sock=tls)) == ("203.0.113.9", "https")
                    continue
                import h2.connection
                import h2.events
                h = h2.connection.H2Connection()
                h.initiate_connection()
                h.send_headers(1, [(":method", "GET"), (":path", "/headers"),
                                   (":scheme", "https"), (":authority", "localhost")],
                               end_stream=True)
                tls.sendall(h.data_to_send())
                body, done = b"", False
                while not done:
                    data = tls.recv(65536)
                    assert data, "closed before the HTTP/2 response ended"
                    for ev in h.receive_data(data):
                        if isinstance(ev, h2.events.DataReceived):
                            body += ev.data
                            h.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                        done = done or isinstance(ev, h2.events.StreamEnded)
                    tls.sendall(h.data_to_send())
                fields = dict(ln.split("=", 1) for ln in body.decode().split("\n") if "=" in ln)
                assert (fields["remote_ip"], fields["protocol"]) == ("203.0.113.9", "https"), body
            finally:
                tls.close()
