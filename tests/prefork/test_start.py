"""Starting the server: workers, titles, --procs, files, the command line, bad apps at start,
--config, --user/--group (§9.9 row 1, §9.5 startup)."""
import grp
import os
import pwd
import re
import resource
import signal
import socket
import tempfile
import time

import portfile
import prefork
import testrun
from prefork import (server, app_path, binary, body, start_fails, check_one_error_line,
                     read_cmdline, TITLE_MASTER, LOG_LINE, SERVING)


def test_start_procs4_titles_and_files():
    with server(procs=4) as s:
        # The port file is written once every worker of generation 1 is READY: no waiting.
        kids = s.children()
        ws = s.workers()
        assert len(kids) == 4 and len(ws) == 4, "children of the master right after the port " \
            "file: %r" % kids
        assert sorted(w.slot for w in ws) == [0, 1, 2, 3], ws
        assert all(w.gen == 1 for w in ws), ws
        for pid, cmd in kids:
            assert re.fullmatch(r"tornado-prefork: worker\[\d\] gen=1", cmd), \
                "worker title %r (pid %d)" % (cmd, pid)
        title = read_cmdline(s.pid)
        assert TITLE_MASTER.match(title) and title.strip() == "tornado-prefork: master", \
            "master title %r" % title
        with open(s.pid_file) as f:
            assert f.read().strip() == str(s.pid), "pid file does not hold the master's pid"
        # Two requests on one keep-alive connection: once the second is answered, the worker
        # has finished the loop iteration of the first, so its access line (were there one)
        # is in the log.
        with prefork.connect(s.port, timeout=30) as c:
            for _ in range(2):
                c.request("GET", "/")
                r = c.read_response()
                assert r.status == 200 and r.body == b"v1", r
        m = s.wait_log(SERVING.pattern, 30)
        assert m.group(1) == "1" and m.group(2) == "4", m.group(0)
        assert "GET /" not in s.log(), "access lines written with --no-access-log"


def test_start_procs_auto_taskset_one_cpu():
    with server(procs="auto", prefix=("taskset", "-c", "0")) as s:
        ws = s.wait_workers(1, gen=1, timeout=30)
        assert ws[0].slot == 0
        assert body(s.port) == "v1"


def test_start_procs_auto_all_cpus():
    n = len(os.sched_getaffinity(0))
    with server(procs="auto") as s:
        s.wait_workers(n, gen=1, timeout=30)


def test_start_log_format_and_worker_prefix():
    with server("--access-log", procs=2) as s:
        # Fresh connections until both workers answered (which one accepts is the kernel's
        # choice).
        seen = set()
        testrun.wait_until(lambda: seen.add(body(s.port, "/pid")) or len(seen) == 2, 60,
                           "an answer from each of the 2 workers", interval=0)
        log = s.log()
        for k in (0, 1):
            s.wait_log(r"^\[[DIWEC] [^\]]*\] worker\[%d\] " % k, 30, since=0)
        text = s.log()
        bad = [ln for ln in text.splitlines() if ln.strip() and not LOG_LINE.match(ln)]
        assert not bad, "log lines not in the Tornado format: %r" % bad[:5]
        assert "generation 1 serving (2 workers, boot " in log, log[-800:]


def test_start_pid_and_port_files_and_dash_underscore_options():
    with server("--boot_timeout=10", "--worker-timeout=10", "--max_requests=0", "--backlog=64",
                procs=2) as s:
        with open(s.port_file) as f:
            assert f.read().strip() == str(s.port)
        s.wait_workers(2, gen=1, timeout=30)
        assert body(s.port) == "v1"


def test_two_ports():
    # A fixed second port (one the kernel picked and that stays reserved for us) beside
    # --port=0; test_two_ephemeral_ports has two --port=0.
    with portfile.reserved_port() as other, server("--port=0", "--port=%d" % other,
                                                   procs=2) as s:
        ports = prefork.listen_ports(s.pid)
        assert ports == {s.port, other}, \
            "the master listens on %r with --port=0 --port=%d (port file %d)" % (
                ports, other, s.port)
        for p in ports:
            assert body(p) == "v1"
        s.reload("app_v2.so")
        for p in ports:
            testrun.wait_until(lambda: body(p) == "v2", 30,
                               "port %d serving the new generation" % p)


def test_two_ephemeral_ports():
    # Each --port=0 gets a free port of its own (it got the first one's, which failed to
    # bind); with --reuseport every worker slot listens on those same two.
    for flags in ((), ("--reuseport",)):
        with server("--port=0", "--port=0", *flags, procs=2) as s:
            ports = prefork.listen_ports(s.pid)
            assert len(ports) == 2 and s.port in ports, \
                "the master listens on %r with two --port=0 %r (port file %d)" % (
                    ports, flags, s.port)
            for p in ports:
                assert body(p) == "v1"


def test_http_option_idle_connection_timeout():
    with server("--idle_connection_timeout=1", procs=2) as s:
        c = socket.create_connection(("127.0.0.1", s.port), timeout=15)
        t0 = time.monotonic()
        try:
            data = c.recv(100)
        except ConnectionResetError:
            data = b""
        dt = time.monotonic() - t0
        c.close()
        # At least the timeout; at most 10 times it (a loaded machine is slow to wake us).
        assert data == b"" and 0.5 <= dt <= 10, \
            "idle connection closed after %.1f s (got %r) with --idle_connection_timeout=1" % (
                dt, data)


def test_help_and_version():
    rc, out, err = prefork.run_cmd([binary(), "--help"], timeout=30)
    assert rc == 0, "--help exit %r: %r" % (rc, err[-300:])
    assert "procs" in out + err, "--help does not mention --procs: %r" % (out + err)[:500]
    rc, out, err = prefork.run_cmd([binary(), "--version"], timeout=30)
    assert rc == 0, "--version exit %r: %r" % (rc, err[-300:])
    assert re.search(r"\d", out + err), "--version prints no version: %r" % (out + err)


BAD_COMMAND_LINES = [
    ("unknown option", ["--no-such-option=1"]),
    ("procs not a number", ["--procs=many"]),
    ("port out of range", ["--port=99999"]),
    ("port without a value", ["--port"]),
    ("bad boolean", ["--reuseport=maybe"]),
    ("worker timeout not a number", ["--worker-timeout=soon"]),
    ("max requests not a number", ["--max-requests=lots"]),
    ("boot timeout not a number", ["--boot-timeout=x"]),
    ("HTTP option with a bad value", ["--idle_connection_timeout=abc"]),
]


def test_bad_command_lines_exit_2():
    app = app_path("app_v1.so")
    problems = []
    for what, args in BAD_COMMAND_LINES:
        full = ["--address=127.0.0.1"] + ([] if "--port" in args[0] else ["--port=0"]) + args
        rc, lines, dt, _ = start_fails(full + [app], timeout=30)
        try:
            check_one_error_line(rc, lines, 2, "%s (%s)" % (what, " ".join(args)))
        except AssertionError as e:
            problems.append(str(e))
    # No APP.so at all.
    rc, lines, dt, _ = start_fails(["--address=127.0.0.1", "--port=0"], timeout=30)
    try:
        check_one_error_line(rc, lines, 2, "no APP.so argument")
    except AssertionError as e:
        problems.append(str(e))
    assert not problems, "\n".join(problems)


BAD_APPS = ["missing", "not_elf", "broken_no_symbol", "broken_abi", "broken_init_fails",
            "broken_init_crashes", "broken_init_hangs"]


def _bad_app_test(name):
    def test():
        d = tempfile.mkdtemp(prefix="tp-prefork-bad-")
        try:
            app = os.path.join(d, "app.so")
            if name != "missing":
                import shutil
                shutil.copyfile(app_path(name + ".so"), app)
            port_file = os.path.join(d, "port")
            # A hanging init is ended by the boot timeout (2 s); every other failure is seen
            # at once, so it gets a boot timeout it must not need (60 s).
            boot = 2 if name == "broken_init_hangs" else 60
            args = ["--address=127.0.0.1", "--port=0", "--procs=2", "--boot-timeout=%d" % boot,
                    "--port-file=" + port_file, "--pid-file=" + os.path.join(d, "pid"),
                    "--log-file=" + os.path.join(d, "log"), app]
            rc, lines, dt, _ = start_fails(args, timeout=90)
            check_one_error_line(rc, lines, 1, "start with %s" % name)
            assert not os.path.exists(port_file), "port file written although the start failed"
            if name == "broken_init_hangs":
                assert 1.5 <= dt <= 20, "init hangs: exit after %.1f s with --boot-timeout=2" % dt
            else:
                assert dt < 30, "%s: exit after %.1f s, as if the boot timeout (%d s) had to " \
                    "end it" % (name, dt, boot)
        finally:
            import shutil
            shutil.rmtree(d, ignore_errors=True)
    test.__name__ = "test_start_bad_app_" + name
    return test


for _n in BAD_APPS:
    globals()["test_start_bad_app_" + _n] = _bad_app_test(_n)
del _n


def test_config_file():
    d = tempfile.mkdtemp(prefix="tp-prefork-conf-")
    cfg = os.path.join(d, "prefork.conf")
    with open(cfg, "w") as f:
        f.write("# prefork test config\n\nprocs = 3\n"
                "# a comment between options\nworker_timeout = 10\nboot_timeout = 10\n")
    try:
        with server("--config=" + cfg, procs=None) as s:
            s.wait_workers(3, gen=1, timeout=30)
            assert body(s.port) == "v1"
    finally:
        import shutil
        shutil.rmtree(d, ignore_errors=True)


def test_config_file_errors():
    d = tempfile.mkdtemp(prefix="tp-prefork-conf-")
    problems = []
    try:
        app = app_path("app_v1.so")
        for what, text in (("unknown name", "no_such_option = 3\n"),
                           ("bad value", "procs = many\n"),
                           ("no '='", "procs 3\n")):
            cfg = os.path.join(d, "bad.conf")
            with open(cfg, "w") as f:
                f.write("# bad\n" + text)
            rc, lines, dt, _ = start_fails(["--address=127.0.0.1", "--port=0",
                                            "--config=" + cfg, app], timeout=30)
            try:
                check_one_error_line(rc, lines, (1, 2), "config with %s" % what)
            except AssertionError as e:
                problems.append(str(e))
        rc, lines, dt, _ = start_fails(["--address=127.0.0.1", "--port=0",
                                        "--config=" + os.path.join(d, "missing.conf"), app],
                                       timeout=30)
        try:
            check_one_error_line(rc, lines, (1, 2), "missing config file")
        except AssertionError as e:
            problems.append(str(e))
    finally:
        import shutil
        shutil.rmtree(d, ignore_errors=True)
    assert not problems, "\n".join(problems)


def test_user_group_unknown_refused():
    app = app_path("app_v1.so")
    problems = []
    for flag in ("--user=tp-no-such-user-x9", "--group=tp-no-such-group-x9"):
        rc, lines, dt, _ = start_fails(["--address=127.0.0.1", "--port=0", flag, app],
                                       timeout=30)
        try:
            check_one_error_line(rc, lines, (1, 2), flag)
        except AssertionError as e:
            problems.append(str(e))
    assert not problems, "\n".join(problems)


def test_user_group_drop_privileges():
    if os.geteuid() != 0:
        raise prefork.Skip("needs root")
    try:
        pw = pwd.getpwnam("nobody")
        group = grp.getgrgid(pw.pw_gid).gr_name
    except KeyError:
        raise prefork.Skip("no user nobody")
    # The temp dir must be readable by nobody (the master rereads app.so on reload).
    with server("--user=nobody", "--group=" + group, procs=2, dir_mode=0o755) as s:
        ws = s.wait_workers(2, gen=1, timeout=30)
        for w in ws:
            with open("/proc/%d/status" % w.pid) as f:
                uids = [ln.split()[1:] for ln in f if ln.startswith(("Uid:", "Gid:"))]
            assert uids[0] == [str(pw.pw_uid)] * 4 and uids[1] == [str(pw.pw_gid)] * 4, \
                "worker[%d] runs as uid/gid %r" % (w.slot, uids)
        got = body(s.port)
        assert got == "v1", "before the reload: %r" % got
        s.reload("app_v2.so")
        s.settle()
        got = body(s.port)
        assert got == "v2", "after the reload: %r" % got


def test_hup_during_first_boot_reloads_once_serving():
    """A HUP before the first generation is READY (with --user the port file is written right
    after binding, so a supervisor may well send one) is deferred, then done: it used to wait
    for another trigger that never came."""
    with server(procs=2, wait=False, extra_env={"PREFORK_APP_INIT_MS": "1500"}) as s:
        s.wait_log(r"tornado-prefork master pid %d:" % s.pid, 30, since=0)
        s.swap_app("app_v2.so")
        s.signal(signal.SIGHUP)
        s.wait_log(r"reload \(SIGHUP\) deferred: the first generation is booting", 30, since=0)
        s.wait_started()
        s.wait_log(r"generation 2 serving", 60, since=0, fail_regex=prefork.FAILED.pattern)
        s.settle()
        assert body(s.port) == "v2"


def test_logging_warning_level():
    with server("--logging=warning", procs=2) as s:
        ws = s.wait_workers(2, gen=1)
        assert body(s.port) == "v1"
        os.kill(ws[0].pid, signal.SIGSEGV)
        s.wait_respawn(0, ws[0].pid, 30)
        s.wait_log(r"worker\[0\] pid %d gen 1 exited on signal SIGSEGV" % ws[0].pid, 30, since=0)
        info = [ln for ln in s.log().splitlines() if ln.startswith("[I ")]
        assert not info, "info lines with --logging=warning: %r" % info[:3]


def nofile_limits(pid):
    """(soft, hard) of 'Max open files' in /proc/PID/limits."""
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return soft, hard
    raise AssertionError("no 'Max open files' in /proc/%d/limits" % pid)


def test_open_files_limit_raised_to_hard():
    # Started with a soft limit of 1024 under a higher hard one, the master raises the soft
    # limit to the hard one (every connection is a file) and its workers inherit it.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 1024:
        raise AssertionError("this test needs a hard RLIMIT_NOFILE above 1024 (have %d)" % hard)
    hard_text = "unlimited" if hard == resource.RLIM_INFINITY else str(hard)
    with server(procs=2, prefix=("prlimit", "--nofile=1024:" + hard_text, "--")) as s:
        for pid in [s.pid] + [p for p, _ in s.children()]:
            assert nofile_limits(pid) == (hard_text, hard_text), (pid, nofile_limits(pid))
        s.wait_log("open files limit: ", 30)
