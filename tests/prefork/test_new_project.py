"""`make install PREFIX=tmp`, then `tornado-prefork new` from there, then the new project's own
build, its tests and the installed server on its app.so: what README.md's quick start for an
app author says, done against a temporary prefix."""
import os
import shutil
import signal
import subprocess
import tempfile

import portfile
import prefork
import testrun

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def make_vars():
    """The make variables that select prefork.BUILD (build, build/asan, build/poll), so that
    `make install` reuses that build instead of rebuilding it with other flags."""
    rel = os.path.relpath(prefork.BUILD, REPO)
    if rel == os.path.join("build", "asan"):
        return ["ASAN=1"]
    if rel == os.path.join("build", "poll"):
        return ["POLLER=poll"]
    return [] if rel == "build" else ["BUILD=" + prefork.BUILD]


def run_ok(args, cwd, env, timeout=300.0):
    p = prefork.spawn(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        prefork.kill_tree(p.pid, popen=p)
        raise AssertionError("%s: still running after %.0f s" % (" ".join(args), timeout))
    text = out.decode("utf-8", "replace")
    assert p.returncode == 0, "%s (in %s) exited %d:\n%s" % (" ".join(args), cwd, p.returncode,
                                                              text[-3000:])
    return text


def clean_env(prefix):
    """The environment without the outer make's (no jobserver fds to inherit), with the
    temporary prefix first in PATH and PKG_CONFIG_PATH."""
    env = prefork.env()
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(k, None)
    env["PATH"] = os.path.join(prefix, "bin") + os.pathsep + env.get("PATH", "")
    env["PKG_CONFIG_PATH"] = os.path.join(prefix, "lib", "pkgconfig")
    env.pop("CFLAGS", None)  # the repository's make adds it to its flags: a rebuild
    return env


def project_env(env):
    """The project's make: with the ASan build the installed library is instrumented, so is
    the app's test binary."""
    env = dict(env)
    if make_vars() == ["ASAN=1"]:
        env["CFLAGS"] = "-O1 -g -fsanitize=address,undefined"
    return env


@prefork.timeout(600)
def test_new_project_install_build_test_serve():
    tmp = tempfile.mkdtemp(prefix="tp-new-")
    try:
        prefix = os.path.join(tmp, "prefix")
        env = clean_env(prefix)
        run_ok(["make", "install", "PREFIX=" + prefix] + make_vars(), REPO, env)
        exe = os.path.join(prefix, "bin", "tornado-prefork")
        assert os.access(exe, os.X_OK), "make install put no bin/tornado-prefork"
        for h in ("tp.h", "tp_testing.h", "web/testing/testing.h", "http/client/client.h"):
            assert os.path.exists(os.path.join(prefix, "include", "tp", h)), h
        app = os.path.join(tmp, "myapp")
        out = run_ok([exe, "new", app], tmp, env)
        assert "created the app myapp" in out, out
        files = sorted(os.path.relpath(os.path.join(d, f), app)
                       for d, _, fs in os.walk(app) for f in fs)
        assert files == ["Makefile", "README.md", "app.c", "templates/index.html",
                         "test_app.c"], files
        # docs/testing.md shows this very test file.
        with open(os.path.join(app, "test_app.c")) as f, \
                open(os.path.join(REPO, "docs", "testing.md")) as d:
            assert f.read() in d.read(), "docs/testing.md does not show the generated test_app.c"
        # A second `new` into the now non-empty directory refuses, touching nothing.
        rc, _, err = prefork.run_cmd([exe, "new", app])
        assert rc == 1 and "exists and is not empty" in err, (rc, err)
        penv = project_env(env)
        run_ok(["make"], app, penv)
        out = run_ok(["make", "test"], app, penv)
        assert "100%: Checks: 2, Failures: 0, Errors: 0" in out, out
        serve_and_fetch(exe, app, env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def serve_and_fetch(exe, app, env):
    """tornado-prefork --procs=auto app.so from the project's directory: / is the page."""
    port_file = os.path.join(app, "port")
    with open(os.path.join(app, "server.log"), "wb") as log:
        p = prefork.spawn([exe, "--procs=auto", "--address=127.0.0.1", "--port=0",
                           "--port-file=" + port_file, "app.so"], cwd=app, env=env,
                          stdout=log, stderr=log)
    try:
        port = testrun.wait_port_file(port_file, p, 60)
        assert port, "the server did not start: %s" % open(os.path.join(app, "server.log")).read()
        r = prefork.get(port, "/")
        assert r.status == 200, r
        assert b"<h1>Hello from myapp</h1>" in r.body, r.body
        assert b"<li>Tornado&#x27;s API in C</li>" in r.body, r.body
        assert prefork.get(port, "/nowhere").status == 404
        p.send_signal(signal.SIGTERM)
        assert p.wait(60) == 0, "the master exited %r" % p.returncode
    finally:
        if p.poll() is None:
            prefork.kill_tree(p.pid, popen=p)
