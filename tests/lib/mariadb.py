"""A private MariaDB server for the test suites: Debian's mariadbd in a temporary data
directory, on a Unix socket (and, with tcp=True, a free TCP port on 127.0.0.1), with a
database and a user of its own. Nothing outside the temporary directory is touched.

    with mariadb.Server() as db:
        db.socket, db.user, db.password, db.database   # connect with these
        db.url()                                       # mysql://tp:...@/tpdb?unix_socket=...
        db.sql("CREATE TABLE t (x INT)")               # runs SQL as root through the socket
        db.kill(); db.start()                          # the kill/restart test

Usable as a context manager, or start()/stop() by hand. Environment for a child program:
db.env() gives TP_DB_SOCKET, TP_DB_USER, TP_DB_PASSWORD, TP_DB_NAME, TP_DB_URL (and
TP_DB_PORT with tcp=True)."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
CLIENT = shutil.which("mariadb") or "/usr/bin/mariadb"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, database="tpdb", user="tp", password="tp-secret", tcp=False,
                 timeout=60.0, keep=False):
        self.database, self.user, self.password = database, user, password
        self.timeout = timeout
        self.keep = keep
        self.dir = tempfile.mkdtemp(prefix="tp-mariadb-")
        self.datadir = os.path.join(self.dir, "data")
        self.socket = os.path.join(self.dir, "mysqld.sock")
        self.pidfile = os.path.join(self.dir, "mysqld.pid")
        self.logfile = os.path.join(self.dir, "mysqld.log")
        self.port = _free_port() if tcp else None
        self.proc = None
        self._installed = False

    # ---- life cycle ------------------------------------------------------------------
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def _install(self):
        r = subprocess.run([INSTALL_DB, "--no-defaults", "--datadir=" + self.datadir,
                            "--auth-root-authentication-method=normal", "--user=root",
                            "--skip-test-db"],
                           cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=300)
        if r.returncode != 0:
            raise RuntimeError("mariadb-install-db failed:\n" + r.stdout.decode(errors="replace"))
        self._installed = True

    def start(self):
        """Starts mariadbd (installing the data directory the first time) and waits until it
        answers; the first start also creates the database and the user."""
        first = not self._installed
        if first:
            self._install()
        args = [MARIADBD, "--no-defaults", "--datadir=" + self.datadir,
                "--socket=" + self.socket, "--pid-file=" + self.pidfile, "--user=root",
                "--log-error=" + self.logfile, "--innodb-buffer-pool-size=32M",
                "--innodb-log-file-size=16M", "--skip-name-resolve", "--max-connections=200",
                "--innodb-flush-log-at-trx-commit=2", "--skip-log-bin"]
        if self.port:
            args += ["--bind-address=127.0.0.1", "--port=%d" % self.port]
        else:
            args += ["--skip-networking"]
        self.proc = subprocess.Popen(args, cwd=self.dir, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        self._wait_ready()
        if first:
            self.sql("CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4;"
                     "CREATE USER IF NOT EXISTS '%s'@'localhost' IDENTIFIED BY '%s';"
                     "CREATE USER IF NOT EXISTS '%s'@'127.0.0.1' IDENTIFIED BY '%s';"
                     "GRANT ALL ON `%s`.* TO '%s'@'localhost';"
                     "GRANT ALL ON `%s`.* TO '%s'@'127.0.0.1';"
                     "GRANT PROCESS ON *.* TO '%s'@'localhost';"
                     % (self.database, self.user, self.password, self.user, self.password,
                        self.database, self.user, self.database, self.user, self.user))

    def _wait_ready(self):
        deadline = time.monotonic() + self.timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("mariadbd exited with %s:\n%s" % (self.proc.returncode,
                                                                    self.log_tail()))
            if os.path.exists(self.socket):
                r = subprocess.run(self._client_args() + ["-e", "SELECT 1"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if r.returncode == 0:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError("mariadbd not ready within %.0f s:\n%s"
                                   % (self.timeout, self.log_tail()))
            time.sleep(0.05)

    def log_tail(self, n=30):
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"

    def kill(self):
        """SIGKILL: the server dies at once (connections see a lost connection)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None
        for f in (self.socket, self.pidfile):
            try:
                os.unlink(f)
            except OSError:
                pass

    def stop(self):
        """Stops the server (SIGTERM, then SIGKILL after the deadline) and removes the
        temporary directory (unless keep)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---- use -------------------------------------------------------------------------
    def _client_args(self):
        return [CLIENT, "--no-defaults", "--socket=" + self.socket, "-uroot",
                "--connect-timeout=5"]

    def sql(self, statements, database=None):
        """Runs SQL as root through the socket; returns its tab-separated output."""
        args = self._client_args() + ["-N", "-B"]
        if database:
            args.append(database)
        r = subprocess.run(args + ["-e", statements], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=self.timeout)
        if r.returncode != 0:
            raise RuntimeError("mariadb: %s" % r.stderr.decode(errors="replace"))
        return r.stdout.decode()

    def url(self):
        if self.port:
            return "mysql://%s:%s@127.0.0.1:%d/%s" % (self.user, self.password, self.port,
                                                      self.database)
        return "mysql://%s:%s@/%s?unix_socket=%s" % (self.user, self.password, self.database,
                                                     self.socket)

    def env(self):
        e = {"TP_DB_SOCKET": self.socket, "TP_DB_USER": self.user,
             "TP_DB_PASSWORD": self.password, "TP_DB_NAME": self.database,
             "TP_DB_URL": self.url()}
        if self.port:
            e["TP_DB_PORT"] = str(self.port)
        return e


if __name__ == "__main__":
    # A smoke check: python3 tests/lib/mariadb.py
    t0 = time.monotonic()
    with Server(tcp=True) as s:
        print("up in %.1f s at %s" % (time.monotonic() - t0, s.url()))
        print(s.sql("SELECT VERSION()").strip())
        s.kill()
        s.start()
        print(s.sql("SELECT COUNT(*) FROM mysql.user").strip())
    print("stopped; dir gone:", not os.path.exists(s.dir))
