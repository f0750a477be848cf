"""Helpers for the black-box tests of build/tornado-prefork (the prefork master/worker server).

run.py sets BUILD and QUICK before importing the test modules, and makes the runner a child
subreaper, so that workers orphaned by a dead master are reparented to it: every process a
test started stays in the runner's process tree and can be found and killed at the end.

Every process started here goes through spawn(), so the runner can kill what a failed or
timed-out test left behind (only those processes, by pid, after checking they descend from
the runner).
"""
import collections
import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.append(os.path.join(REPO, "tests", "blackbox"))
sys.path.append(os.path.join(REPO, "tests", "lib"))
import http_client  # noqa: E402  (tests/blackbox, read only)
import testrun  # noqa: E402

BUILD = os.path.join(REPO, "build")
QUICK = False
NAME = "tornado-prefork"
MYPID = os.getpid()
PIPELINE_LUA = os.path.normpath(os.path.join(REPO, "..", "shared", "bench", "pipeline.lua"))

Worker = collections.namedtuple("Worker", "pid slot gen")
TITLE_MASTER = re.compile(r"^tornado-prefork: master\b")
TITLE_WORKER = re.compile(r"^tornado-prefork: worker\[(\d+)\] gen=(\d+)")
LOG_LINE = re.compile(r"^\[([DIWEC]) (\d{6} \d\d:\d\d:\d\d) ([^\s:\]]+):(\d+)\] (.*)$")
SERVING = re.compile(r"generation (\d+) serving \((\d+) workers?, boot ([\d.]+) ?ms\)")
FAILED = re.compile(r"reload failed at ([^:]+): (.*); still serving generation (\d+)")

_popen = []          # every Popen started by spawn(), for kill_leftovers()
_servers = []        # Server objects not yet stopped or killed
_seen = set()        # every master/worker pid a test observed
_clients = []        # Client objects still running


# -- test decorators and exceptions ------------------------------------------------------------

# Markers and exceptions shared with the other suite (tests/lib/testrun.py).
Skip, ServerFailure, slow, timeout = testrun.Skip, testrun.ServerFailure, testrun.slow, testrun.timeout
known_failure = testrun.known_failure


# -- paths ---------------------------------------------------------------------------------------

def binary():
    path = os.path.join(BUILD, NAME)
    if not os.path.exists(path):
        raise ServerFailure("server missing: %s is not built" % path)
    return path


def app_path(name):
    path = os.path.join(BUILD, "tests", "prefork", name)
    if not os.path.exists(path):
        raise ServerFailure("%s is not built (make prefork-apps)" % path)
    return path


# -- processes ------------------------------------------------------------------------------------

def set_subreaper():
    """Makes this process the reaper of orphaned descendants (PR_SET_CHILD_SUBREAPER)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def env():
    e = dict(os.environ)
    # Signals must kill the workers like in a normal build (the crash tests), so ASan must not
    # turn SIGSEGV into a report and exit 1.
    asan = e.get("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
    e["ASAN_OPTIONS"] = asan + ":handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_abort=0"
    e.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    return e


def spawn(args, **kw):
    kw.setdefault("stdin", subprocess.DEVNULL)
    kw.setdefault("env", env())
    p = subprocess.Popen(args, **kw)
    _popen.append(p)
    return p


def run_cmd(args, timeout=30.0, cwd=None):
    """Runs a command to completion: (rc, stdout, stderr) as text. A command still running
    after timeout is killed (with every process it started) and the test fails."""
    p = spawn(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_tree(p.pid, popen=p)
        out, err = p.communicate()
        raise AssertionError("%r did not exit within %.0f s (killed); stderr: %r"
                             % (" ".join(args), timeout, err.decode("utf-8", "replace")[-500:]))
    return p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def read_cmdline(pid):
    """The process title as text (NULs as spaces), "" for a zombie, None if gone."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data.replace(b"\0", b" ").strip().decode("utf-8", "replace")


def proc_stat(pid):
    """(state, ppid, utime + stime ticks) or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rfind(")") + 2:].split()
    return rest[0], int(rest[1]), int(rest[11]) + int(rest[12])


def signal_pending(pid, sig):
    """True while sig is pending for pid (/proc/PID/status SigPnd or ShdPnd): for a master
    that reads its signals from a signalfd, False once it has read it."""
    try:
        with open("/proc/%d/status" % pid) as f:
            masks = [int(ln.split()[1], 16) for ln in f if ln.startswith(("SigPnd:", "ShdPnd:"))]
    except (OSError, ValueError, IndexError):
        return False
    return any(m & (1 << (int(sig) - 1)) for m in masks)


def cpu_ticks(pid):
    st = proc_stat(pid)
    return st[2] if st else 0


def children(pid):
    out = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def descendants(pid):
    out = []
    todo = [pid]
    while todo and len(out) < 10000:
        p = todo.pop()
        for c in children(p):
            if c not in out:
                out.append(c)
                todo.append(c)
    return out


def ours(pid):
    """True if pid descends from this runner (walks the parent chain)."""
    for _ in range(64):
        if pid == MYPID:
            return True
        if pid <= 1:
            return False
        st = proc_stat(pid)
        if st is None:
            return False
        pid = st[1]
    return False


def is_server_cmdline(cmd):
    if not cmd:
        return False
    return cmd.startswith(NAME) or os.path.basename(cmd.split(" ")[0]) == NAME


def _popen_pids():
    return {p.pid for p in _popen if p.returncode is None}


def reap():
    """Reaps zombie children of the runner that no Popen waits for (workers reparented to the
    subreaper when their master died)."""
    live = _popen_pids()
    for c in children(MYPID):
        if c in live:
            continue
        st = proc_stat(c)
        if st is not None and st[0] in "ZX":
            try:
                os.waitpid(c, os.WNOHANG)
            except ChildProcessError:
                pass


def alive(pid):
    """True while pid runs (a zombie counts as gone, and is reaped if it is ours)."""
    for p in _popen:
        if p.pid == pid and p.returncode is None:
            return p.poll() is None
    st = proc_stat(pid)
    if st is None:
        return False
    if st[0] in "ZX":
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        return False
    return True


def wait_gone(pids, timeout):
    """Waits until none of pids runs; returns those still running."""
    deadline = time.monotonic() + timeout
    while True:
        left = [p for p in pids if alive(p)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


def kill_tree(pid, popen=None):
    """SIGKILL pid, then every process that descended from it (checked to still descend from
    the runner), then reap."""
    tree = descendants(pid)
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    if popen is not None:
        try:
            popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
    for c in tree:
        if ours(c) and alive(c):
            try:
                os.kill(c, signal.SIGKILL)
            except OSError:
                pass
    wait_gone(tree, 10.0)
    reap()


def server_processes():
    """(pid, cmdline) of every live process descending from the runner whose title or binary
    is tornado-prefork, plus any live pid a test saw as a master or worker."""
    out = {}
    for p in descendants(MYPID):
        cmd = read_cmdline(p)
        if is_server_cmdline(cmd) and alive(p):
            out[p] = cmd
    for p in list(_seen):
        cmd = read_cmdline(p)
        if p not in out and is_server_cmdline(cmd) and alive(p):
            st = proc_stat(p)
            if st is not None and (st[1] == 1 or ours(p)):
                out[p] = cmd
    return sorted(out.items())


def kill_leftovers():
    """Stops the client threads and kills every server and helper process a test left
    running."""
    for c in list(_clients):
        c.stop_ev.set()
    _clients[:] = []
    for s in list(_servers):
        s.kill()
    for p in list(_popen):
        if p.returncode is None and p.poll() is None:
            kill_tree(p.pid, popen=p)
    for pid, _cmd in server_processes():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    time.sleep(0.05)
    reap()
    _popen[:] = [p for p in _popen if p.returncode is None]


sanitizer_report = testrun.sanitizer_report


def fd_targets(pid):
    """{fd: link target} of a process."""
    out = {}
    base = "/proc/%d/fd" % pid
    try:
        names = os.listdir(base)
    except OSError:
        return out
    for n in names:
        try:
            out[int(n)] = os.readlink(os.path.join(base, n))
        except OSError:
            pass
    return out


def socket_fds(pid):
    """[(fd, inode)] of the sockets a process holds."""
    out = []
    for fd, t in fd_targets(pid).items():
        m = re.fullmatch(r"socket:\[(\d+)\]", t)
        if m:
            out.append((fd, int(m.group(1))))
    return out


def listen_inodes(port):
    """Inodes of the TCP sockets listening on port (any address)."""
    return {ino for p, ino in testrun.tcp_listeners() if p == port}


def listen_ports(pid):
    """TCP ports a process holds a listening socket for."""
    held = {ino for _, ino in socket_fds(pid)}
    return {p for p, ino in testrun.tcp_listeners() if ino in held}


def vm_rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def file_mappings(pid, exec_only=False):
    """{(dev, inode): path} of the file-backed (executable) mappings of a process."""
    out = {}
    try:
        with open("/proc/%d/maps" % pid) as f:
            for line in f:
                parts = line.split(None, 5)
                if len(parts) < 6 or parts[4] == "0" or (exec_only and "x" not in parts[1]):
                    continue
                path = parts[5].strip()
                if path.startswith("["):
                    continue
                maj, mnr = parts[3].split(":")
                out[(os.makedev(int(maj, 16), int(mnr, 16)), int(parts[4]))] = path
    except OSError:
        pass
    return out


def app_mappings(pid):
    """The executable mappings of a worker that can be its app snapshot: not the server binary
    and not a system library."""
    try:
        exe = os.path.realpath(binary())
    except ServerFailure:
        exe = None
    out = {}
    for key, path in file_mappings(pid, exec_only=True).items():
        p = path.replace(" (deleted)", "")
        if p == exe or p.startswith(("/usr/", "/lib", "/etc/")):
            continue
        out[key] = path
    return out


# -- HTTP ----------------------------------------------------------------------------------------

def get(port, path="/", timeout=30.0):
    return http_client.get(port, path, timeout=timeout)


def body(port, path="/", timeout=30.0):
    r = get(port, path, timeout)
    assert r.status == 200, "GET %s: %r" % (path, r)
    return r.body.decode("latin-1")


class UnixConn(http_client.Conn):
    """http_client.Conn over a unix socket."""

    def __init__(self, path, timeout=30.0):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(path)
        self.port = None
        self.sock = s
        self.buf = b""
        self.eof = False


def connect(port=None, unix=None, timeout=30.0):
    if unix:
        return UnixConn(unix, timeout)
    return http_client.Conn(port, timeout)


def read_after_response(conn, timeout=30.0):
    """After a final response: "fin" (clean EOF), "rst" (reset), "data" or "open"."""
    conn.sock.settimeout(timeout)
    try:
        data = conn.sock.recv(4096)
    except ConnectionResetError:
        return "rst"
    except socket.timeout:
        return "open"
    return "fin" if not data else "data: %r" % data[:100]


class Client:
    """Threads doing sequential requests, each on its own connection, counting every request
    sent and every response received. keepalive: reuse the connection until the server answers
    with Connection: close (then reopen); else one request per connection. A connection refused,
    an EOF or reset before a complete response, a timeout (read_timeout: generous, a loaded
    machine answers slowly) or a bad response is a failure; each failure records when the
    connection of the request that failed was opened. For path /pid, each thread remembers which worker pid its
    connection talks to, and pid_counts() says how many responses each pid gave."""

    def __init__(self, port, conns=1, path="/", keepalive=True, unix=None, accept=(b"v1", b"v2"),
                 max_seconds=300.0, read_timeout=30.0):
        self.port, self.path, self.unix, self.accept = port, path, unix, accept
        self.keepalive = keepalive
        self.read_timeout = read_timeout
        self.stop_ev = threading.Event()
        self.deadline = time.monotonic() + max_seconds
        self.stats = [dict(sent=0, received=0, closes=0, failures=[], bodies=collections.Counter(),
                           pid=None, pids=collections.Counter(), open=False, conn_at=None)
                      for _ in range(conns)]
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(conns)]
        hdr = [] if keepalive else [("Connection", "close")]
        self.req = http_client.build_request("GET", path, hdr)

    def start(self):
        _clients.append(self)
        for t in self.threads:
            t.start()
        return self

    def _fail(self, st, what, e):
        """Records (time, what, error, worker pid, when the connection was opened)."""
        st["failures"].append((time.monotonic(), what, "%s: %s" % (type(e).__name__, e)
                               if isinstance(e, BaseException) else str(e), st["pid"],
                               st["conn_at"]))

    def _run(self, i):
        st = self.stats[i]
        conn = None
        while not self.stop_ev.is_set() and time.monotonic() < self.deadline:
            if conn is None:
                st["conn_at"] = time.monotonic()
                try:
                    conn = connect(self.port, self.unix, self.read_timeout)
                except OSError as e:
                    self._fail(st, "connect", e)
                    time.sleep(0.05)
                    continue
                st["pid"] = None
                st["open"] = True
            try:
                conn.send(self.req)
                st["sent"] += 1
                r = conn.read_response()
            except (OSError, AssertionError) as e:
                self._fail(st, "request %d" % (st["sent"]), e)
                conn.close()
                conn = None
                st["open"] = False
                continue
            st["received"] += 1
            ok = r.status == 200
            if ok and self.path == "/pid":
                ok = r.body.isdigit()
                if ok:
                    st["pid"] = int(r.body)
                    st["pids"][st["pid"]] += 1
            elif ok and self.accept:
                ok = r.body in self.accept
            st["bodies"][r.body if self.path != "/pid" else b"pid"] += 1
            if not ok:
                self._fail(st, "bad response", repr(r))
            if (r.header("Connection", "") or "").lower() == "close" or not self.keepalive:
                if self.keepalive:
                    st["closes"] += 1
                conn.close()
                conn = None
                st["open"] = False
        if conn is not None:
            conn.close()

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(self.read_timeout + 5)
        if self in _clients:
            _clients.remove(self)
        return self

    def total(self, key):
        return sum(s[key] for s in self.stats)

    def failures(self):
        out = []
        for i, s in enumerate(self.stats):
            out += [(i,) + f for f in s["failures"]]
        return sorted(out, key=lambda f: f[1])

    def bodies(self):
        c = collections.Counter()
        for s in self.stats:
            c.update(s["bodies"])
        return c

    def wait_requests(self, n, timeout=60.0):
        """Waits until every thread got n responses (True), or timeout seconds (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(s["received"] >= n for s in self.stats):
                return True
            time.sleep(0.01)
        return False

    def wait_progress(self, n=5, timeout=60.0):
        """Waits until every thread got n more responses than now: requests go on succeeding.
        Raises AssertionError after timeout seconds."""
        base = [s["received"] for s in self.stats]
        testrun.wait_until(lambda: all(s["received"] >= b + n for s, b in zip(self.stats, base)),
                           timeout, lambda: "%d more responses on each of %d connections (%s)"
                           % (n, len(base), self.summary()), interval=0.01)

    def pid_counts(self):
        """{worker pid: responses} over every thread (path /pid)."""
        for _ in range(100):
            try:
                c = collections.Counter()
                for st in self.stats:
                    c.update(dict(st["pids"]))
                return c
            except RuntimeError:  # a thread added a pid meanwhile
                continue
        raise AssertionError("cannot read the client's pid counts")

    def summary(self):
        f = self.failures()
        return ("sent %d, received %d, reopened after Connection: close %d, failures %d%s"
                % (self.total("sent"), self.total("received"), self.total("closes"), len(f),
                   "".join("\n  conn %d at %.3f: %s: %s (worker %s)" % x[:5] for x in f[:10])))

    def check_clean(self):
        assert not self.failures() and self.total("sent") == self.total("received"), \
            self.summary()
        assert self.total("received") > 0, "no request completed"


# -- the server --------------------------------------------------------------------------------

def _opt_name(flag):
    name = flag.lstrip("-").split("=", 1)[0].replace("-", "_")
    if name.startswith("no_") and "=" not in flag:
        name = name[3:]
    return name


class Server:
    """A tornado-prefork master started in a fresh temp dir on a copy of an app (app.so), with
    --address=127.0.0.1 --port=0 --port-file --pid-file --log-file (unless flags give them),
    and extra_env added to its environment (TP_TEST_FAIL_FORKS for the master,
    PREFORK_APP_INIT_MS for the test app). Waits for the port file (written once the first
    generation is READY)."""

    def __init__(self, *flags, app="app_v1.so", procs=2, prefix=(), wait=True,
                 start_timeout=60.0, defaults=True, app_arg=None, dir_mode=None, extra_env=None):
        exe = binary()
        self.dir = tempfile.mkdtemp(prefix="tp-prefork-")
        if dir_mode is not None:
            os.chmod(self.dir, dir_mode)
        self.stage = os.path.join(self.dir, "stage")
        os.mkdir(self.stage)
        self.app = os.path.join(self.dir, "app.so")
        if app:
            shutil.copyfile(app_path(app), self.app)
        self.log_path = os.path.join(self.dir, "log")
        self.pid_file = os.path.join(self.dir, "pid")
        self.port_file = os.path.join(self.dir, "port")
        self.stderr_path = os.path.join(self.dir, "stderr")
        given = {_opt_name(f) for f in flags}
        args = list(prefix) + [exe]
        if defaults:
            for name, flag in (("address", "--address=127.0.0.1"), ("port", "--port=0"),
                               ("port_file", "--port-file=" + self.port_file),
                               ("pid_file", "--pid-file=" + self.pid_file),
                               ("log_file", "--log-file=" + self.log_path),
                               ("logging", "--logging=info"),
                               ("access_log", "--no-access-log"),
                               ("shutdown_timeout", "--shutdown-timeout=5"),
                               ("procs", "--procs=%s" % procs)):
                if name not in given and not (name == "procs" and procs is None):
                    args.append(flag)
        args += list(flags)
        args.append(self.app if app_arg is None else app_arg)
        self.args = args
        self.procs = procs
        self.port = None
        self.log_mark = 0
        self._snap_dirs = set()
        self._err = open(self.stderr_path, "wb")
        environ = env()
        environ.update(extra_env or {})
        try:
            self.proc = spawn(args, stdout=self._err, stderr=self._err, cwd=self.dir,
                              env=environ)
        except OSError as e:
            self._err.close()
            shutil.rmtree(self.dir, ignore_errors=True)
            raise ServerFailure("cannot run %s: %s" % (exe, e))
        self.pid = self.proc.pid
        _seen.add(self.pid)
        _servers.append(self)
        if wait:
            self.wait_started(start_timeout)

    # -- state --------------------------------------------------------------------------------
    def wait_started(self, timeout=60.0):
        self.port = testrun.wait_port_file(self.port_file, self.proc, timeout)
        if self.port is None:
            rc = self.proc.poll()
            msg = "server did not start within %.0f s (exit %r): %s\nstderr: %s\nlog: %s" % (
                timeout, rc, " ".join(self.args), self.stderr()[-1500:], self.log()[-1500:])
            self.kill()
            raise ServerFailure(msg)
        self.snapshot_dirs()
        return self.port

    def alive(self):
        return self.proc.poll() is None

    def stderr(self):
        try:
            self._err.flush()
        except (OSError, ValueError):
            pass
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log(self, path=None):
        try:
            with open(path or self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=25):
        return "\n".join(self.log().splitlines()[-n:])

    def mark(self):
        """Remembers the current end of the log; wait_log searches after it."""
        self.log_mark = len(self.log())
        return self.log_mark

    def wait_log(self, regex, timeout=30.0, since=None, fail_regex=None):
        """Waits for a complete log line (after the mark) matching regex; returns the match.
        Raises if fail_regex matches first or on timeout."""
        rx = re.compile(regex)
        frx = re.compile(fail_regex) if fail_regex else None
        start = self.log_mark if since is None else since
        deadline = time.monotonic() + timeout
        while True:
            text = self.log()
            if len(text) < start:
                start = 0  # the log was rotated
            text = text[start:text.rfind("\n") + 1]
            for line in text.splitlines():
                if frx is not None and frx.search(line):
                    raise AssertionError("log: %s (while waiting for /%s/)" % (line, regex))
                m = rx.search(line)
                if m:
                    return m
            if time.monotonic() > deadline:
                raise AssertionError("no log line /%s/ within %.1f s; master %s; log tail:\n%s"
                                     % (regex, timeout, "alive" if self.alive()
                                        else "exited %r" % self.proc.poll(), self.log_tail()))
            time.sleep(0.01)

    def wait_log_count(self, regex, n, timeout=10.0):
        """Waits until n complete log lines after the mark match regex; returns the matches."""
        rx = re.compile(regex)
        deadline = time.monotonic() + timeout
        while True:
            text = self.log()[self.log_mark:]
            found = [m for m in map(rx.search, text[:text.rfind("\n") + 1].splitlines()) if m]
            if len(found) >= n:
                return found
            if time.monotonic() > deadline:
                raise AssertionError("%d of %d log lines /%s/ within %.1f s; master %s; log "
                                     "tail:\n%s" % (len(found), n, regex, timeout, "alive"
                                                    if self.alive() else "exited %r"
                                                    % self.proc.poll(), self.log_tail()))
            time.sleep(0.01)

    def generations(self):
        return [int(m.group(1)) for m in SERVING.finditer(self.log())]

    def gen(self):
        g = self.generations()
        return max(g) if g else 0

    def children(self):
        """[(pid, title)] of the master's children."""
        out = []
        for c in children(self.pid):
            cmd = read_cmdline(c)
            if cmd is not None:
                out.append((c, cmd))
        return out

    def workers(self):
        """Workers (pid, slot, gen) by their titles, sorted by slot."""
        out = []
        for pid, cmd in self.children():
            m = TITLE_WORKER.match(cmd)
            if m:
                out.append(Worker(pid, int(m.group(1)), int(m.group(2))))
                _seen.add(pid)
        return sorted(out, key=lambda w: (w.slot, w.gen))

    def wait_workers(self, n, gen=None, timeout=30.0, slots=True):
        """Waits until the master has exactly n children, all titled workers (of generation
        gen if given) in slots 0..n-1; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            kids = self.children()
            ws = self.workers()
            ok = (len(kids) == n and len(ws) == n
                  and (gen is None or all(w.gen == gen for w in ws))
                  and (not slots or sorted(w.slot for w in ws) == list(range(n))))
            if ok:
                return ws
            if time.monotonic() > deadline:
                raise AssertionError(
                    "expected %d workers%s in slots 0..%d, the master (%s) has children %r"
                    % (n, " of generation %d" % gen if gen else "", n - 1,
                       "alive" if self.alive() else "exited %r" % self.proc.poll(), kids))
            time.sleep(0.02)

    def slot_pid(self, slot):
        for w in self.workers():
            if w.slot == slot:
                return w.pid
        return None

    def wait_respawn(self, slot, old_pid, timeout):
        """Waits for a worker in slot with a pid other than old_pid; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            for w in self.workers():
                if w.slot == slot and w.pid != old_pid and alive(w.pid):
                    return w
            if time.monotonic() > deadline:
                raise AssertionError("no new worker in slot %d within %.1f s (workers %r)"
                                     % (slot, timeout, self.workers()))
            time.sleep(0.005)

    # -- control ------------------------------------------------------------------------------
    def signal(self, sig):
        os.kill(self.pid, sig)

    def swap_app(self, name):
        """Replaces app.so by a rename of a fresh copy of name (what a build tool does)."""
        tmp = os.path.join(self.stage, "app.so")
        if name is None:
            os.unlink(self.app)
            return
        shutil.copyfile(app_path(name), tmp)
        os.rename(tmp, self.app)

    def _hup_outcome(self, timeout):
        """SIGHUP, then the first "reload failed" line or "generation G serving" line of a
        generation newer than any seen before the signal (a line of the running generation can
        reach the file after the mark: the log is flushed once per loop iteration)."""
        before = max([w.gen for w in self.workers()] + [self.gen()])
        self.mark()
        self.signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while True:
            text = self.log()[self.log_mark:]
            for line in text[:text.rfind("\n") + 1].splitlines():
                m = FAILED.search(line) or SERVING.search(line)
                if m and (m.re is FAILED or int(m.group(1)) > before):
                    return m
            if time.monotonic() > deadline:
                raise AssertionError("no reload outcome after generation %d within %.1f s; "
                                     "log tail:\n%s" % (before, timeout, self.log_tail()))
            time.sleep(0.01)

    def hup(self, timeout=60.0):
        """SIGHUP, then waits for the next generation's "generation G serving" line; returns G.
        A "reload failed" line instead fails the test."""
        m = self._hup_outcome(timeout)
        if m.re is FAILED:
            raise AssertionError("reload failed: %s" % self.log()[self.log_mark:][-1000:])
        return int(m.group(1))

    def hup_expect_failure(self, timeout=60.0):
        """SIGHUP, then waits for "reload failed at STAGE: REASON; still serving generation G";
        returns the match. A new generation serving instead fails the test."""
        m = self._hup_outcome(timeout)
        if m.re is SERVING:
            raise AssertionError("log: %s (while waiting for /%s/)" % (m.string, FAILED.pattern))
        return m

    def reload(self, name, timeout=60.0):
        self.swap_app(name)
        return self.hup(timeout)

    def settle(self, n=None, timeout=60.0):
        """Waits until only the newest generation's workers remain (the newest at each look:
        a reload still coalesced when this is called is waited for too); returns them."""
        n = self.procs if n is None else n
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.wait_workers(n, gen=self.gen(), timeout=0.2)
            except AssertionError:
                if time.monotonic() > deadline:
                    raise


    def tree(self):
        return [self.pid] + descendants(self.pid)

    def check_sanitizer(self):
        rep = sanitizer_report(self.stderr()) or sanitizer_report(self.log())
        if rep:
            raise ServerFailure("sanitizer report from the server:\n" + rep)

    def stop(self, sig=None, timeout=30.0):
        """Sends sig (default TERM); the master must exit 0 within timeout, leave no process
        behind and write no sanitizer report. Returns the seconds it took."""
        sig = signal.SIGTERM if sig is None else sig
        pids = self.tree()
        for p in pids:
            _seen.add(p)
        rc = self.proc.poll()
        if rc is not None:
            msg = "the master died before it was stopped (exit %r); log tail:\n%s\nstderr: %s" % (
                rc, self.log_tail(), self.stderr()[-1000:])
            self.kill()
            raise ServerFailure(msg)
        t0 = time.monotonic()
        self.signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            msg = "the master did not exit within %.0f s of signal %d; log tail:\n%s" % (
                timeout, sig, self.log_tail())
            self.kill()
            raise ServerFailure(msg)
        dt = time.monotonic() - t0
        left = wait_gone(pids[1:], 10.0)
        left = [(p, read_cmdline(p)) for p in left]
        for p, _ in left:
            if ours(p):
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
        try:
            self.check_sanitizer()
        finally:
            text = self.log_tail()
            self.kill()
        if rc != 0:
            raise ServerFailure("the master exited %r after signal %d; log tail:\n%s"
                                % (rc, sig, text))
        if left:
            raise ServerFailure("processes left after the master exited: %r" % left)
        return dt

    def snapshot_dirs(self):
        """Directories holding the workers' app snapshots (remembered for kill())."""
        for w in self.workers():
            for path in app_mappings(w.pid).values():
                if path.startswith("/") and not path.endswith("(deleted)"):
                    self._snap_dirs.add(os.path.dirname(path))
        return self._snap_dirs

    def kill(self):
        """SIGKILL the master and every process under it; forget the temp dir, and the
        snapshot directory a killed master could not clean up."""
        if self in _servers:
            _servers.remove(self)
        if self.alive():
            self.snapshot_dirs()
        kill_tree(self.pid, popen=self.proc)
        for m in re.finditer(r"(/[^\s:]+)/app\.g\d+\.so", self.log() + self.stderr()):
            self._snap_dirs.add(m.group(1))
        for d in self._snap_dirs:
            try:
                names = os.listdir(d)
            except OSError:
                continue
            if d != self.dir and all(re.fullmatch(r"app\.g\d+\.so", n) for n in names):
                shutil.rmtree(d, ignore_errors=True)
        try:
            self._err.close()
        except OSError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def server(*flags, **kw):
    """A fresh server; stopped with SIGTERM at the end (must exit 0, nothing left behind). When
    the test fails the server is killed and its log tail is added to the error."""
    s = Server(*flags, **kw)
    try:
        yield s
    except (Skip, KeyboardInterrupt):
        s.kill()
        raise
    except BaseException as e:
        rc = s.proc.poll()
        tail = s.log_tail(30)
        err = s.stderr()[-800:]
        rep = sanitizer_report(s.stderr()) or sanitizer_report(s.log())
        s.kill()
        raise AssertionError("%s: %s\n--- master %s; server log tail:\n%s%s%s"
                             % (type(e).__name__, e,
                                "alive" if rc is None else "HAD EXITED (%r)" % rc, tail,
                                "\n--- stderr:\n" + err if err.strip() else "",
                                "\n--- sanitizer:\n" + rep if rep else "")) from e
    s.stop()


def start_fails(args, timeout=30.0):
    """Runs the server binary with args expecting it to exit by itself. Returns (rc, stderr
    lines, seconds); checks that no process is left behind."""
    before = set(p for p, _ in server_processes())
    t0 = time.monotonic()
    rc, out, err = run_cmd([binary()] + list(args), timeout=timeout)
    dt = time.monotonic() - t0
    reap()
    deadline = time.monotonic() + 10.0
    while True:
        left = [(p, c) for p, c in server_processes() if p not in before]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for p, _ in left:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
    assert not left, "processes left behind after the server exited %r: %r" % (rc, left)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    return rc, lines, dt, out


def check_one_error_line(rc, lines, want_rc, what):
    ok_rc = rc in want_rc if isinstance(want_rc, tuple) else rc == want_rc
    assert ok_rc, "%s: exit %r, expected %r; stderr %r" % (what, rc, want_rc, lines)
    assert len(lines) == 1 and lines[0].startswith("error:"), \
        "%s: stderr must be one line starting 'error:', got %r" % (what, lines[:10])


# -- wrk -----------------------------------------------------------------------------------------

def wrk(port, seconds=30, conns=64, threads=2, pipeline=0, scheme="http"):
    """Starts wrk pinned to CPU 0; returns the Popen (output on stdout)."""
    if not shutil.which("wrk"):
        raise AssertionError("wrk is not installed")
    # --timeout: wrk's own default (2 s per request) is a wall-clock limit that a loaded
    # machine exceeds; a request that takes long is not a failed one.
    args = ["taskset", "-c", "0", "wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds,
            "--latency", "--timeout", "30s"]
    if pipeline:
        if not os.path.exists(PIPELINE_LUA):
            raise AssertionError("%s is missing" % PIPELINE_LUA)
        args += ["-s", PIPELINE_LUA]
    args.append("%s://127.0.0.1:%d/" % (scheme, port))
    if pipeline:
        args += ["--", str(pipeline)]
    return spawn(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def wrk_result(p, timeout):
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_tree(p.pid, popen=p)
        raise AssertionError("wrk did not finish within %.0f s" % timeout)
    return out.decode("utf-8", "replace")


def wrk_stop_clean(p, what, min_requests):
    """SIGINT to a running wrk, then its output must show no socket error, no non-2xx answer
    and more than min_requests requests; returns (output, requests)."""
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
    out = wrk_result(p, 60)
    bad = [ln for ln in out.splitlines() if "Socket errors" in ln or "Non-2xx" in ln]
    assert not bad, "wrk %s:\n%s" % (what, out)
    m = re.search(r"(\d+) requests in", out)
    assert m and int(m.group(1)) > min_requests, "wrk output:\n" + out
    return out, int(m.group(1))
