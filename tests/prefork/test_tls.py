"""TLS in the prefork server: session resumption across workers (ticket keys made and rotated
by the master), certificates re-read on HUP (a bad one rolled back), wrk over https through
reloads, curl and openssl s_client. Certificates are made by the openssl CLI in a temp dir:
a CA and server certificates for localhost/127.0.0.1 told apart by their serial numbers."""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading

import testrun
from prefork import (Server, server, run_cmd, wrk, wrk_stop_clean, start_fails,
                     check_one_error_line,
                     app_path, slow, timeout)

ROTATED = r"session ticket keys rotated \((\d+)\)"


class Certs:
    """A CA and server certificates in a temp dir; cert(serial) makes one (and its key)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tp-tls-")
        self.ca = self.path("ca.pem")
        self.ca_key = self.path("ca.key")
        self.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-nodes", "-keyout", self.ca_key, "-out", self.ca, "-days", "2",
                     "-subj", "/CN=tornado-prefork test CA")
        with open(self.path("ext"), "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")

    def path(self, name):
        return os.path.join(self.dir, name)

    def openssl(self, *args):
        rc, out, err = run_cmd(["openssl"] + list(args), timeout=60)
        assert rc == 0, "openssl %s: %s" % (" ".join(args), err)

    def cert(self, serial):
        """Makes s<serial>.pem and s<serial>.key; returns their paths."""
        pem, key, csr = (self.path("s%d.%s" % (serial, e)) for e in ("pem", "key", "csr"))
        self.openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
        self.openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                     "-set_serial", str(serial), "-days", "2", "-out", pem,
                     "-extfile", self.path("ext"))
        return pem, key

    def install(self, serial_or_files, name="live"):
        """Puts a certificate and key in place as live.pem/live.key by rename (what a renewal
        tool does); returns the flags that point the server at them."""
        pem, key = (serial_or_files if isinstance(serial_or_files, tuple)
                    else self.cert(serial_or_files))
        for src, ext in ((pem, "pem"), (key, "key")):
            tmp = self.path("%s.%s.tmp" % (name, ext))
            shutil.copyfile(src, tmp)
            os.rename(tmp, self.path("%s.%s" % (name, ext)))
        return ("--certfile=" + self.path(name + ".pem"), "--keyfile=" + self.path(name + ".key"))

    def context(self, version=None):
        ctx = ssl.create_default_context(cafile=self.ca)
        if version is not None:
            ctx.minimum_version = ctx.maximum_version = version
        return ctx

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Answer:
    def __init__(self, status, body, reused, session, serial, version):
        self.status, self.body, self.reused = status, body, reused
        self.session, self.serial, self.version = session, serial, version


def fetch(port, ctx, path="/pid", session=None):
    """One HTTPS request on a new connection (Connection: close), resuming session if given."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
            s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                       % path).encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1]) if head else 0
            serial = int(s.getpeercert()["serialNumber"], 16)
            return Answer(status, body.decode(), s.session_reused, s.session, serial,
                          s.version())


def _certs():
    if not shutil.which("openssl"):
        raise AssertionError("the openssl command is not installed")
    return Certs()


def _resume_across_workers(version):
    """A session from one connection resumes on new connections, some of which land on the
    other worker (SO_REUSEPORT spreads them by the client port)."""
    c = _certs()
    try:
        with server(*c.install(1), "--reuseport", procs=2) as s:
            pids = {w.pid for w in s.wait_workers(2, gen=1)}
            ctx = c.context(version)
            first = fetch(s.port, ctx)
            assert first.status == 200 and not first.reused and int(first.body) in pids
            assert first.session.has_ticket, "no session ticket from the server"
            seen = {}

            def other_worker():
                a = fetch(s.port, ctx, session=first.session)
                assert a.status == 200 and a.version == first.version
                assert a.reused, "a new connection to pid %s did not resume" % a.body
                seen[int(a.body)] = seen.get(int(a.body), 0) + 1
                return len(seen.keys() - {int(first.body)})
            testrun.wait_until(other_worker, 60, lambda: "resumed on another worker (%r)"
                               % seen)
            print("     %s: resumed on pids %r (ticket from %s)" % (first.version, seen,
                                                                   first.body), flush=True)
    finally:
        c.cleanup()


def test_resumption_across_workers_tls12():
    _resume_across_workers(ssl.TLSVersion.TLSv1_2)


def test_resumption_across_workers_tls13():
    _resume_across_workers(ssl.TLSVersion.TLSv1_3)


def _rotation_cycle(s, ctx):
    """Returns None when a rotation came at the wrong moment (the caller tries again), else
    checks: a ticket from key period N resumes in period N+1 and not in N+2."""
    s.mark()
    n = int(s.wait_log(ROTATED, timeout=30).group(1))
    old = fetch(s.port, ctx)
    s.mark()
    if int(s.wait_log(ROTATED, timeout=30).group(1)) != n + 1:
        return None
    mark = s.mark()
    within = fetch(s.port, ctx, session=old.session)
    fresh = fetch(s.port, ctx)
    if re.search(ROTATED, s.log()[mark:]):
        return None  # period N+2 began before the resumption: it proves nothing
    assert within.reused, "a ticket of the previous key period did not resume"
    assert not fresh.reused
    s.wait_log(ROTATED, timeout=30, since=mark)
    late = fetch(s.port, ctx, session=old.session)
    assert not late.reused, "a ticket two key periods old still resumed"
    newer = fetch(s.port, ctx, session=fresh.session)
    assert newer.reused, "a ticket of the previous key period did not resume"
    return True


def test_ticket_rotation():
    """--tls-ticket-rotation=2: the master rotates every 2 s; a ticket resumes (on any worker)
    during the next period, not after it."""
    c = _certs()
    try:
        with server(*c.install(1), "--tls-ticket-rotation=2", "--reuseport", procs=2) as s:
            s.wait_workers(2, gen=1)
            ctx = c.context(ssl.TLSVersion.TLSv1_3)
            testrun.wait_until(lambda: _rotation_cycle(s, ctx), 90,
                               "a rotation cycle not disturbed by a late rotation")
    finally:
        c.cleanup()


class Poller:
    """Requests over TLS (new connections, one at a time) in a thread until stopped; counts
    failures and the serials seen."""

    def __init__(self, port, ctx):
        self.port, self.ctx = port, ctx
        self.errors, self.serials, self.count = [], set(), 0
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopping:
            try:
                a = fetch(self.port, self.ctx, path="/")
                if a.status != 200:
                    self.errors.append("status %d" % a.status)
                self.serials.add(a.serial)
                self.count += 1
            except (OSError, ssl.SSLError, ValueError) as e:
                self.errors.append(repr(e))

    def stop(self):
        self.stopping = True
        self.thread.join(60)


def test_hup_new_certificate():
    """A renewed certificate put in place, then HUP: new connections get the new serial; no
    request fails meanwhile."""
    c = _certs()
    try:
        with server(*c.install(1), procs=2) as s:
            s.wait_workers(2, gen=1)
            ctx = c.context()
            assert fetch(s.port, ctx).serial == 1
            p = Poller(s.port, ctx)
            try:
                testrun.wait_until(lambda: p.count >= 5, 60, "requests before the reload")
                c.install(2)
                s.hup()
                testrun.wait_until(lambda: fetch(s.port, ctx).serial == 2, 60,
                                   "the new certificate served")
                n = p.count
                testrun.wait_until(lambda: p.count >= n + 5, 60, "requests after the reload")
            finally:
                p.stop()
            assert not p.errors, "failed requests during the reload: %r" % p.errors[:5]
            assert p.serials == {1, 2}, p.serials
    finally:
        c.cleanup()


def test_hup_bad_certificate_rolls_back():
    """A certificate that does not parse, then a key that does not match the certificate:
    each reload fails at the canary with a line naming the TLS error and the file, and the old
    generation keeps serving the old certificate, also from a worker respawned afterwards. A
    missing certificate fails at the snapshot. Then a good one is served."""
    c = _certs()
    try:
        with server(*c.install(1), procs=2) as s:
            s.wait_workers(2, gen=1)
            ctx = c.context()
            garbage = c.path("garbage.pem")
            with open(garbage, "w") as f:
                f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n")
            good_pem, _ = c.cert(3)
            _, other_key = c.cert(4)
            for files, what in (((garbage, c.path("s3.key")), "unparsable certificate"),
                                ((good_pem, other_key), "key not matching")):
                c.install(files)
                m = s.hup_expect_failure()
                assert m.group(1).startswith("canary"), m.group(0)
                assert re.search(r"(?i)tls|cert|key", m.group(2)), \
                    "the failure does not name the TLS problem (%s): %s" % (what, m.group(0))
                print("     %s: %s" % (what, m.group(0)), flush=True)
                assert fetch(s.port, ctx).serial == 1
                assert s.gen() == 1 or all(w.gen == 1 for w in s.settle())
            # A worker of generation 1 respawned now loads generation 1's copy of the files,
            # not the bad ones on disk: it boots and serves the old certificate.
            old_pid = s.slot_pid(0)
            os.kill(old_pid, signal.SIGKILL)
            new = s.wait_respawn(0, old_pid, 60)
            assert new.gen == 1
            s.wait_workers(2, gen=1)
            testrun.wait_until(lambda: all(fetch(s.port, ctx).serial == 1 for _ in range(4)), 60,
                               "the old certificate served after the respawn")
            # A missing file fails at the snapshot, before any worker starts.
            os.unlink(c.path("live.pem"))
            m = s.hup_expect_failure()
            assert m.group(1) == "snapshot" and "live.pem" in m.group(2), m.group(0)
            c.install((good_pem, c.path("s3.key")))
            s.hup()
            testrun.wait_until(lambda: fetch(s.port, ctx).serial == 3, 60,
                               "the good certificate served after the failed ones")
    finally:
        c.cleanup()


@slow
@timeout(300)
def test_wrk_https_through_reloads():
    """wrk over https (64 keep-alive connections) through 5 reloads, the certificate renewed
    before each: no socket error, no non-2xx answer."""
    c = _certs()
    try:
        with server(*c.install(1), procs=2) as s:
            s.wait_workers(2, gen=1)
            p = wrk(s.port, seconds=600, scheme="https")
            try:
                for i in range(5):
                    testrun.wait_until(lambda: len({w.gen for w in s.workers()}) <= 2, 60,
                                       "at most one old generation draining")
                    c.install(10 + i)
                    s.hup()
                testrun.wait_until(lambda: fetch(s.port, c.context()).serial == 14, 60,
                                   "the last certificate served")
            finally:
                _, n = wrk_stop_clean(p, "over https through 5 reloads", 100)
            assert "reload failed" not in s.log(), s.log_tail()
            print("     wrk https: %d requests through 5 reloads" % n, flush=True)
    finally:
        c.cleanup()


def test_curl_and_s_client():
    """curl --cacert verifies and fetches; openssl s_client verifies, speaks TLS 1.2 and 1.3,
    and resumes a saved session (-sess_out/-sess_in) on a new connection."""
    c = _certs()
    try:
        with server(*c.install(1), procs=2) as s:
            s.wait_workers(2, gen=1)
            url = "https://localhost:%d/" % s.port
            rc, out, err = run_cmd(["curl", "-sS", "--cacert", c.ca, "--resolve",
                                    "localhost:%d:127.0.0.1" % s.port, url])
            assert rc == 0 and out.strip() == "v1", (rc, out, err)
            sess = c.path("sess")
            for version in ("-tls1_2", "-tls1_3"):
                for arg in ("-sess_out", "-sess_in"):
                    p = subprocess.run(
                        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % s.port,
                         "-servername", "localhost", "-CAfile", c.ca, "-verify_return_error",
                         version, arg, sess, "-ign_eof"],
                        input=b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                        capture_output=True, timeout=60)
                    text = p.stdout.decode("utf-8", "replace")
                    assert p.returncode == 0, text + p.stderr.decode()
                    assert "Verify return code: 0 (ok)" in text, text
                    assert "HTTP/1.1 200" in text and "\r\n\r\nv1" in text, text
                    reused = "Reused, TLSv1." in text
                    assert reused == (arg == "-sess_in"), "%s %s:\n%s" % (version, arg, text)
    finally:
        c.cleanup()


def test_start_with_bad_certificate():
    """The first generation: a missing certificate and one that does not parse each end the
    command with exit 1 and one "error: TLS: ..." line naming the file; nothing is left."""
    c = _certs()
    try:
        garbage = c.path("garbage.pem")
        with open(garbage, "w") as f:
            f.write("not a certificate\n")
        for cert, why in ((c.path("missing.pem"), "No such file"), (garbage, "garbage.pem")):
            rc, lines, _, _ = start_fails(["--procs=1", "--address=127.0.0.1", "--port=0",
                                           "--log-file=" + c.path("log"), "--certfile=" + cert,
                                           app_path("app_v1.so")])
            check_one_error_line(rc, lines, 1, "start with certfile %s" % cert)
            assert lines[0].startswith("error: TLS: ") and why in lines[0], lines
    finally:
        c.cleanup()


def test_stop_with_a_handshake_in_progress():
    """A graceful stop while a client sits in its TLS handshake (a ClientHello never sent,
    --handshake-timeout 600): at --shutdown-timeout the worker closes it and exits, rather
    than waiting for the handshake timeout or its whole drain budget (30 s + 5 s)."""
    import time
    c = _certs()
    try:
        s = Server(*c.install(1), "--handshake-timeout=600", "--shutdown-timeout=1", procs=1)
        try:
            s.wait_workers(1, gen=1)
            stalled = socket.create_connection(("127.0.0.1", s.port), timeout=60)
            assert fetch(s.port, c.context()).status == 200  # the worker has accepted it
            t0 = time.monotonic()
            s.signal(signal.SIGTERM)
            rc = s.proc.wait(120)
            dt = time.monotonic() - t0
            assert rc == 0, rc
            assert dt < 20, "stopped %.1f s after TERM with --shutdown-timeout=1" % dt
            stalled.close()
        finally:
            s.kill()
    finally:
        c.cleanup()
