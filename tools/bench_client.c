/* bench-client: N fetches of one URL through tp_http_client with `concurrency` in flight
 * (max_clients = concurrency, keep-alive), then one line: requests/s and the client's CPU
 * (user+system) per request. tools/bench-client.sh runs it beside Tornado's clients.
 *
 * Usage: bench-client URL N CONCURRENCY */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "tp.h"

static struct {
    tp_loop *loop;
    tp_http_client *client;
    tp_http_request req;
    int total, started, done, failed;
} b;

static void start_one(void);

static void on_done(tp_http_response *r, void *arg)
{
    (void)arg;
    b.done++;
    b.failed += r->code != 200;
    if (b.started < b.total)
        start_one();
    else if (b.done == b.total)
        tp_loop_stop(b.loop);
}

static void start_one(void)
{
    b.started++;
    if (tp_http_fetch(b.client, &b.req, on_done, NULL) != 0) {
        fprintf(stderr, "bench-client: fetch failed to start\n");
        exit(1);
    }
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench-client URL N CONCURRENCY\n");
        return 2;
    }
    int conc = atoi(argv[3]);
    b.total = atoi(argv[2]);
    b.loop = tp_loop_new();
    tp_http_client_opts o = {.max_clients = conc};
    b.client = tp_http_client_new(b.loop, &o);
    tp_http_request_init(&b.req, argv[1]);
    double t0 = tp__monotonic(), c0 = cpu_seconds();
    for (int i = 0; i < conc && b.started < b.total; i++)
        start_one();
    tp_loop_run(b.loop);
    double wall = tp__monotonic() - t0, cpu = cpu_seconds() - c0;
    printf("tp_http_client c=%d: %d requests, %d failed, %.0f requests/s, %.1f us CPU/request, "
           "%ld connections\n",
           conc, b.total, b.failed, b.total / wall, cpu / b.total * 1e6,
           tp_http_client_connects(b.client));
    tp_http_client_free(b.client);
    tp_loop_free(b.loop);
    return b.failed ? 1 : 0;
}
