"""TLS (--certfile/--keyfile and the other ssl_options, docs/tls.md) of an app program
(build/tests/testapp): curl, `openssl s_client` and Python's ssl against certificates the test
makes with the openssl CLI in a temp dir (a CA, a server certificate for localhost and
127.0.0.1, a client certificate). Waits are for conditions (a response, an fd count), never
for a time."""
import atexit
import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import harness
from harness import server, server_of
from http_client import Closed, Conn
from test_reset import _fds

DEADLINE = 30.0
_dir = None


def _certs():
    """The temp dir with ca.pem, cert.pem/key.pem (server) and client.pem/client.key (CN=alice),
    made on first use and removed at exit."""
    global _dir
    if _dir:
        return _dir
    d = tempfile.mkdtemp(prefix="tp-tls-")
    atexit.register(shutil.rmtree, d, True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args):
        subprocess.run(["openssl"] + list(args), cwd=d, check=True, capture_output=True)

    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=tp-test-ca")
    for name, cn, ext in (("cert", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
                          ("client", "alice", "extendedKeyUsage=clientAuth")):
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\nauthorityKeyIdentifier=keyid,issuer\n"
                    "subjectKeyIdentifier=hash\n%s\n" % ext)
        key = "key.pem" if name == "cert" else "client.key"
        run("req", *ec, "-keyout", key, "-out", name + ".csr", "-subj", "/CN=" + cn)
        run("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext")
    _dir = d
    return d


def _p(name):
    return os.path.join(_certs(), name)


def tls_server(*flags):
    return server("--certfile=" + _p("cert.pem"), "--keyfile=" + _p("key.pem"), *flags)


def _curl(port, path, *args):
    r = subprocess.run(["curl", "-sS", "--max-time", str(DEADLINE), "--cacert", _p("ca.pem"),
                        "https://localhost:%d%s" % (port, path)] + list(args),
                       capture_output=True)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout


def _tls_conn(port, cert=False):
    ctx = ssl.create_default_context(cafile=_p("ca.pem"))
    if cert:
        ctx.load_cert_chain(_p("client.pem"), _p("client.key"))
    raw = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    return Conn(port, sock=ctx.wrap_socket(raw, server_hostname="localhost"))


def _s_client(port, *args):
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                        "-servername", "localhost", "-CAfile", _p("ca.pem")] + list(args),
                       input=b"", capture_output=True, timeout=DEADLINE)
    return r.returncode, (r.stdout + r.stderr).decode("utf-8", "replace")


def test_curl_https_and_protocol():
    with tls_server() as port:
        body = _curl(port, "/headers")
        assert b"protocol=https\n" in body
        assert _curl(port, "/") == b"Hello, world"


def test_versions_and_alpn():
    with tls_server() as port:
        for old in ("-tls1", "-tls1_1"):
            # The client is allowed the old version (security level 0): the server refuses.
            rc, out = _s_client(port, old, "-cipher", "DEFAULT@SECLEVEL=0")
            assert rc != 0 and "alert protocol version" in out, out[-800:]
        for new, name in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
            rc, out = _s_client(port, new, "-alpn", "http/1.1")
            assert rc == 0, out[-800:]
            assert "New, %s, Cipher is" % name in out, out[-800:]
            assert "ALPN protocol: http/1.1" in out, out[-800:]
        # HTTP/2 is on by default (--http2): ALPN prefers h2 when the client offers it.
        rc, out = _s_client(port, "-alpn", "h2,http/1.1")
        assert rc == 0 and "ALPN protocol: h2" in out, out[-800:]
    with tls_server("--no-http2") as port:
        rc, out = _s_client(port, "-alpn", "h2")
        assert rc == 0 and "No ALPN negotiated" in out, out[-800:]
        rc, out = _s_client(port, "-alpn", "h2,http/1.1")
        assert rc == 0 and "ALPN protocol: http/1.1" in out, out[-800:]


def test_http2_over_tls_after_alpn():
    """ALPN h2 hands the TLS stream to HTTP/2: curl --http2 and nghttp get the same handlers,
    request.protocol is https, and many streams share one TLS connection."""
    with tls_server() as port:
        out = _curl(port, "/headers", "--http2", "-w", "\nversion=%{http_version}")
        assert b"protocol=https\n" in out and out.endswith(b"version=2"), out
        big = _curl(port, "/", "--http2", "-w", "\n%{http_version}")
        assert big == b"Hello, world\n2", big
        if shutil.which("h2load"):
            r = subprocess.run(["h2load", "-n", "200", "-c", "2", "-m", "20",
                                "https://127.0.0.1:%d/" % port],
                               capture_output=True, timeout=DEADLINE * 2)
            text = r.stdout.decode()
            assert r.returncode == 0 and "200 succeeded" in text, text[-1500:]
            assert "Application protocol: h2" in text, text[-1500:]


def test_min_version_option():
    with tls_server("--tls_min_version=1.3") as port:
        rc, out = _s_client(port, "-tls1_2")
        assert rc != 0, out[-800:]
        rc, out = _s_client(port, "-tls1_3")
        assert rc == 0, out[-800:]


def test_session_resumed_in_one_process():
    sess = os.path.join(_certs(), "session.pem")
    with tls_server() as port:
        # TLS 1.2: the session comes with the handshake (a 1.3 ticket may arrive after EOF).
        rc, out = _s_client(port, "-tls1_2", "-sess_out", sess)
        assert rc == 0 and "New, TLSv1.2" in out, out[-800:]
        rc, out = _s_client(port, "-tls1_2", "-sess_in", sess)
        assert rc == 0 and "Reused, TLSv1.2" in out, out[-800:]
    os.unlink(sess)


def test_client_certificate_required():
    with tls_server("--ca_certs=" + _p("ca.pem"), "--cert_reqs=required") as port:
        with _tls_conn(port, cert=True) as c:
            c.request("GET", "/peercert")
            assert c.read_response().body == b"subject=/CN=alice"
        # TLS 1.3: the client's handshake ends before the server's verdict, which comes as an
        # alert at the first read, or as a reset or a close when the server is quicker.
        try:
            with _tls_conn(port) as c:
                c.request("GET", "/peercert")
                outcome = c.read_response().body
        except (ssl.SSLError, OSError, Closed) as e:
            outcome = e
        assert not isinstance(outcome, bytes), outcome


def test_client_certificate_optional():
    with tls_server("--ca_certs=" + _p("ca.pem"), "--cert_reqs=optional") as port:
        with _tls_conn(port) as c:
            c.request("GET", "/peercert")
            assert c.read_response().body == b"subject="
        with _tls_conn(port, cert=True) as c:
            c.request("GET", "/peercert")
            assert c.read_response().body == b"subject=/CN=alice"


def test_plaintext_on_tls_port_gets_400_and_close():
    with tls_server("--handshake_timeout=60") as port:
        with Conn(port) as c:
            c.request("GET", "/")
            r = c.read_response()
            assert r.status == 400
            assert r.body == b"The plain HTTP request was sent to HTTPS port"
            # Closed by the server at once: a hang would last the 60 s handshake timeout.
            assert c.read_until_close() == b""


def test_keepalive_and_pipelining():
    with tls_server() as port:
        with _tls_conn(port) as c:
            for _ in range(3):
                c.request("GET", "/")
                assert c.read_response().body == b"Hello, world"
            c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 2 +
                   b"GET /headers HTTP/1.1\r\nHost: x\r\n\r\n")
            assert c.read_response().body == b"Hello, world"
            assert c.read_response().body == b"Hello, world"
            assert b"protocol=https" in c.read_response().body


@harness.slow
def test_50mb_upload_and_download():
    n = 50 << 20
    with tls_server() as port:
        up = os.path.join(_certs(), "upload.bin")
        with open(up, "wb") as f:
            f.write(os.urandom(n))
        with open(up, "rb") as f:
            want = hashlib.sha256(f.read()).hexdigest()
        echoed = _curl(port, "/echo", "--data-binary", "@" + up, "-H",
                       "Content-Type: application/octet-stream")
        assert len(echoed) == n and hashlib.sha256(echoed).hexdigest() == want
        os.unlink(up)
        got = _curl(port, "/big?n=%d" % n)
        assert len(got) == n and got == b"x" * n


def test_static_and_sendfile_over_tls():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static_root")
    with tls_server("--logging=info") as port:
        with open(os.path.join(root, "bytes.bin"), "rb") as f:
            assert _curl(port, "/static/bytes.bin") == f.read()
        body = _curl(port, "/file?off=7&n=2000000")
        assert body == bytes((i % 251) for i in range(7, 2000007))
        log = server_of(port).stderr()
        # Which path files take is said once at start (docs/tls.md, "kTLS").
        assert "TLS: the kernel has no kTLS" in log or "TLS: kTLS available" in log, log


def _wait_no_conns(port, other):
    deadline = time.monotonic() + DEADLINE
    while _fds(port) != (0, other) and time.monotonic() < deadline:
        time.sleep(0.02)
    return _fds(port)


def test_failed_and_abandoned_handshakes_leak_no_fd():
    with tls_server("--handshake_timeout=1") as port:
        _curl(port, "/")
        base = _wait_no_conns(port, _fds(port)[1])
        assert base[0] == 0
        socks = []
        for data in (b"", b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00", b"\x16\x03\x01\x02",
                     b"\x80\x01garbage", b"GET / HTTP/1.1\r\n\r\n"):
            s = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
            if data:
                s.sendall(data)
            socks.append(s)
        # One closes at once, one mid-handshake; the rest stay open (the one that went quiet
        # mid-handshake is ended by the 1 s handshake timeout).
        socks.pop(0).close()
        socks.pop(1).close()
        rc, out = _s_client(port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
        assert rc != 0
        assert _wait_no_conns(port, base[1]) == base
        for s in socks:
            s.close()
        assert _curl(port, "/") == b"Hello, world"
        assert _wait_no_conns(port, base[1]) == base
