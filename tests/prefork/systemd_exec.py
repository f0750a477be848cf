"""Starts a program the way systemd's socket activation does: a listening TCP socket on
127.0.0.1 (port 0) as fd 3, LISTEN_FDS=1 and LISTEN_PID set to the program's own pid (exec keeps
the pid). Usage: systemd_exec.py PROGRAM ARGS..."""
import os
import socket
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(128)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[1], sys.argv[1:])
