"""An app.so and the server each see their own globals (issue 10: no globals in the public
symbol table). tests/apps/globals_app.c defines M, W, L, A and loop, the names of the master's,
the worker's, the logger's and autoreload's state, built like a user's app (default
visibility): a name the server exports would bind the app's references to the server's
object. Until issue 10 tornado-prefork exported the master's state as M, and this app's init
read the master's bytes instead of its own 1001."""
import os
import re
import shutil
import signal

from prefork import server, body, binary, run_cmd, Skip, BUILD

APP_INIT = "init M=1001 W=2002:app-W L=3003 A=4004 loop=app-loop"
APP_NOW = "now M=1002 W=2003:app-W L=3004 A=4005 loop=app-loop-set"
NAMES = ("M", "W", "L", "A", "log", "loop")
# Names the toolchain defines in every executable or library.
TOOLCHAIN = re.compile(r"^_|^data_start$")


def exported(path):
    """The names a file's dynamic symbol table defines."""
    if not shutil.which("nm"):
        raise Skip("nm (binutils) is not installed")
    rc, out, err = run_cmd(["nm", "-D", "--defined-only", path])
    assert rc == 0, "nm -D %s: %s" % (path, err)
    return {line.split()[-1] for line in out.splitlines() if len(line.split()) == 3}


def check_globals_body(port, what):
    text = body(port)
    lines = text.splitlines()
    assert lines == [APP_INIT, APP_NOW], (
        "%s: the app does not see its own globals:\n%s\nexpected:\n%s\n%s"
        % (what, text, APP_INIT, APP_NOW))


def test_only_the_public_api_is_exported():
    for path in (binary(), os.path.join(BUILD, "libtp.so")):
        names = exported(path)
        ours = sorted(n for n in names if n in NAMES)
        internal = sorted(n for n in names if n.startswith("tp__"))
        other = sorted(n for n in names if not n.startswith("tp_") and not TOOLCHAIN.match(n))
        assert not ours and not internal and not other, \
            "%s exports %r (state), %r (internal) and %r (not the tp_ API)" % (
                os.path.basename(path), ours, internal[:10], other[:10])


def test_app_and_server_see_their_own_globals():
    with server(app="globals_app.so", procs=2) as s:
        ws = s.wait_workers(2, gen=1)
        for slot in (0, 1):
            m = s.wait_log(r"worker\[%d\] globals app: init read (.*)" % slot, 10, since=0)
            assert "init " + m.group(1) == APP_INIT, m.group(0)
        check_globals_body(s.port, "generation 1")
        check_globals_body(s.port, "generation 1, second request")
        assert int(body(s.port, "/pid")) in {w.pid for w in ws}
        # The master's state is its own: a reload starts a new generation from a snapshot,
        # and the log still works after a reopen.
        assert s.hup(timeout=30) == 2
        s.settle()
        check_globals_body(s.port, "generation 2")
        s.mark()
        s.signal(signal.SIGUSR1)
        s.wait_log(r"log files reopened", 10)
        check_globals_body(s.port, "after USR1")


def test_app_global_named_log():
    """A global named log, which libm (in the server's global scope, as libc) defines as a
    function: the app is linked with -Bsymbolic (APP_LDFLAGS, pkg-config's app_ldflags), so
    its references bind to its own variable (without it, log++ in init writes into libm's
    code and the worker dies with SIGSEGV)."""
    with server(app="globals_log_app.so", procs=1) as s:
        s.wait_workers(1, gen=1)
        text = body(s.port)
        assert text.splitlines() == [APP_INIT + " log=5005", APP_NOW + " log=5006"], text
