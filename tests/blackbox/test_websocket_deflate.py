"""permessage-deflate (RFC 7692) end to end against build/tests/wsapp: the negotiation of each
parameter, context takeover observed on the wire, window bits, compressed client messages,
decompression bombs; and 16 MiB messages through build/examples/wsecho with the websockets
client of /usr/bin/python3."""
import contextlib
import random
import zlib

from harness import server, slow, timeout
from ws_client import (OP_BINARY, OP_CONT, OP_TEXT, WS, Deflate, fd_count, frame,
                       server_pid, still_serving, wait_fds, websockets_run)

PMD = "permessage-deflate"


@contextlib.contextmanager
def wsapp():
    with server(binary="tests/wsapp") as port:
        yield port


def connect(port, offer, path="/compress"):
    c = WS(port, path, headers={"Sec-WebSocket-Extensions": offer})
    assert c.status == 101, (offer, c.status, c.body)
    return c


def text(n, seed=1):
    """n bytes of compressible text (words from a small vocabulary)."""
    r = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "tornado", "prefork", "socket", "frame"]
    out = ""
    while len(out) < n:
        out += r.choice(words) + " "
    return out[:n].encode()


def recv_compressed(c):
    """The next data frame's (rsv, payload)."""
    fin, rsv, op, p = c.recv_frame()
    assert fin and op in (OP_TEXT, OP_BINARY), (fin, op)
    return rsv, p


# ---- negotiation -------------------------------------------------------------------------

ACCEPTED = [
    # (offer, the server's answer): the offer echoed in sorted order, a valueless
    # client_max_window_bits dropped (Tornado's _encode_header of the agreed parameters)
    (PMD, PMD),
    (PMD + "; client_max_window_bits", PMD),
    (PMD + "; client_max_window_bits=10", PMD + "; client_max_window_bits=10"),
    (PMD + "; server_max_window_bits=9; client_max_window_bits=8",
     PMD + "; client_max_window_bits=8; server_max_window_bits=9"),
    (PMD + "; server_no_context_takeover", PMD + "; server_no_context_takeover"),
    (PMD + "; client_no_context_takeover", PMD + "; client_no_context_takeover"),
    (PMD + "; server_no_context_takeover; client_no_context_takeover",
     PMD + "; client_no_context_takeover; server_no_context_takeover"),
    # only the first permessage-deflate offer counts; other extensions are ignored
    ("x-webkit-deflate-frame, " + PMD + "; server_max_window_bits=12, " + PMD,
     PMD + "; server_max_window_bits=12"),
]

REFUSED = [PMD + "; foo", PMD + "; foo=1", PMD + "; server_max_window_bits=16",
           PMD + "; server_max_window_bits=7", PMD + "; client_max_window_bits=16",
           PMD + "; server_max_window_bits=abc"]


def test_negotiation_answers():
    with wsapp() as port:
        for offer, answer in ACCEPTED:
            with connect(port, offer) as c:
                assert c.header("Sec-WebSocket-Extensions") == answer, (offer, c.headers)


def test_negotiation_bad_offer_500():
    # What Tornado answers an offer it cannot accept (tests/diff checks the page too).
    with wsapp() as port:
        pid = server_pid(port)
        base = fd_count(pid)
        for offer in REFUSED:
            with WS(port, "/compress", headers={"Sec-WebSocket-Extensions": offer}) as c:
                assert c.status == 500, (offer, c.status, c.headers)
                assert c.header("Upgrade") is None
        wait_fds(pid, base)
        still_serving(port)


def test_no_compression_options_no_extension():
    with wsapp() as port:
        for offer, _ in ACCEPTED + [(r, None) for r in REFUSED]:
            with connect(port, offer, "/echo") as c:
                assert c.header("Sec-WebSocket-Extensions") is None
                c.send_frame(OP_TEXT, "plain")
                assert c.recv_frame() == (True, 0, OP_TEXT, b"plain")


def test_no_offer_no_compression():
    with wsapp() as port:
        with WS(port, "/compress") as c:
            assert c.header("Sec-WebSocket-Extensions") is None
            msg = text(1000)
            c.send_frame(OP_TEXT, msg)
            assert c.recv_frame() == (True, 0, OP_TEXT, msg)


# ---- context takeover, on the wire ------------------------------------------------------


def test_server_context_takeover_shrinks_repeats():
    # With takeover the second copy of a message refers back to the first: smaller.
    msg = text(2000)
    with wsapp() as port:
        with connect(port, PMD) as c:
            d = Deflate()
            sizes = []
            for _ in range(3):
                c.send_frame(OP_TEXT, msg)
                rsv, p = recv_compressed(c)
                assert rsv == 4, "RSV1 not set on a compressed message"
                assert d.decompress(p) == msg
                sizes.append(len(p))
            assert sizes[1] < sizes[0] // 4 and sizes[2] < sizes[0] // 4, sizes


def test_server_no_context_takeover_repeats_same_size():
    msg = text(2000)
    with wsapp() as port:
        for offer, path in ((PMD + "; server_no_context_takeover", "/compress"),
                            (PMD, "/compress_no_takeover")):  # the server's own choice
            with connect(port, offer, path) as c:
                outs = []
                for _ in range(3):
                    c.send_frame(OP_TEXT, msg)
                    rsv, p = recv_compressed(c)
                    assert rsv == 4
                    assert Deflate(takeover=False).decompress(p) == msg  # a fresh context
                    outs.append(p)
                assert outs[0] == outs[1] == outs[2], (offer, [len(o) for o in outs])
                assert len(outs[0]) < len(msg) // 2


def test_client_messages_with_context_takeover():
    # The server's inflater keeps the context: a message that refers back to the previous
    # one decompresses.
    msg = text(3000, seed=2)
    with wsapp() as port:
        with connect(port, PMD) as c:
            enc, dec = Deflate(), Deflate()
            sizes = []
            for i in range(3):
                z = enc.compress(msg)
                sizes.append(len(z))
                c.send_frame(OP_TEXT, z, rsv=4)
                rsv, p = recv_compressed(c)
                assert dec.decompress(p) == msg, i
            assert sizes[1] < sizes[0] // 4, sizes  # the client really used the context


def test_client_no_context_takeover():
    msg = text(3000, seed=3)
    with wsapp() as port:
        with connect(port, PMD + "; client_no_context_takeover") as c:
            enc, dec = Deflate(takeover=False), Deflate()
            for i in range(3):
                c.send_frame(OP_BINARY, enc.compress(msg), rsv=4)
                rsv, p = recv_compressed(c)
                assert dec.decompress(p) == msg, i


def test_uncompressed_and_fragmented_compressed_messages_mix():
    msg = text(5000, seed=4)
    with wsapp() as port:
        with connect(port, PMD) as c:
            enc, dec = Deflate(), Deflate()
            c.send_frame(OP_TEXT, "not compressed")  # RSV1 clear: taken as is
            assert dec.decompress(recv_compressed(c)[1]) == b"not compressed"
            z = enc.compress(msg)
            parts = [z[i:i + 50] for i in range(0, len(z), 50)]
            raw = frame(OP_TEXT, parts[0], fin=False, rsv=4)
            raw += b"".join(frame(OP_CONT, p, fin=False) for p in parts[1:-1])
            raw += frame(OP_CONT, parts[-1])
            c.send(raw)
            assert dec.decompress(recv_compressed(c)[1]) == msg


# ---- window bits ----------------------------------------------------------------------------


def test_server_max_window_bits_respected():
    # Random bytes repeated 1500 bytes later: a 9- or 10-bit window cannot reach back that
    # far, so the server must not use a match a small-window inflater would reject.
    r = random.Random(5)
    block = bytes(r.getrandbits(8) for _ in range(1500))
    msg = block + block
    with wsapp() as port:
        for bits in (9, 10, 12):
            with connect(port, PMD + "; server_max_window_bits=%d" % bits) as c:
                c.send_frame(OP_BINARY, msg)
                rsv, p = recv_compressed(c)
                assert Deflate(wbits=bits).decompress(p) == msg, bits
        with connect(port, PMD) as c:  # 15 bits: the repeat is found
            c.send_frame(OP_BINARY, msg)
            rsv, p = recv_compressed(c)
            assert len(p) < len(msg) * 3 // 4


def test_client_max_window_bits():
    msg = text(4000, seed=6)
    with wsapp() as port:
        for bits in (8, 9, 10, 15):
            with connect(port, PMD + "; client_max_window_bits=%d" % bits) as c:
                enc, dec = Deflate(wbits=max(bits, 9)), Deflate()
                for _ in range(2):
                    c.send_frame(OP_TEXT, enc.compress(msg), rsv=4)
                    assert dec.decompress(recv_compressed(c)[1]) == msg, bits


# ---- bad and oversized compressed data ---------------------------------------------------


def zero_bomb(mib):
    """A permessage-deflate payload inflating to mib MiB of zeros (built from two 1 MiB
    pieces: after the first, every SYNC_FLUSHed MiB of zeros compresses to the same bytes)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    z = b"\0" * (1 << 20)
    first = c.compress(z) + c.flush(zlib.Z_SYNC_FLUSH)
    rest = c.compress(z) + c.flush(zlib.Z_SYNC_FLUSH)
    assert rest == c.compress(z) + c.flush(zlib.Z_SYNC_FLUSH)
    return (first + rest * (mib - 1))[:-4]


def test_bad_compressed_data_1007():
    with wsapp() as port:
        pid = server_pid(port)
        base = fd_count(pid)
        with connect(port, PMD) as c:
            c.send_frame(OP_TEXT, b"\xff\xff\xff\xff garbage", rsv=4)
            c.expect_close(1007, "bad compressed data")
        wait_fds(pid, base)
        still_serving(port)


def test_inflated_size_limit_1009():
    # /small/: 1024 bytes. 2 MiB of zeros is about 2 KB compressed, over the limit on the wire
    # too; 100 KB of zeros is ~100 bytes, under it, and only the inflated size is too big.
    with wsapp() as port:
        pid = server_pid(port)
        base = fd_count(pid)
        with connect(port, PMD, "/small/compress") as c:
            enc, dec = Deflate(), Deflate()
            c.send_frame(OP_TEXT, enc.compress(b"a" * 1024), rsv=4)
            assert dec.decompress(recv_compressed(c)[1]) == b"a" * 1024
            z = zlib.compressobj(9, zlib.DEFLATED, -15)
            bomb = z.compress(b"\0" * 100000) + z.flush(zlib.Z_SYNC_FLUSH)
            assert len(bomb) < 1024
            c.send_frame(OP_BINARY, bomb[:-4], rsv=4)
            c.expect_close(1009, "message too big after decompression")
        wait_fds(pid, base)
        still_serving(port)


def vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/%d/status" % pid)


@timeout(300)
def test_decompression_bomb_memory_bounded():
    # 1 GiB of zeros in ~1 MB, to /compress (max 16 MiB): inflating stops at the limit, the
    # server's peak memory grows by far less than the bomb.
    bomb = zero_bomb(1024)
    with wsapp() as port:
        pid = server_pid(port)
        base = fd_count(pid)
        hwm0 = vm_hwm_kib(pid)
        with connect(port, PMD) as c:
            head = frame(OP_BINARY, bomb, rsv=4)
            try:
                c.send(head)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may close before it has read everything
            else:
                c.expect_close(1009, "message too big after decompression", timeout=120)
        grew = vm_hwm_kib(pid) - hwm0
        assert grew < 128 * 1024, "peak memory grew by %d MiB for a 1 GiB bomb" % (grew >> 10)
        wait_fds(pid, base)
        still_serving(port)


# ---- 16 MiB through build/examples/wsecho, with the websockets client --------------------

WSECHO_SCRIPT = r"""
import asyncio, os, sys, websockets
async def main(port, compression):
    async with websockets.connect("ws://127.0.0.1:%d/echo" % port, max_size=None,
                                  compression=compression, open_timeout=60,
                                  close_timeout=60) as ws:
        ext = ws.response_headers.get("Sec-WebSocket-Extensions")
        assert (ext is not None) == (compression is not None), ext
        # 16 MiB that compress to about half (hex digits; the repeats are beyond a 32 KiB
        # window): the limit applies to the compressed bytes on the wire too
        big = os.urandom(1 << 19).hex().encode() * 16
        for msg in (big, big.decode(), b"x" * (16 << 20)):
            await ws.send(msg)
            got = await asyncio.wait_for(ws.recv(), 120)
            assert type(got) is type(msg) and got == msg, (type(got), len(got))
        await ws.send(b"y" * ((16 << 20) + 1))
        try:
            await asyncio.wait_for(ws.recv(), 120)
            raise AssertionError("a message over 16 MiB was echoed")
        except websockets.ConnectionClosedError as e:
            why = "message too big" + (" after decompression" if compression else "")
            assert e.rcvd.code == 1009 and e.rcvd.reason == why, e
    print("ok", compression)
asyncio.run(main(int(sys.argv[1]), None if sys.argv[2] == "none" else "deflate"))
"""


@slow
@timeout(600)
def test_wsecho_16mib_messages():
    with server(binary="examples/wsecho") as port:
        pid = server_pid(port)
        base = fd_count(pid)
        for comp in ("none", "deflate"):
            out = websockets_run(WSECHO_SCRIPT.replace("sys.argv[1]", str(port))
                                 .replace("sys.argv[2]", repr(comp)))
            assert out.strip() == "ok " + ("None" if comp == "none" else "deflate"), out
        wait_fds(pid, base)


def test_wsecho_websockets_client_basic():
    # The websockets library interoperates: compression negotiated, text and binary echoed,
    # a clean close.
    script = r"""
import asyncio, websockets
async def main():
    async with websockets.connect("ws://127.0.0.1:PORT/echo") as ws:
        assert ws.response_headers["Sec-WebSocket-Extensions"].startswith("permessage-deflate")
        for m in ("hello", b"\x00\x01", "caf\u00e9" * 1000):
            await ws.send(m)
            assert await ws.recv() == m
        pong = await ws.ping(b"abc")
        await asyncio.wait_for(pong, 30)
    assert ws.close_code == 1000, ws.close_code
    print("ok")
asyncio.run(main())
"""
    with server(binary="examples/wsecho") as port:
        assert websockets_run(script.replace("PORT", str(port))).strip() == "ok"
