"""A HUP while two old generations still drain is coalesced, and the reload starts as soon as
one of them is gone (before, it waited for another reload to end, which never came: the HUP
was lost)."""
import signal

from prefork import server, connect, body, wait_gone, timeout

DEADLINE = 30.0


def _hold(s, version):
    """A request in flight on the current generation's worker: it keeps that generation
    draining after the next reload. The connection is the worker's once it answered."""
    c = connect(s.port, timeout=DEADLINE)
    c.request("GET", "/")
    assert c.read_response().body == version
    c.request("GET", "/sleep?s=600")
    return c


@timeout(120)
def test_hup_while_two_generations_drain_is_not_lost():
    with server("--shutdown-timeout=120", procs=1) as s:
        gen1 = s.wait_workers(1, gen=1)
        s.mark()
        held1 = _hold(s, b"v1")
        s.swap_app("app_v2.so")
        assert s.hup() == 2
        gen2 = s.wait_workers(2, timeout=DEADLINE, slots=False)  # gen 1 drains, gen 2 serves
        s.mark()
        held2 = _hold(s, b"v2")
        s.swap_app("app_v1.so")
        assert s.hup() == 3  # gens 1 and 2 draining now
        s.swap_app("app_v2.so")
        s.mark()
        s.signal(signal.SIGHUP)  # coalesced: two old generations drain
        held1.reset()  # gen 1 has nothing left: it ends, and the pending reload starts
        left = wait_gone([w.pid for w in gen1], DEADLINE)
        assert not left, "generation 1 still draining: %r" % left
        s.wait_log(r"reload \(coalesced\)", DEADLINE)
        s.wait_log(r"generation 4 serving", DEADLINE)
        assert body(s.port) == "v2"
        held2.reset()
        left = wait_gone([w.pid for w in gen2 if w.gen == 2], DEADLINE)
        assert not left, "generation 2 still draining: %r" % left
