/* bench-pubsub: the intra-host pubsub transport, measured (docs/pubsub.md has the figures).
 *
 *   bench-pubsub relay|mesh WORKERS MESSAGES SIZE
 *
 * relay: the real code: a master process running process/relay.c's fan-out on its loop, and
 *        WORKERS forked workers using web/pubsub (tp__pubsub_relay_start, subscribe,
 *        publish): the message goes worker -> master -> every worker (the publisher too).
 * mesh:  the alternative, prototyped: worker 0 sends each message straight to every other
 *        worker over one AF_UNIX SOCK_DGRAM socketpair per peer (sendmmsg, 64 at a time, a
 *        blocking send when a peer's queue is full) and delivers its own copy in place.
 * Worker 0 publishes. Two runs per mode: a burst (MESSAGES of SIZE bytes published at once:
 * messages/s until every worker has them all) and ping-pong (one message, wait until every
 * worker has it, 2000 times: the latency of one delivery to all). */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/loop.h"
#include "process/master_internal.h"
#include "web/pubsub/internal.h"

#define MAX_WORKERS 16
#define PINGS       2000

/* Shared by every process of the run (MAP_SHARED). */
typedef struct shared {
    _Atomic uint64_t got;     /* deliveries so far, all workers */
    uint64_t want;            /* deliveries that end the phase */
    double last[MAX_WORKERS]; /* monotonic time of each worker's last delivery */
    double ping_lat[PINGS];   /* seconds from publish to the last worker's delivery */
    double t0;                /* when the publisher began (the burst, or this ping) */
    _Atomic int finished;     /* ping: the publisher is done */
} shared;

static shared *S;
static int done_fd; /* eventfd: the delivery that completed a phase */
static int nworkers, nmsgs, msg_size, me;
static bool ping_phase;

static void delivered(void)
{
    S->last[me] = tp__monotonic();
    uint64_t n = atomic_fetch_add(&S->got, 1) + 1;
    if (n == S->want) {
        uint64_t one = 1;
        if (write(done_fd, &one, sizeof(one)) < 0)
            abort();
    }
}

static void wait_done(void)
{
    uint64_t v;
    while (read(done_fd, &v, sizeof(v)) < 0 && errno == EINTR)
        ;
}

/* ---- relay: the real code ------------------------------------------------------------------ */

static void on_msg(tp_slice ch, tp_slice msg, void *arg)
{
    (void)ch, (void)msg, (void)arg;
    delivered();
}

static char *payload(void)
{
    char *p = tp_malloc((size_t)msg_size);
    memset(p, 'x', (size_t)msg_size);
    return p;
}

static int ping_no;
static void ping_next(tp_loop *loop, int fd, unsigned events, void *arg);

static void ping_one(tp_loop *loop)
{
    static char *p;
    if (!p)
        p = payload();
    S->want = (uint64_t)(ping_no + 1) * (uint64_t)nworkers;
    S->t0 = tp__monotonic();
    tp_pubsub_publish(TP_SLICE_LIT("bench"), p, (size_t)msg_size);
    (void)loop;
}

static void ping_next(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)fd, (void)events, (void)arg;
    uint64_t v;
    if (read(done_fd, &v, sizeof(v)) < 0)
        return;
    S->ping_lat[ping_no++] = tp__monotonic() - S->t0;
    if (ping_no < PINGS) {
        ping_one(loop);
        return;
    }
    atomic_store(&S->finished, 1);
    tp_loop_stop(loop);
}

static void burst(tp_loop *loop, void *arg)
{
    (void)arg;
    char *p = payload();
    S->t0 = tp__monotonic();
    for (int i = 0; i < nmsgs; i++)
        if (tp_pubsub_publish(TP_SLICE_LIT("bench"), p, (size_t)msg_size) < 0)
            abort();
    tp_free(p);
    (void)loop;
}

static void stop_soon(tp_loop *loop, void *arg)
{
    (void)arg;
    if (ping_phase ? atomic_load(&S->finished) : atomic_load(&S->got) >= S->want)
        tp_loop_stop(loop);
    else
        tp_loop_call_later(loop, 0.05, stop_soon, NULL);
}

_Noreturn static void relay_worker(int fd)
{
    tp_loop_set_current(NULL);
    tp_loop *loop = tp_loop_current();
    tp__pubsub_relay_start(loop, fd);
    tp_pubsub_subscribe(TP_SLICE_LIT("bench"), on_msg, NULL);
    if (me == 0 && !ping_phase) {
        tp_loop_add_callback(loop, burst, NULL);
    } else if (me == 0) {
        tp_loop_add_fd(loop, done_fd, TP_READ, ping_next, NULL);
        ping_one(loop);
    }
    if (me != 0 || !ping_phase)
        tp_loop_call_later(loop, 0.05, stop_soon, NULL);
    tp_loop_run(loop);
    tp_log_flush();
    _exit(0);
}

static int reaped;
static void on_chld(tp_loop *loop, int signo, void *arg)
{
    (void)signo, (void)arg;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        if (++reaped == nworkers)
            tp_loop_stop(loop);
}

static void run_relay(void)
{
    tp_master master = {.loop = tp_loop_current()};
    reaped = 0;
    tp_loop_add_signal(master.loop, SIGCHLD, on_chld, NULL);
    for (me = 0; me < nworkers; me++) {
        int sv[2];
        if (tp__relay_pair(sv) < 0)
            abort();
        pid_t pid = fork();
        if (pid == 0) {
            close(sv[0]);
            relay_worker(sv[1]);
        }
        close(sv[1]);
        worker *w = tp_calloc(1, sizeof(*w));
        *w = (worker){.m = &master, .pid = pid, .slot = me, .next = master.workers};
        master.workers = w;
        tp__relay_add(&master, w, sv[0]);
    }
    tp_loop_run(master.loop);
    while (master.workers) {
        worker *w = master.workers;
        master.workers = w->next;
        tp__relay_remove(w);
        tp_free(w);
    }
    tp_loop_remove_signal(master.loop, SIGCHLD);
}

/* ---- mesh: the prototype ------------------------------------------------------------------- */

static void mesh_receive(int fd)
{
    char *buf = payload();
    for (;;) {
        ssize_t n = recv(fd, buf, (size_t)msg_size, 0);
        if (n == msg_size)
            delivered();
        else if (n == 0 || (n < 0 && errno != EINTR))
            break; /* the publisher's empty datagram: the phase is over */
    }
    _exit(0);
}

static void mesh_send(const int *peers, int n)
{
    char *p = payload();
    struct mmsghdr mm[64];
    struct iovec iov = {p, (size_t)msg_size};
    for (int i = 0; i < 64; i++)
        mm[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov, .msg_iovlen = 1}};
    for (int done = 0; done < n;) {
        int batch = n - done < 64 ? n - done : 64;
        for (int k = 1; k < nworkers; k++)
            for (int sent = 0; sent < batch;) {
                int r = sendmmsg(peers[k], mm + sent, (unsigned)(batch - sent), 0);
                if (r < 0 && errno != EINTR)
                    abort();
                sent += r > 0 ? r : 0;
            }
        for (int i = 0; i < batch; i++)
            delivered(); /* the publisher's own subscriber */
        done += batch;
    }
    tp_free(p);
}

static void run_mesh(void)
{
    int peers[MAX_WORKERS];
    for (me = 1; me < nworkers; me++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0)
            abort();
        if (fork() == 0) {
            close(sv[0]);
            mesh_receive(sv[1]);
        }
        close(sv[1]);
        peers[me] = sv[0];
    }
    me = 0;
    if (!ping_phase) {
        S->t0 = tp__monotonic();
        mesh_send(peers, nmsgs);
        wait_done();
    }
    for (int i = 0; ping_phase && i < PINGS; i++) {
        S->want = (uint64_t)(i + 1) * (uint64_t)nworkers;
        S->t0 = tp__monotonic();
        mesh_send(peers, 1);
        wait_done();
        S->ping_lat[i] = tp__monotonic() - S->t0;
    }
    for (int k = 1; k < nworkers; k++) {
        if (send(peers[k], "", 0, 0) < 0) /* an empty datagram ends the receiver */
            abort();
        close(peers[k]);
    }
    while (wait(NULL) > 0)
        ;
}

/* ---- main ---------------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void phase(bool relay, bool ping)
{
    memset(S, 0, sizeof(*S));
    close(done_fd);
    done_fd = eventfd(0, EFD_CLOEXEC); /* nothing left over from the last phase */
    ping_phase = ping;
    S->want = ping ? (uint64_t)nworkers : (uint64_t)nmsgs * (uint64_t)nworkers;
    relay ? run_relay() : run_mesh();
    if (!ping) {
        double end = 0;
        for (int i = 0; i < nworkers; i++)
            end = S->last[i] > end ? S->last[i] : end;
        printf("%s workers=%d size=%d burst: %d messages in %.3f s = %.0f messages/s "
               "(%.0f deliveries/s)\n",
               relay ? "relay" : "mesh ", nworkers, msg_size, nmsgs, end - S->t0,
               nmsgs / (end - S->t0), (double)nmsgs * nworkers / (end - S->t0));
        return;
    }
    qsort(S->ping_lat, PINGS, sizeof(double), cmp_double);
    printf("%s workers=%d size=%d ping: to all workers p50 %.1f us, p99 %.1f us\n",
           relay ? "relay" : "mesh ", nworkers, msg_size, S->ping_lat[PINGS / 2] * 1e6,
           S->ping_lat[PINGS * 99 / 100] * 1e6);
}

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[1], "relay") && strcmp(argv[1], "mesh"))) {
        fprintf(stderr, "usage: bench-pubsub relay|mesh WORKERS MESSAGES SIZE\n");
        return 2;
    }
    nworkers = atoi(argv[2]);
    nmsgs = atoi(argv[3]);
    msg_size = atoi(argv[4]);
    if (nworkers < 1 || nworkers > MAX_WORKERS || nmsgs < 1 || msg_size < 1 ||
        (size_t)nmsgs * (size_t)msg_size > ((size_t)60 << 20)) {
        fprintf(stderr, "bench-pubsub: 1..16 workers, MESSAGES*SIZE under 60 MiB (no drops)\n");
        return 2;
    }
    S = mmap(NULL, sizeof(*S), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    done_fd = eventfd(0, EFD_CLOEXEC);
    if (S == MAP_FAILED || done_fd < 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    bool relay = !strcmp(argv[1], "relay");
    phase(relay, false);
    phase(relay, true);
    return 0;
}
