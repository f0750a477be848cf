"""The database suite: starts a private MariaDB server (tests/lib/mariadb.py), runs the
libcheck tests of tests/database/test_database.c against it, and stops it. The tests reach the
server through TP_DB_URL; a test that must kill or restart the server asks through a socket
(TP_DB_CONTROL_FD): "kill\n" or "start\n", answered "ok\n" once done."""
import argparse
import os
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import mariadb  # noqa: E402


def serve_control(sock, server):
    while True:
        try:
            data = sock.recv(64)
        except OSError:
            return
        if not data:
            return
        for cmd in data.decode().split():
            try:
                if cmd == "kill":
                    server.kill()
                elif cmd == "start":
                    server.start()
                else:
                    raise ValueError("unknown command " + cmd)
                sock.sendall(b"ok\n")
            except Exception as e:  # reported to the test, which fails with it
                sock.sendall(("error %s\n" % e).encode())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--tcp", action="store_true",
                    help="connect over TCP on 127.0.0.1 instead of the Unix socket")
    args = ap.parse_args()
    binary = os.path.join(args.build, "tests", "database_check")
    with mariadb.Server(tcp=args.tcp) as server:
        ours, theirs = socket.socketpair()
        threading.Thread(target=serve_control, args=(ours, server), daemon=True).start()
        env = dict(os.environ)
        env.update(server.env())
        env["TP_DB_CONTROL_FD"] = str(theirs.fileno())
        env.setdefault("CK_DEFAULT_TIMEOUT", "120")
        # Under ASan, freed blocks wait in a quarantine (256 MB by default): kept small, the
        # streaming test's memory bound measures the module, not the sanitizer.
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"),
                                                     "quarantine_size_mb=8"]))
        r = subprocess.run([binary], env=env, pass_fds=[theirs.fileno()])
        theirs.close()
        if r.returncode != 0:
            print("mariadbd log (tail):\n" + server.log_tail(), file=sys.stderr)
        return r.returncode


if __name__ == "__main__":
    sys.exit(main())
