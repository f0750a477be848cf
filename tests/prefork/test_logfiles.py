"""tornado-prefork with a Tornado-style config file (Python literals, read by the library's
parser) and Tornado's log options: the master writes log_file_prefix, each worker slot N its own
PREFIX.wN, rotated by size (PREFIX.wN.1 ...) or by time (PREFIX.wN.YYYY-mm-dd_HH-MM-SS), and
USR1 reopens them (docs/options-and-log.md)."""
import os
import re
import shutil
import signal
import tempfile
import time

import prefork
from prefork import server

LINE = re.compile(r"^\[([DIWEC]) \d{6} \d\d:\d\d:\d\d (\w+):\d+\] (.*)$")


def _config(d, extra):
    cfg = os.path.join(d, "prefork.conf")
    with open(cfg, "w") as f:
        f.write("# written as for Tornado's parse_config_file\n"
                "address = '127.0.0.1'\n"
                "port = [0]\n"
                "port_file = 'port'  # relative to the server's directory\n"
                "pid_file = 'pid'\n"
                "procs = 2\n"
                "reuseport = True  # the kernel spreads connections over both workers\n"
                "access_log = True\n"
                "logging = 'info'\n"
                "shutdown_timeout = 5.0\n"
                "log_file_prefix = 'app.log'\n" + extra)
    return cfg


def _files(s):
    return sorted(n for n in os.listdir(s.dir) if n.startswith("app.log"))


def _read(s, name):
    with open(os.path.join(s.dir, name), "rb") as f:
        return f.read().decode("utf-8", "replace")


def _request_until(s, done, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    n = 0
    while not done():
        assert time.monotonic() < deadline, "%s not seen after %d requests; files %r" % (
            what, n, _files(s))
        r = prefork.get(s.port, "/")
        assert r.status == 200, r
        n += 1
    return n


def _check_worker_file(s, name, slot):
    text = _read(s, name)
    lines = text.splitlines()
    for line in lines:
        m = LINE.match(line)
        assert m, "%s: not a log line: %r" % (name, line)
        assert m.group(3).startswith("worker[%d] " % slot), \
            "%s holds another process's line: %r" % (name, line)
    return lines


def test_config_file_and_size_rotated_worker_files():
    d = tempfile.mkdtemp(prefix="tp-prefork-logs-")
    cfg = _config(d, "log_file_max_size = 2000\nlog_file_num_backups = 2\n")
    try:
        with server("--config=" + cfg, procs=None, defaults=False) as s:
            s.log_path = os.path.join(s.dir, "app.log")
            s.wait_workers(2, gen=1, timeout=30)
            names = ("app.log.w0.2", "app.log.w1.2")
            _request_until(s, lambda: all(os.path.exists(os.path.join(s.dir, n))
                                          for n in names), "two rotations of both worker files")
            files = _files(s)
            # file, file.1, file.2 per worker (num_backups=2), the master's one file.
            assert files == ["app.log", "app.log.w0", "app.log.w0.1", "app.log.w0.2",
                             "app.log.w1", "app.log.w1.1", "app.log.w1.2"], files
            for name in files:
                size = os.path.getsize(os.path.join(s.dir, name))
                assert size < 2000, "%s is %d bytes, max 2000" % (name, size)
            for slot in (0, 1):
                for suffix in ("", ".1", ".2"):
                    lines = _check_worker_file(s, "app.log.w%d%s" % (slot, suffix), slot)
                    if suffix:
                        assert any(" 200 GET / (127.0.0.1) " in ln for ln in lines), suffix
            master = _read(s, "app.log")
            assert "generation 1 serving" in master, master[-500:]
            assert " 200 GET /" not in master, "access lines in the master's file"
            assert not LINE.search(s.stderr()), \
                "log lines on stderr (log_to_stderr is off with a file): %r" % s.stderr()[-300:]
            # USR1: after an outside rename every process reopens its file by name.
            os.rename(os.path.join(s.dir, "app.log.w0"), os.path.join(s.dir, "moved.w0"))
            os.rename(os.path.join(s.dir, "app.log"), os.path.join(s.dir, "moved"))
            os.kill(s.pid, signal.SIGUSR1)
            _request_until(s, lambda: os.path.exists(os.path.join(s.dir, "app.log.w0")),
                           "a fresh app.log.w0 after USR1")
            deadline = time.monotonic() + 30
            while "log files reopened" not in s.log():
                assert time.monotonic() < deadline, "no 'log files reopened' in the new app.log"
                time.sleep(0.05)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_time_rotated_worker_files_and_stderr():
    d = tempfile.mkdtemp(prefix="tp-prefork-logs-")
    cfg = _config(d, "log_rotate_mode = 'time'\nlog_rotate_when = 'S'\n"
                     "log_rotate_interval = 1\nlog_file_num_backups = 3\n"
                     "log_to_stderr = True\n")
    stamped = re.compile(r"^app\.log\.w([01])\.\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d$")
    try:
        with server("--config=" + cfg, procs=None, defaults=False) as s:
            s.log_path = os.path.join(s.dir, "app.log")
            s.wait_workers(2, gen=1, timeout=30)

            def rotated():
                slots = [stamped.match(n).group(1) for n in _files(s) if stamped.match(n)]
                return "0" in slots and "1" in slots
            _request_until(s, rotated, "a time-stamped backup of both worker files")
            for name in _files(s):
                m = stamped.match(name)
                if m:
                    _check_worker_file(s, name, int(m.group(1)))
            # log_to_stderr=True: the lines also reach stderr.
            assert re.search(r"\] worker\[[01]\] 200 GET / ", s.stderr()), s.stderr()[-300:]
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_log_option_errors():
    d = tempfile.mkdtemp(prefix="tp-prefork-logs-")
    try:
        app = prefork.app_path("app_v1.so")
        for what, args in (
                ("bad rotate mode", ["--log-file-prefix=" + os.path.join(d, "x"),
                                     "--log-rotate-mode=weekly"]),
                ("bad when", ["--log-file-prefix=" + os.path.join(d, "x"),
                              "--log-rotate-mode=time", "--log-rotate-when=fortnight"]),
                ("both files", ["--log-file-prefix=" + os.path.join(d, "x"),
                                "--log-file=" + os.path.join(d, "y")]),
                ("unwritable", ["--log-file-prefix=" + os.path.join(d, "no", "such", "x")])):
            rc, lines, dt, _ = prefork.start_fails(["--address=127.0.0.1", "--port=0"] + args +
                                                   [app], timeout=30)
            prefork.check_one_error_line(rc, lines, (1, 2), what)
    finally:
        shutil.rmtree(d, ignore_errors=True)
