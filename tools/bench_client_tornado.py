"""Tornado's AsyncHTTPClient doing what tools/bench_client.c does: N fetches of one URL with
CONCURRENCY in flight (max_clients = CONCURRENCY), then requests/s and CPU per request.
Runs under Debian's /usr/bin/python3 (tornado, pycurl).

    /usr/bin/python3 tools/bench_client_tornado.py simple|curl URL N CONCURRENCY
"""
import asyncio
import resource
import sys
import time

from tornado.httpclient import AsyncHTTPClient


def cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def run(impl, url, total, conc):
    cls = "tornado.curl_httpclient.CurlAsyncHTTPClient" if impl == "curl" else None
    AsyncHTTPClient.configure(cls, max_clients=conc)
    client = AsyncHTTPClient()
    left = [total]
    failed = [0]

    async def worker():
        while left[0] > 0:
            left[0] -= 1
            r = await client.fetch(url, raise_error=False)
            failed[0] += r.code != 200

    t0, c0 = time.monotonic(), cpu()
    await asyncio.gather(*[worker() for _ in range(conc)])
    wall, used = time.monotonic() - t0, cpu() - c0
    print("tornado %s_httpclient c=%d: %d requests, %d failed, %.0f requests/s, "
          "%.1f us CPU/request" % (impl, conc, total, failed[0], total / wall,
                                   used / total * 1e6))


if __name__ == "__main__":
    impl, url, total, conc = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    asyncio.run(run(impl, url, total, conc))
