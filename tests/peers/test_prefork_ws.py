"""wsecho.so under the prefork server (build/tornado-prefork, two workers): python3-websockets
and npm ws connections spread over the workers, and a TERM that drains them: each open
connection gets a Close 1001 from its worker within --websocket-drain-timeout, then the
master exits 0."""
import asyncio
import os
import shutil
import signal
import subprocess
import tempfile

import websockets

import peers
import testrun


class Prefork:
    def __init__(self, *flags):
        exe = os.path.join(peers.BUILD, "tornado-prefork")
        app = os.path.join(peers.BUILD, "examples", "wsecho.so")
        for f in (exe, app):
            if not os.path.exists(f):
                raise peers.Skip("%s is not built" % f)
        self.dir = tempfile.mkdtemp(prefix="tp-peers-prefork-")
        pf = os.path.join(self.dir, "port")
        self.log = open(os.path.join(self.dir, "log"), "wb")
        self.proc = subprocess.Popen(
            [exe, "--procs=2", "--port=0", "--port_file=" + pf, "--address=127.0.0.1",
             "--logging=warning"] + list(flags) + [app],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, start_new_session=True)
        self.port = testrun.wait_port_file(pf, self.proc, 60)
        if self.port is None:
            self.kill()
            raise AssertionError("tornado-prefork did not start: " + self.output())

    def output(self):
        with open(self.log.name, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        """TERM; the master must exit 0 with no sanitizer report. Returns its log."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(90)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("tornado-prefork did not exit within 90 s of TERM")
        text = self.output()
        self.kill()
        rep = testrun.sanitizer_report(text)
        assert rep is None, "sanitizer report:\n" + rep
        assert rc == 0, "tornado-prefork exited %r: %s" % (rc, text[-2000:])
        return text

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the master's session: its workers too
            self.proc.wait(30)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


async def load(url, n, rounds):
    async def one(i):
        async with websockets.connect(url, max_size=None, ping_interval=None,
                                      compression="deflate" if i % 2 else None) as ws:
            for k in range(rounds):
                m = "conn %d message %d " % (i, k) * (k + 1)
                await ws.send(m)
                assert await ws.recv() == m
    await asyncio.gather(*(one(i) for i in range(n)))


def test_prefork_echo():
    p = Prefork()
    try:
        url = "ws://127.0.0.1:%d/echo" % p.port
        asyncio.run(asyncio.wait_for(load(url, 60, 5), 120))
        if os.path.isdir(os.path.join(peers.NODE_MODULES, "ws")):
            for mode in ("deflate", "plain"):
                rc, out = peers.node("client", "basic", url, mode)
                assert rc == 0, out[-3000:]
    except BaseException:
        p.kill()
        raise
    p.stop()


async def held_open(url, n, stop):
    """n connections that echo once, then wait for the server to close them; stop() is called
    once all are open. Returns the close codes."""
    conns = []
    for i in range(n):
        ws = await websockets.connect(url, ping_interval=None, close_timeout=30)
        await ws.send("hi %d" % i)
        assert await ws.recv() == "hi %d" % i
        conns.append(ws)
    stop()
    codes = []
    for ws in conns:
        await asyncio.wait_for(ws.wait_closed(), 60)
        codes.append(ws.close_code)
    return codes


def test_prefork_drain_closes_1001():
    p = Prefork("--websocket_drain_timeout=1")
    try:
        url = "ws://127.0.0.1:%d/echo" % p.port
        codes = asyncio.run(asyncio.wait_for(
            held_open(url, 10, lambda: p.proc.send_signal(signal.SIGTERM)), 120))
        assert codes == [1001] * 10, codes
        rc = p.proc.wait(90)
        text = p.output()
        assert rc == 0 and testrun.sanitizer_report(text) is None, (rc, text[-2000:])
    finally:
        p.kill()
