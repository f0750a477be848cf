"""Debian's python3-websockets (10.4) as a strict client of wsecho: it fails the connection on
any frame, extension or close that breaks RFC 6455 / RFC 7692, so every echo that comes back
whole is a conformance check of what our server sent."""
import asyncio
import os
import random

import websockets
from websockets.extensions.permessage_deflate import (ClientPerMessageDeflateFactory,
                                                       PerMessageDeflate)

import peers

BIG = peers.BIG


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 240))


def connect(compression=True, **kw):
    kw.setdefault("max_size", 64 << 20)
    kw.setdefault("ping_interval", None)
    kw.setdefault("close_timeout", 30)
    if compression is False:
        kw["compression"] = None
    return websockets.connect(peers.echo_url(), **kw)


def deflate_of(ws):
    exts = [e for e in ws.extensions if isinstance(e, PerMessageDeflate)]
    return exts[0] if exts else None


async def echo(ws, data, what=""):
    await ws.send(data)
    got = await asyncio.wait_for(ws.recv(), 120)
    assert type(got) is type(data), "%s: echoed as %s" % (what, type(got).__name__)
    assert got == data, "%s: echo differs (%d bytes, sent %d)" % (what, len(got), len(data))


def text(n, seed=1):
    """n bytes of UTF-8 text: a few multi-byte characters, then random ASCII."""
    head = "h\u00e9 \u2603 \U0001d11e "
    rnd = random.Random(seed)
    abc = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ."
    return head + "".join(rnd.choice(abc) for _ in range(n - len(head.encode())))


async def messages(compression):
    async with connect(compression) as ws:
        d = deflate_of(ws)
        if compression:
            # websockets offers client_max_window_bits; Tornado's answer (and ours) leaves
            # every parameter at its default: 15 bits, context takeover both ways.
            assert d is not None, "permessage-deflate not negotiated: %r" % ws.extensions
            h = ws.response_headers["Sec-WebSocket-Extensions"]
            assert h.startswith("permessage-deflate"), h
        else:
            assert d is None and "Sec-WebSocket-Extensions" not in ws.response_headers
        await echo(ws, "hello", "text")
        await echo(ws, "", "empty text")
        await echo(ws, b"", "empty binary")
        await echo(ws, "h\u00e9llo \u2603 \U0001d11e", "multi-byte text")
        await echo(ws, bytes(range(256)) * 4, "binary 1 KiB")
        await echo(ws, os.urandom(70000), "binary 70000 (64-bit length)")
        await echo(ws, text(200000), "text 200000")
        for i in range(50):  # context takeover: later messages refer back to earlier ones
            await echo(ws, "message %d %s" % (i, "y" * i), "text %d" % i)
        await ws.close()
    assert ws.close_code == 1000, ws.close_code


def test_messages_compressed():
    run(messages(True))


def test_messages_plain():
    run(messages(False))


async def fragmented(compression):
    async with connect(compression) as ws:
        await ws.send(["frag", "men", "ted"])  # one message in three frames
        assert await ws.recv() == "fragmented"
        parts = [os.urandom(10), b"", os.urandom(100000), b"x"]
        await ws.send(parts)
        assert await ws.recv() == b"".join(parts)

        async def gen():  # fragments produced one at a time, a multi-byte char split
            for p in ("\u2603" * 1000, "middle", "\U0001d11e" * 3000):
                yield p
                await asyncio.sleep(0)
        await ws.send(gen())
        assert await ws.recv() == "\u2603" * 1000 + "middle" + "\U0001d11e" * 3000


def test_fragmented_compressed():
    run(fragmented(True))


def test_fragmented_plain():
    run(fragmented(False))


async def big(compression):
    async with connect(compression) as ws:
        await echo(ws, text(BIG), "16 MiB text")
        # The limit also counts deflated bytes on the wire (as Tornado and websockets do),
        # and random bytes grow when deflated (5 bytes a stored block; websockets' memLevel 5
        # makes small blocks): 1/64 of room for that.
        rnd = BIG - BIG // 64 if compression else BIG
        await echo(ws, os.urandom(rnd), "16 MiB random")
        await echo(ws, b"\0" * BIG, "16 MiB of zeros")
        b = os.urandom(rnd)
        await ws.send([b[i:i + (1 << 20)] for i in range(0, len(b), 1 << 20)])
        assert await ws.recv() == b, "16 MiB in 16 fragments"


@peers.slow
def test_16mib_compressed():
    run(big(True))


@peers.slow
def test_16mib_plain():
    run(big(False))


async def too_big(compression):
    async with connect(compression) as ws:
        await ws.send(b"\x01" * (BIG + 1))
        try:
            got = await asyncio.wait_for(ws.recv(), 120)
            raise AssertionError("16 MiB + 1 came back (%d bytes)" % len(got))
        except websockets.ConnectionClosedError:
            pass
    assert ws.close_code == 1009, ws.close_code


def test_too_big_compressed():
    run(too_big(True))


def test_too_big_plain():
    run(too_big(False))


async def too_big_fragmented():
    async with connect(False) as ws:
        await ws.send([b"\x02" * (1 << 20)] * 16 + [b"\x03"])
        try:
            await asyncio.wait_for(ws.recv(), 120)
            raise AssertionError("16 MiB + 1 in fragments came back")
        except websockets.ConnectionClosedError:
            pass
    assert ws.close_code == 1009, ws.close_code


def test_too_big_fragmented():
    run(too_big_fragmented())


async def pings():
    async with connect() as ws:
        for data in (b"", b"hi", os.urandom(125)):
            waiter = await ws.ping(data)
            await asyncio.wait_for(waiter, 60)  # resolves on the pong with this data
        await ws.send(["a", "b"])
        assert await ws.recv() == "ab"
    async with connect(ping_interval=0.05, ping_timeout=30) as ws:  # websockets' keepalive
        for i in range(20):
            await echo(ws, "keepalive %d" % i)
            await asyncio.sleep(0.01)


def test_ping_pong():
    run(pings())


async def close_codes():
    for code, reason in ((1000, ""), (1001, "going away"), (3000, "app"), (4999, "r" * 123)):
        async with connect() as ws:
            await echo(ws, "before close")
            await ws.close(code, reason)
        # Tornado answers with the code alone, and so does our server.
        assert (ws.close_code, ws.close_reason) == (code, ""), (code, ws.close_code,
                                                                ws.close_reason)
    async with connect() as ws:
        await ws.close(1000, "")
    assert ws.close_code == 1000


def test_close_codes():
    run(close_codes())


async def window_bits(factory_kw, want):
    ext = ClientPerMessageDeflateFactory(**factory_kw)
    async with connect(compression=None, extensions=[ext]) as ws:
        d = deflate_of(ws)
        assert d is not None, "not negotiated: %r" % ws.response_headers
        got = (d.remote_no_context_takeover, d.local_no_context_takeover,
               d.remote_max_window_bits, d.local_max_window_bits)
        assert got == want, (ws.response_headers["Sec-WebSocket-Extensions"], got, want)
        await echo(ws, text(100000, seed=2), "text")
        await echo(ws, text(100000, seed=2), "the same text again")
        await echo(ws, os.urandom(3000) * 20, "repeated binary")
        for i in range(20):
            await echo(ws, "small %d" % i)


def test_deflate_parameters():
    # Every parameter the client may ask for, and what each side ends up using:
    # (server_nct, client_nct, server bits, client bits) as websockets sees them.
    run(window_bits(dict(client_max_window_bits=9), (False, False, 15, 9)))
    run(window_bits(dict(server_max_window_bits=10, client_max_window_bits=True),
                    (False, False, 10, 15)))
    run(window_bits(dict(server_no_context_takeover=True, client_no_context_takeover=True),
                    (True, True, 15, 15)))
    run(window_bits(dict(server_max_window_bits=8, client_max_window_bits=9,
                         server_no_context_takeover=True),
                    (True, False, 8, 9)))


async def many(n, rounds):
    async def one(i):
        async with connect(i % 2 == 0) as ws:
            for k in range(rounds):
                m = ("conn %d message %d " % (i, k)) * (k + 1)
                await echo(ws, m if k % 2 else m.encode(), "conn %d" % i)
        assert ws.close_code == 1000
    await asyncio.gather(*(one(i) for i in range(n)))


@peers.slow
def test_many_connections():
    run(many(300, 20))


def test_some_connections():
    run(many(30, 5))
