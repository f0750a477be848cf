"""--max-requests when the replacement's fork fails: the master retries it with the slot's
backoff while the old worker goes on serving, and the old worker drains once the replacement
is ready (before, the old worker was marked recycled and never replaced)."""
import time

from prefork import server, body, wait_gone, timeout

FORK_FAILED = r"worker\[0\] cannot fork: Resource temporarily unavailable"
DEADLINE = 30.0


@timeout(90)
def test_failed_recycle_fork_is_retried():
    with server("--max-requests=5", procs=1, extra_env={"TP_TEST_FAIL_FORKS": "2"}) as s:
        old = s.wait_workers(1, gen=1)[0]
        s.mark()
        deadline = time.monotonic() + DEADLINE
        while "reached max_requests" not in s.log()[s.log_mark:]:
            assert time.monotonic() < deadline, "no max_requests line:\n" + s.log_tail()
            assert body(s.port, "/pid") == str(old.pid)  # the old worker serves meanwhile
        s.wait_log_count(FORK_FAILED, 2, DEADLINE)
        new = s.wait_respawn(0, old.pid, DEADLINE)
        left = wait_gone([old.pid], DEADLINE)
        assert not left, "the recycled worker %d still runs beside %d" % (old.pid, new.pid)
        assert body(s.port, "/pid") == str(new.pid)
