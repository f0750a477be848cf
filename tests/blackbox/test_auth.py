"""web/auth's sign-in dance, driven by hand (http.client, cookies by hand) between the client
app (tests/apps/auth_client.c) and a fake OAuth2/OpenID Connect provider
(tests/apps/fake_idp.c, its RSA key made here with the openssl CLI): success for the OIDC,
GitHub-, Google- and Facebook-shaped flows; and refused: a forged state, a missing state
cookie, a replayed code, tampered ID tokens (payload changed with the signature kept,
alg=none, another audience, expired, another nonce), a PKCE verifier mismatch, a provider's
denial, and a forged session cookie."""
import atexit
import contextlib
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import urllib.parse

import harness
from harness import server

_key = {}


def _key_file():
    if "path" not in _key:
        d = tempfile.mkdtemp(prefix="tp-auth-key-")
        atexit.register(shutil.rmtree, d, True)
        path = os.path.join(d, "idp.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", path], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _key["path"] = path
    return _key["path"]


@contextlib.contextmanager
def _servers():
    """(idp port, client port): the fake provider and the client app signing in to it."""
    with server(binary="tests/fake_idp", env={"FAKE_IDP_KEY": _key_file()}) as idp:
        with server(binary="tests/auth_client",
                    env={"AUTH_IDP": "http://127.0.0.1:%d" % idp}) as cli:
            yield idp, cli


def _get(port, path, cookie=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        r = c.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        c.close()


def _header(headers, name):
    return [v for k, v in headers if k.lower() == name.lower()]


def _cookies(headers):
    """name -> value of the Set-Cookie headers (value "" for a cleared one)."""
    out = {}
    for v in _header(headers, "Set-Cookie"):
        nv = v.split(";", 1)[0]
        name, _, value = nv.partition("=")
        out[name.strip()] = value.strip().strip('"')
    return out


def _path_of(url):
    u = urllib.parse.urlsplit(url)
    return u.path + ("?" + u.query if u.query else "")


def _login(idp, cli, provider, mode=None, tweak=None):
    """Login at the client, then authorize at the provider. Returns (callback path, state
    cookie header)."""
    st, hd, _ = _get(cli, "/login/" + provider)
    assert st == 302, st
    loc = _header(hd, "Location")[0]
    assert loc.startswith("http://127.0.0.1:%d/authorize?" % idp), loc
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
    assert q["response_type"] == ["code"] and q["client_id"] == ["client1"], q
    assert q["code_challenge_method"] == ["S256"] and len(q["state"][0]) >= 32, q
    cookies = _cookies(hd)
    assert len(cookies) == 1, hd
    name, value = next(iter(cookies.items()))
    sc = [v for v in _header(hd, "Set-Cookie") if v.startswith(name + "=")][0]
    assert "httponly" in sc.lower() and "samesite=lax" in sc.lower(), sc
    if mode:
        loc += "&mode=" + mode
    if tweak:
        loc = tweak(loc)
    st, hd, _ = _get(idp, _path_of(loc))
    assert st == 302, st
    back = _header(hd, "Location")[0]
    assert back.startswith("http://127.0.0.1:%d/callback/%s?" % (cli, provider)), back
    return _path_of(back), "%s=%s" % (name, value)


def _sign_in(idp, cli, provider, mode=None, tweak=None):
    path, cookie = _login(idp, cli, provider, mode, tweak)
    st, hd, body = _get(cli, path, cookie)
    return st, hd, body, path, cookie


def _signed_in(st, hd, body):
    assert st == 200, (st, body)
    session = _cookies(hd).get("tp_session")
    assert session, hd
    return json.loads(body), "tp_session=" + session


def _refused(cli, st, hd, status, log_text):
    assert st == status, st
    assert "tp_session" not in _cookies(hd), hd
    err = harness.wait_stderr(cli, log_text)
    assert log_text in err, err[-2000:]


def test_auth_oidc_success():
    with _servers() as (idp, cli):
        user, session = _signed_in(*_sign_in(idp, cli, "oidc")[:3])
        assert user["sub"] == "user-42" and user["email"] == "ada@example.com", user
        assert user["access_token"].startswith("at-"), user
        assert user["id_token_claims"]["iss"] == "http://127.0.0.1:%d" % idp, user
        assert user["id_token_claims"]["aud"] == "client1", user
        st, _, body = _get(cli, "/me", session)
        assert st == 200 and json.loads(body) == {"provider": "oidc", "name": "Ada Lovelace"}
        # the discovery document and the JWKS are cached: a second sign-in works as well
        user, _ = _signed_in(*_sign_in(idp, cli, "oidc")[:3])
        assert user["sub"] == "user-42"
        st, hd, _ = _get(cli, "/logout", session)
        assert st == 200 and _cookies(hd).get("tp_session") == "", hd


def test_auth_oidc_claims_and_hs256():
    with _servers() as (idp, cli):
        user, _ = _signed_in(*_sign_in(idp, cli, "oidc-claims")[:3])
        assert user["name"] == "Ada Lovelace" and user["sub"] == "user-42", user
        user, _ = _signed_in(*_sign_in(idp, cli, "oidc-claims", mode="hs256")[:3])
        assert user["sub"] == "user-42", user


def test_auth_github_google_facebook_success():
    with _servers() as (idp, cli):
        user, session = _signed_in(*_sign_in(idp, cli, "github")[:3])
        assert user["login"] == "octocat" and user["id"] == 583231, user
        assert user["access_token"].startswith("at-"), user
        st, _, body = _get(cli, "/me", session)
        assert json.loads(body) == {"provider": "github", "name": "The Octocat"}, body
        user, _ = _signed_in(*_sign_in(idp, cli, "google")[:3])
        assert user["email"] == "grace@example.com" and user["id"] == "1234567890", user
        user, _ = _signed_in(*_sign_in(idp, cli, "facebook")[:3])
        assert user["name"] == "Margaret Hamilton", user


def test_auth_forged_state_refused():
    with _servers() as (idp, cli):
        path, cookie = _login(idp, cli, "github")
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        forged = "/callback/github?" + urllib.parse.urlencode(
            {"code": q["code"][0], "state": "attacker-chosen-state"})
        st, hd, _ = _get(cli, forged, cookie)
        _refused(cli, st, hd, 400, "OAuth state mismatch")
        # the attacker's own state cookie with the victim's code: a cookie from another
        # sign-in does not match either
        path2, cookie2 = _login(idp, cli, "github")
        st, hd, _ = _get(cli, path, cookie2)
        _refused(cli, st, hd, 400, "OAuth state mismatch")
        # a forged provider refusal (?error= without the browser's state) is no refusal
        st, hd, _ = _get(cli, "/callback/github?error=access_denied")
        _refused(cli, st, hd, 400, "OAuth state cookie missing")


def test_auth_missing_state_cookie_refused():
    with _servers() as (idp, cli):
        path, cookie = _login(idp, cli, "oidc")
        st, hd, _ = _get(cli, path)
        _refused(cli, st, hd, 400, "OAuth state cookie missing")
        # a state cookie whose signature was tampered with is no cookie at all
        name, value = cookie.split("=", 1)
        st, hd, _ = _get(cli, path, "%s=%s" % (name, value[:-2] + "00"))
        _refused(cli, st, hd, 400, "OAuth state cookie missing")


def test_auth_replayed_code_refused():
    with _servers() as (idp, cli):
        st, hd, body, path, cookie = _sign_in(idp, cli, "github")
        _signed_in(st, hd, body)
        assert _cookies(hd).get("tp_oauth_github") == "", hd  # the state cookie is cleared
        st, hd, _ = _get(cli, path, cookie)  # the same redirect again, the old cookie kept
        _refused(cli, st, hd, 500, "code already used")
        assert "code already used" in harness.wait_stderr(idp, "code already used")


def test_auth_tampered_id_token_refused():
    cases = [("tamper", "ID token: bad RS256 signature"),
             ("none", "ID token: algorithm none refused"),
             ("aud", "ID token: wrong audience"),
             ("expired", "ID token: expired"),
             ("nonce", "ID token: wrong nonce")]
    with _servers() as (idp, cli):
        for mode, text in cases:
            st, hd, body, _, _ = _sign_in(idp, cli, "oidc", mode=mode)
            _refused(cli, st, hd, 500, text)


def test_auth_pkce_mismatch_refused():
    def other_challenge(url):
        u = urllib.parse.urlsplit(url)
        q = urllib.parse.parse_qsl(u.query)
        # RFC 7636 appendix B's challenge: its verifier is not the one in the state cookie
        q = [(k, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" if k == "code_challenge" else v)
             for k, v in q]
        return u._replace(query=urllib.parse.urlencode(q)).geturl()
    with _servers() as (idp, cli):
        st, hd, _, _, _ = _sign_in(idp, cli, "oidc", tweak=other_challenge)
        _refused(cli, st, hd, 500, "PKCE verifier mismatch")


def test_auth_provider_denial_refused():
    with _servers() as (idp, cli):
        st, hd, _, _, _ = _sign_in(idp, cli, "google", mode="deny")
        _refused(cli, st, hd, 500, "the provider refused: access_denied")


def test_auth_session_cookie_forged_refused():
    with _servers() as (idp, cli):
        _, session = _signed_in(*_sign_in(idp, cli, "github")[:3])
        assert _get(cli, "/me", session)[0] == 200
        name, value = session.split("=", 1)
        parts = value.split("|")
        # version 2: 2|1:0|10:time|len:name|len:base64 value|signature; another user's value
        import base64
        evil = base64.b64encode(b'{"provider":"github","name":"admin"}').decode()
        parts[4] = "%d:%s" % (len(evil), evil)
        for forged in ["|".join(parts), value[:-1] + ("0" if value[-1] != "0" else "1"),
                       '{"provider":"github","name":"admin"}']:
            st, _, _ = _get(cli, "/me", "%s=%s" % (name, forged))
            assert st == 403, (forged, st)


def test_auth_session_fits_a_browser_cookie():
    """Every session the module accepts fits a browser's 4096-byte cookie (a larger one is
    refused with -EMSGSIZE, not dropped by the browser)."""
    with _servers() as (idp, cli):
        refused = 0
        for n in (100, 2000, 2700, 2900, 3400, 5000):
            st, hd, _ = _get(cli, "/session?bytes=%d" % n)
            if st == 413:
                refused += 1
                continue
            assert st == 200, (n, st)
            sets = [v for k, v in hd if k.lower() == "set-cookie"]
            assert sets and all(len(v) <= 4096 for v in sets), (n, [len(v) for v in sets])
        assert refused >= 2, "sessions of 3400 and 5000 bytes must be refused"


def _login1(idp, cli):
    """OAuth 1.0a: login at the client (it fetches a request token), authorize at the
    provider. Returns (callback path, request token cookie header)."""
    st, hd, _ = _get(cli, "/login/oauth1")
    assert st == 302, st
    loc = _header(hd, "Location")[0]
    assert loc.startswith("http://127.0.0.1:%d/oauth1/authorize?oauth_token=rt-" % idp), loc
    (name, value), = _cookies(hd).items()
    st, hd, _ = _get(idp, _path_of(loc))
    assert st == 302, st
    back = _header(hd, "Location")[0]
    assert back.startswith("http://127.0.0.1:%d/callback/oauth1?oauth_token=" % cli), back
    return _path_of(back), "%s=%s" % (name, value)


def test_auth_oauth1_flow():
    with _servers() as (idp, cli):
        path, cookie = _login1(idp, cli)
        st, hd, body = _get(cli, path, cookie)
        user, session = _signed_in(st, hd, body)
        assert user["screen_name"] == "ada" and user["id"] == 7, user
        tok = user["access_token"]
        assert tok["key"].startswith("at1-") and tok["secret"].startswith("ats1-"), tok
        assert tok["screen_name"] == "ada" and tok["user_id"] == "7", tok
        st, _, body = _get(cli, "/me", session)
        assert json.loads(body) == {"provider": "oauth1", "name": "Ada Lovelace"}, body
        # the same redirect again: the provider refuses the used request token
        st, hd, _ = _get(cli, path, cookie)
        _refused(cli, st, hd, 500, "HTTP 401 from http://127.0.0.1:%d/oauth1/access_token" % idp)
        assert "token used" in harness.wait_stderr(idp, "token used")


def test_auth_oauth1_token_mismatch_refused():
    with _servers() as (idp, cli):
        path, cookie = _login1(idp, cli)
        other_path, _ = _login1(idp, cli)
        st, hd, _ = _get(cli, other_path, cookie)  # another request token than the cookie's
        _refused(cli, st, hd, 400, "OAuth request token does not match the cookie")
        st, hd, _ = _get(cli, path)
        _refused(cli, st, hd, 400, "OAuth request token cookie missing")


def test_auth_client_leaves_mid_flow():
    """The browser goes away while the token endpoint is slow: the sign-in future is
    cancelled, the flow's later steps find it done and end; the app keeps serving (and the
    ASan build sees no leak or use after free when it stops)."""
    import socket
    with _servers() as (idp, cli):
        path, cookie = _login(idp, cli, "oidc", mode="slow")
        s = socket.create_connection(("127.0.0.1", cli), timeout=30)
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nCookie: %s\r\n\r\n"
                   % (path, cli, cookie)).encode())
        assert "slow token answer" in harness.wait_stderr(idp, "slow token answer")
        s.close()
        # the slow answer comes 2 s later and is dropped; meanwhile and afterwards the app
        # signs others in
        user, _ = _signed_in(*_sign_in(idp, cli, "github")[:3])
        assert user["login"] == "octocat"
        assert "slow token answered" in harness.wait_stderr(idp, "slow token answered")
        user, _ = _signed_in(*_sign_in(idp, cli, "oidc")[:3])
        assert user["sub"] == "user-42"


def test_auth_bad_json_and_network_errors():
    with _servers() as (idp, cli):
        st, hd, _, _, _ = _sign_in(idp, cli, "github", mode="badjson")
        _refused(cli, st, hd, 500, "/token answered no JSON")
        st, hd, _, _, _ = _sign_in(idp, cli, "dead")
        _refused(cli, st, hd, 500, "token: Failed to connect to 127.0.0.1 port 1")


def test_auth_oidc_key_rotation():
    """The provider signs with a new key after the client cached its JWK set: the unknown kid
    makes the client fetch the set again, once, and the token verifies."""
    with _servers() as (idp, cli):
        user, _ = _signed_in(*_sign_in(idp, cli, "oidc")[:3])  # the set {k1} is cached
        user, _ = _signed_in(*_sign_in(idp, cli, "oidc", mode="rotate")[:3])
        assert user["sub"] == "user-42", user
