"""The npm `ws` package (v8) as a peer, through tests/peers/ws_peer.js: its client against
wsecho (each scenario with permessage-deflate on and off), and its echo server against our
client, build/tests/wsclient_check (tp_ws_connect)."""
import os
import re
import subprocess

import peers


def scenario(name, mode):
    rc, out = peers.node("client", name, peers.echo_url(), mode)
    assert rc == 0, "ws client, %s (%s): exit %d: %s" % (name, mode, rc, out[-3000:])


# ws compresses only messages of 1 KiB or more by default; the -t0, -nct and -bits modes
# compress every message, with the parameters of RFC 7692 §7.1 asked for.
DEFLATE_MODES = ("deflate", "deflate-t0", "deflate-nct", "deflate-bits", "plain")


def test_ws_client_basic():
    for mode in DEFLATE_MODES:
        scenario("basic", mode)


def test_ws_client_fragmented():
    for mode in DEFLATE_MODES:
        scenario("fragmented", mode)


def test_ws_client_ping():
    scenario("ping", "deflate")
    scenario("ping", "plain")


def test_ws_client_close_codes():
    scenario("close_codes", "deflate")
    scenario("close_codes", "plain")


def test_ws_client_too_big():
    scenario("too_big", "deflate")
    scenario("too_big", "plain")


@peers.slow
def test_ws_client_16mib():
    for mode in ("deflate", "deflate-nct", "plain"):
        scenario("big", mode)


@peers.slow
def test_ws_client_many():
    scenario("many", "deflate")
    scenario("many", "plain")


def our_client(port, *args):
    exe = os.path.join(peers.BUILD, "tests", "wsclient_check")
    if not os.path.exists(exe):
        raise peers.Skip("%s is not built" % exe)
    p = subprocess.run([exe, "ws://127.0.0.1:%d/" % port] + list(args),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=280)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0 and "wsclient_check: ok" in out, \
        "wsclient_check %s: exit %d: %s" % (" ".join(args), p.returncode, out[-3000:])
    return out.splitlines()[0]  # "deflate enabled=... client_bits=... ..."


def pings_seen(port, *args):
    """Runs our client; the number of pings the server sent it (answered by the library)."""
    exe = os.path.join(peers.BUILD, "tests", "wsclient_check")
    p = subprocess.run([exe, "ws://127.0.0.1:%d/" % port] + list(args),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=280)
    out = p.stdout.decode("utf-8", "replace")
    m = re.search(r"wsclient_check: ok \((\d+) messages, (\d+) pings", out)
    assert p.returncode == 0 and m, "wsclient_check: exit %d: %s" % (p.returncode, out[-3000:])
    return int(m.group(1)), int(m.group(2))


def test_our_client_plain_server():
    with peers.NodeServer("plain") as srv:
        assert our_client(srv.port).startswith("deflate enabled=0")
        # offered, declined: plain messages
        assert our_client(srv.port, "--compression").startswith("deflate enabled=0")


def test_our_client_deflate_server():
    with peers.NodeServer("deflate") as srv:
        assert our_client(srv.port).startswith("deflate enabled=0")
        got = our_client(srv.port, "--compression")
        assert got == ("deflate enabled=1 client_bits=15 server_bits=15 client_nct=0 "
                       "server_nct=0"), got
        got = our_client(srv.port, "--compression", "--client-bits=9", "--client-nct")
        assert got == ("deflate enabled=1 client_bits=9 server_bits=15 client_nct=1 "
                       "server_nct=0"), got


def test_our_client_strict_deflate_server():
    # ws asks for no context takeover both ways, 9 bits for itself, 10 for us.
    with peers.NodeServer("deflate-strict") as srv:
        got = our_client(srv.port, "--compression")
        assert got == ("deflate enabled=1 client_bits=10 server_bits=9 client_nct=1 "
                       "server_nct=1"), got


def test_our_client_fragmented_echoes():
    # ws sends each echo in three fragments, pings before and between them: our client's
    # reader assembles (and inflates) them and answers the pings.
    for mode, args in (("plain-frag", []), ("deflate-frag", ["--compression"]),
                       ("deflate-strict-frag", ["--compression"])):
        with peers.NodeServer(mode) as srv:
            msgs, pings = pings_seen(srv.port, *args)
            assert pings == 2 * msgs, (mode, msgs, pings)


@peers.slow
def test_our_client_16mib():
    for mode, args in (("deflate", ["--compression"]), ("deflate-strict", ["--compression"]),
                       ("plain", []), ("deflate-frag", ["--compression"])):
        with peers.NodeServer(mode) as srv:
            our_client(srv.port, "--big", *args)
