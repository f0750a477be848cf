"""Port 0 and a port file: the one way a harness learns where a server under test listens.

The server binds port 0, so the kernel picks a free port at the moment of the bind (no
window in which another program can take it, as there is when a harness binds a socket to
find a free port, closes it and passes the number on), and writes the port it got to a file
once it is listening: FILE.tmp first, then a rename, so a reader sees the whole number or no
file. The harness waits for that file.

- The C programs (build/tests/*, build/examples/*, build/tornado-prefork) do it with
  --port=0 --port-file=FILE.
- A Python program on Tornado (a differential twin) calls listen_tornado(app, FILE).
- A test that must write a port number on a command line itself (a second --port: the
  server writes only its first port to the port file) takes it from reserved_port().

Only the standard library is imported at the top: the twins run under Debian's
/usr/bin/python3, the harnesses under any python3.
"""
import contextlib
import os
import socket
import time


def write(path, port):
    """Writes port to path atomically (path.tmp, then rename)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, path)


def read(path):
    """The port in path, or None while the file is missing or incomplete."""
    try:
        with open(path) as f:
            txt = f.read().strip()
    except OSError:
        return None
    return int(txt) if txt.isdigit() else None


def wait(path, proc, timeout):
    """The port a starting server wrote to path, or None if proc (a Popen) exited or timeout
    seconds passed first."""
    deadline = time.monotonic() + timeout
    while True:
        port = read(path)
        if port is not None:
            return port
        if proc.poll() is not None or time.monotonic() > deadline:
            return None
        time.sleep(0.01)


def listen_tornado(app, port_file, address="127.0.0.1", **server_kw):
    """Serves a tornado.web.Application on a port the kernel picks (port 0) and writes that
    port to port_file; returns the HTTPServer. Call it where app.listen() would be called
    (inside the IOLoop's context)."""
    import tornado.httpserver
    import tornado.netutil
    socks = tornado.netutil.bind_sockets(0, address)
    server = tornado.httpserver.HTTPServer(app, **server_kw)
    server.add_sockets(socks)
    write(port_file, socks[0].getsockname()[1])
    return server


@contextlib.contextmanager
def reserved_port(address="127.0.0.1"):
    """A port the kernel picks (a bind to port 0), reserved while the block runs: the socket
    stays bound with SO_REUSEADDR and never listens, so no other program can bind the port or
    get it as an ephemeral port, but a server that sets SO_REUSEADDR itself (ours do) can bind
    it and listen. Yields the port number."""
    s = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((address, 0))
        yield s.getsockname()[1]
    finally:
        s.close()
