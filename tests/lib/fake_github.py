"""A fake GitHub for sign-in tests: the three OAuth endpoints the blog's GitHub provider
calls, on 127.0.0.1 and a free port, in a thread of the test process (no network).

    with FakeGitHub(users={"code-alice": {"login": "alice", "id": 1}}) as gh:
        gh.url                                  # http://127.0.0.1:PORT
        # /login/oauth/authorize  redirects to redirect_uri with ?code=<first code>&state=
        # /login/oauth/access_token  POST, a known code -> {"access_token": "tok-<code>"}
        #                            (each code once; an unknown one -> {"error": ...})
        # /user  Authorization: Bearer tok-<code> -> that user's JSON, else 401
        gh.token_requests                       # how many codes were exchanged

The code a browser is sent back with by /authorize is the first key of users (tests that
drive the redirect themselves pick any code)."""
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeGitHub:
    def __init__(self, users, client_id="cid", client_secret="csecret"):
        self.users = dict(users)
        self.client_id, self.client_secret = client_id, client_secret
        self.token_requests = 0
        self.used = set()
        self.lock = threading.Lock()
        gh = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def send(self, status, obj=None, location=None):
                body = json.dumps(obj).encode() if obj is not None else b""
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                u = urllib.parse.urlsplit(self.path)
                q = urllib.parse.parse_qs(u.query)
                if u.path == "/login/oauth/authorize":
                    back = q["redirect_uri"][0]
                    code = next(iter(gh.users))
                    sep = "&" if "?" in back else "?"
                    return self.send(302, location="%s%scode=%s&state=%s" % (
                        back, sep, urllib.parse.quote(code), urllib.parse.quote(q["state"][0])))
                if u.path == "/user":
                    auth = self.headers.get("Authorization", "")
                    code = auth[len("Bearer tok-"):] if auth.startswith("Bearer tok-") else None
                    if code in gh.users:
                        return self.send(200, gh.users[code])
                    return self.send(401, {"message": "Bad credentials"})
                self.send(404, {"message": "Not Found"})

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(n).decode())
                if urllib.parse.urlsplit(self.path).path != "/login/oauth/access_token":
                    return self.send(404, {"message": "Not Found"})
                code = form.get("code", [""])[0]
                with gh.lock:
                    gh.token_requests += 1
                    ok = (code in gh.users and code not in gh.used
                          and form.get("client_id") == [gh.client_id]
                          and form.get("client_secret") == [gh.client_secret])
                    gh.used.add(code)
                if not ok:
                    return self.send(200, {"error": "bad_verification_code"})
                self.send(200, {"access_token": "tok-" + code, "token_type": "bearer"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

