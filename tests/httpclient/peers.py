"""The servers the HTTP client tests talk to, besides testapp: Debian's nginx (redirects,
gzip, keep-alive counted by nginx itself, TLS with a certificate made by `openssl req` at test
time, client certificates, basic auth) and small Python servers for what nginx cannot do
(digest auth, a slow answer, a reset, a forward proxy, a port that never accepts).
Everything binds 127.0.0.1 on a free port inside one temp dir; stop() kills it all."""
import base64
import hashlib
import http.client
import http.server
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.parse


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, deadline=30.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited with %s" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("port %d never opened" % port)


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    default_type text/plain;
    log_format conn '$connection $connection_requests $request_uri';
    access_log {d}/access.log conn;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    keepalive_requests 100000;
    if_modified_since before;
    gzip on;
    gzip_min_length 0;
    gzip_types text/plain;
    server {{
        listen 127.0.0.1:{p1};
        root {d}/www;
        location = /hello {{ return 200 "Hello world!"; }}
        location = /conn {{ return 200 "$connection $connection_requests"; }}
        location = /r0 {{ return 200 "r0"; }}
        location = /r1 {{ return 302 /r0; }}
        location = /r2 {{ return 302 /r1; }}
        location = /r3 {{ return 302 /r2; }}
        location = /r4 {{ return 302 /r3; }}
        location = /r5 {{ return 302 /r4; }}
        location = /r6 {{ return 302 /r5; }}
        location = /cross {{ return 302 http://localhost:{p2}/show; }}
        location = /same {{ return 302 /show; }}
        location = /show {{ return 200 "auth=[$http_authorization] cookie=[$http_cookie]"; }}
        location = /ua {{ return 200 "$http_user_agent|$http_if_modified_since|$http_accept_encoding"; }}
        location = /missing {{ return 404 "nope"; }}
        location /basic/ {{ auth_basic "test"; auth_basic_user_file {d}/htpasswd; }}
    }}
    server {{
        listen 127.0.0.1:{p2};
        location = /show {{ return 200 "auth=[$http_authorization] cookie=[$http_cookie]"; }}
    }}
    server {{
        listen 127.0.0.1:{p3} ssl;
        ssl_certificate {d}/cert.pem;
        ssl_certificate_key {d}/key.pem;
        location / {{ return 200 "tls ok"; }}
    }}
    server {{
        listen 127.0.0.1:{p4} ssl;
        ssl_certificate {d}/cert.pem;
        ssl_certificate_key {d}/key.pem;
        ssl_client_certificate {d}/client.pem;
        ssl_verify_client on;
        location / {{ return 200 "client $ssl_client_s_dn"; }}
    }}
}}
"""


def make_cert(d, name, cn):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-keyout", os.path.join(d, name + "-key.pem" if name != "cert" else "key.pem"),
                    "-out", os.path.join(d, name + ".pem"), "-subj", "/CN=" + cn,
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Nginx:
    def __init__(self, d):
        self.dir = d
        os.makedirs(os.path.join(d, "tmp"))
        www = os.path.join(d, "www")
        os.makedirs(os.path.join(www, "basic"))
        line = "".join("line %d of a text that compresses well\n" % i for i in range(200))
        with open(os.path.join(www, "big.txt"), "w") as f:
            f.write(line * 100)  # about 800 KB, a few KB gzipped
        with open(os.path.join(www, "small.txt"), "w") as f:
            f.write("small file\n")
        with open(os.path.join(www, "basic", "index.txt"), "w") as f:
            f.write("basic ok")
        with open(os.path.join(d, "htpasswd"), "w") as f:
            f.write("user:{PLAIN}secret\n")
        make_cert(d, "cert", "localhost")
        make_cert(d, "client", "tp-client")
        self.ports = [free_port() for _ in range(4)]
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(d=d, p1=self.ports[0], p2=self.ports[1],
                                      p3=self.ports[2], p4=self.ports[3]))
        self.proc = subprocess.Popen(["/usr/sbin/nginx", "-c", conf, "-p", d],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for p in self.ports:
            wait_port(p, self.proc)

    def stop(self):
        self.proc.kill()
        self.proc.wait()


DIGEST_REALM = "tp"
DIGEST_NONCE = "dcd98b7102dd2f0e8b11d0f600bfb0c093"


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def digest_ok(header, method):
    if not header or not header.startswith("Digest "):
        return False
    parts = {}
    for item in urllib.request.parse_http_list(header[7:]):
        k, _, v = item.partition("=")
        parts[k.strip()] = v.strip().strip('"')
    ha1 = md5("%s:%s:%s" % (parts.get("username"), DIGEST_REALM, "secret"))
    ha2 = md5("%s:%s" % (method, parts.get("uri")))
    if parts.get("qop"):
        want = md5(":".join([ha1, parts.get("nonce", ""), parts.get("nc", ""),
                             parts.get("cnonce", ""), parts["qop"], ha2]))
    else:
        want = md5("%s:%s:%s" % (ha1, parts.get("nonce"), ha2))
    return parts.get("username") == "user" and parts.get("response") == want


import urllib.request  # noqa: E402 (parse_http_list)


class Helper(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body, headers=()):
        body = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/digest":
            if digest_ok(self.headers.get("Authorization"), self.command):
                return self.reply(200, "digest ok")
            return self.reply(401, "no", [("WWW-Authenticate", 'Digest realm="%s", qop="auth", '
                                           'nonce="%s", opaque="x"' % (DIGEST_REALM, DIGEST_NONCE))])
        if path == "/slow":
            time.sleep(3)
            return self.reply(200, "slow")
        if path == "/reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if path == "/multi":
            return self.reply(200, "m", [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
        return self.reply(404, "not found")


class Proxy(http.server.BaseHTTPRequestHandler):
    """A forward proxy for absolute-URI requests: says it was used in X-Proxied."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        conn.request("GET", u.path or "/")
        r = conn.getresponse()
        body = r.read()
        conn.close()
        self.send_response(r.status)
        self.send_header("X-Proxied", "yes")
        self.send_header("X-Proxy-Auth", self.headers.get("Proxy-Authorization", "-"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Threaded(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that gave up (timeouts) is what some tests do


def serve(handler):
    srv = Threaded(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


class Peers:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tp-httpclient-")
        os.chmod(self.dir, 0o755)  # nginx's workers run as nobody when we are root
        self.nginx = Nginx(self.dir)
        self.helper = serve(Helper)
        self.proxy = serve(Proxy)
        # A port whose accept queue is full: SYNs go unanswered (a connect timeout).
        self.hole = socket.socket()
        self.hole.bind(("127.0.0.1", 0))
        self.hole.listen(0)
        self.fillers = []
        for _ in range(4):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", self.hole.getsockname()[1]))
            except BlockingIOError:
                pass
            self.fillers.append(s)

    def env(self):
        n = self.nginx.ports
        return {
            "NGINX": "http://127.0.0.1:%d" % n[0],
            "NGINX2_PORT": str(n[1]),
            "TLS": "https://127.0.0.1:%d" % n[2],
            "MTLS": "https://127.0.0.1:%d" % n[3],
            "CERTDIR": self.dir,
            "HELPER": "http://127.0.0.1:%d" % self.helper.server_address[1],
            "PROXY_PORT": str(self.proxy.server_address[1]),
            "HOLE": "http://127.0.0.1:%d" % self.hole.getsockname()[1],
        }

    def stop(self):
        self.nginx.stop()
        self.helper.shutdown()
        self.proxy.shutdown()
        for s in self.fillers + [self.hole]:
            s.close()
        shutil.rmtree(self.dir, ignore_errors=True)
