/* ws-load: a WebSocket load generator for 127.0.0.1 benchmarks. Raw epoll and libc (SHA-1 and
 * base64 from libcrypto), one thread, bounded in time. Three modes:
 *
 *   echo (default): N connections each keep --depth messages of --size bytes in flight to an
 *     echo endpoint; prints messages/s and round-trip p50/p99.
 *   --idle: opens N connections, holds them --seconds, prints the server's memory growth per
 *     connection (VmRSS summed over --server-pid and its descendants). With --deflate the
 *     handshake offers permessage-deflate (no messages are sent: compressed frames are not
 *     implemented here, so --deflate is for idle memory only).
 *   --fanout: N subscribers connect to --url; one message per round is published, by a POST
 *     to --publish-url http://... or as a text frame on an extra connection to --publish-url
 *     ws://... (default: --url); prints the time until the first and the last subscriber had
 *     it. A subscriber recognises the message by the token "wsload-fanout R " anywhere in
 *     what it receives (so a server may wrap it in JSON).
 *
 * With --server-pid (repeatable), the server's CPU seconds (utime+stime of the pids and
 * every descendant, from /proc) over the measured window are printed, and per message.
 * Results are one line of key=value pairs. Frames are masked once per connection and sent
 * again with the same mask: fine for a benchmark, not what a real client should do. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "tools/ws_load.h"

enum { ST_FREE, ST_CONNECTING, ST_HANDSHAKE, ST_OPEN, ST_CLOSING, ST_DONE };
enum { ROLE_SUB, ROLE_PUB_WS, ROLE_PUB_HTTP };
enum { MODE_ECHO, MODE_IDLE, MODE_FANOUT };
#define MAX_HEAD      16384
#define MAX_FRAME     (64u << 20)
#define SHARED_FRAMES (64u << 20) /* above this total, every connection shares one frame */
#define ROUND_TIMEOUT 5.0
#define CLOSE_WAIT    2.0

struct conn {
    int fd;
    uint8_t state, role;
    uint8_t *rbuf;
    uint32_t rlen, rcap;
    uint8_t *frame; /* our pre-masked data frame */
    uint64_t *ts;   /* send times of the messages in flight (a ring of depth) */
    uint32_t head, inflight;
    uint32_t to_send, off; /* frames queued but not written; bytes of the first written */
    uint64_t msg_len;      /* payload bytes of the message being received */
    uint32_t got_round;
    uint64_t count; /* round trips in the measured window */
    bool want_out;
    char accept[29];
};

static struct {
    int mode, conns, depth, concurrency, rounds;
    double seconds, warmup, connect_timeout;
    size_t size;
    bool binary, deflate;
    const char *subscribe;
    pid_t pids[64];
    int npids;
    struct url url, pub;
} opt = {.conns = 100,
         .depth = 1,
         .concurrency = 256,
         .seconds = 5,
         .warmup = 1,
         .connect_timeout = 30,
         .size = 64};

static struct {
    int ep;
    struct conn *c;
    int nconn, next_connect, connecting, opened, failed, closed_early, deflate_ok;
    size_t flen;
    uint8_t *shared_frame;
    bool measuring;
    uint64_t msgs, mismatched, hist[H_N];
    /* fan-out */
    uint32_t round;
    char token[48];
    size_t toklen;
    int got;
    int subs_open;
    double t_pub, t_first;
    double *first_ms, *last_ms;
    int nrounds, missing, pub_failed;
    double deliver_secs;
} g;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *msg)
{
    fprintf(stderr, "ws-load: %s\n", msg);
    exit(2);
}

static void set_events(struct conn *c, uint32_t ev)
{
    struct epoll_event e = {.events = ev, .data.u32 = (uint32_t)(c - g.c)};
    epoll_ctl(g.ep, EPOLL_CTL_MOD, c->fd, &e);
}

static void conn_finish(struct conn *c, bool failed)
{
    if (c->role == ROLE_PUB_HTTP && (c->state == ST_CONNECTING || c->state == ST_HANDSHAKE)) {
        g.connecting--, g.pub_failed++;
    } else if (c->state == ST_CONNECTING || c->state == ST_HANDSHAKE) {
        g.connecting--;
        failed ? g.failed++ : g.opened++;
    } else if (c->state == ST_OPEN && c->role == ROLE_SUB) {
        g.closed_early++;
    }
    if (c->state != ST_FREE && c->state != ST_DONE) {
        close(c->fd);
        c->fd = -1;
    }
    c->state = ST_DONE;
}

static void start_connect(struct conn *c)
{
    const struct url *u = c->role == ROLE_SUB ? &opt.url : &opt.pub;
    int one = 1;
    c->fd = socket(u->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        c->state = ST_DONE, g.failed++;
        return;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->state = ST_CONNECTING, g.connecting++;
    c->rlen = 0, c->msg_len = 0, c->to_send = 0, c->off = 0;
    if (connect(c->fd, (struct sockaddr *)&u->addr, u->addrlen) < 0 && errno != EINPROGRESS) {
        conn_finish(c, true);
        return;
    }
    struct epoll_event e = {.events = EPOLLOUT, .data.u32 = (uint32_t)(c - g.c)};
    epoll_ctl(g.ep, EPOLL_CTL_ADD, c->fd, &e);
}

/* The published message: the round's token padded with 'x' to --size. */
static size_t body_len(void)
{
    return opt.size > g.toklen ? opt.size : g.toklen;
}

static uint8_t *make_body(void)
{
    uint8_t *b = malloc(body_len());
    if (!b)
        die("out of memory");
    memset(b, 'x', body_len());
    memcpy(b, g.token, g.toklen);
    return b;
}

static int write_body(int fd)
{
    uint8_t *b = make_body();
    ssize_t w = write(fd, b, body_len());
    free(b);
    return w == (ssize_t)body_len() ? 0 : -1;
}

static void send_request(struct conn *c)
{
    char req[4096];
    int n;
    if (c->role == ROLE_PUB_HTTP) {
        n = snprintf(req, sizeof req,
                     "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     opt.pub.path, opt.pub.hostport, body_len());
    } else {
        unsigned char raw[16];
        char key[25];
        if (getrandom(raw, sizeof raw, 0) != sizeof raw)
            die("getrandom failed");
        EVP_EncodeBlock((unsigned char *)key, raw, sizeof raw);
        make_accept(key, c->accept);
        const struct url *u = c->role == ROLE_SUB ? &opt.url : &opt.pub;
        n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n%s\r\n",
                     u->path, u->hostport, key,
                     opt.deflate ? "Sec-WebSocket-Extensions: permessage-deflate; "
                                   "client_max_window_bits\r\n"
                                 : "");
    }
    if (write(c->fd, req, (size_t)n) != n) { /* a fresh socket takes a few hundred bytes */
        conn_finish(c, true);
        return;
    }
    if (c->role == ROLE_PUB_HTTP && write_body(c->fd) < 0) {
        conn_finish(c, true);
        return;
    }
    c->state = ST_HANDSHAKE;
    set_events(c, EPOLLIN);
}

static bool check_handshake(struct conn *c, const char *head)
{
    size_t n;
    if (c->role == ROLE_PUB_HTTP)
        return strncmp(head, "HTTP/1.", 7) == 0 && head[9] == '2';
    if (strncmp(head, "HTTP/1.1 101", 12) != 0)
        return false;
    const char *a = find_header(head, "sec-websocket-accept", &n);
    if (!a || n != 28 || memcmp(a, c->accept, 28) != 0)
        return false;
    const char *x = find_header(head, "sec-websocket-extensions", &n);
    if (x && memmem(x, n, "permessage-deflate", 18))
        g.deflate_ok++;
    return true;
}

static void queue_frames(struct conn *c, uint32_t n)
{
    uint64_t t = now_ns();
    for (uint32_t i = 0; i < n && c->inflight < (uint32_t)opt.depth; i++) {
        c->ts[(c->head + c->inflight) % (uint32_t)opt.depth] = t;
        c->inflight++, c->to_send++;
    }
}

/* Writes the queued frames (several per writev); EPOLLOUT while the socket is full. */
static int conn_flush(struct conn *c)
{
    const uint8_t *f = c->frame ? c->frame : g.shared_frame;
    while (c->to_send) {
        struct iovec iov[16];
        int n = 0;
        for (; n < 16 && (uint32_t)n < c->to_send; n++)
            iov[n] = (struct iovec){(void *)f, g.flen};
        iov[0].iov_base = (void *)(f + c->off), iov[0].iov_len = g.flen - c->off;
        ssize_t w = writev(c->fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            if (!c->want_out)
                c->want_out = true, set_events(c, EPOLLIN | EPOLLOUT);
            return 0;
        }
        if (w < 0)
            return -errno;
        size_t done = c->off + (size_t)w;
        c->to_send -= (uint32_t)(done / g.flen);
        c->off = (uint32_t)(done % g.flen);
    }
    if (c->want_out)
        c->want_out = false, set_events(c, EPOLLIN);
    return 0;
}

static void send_control(struct conn *c, int opcode, const uint8_t *p, size_t n)
{
    uint8_t f[140];
    size_t len = build_frame(f, opcode, p, n);
    if (write(c->fd, f, len) < 0) { /* best effort: a pong or our Close */
    }
}

static void fanout_message(struct conn *c, const uint8_t *p, size_t n)
{
    if (c->role != ROLE_SUB || g.t_pub == 0 || c->got_round == g.round)
        return;
    if (!memmem(p, n, g.token, g.toklen))
        return;
    c->got_round = g.round;
    double t = now_s();
    if (g.got++ == 0)
        g.t_first = t;
    if (g.got == g.subs_open) {
        g.first_ms[g.nrounds] = (g.t_first - g.t_pub) * 1e3;
        g.last_ms[g.nrounds++] = (t - g.t_pub) * 1e3;
        g.deliver_secs += t - g.t_pub;
        g.t_pub = 0;
    }
}

static void echo_message(struct conn *c)
{
    if (c->msg_len != opt.size)
        g.mismatched++;
    if (c->inflight == 0 || c->state != ST_OPEN)
        return;
    uint64_t t = now_ns();
    if (g.measuring) {
        g.hist[h_index(t - c->ts[c->head])]++;
        g.msgs++, c->count++;
    }
    c->head = (c->head + 1) % (uint32_t)opt.depth;
    c->inflight--;
    queue_frames(c, 1);
}

/* One whole frame. -1 ends the connection. */
static int on_frame(struct conn *c, uint8_t b0, const uint8_t *p, size_t n)
{
    int op = b0 & 0x0f;
    if ((b0 & 0x70) && (opt.mode != MODE_IDLE || op >= 8))
        return -1; /* RSV bits: a compressed frame we cannot read */
    switch (op) {
    case 0x8: /* after ours, wait for the server to close first */
        if (c->state == ST_CLOSING)
            return 0;
        send_control(c, 0x8, p, n < 2 ? n : 2);
        return -1;
    case 0x9: send_control(c, 0xA, p, n); return 0;
    case 0xA: return 0;
    case 0x0:
    case 0x1:
    case 0x2:
        c->msg_len += n;
        if (opt.mode == MODE_FANOUT)
            fanout_message(c, p, n);
        if (b0 & 0x80) {
            if (opt.mode == MODE_ECHO)
                echo_message(c);
            c->msg_len = 0;
        }
        return 0;
    default: return -1;
    }
}

/* Parses the complete frames in rbuf; grows rbuf for a frame that does not fit. */
static int parse_frames(struct conn *c)
{
    size_t pos = 0;
    for (;;) {
        const uint8_t *b = c->rbuf + pos;
        size_t avail = c->rlen - pos, hdr = 2;
        if (avail < 2)
            break;
        uint64_t len = b[1] & 0x7f;
        if (b[1] & 0x80)
            return -1; /* a server must not mask */
        if (len == 126) {
            if (avail < 4)
                break;
            len = (uint64_t)b[2] << 8 | b[3], hdr = 4;
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0, hdr = 10;
            for (int i = 2; i < 10; i++)
                len = len << 8 | b[i];
        }
        if (len > MAX_FRAME)
            return -1;
        if (avail < hdr + len) {
            if (hdr + len > c->rcap) {
                memmove(c->rbuf, b, avail);
                c->rlen = (uint32_t)avail, pos = 0;
                c->rcap = (uint32_t)(hdr + len);
                c->rbuf = realloc(c->rbuf, c->rcap);
                if (!c->rbuf)
                    die("out of memory");
            }
            break;
        }
        if (on_frame(c, b[0], b + hdr, len) < 0)
            return -1;
        pos += hdr + len;
    }
    memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
    c->rlen -= (uint32_t)pos;
    return 0;
}

static int on_head(struct conn *c)
{
    char *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
    if (!end)
        return c->rlen >= MAX_HEAD ? -1 : 0;
    end[2] = 0;
    bool ok = check_handshake(c, (char *)c->rbuf);
    g.connecting--;
    if (c->role != ROLE_PUB_HTTP)
        ok ? g.opened++ : g.failed++;
    if (c->role == ROLE_PUB_HTTP)
        g.pub_failed += !ok;
    if (!ok || c->role == ROLE_PUB_HTTP) {
        close(c->fd), c->fd = -1, c->state = ST_DONE;
        return 1;
    }
    size_t used = (size_t)(end + 4 - (char *)c->rbuf);
    memmove(c->rbuf, c->rbuf + used, c->rlen - used);
    c->rlen -= (uint32_t)used;
    c->state = ST_OPEN;
    if (opt.subscribe && c->role == ROLE_SUB)
        send_control(c, 0x1, (const uint8_t *)opt.subscribe, strlen(opt.subscribe));
    return 0;
}

static void on_readable(struct conn *c)
{
    for (;;) {
        if (c->rlen == c->rcap) {
            c->rcap *= 2;
            if (!(c->rbuf = realloc(c->rbuf, c->rcap)))
                die("out of memory");
        }
        size_t space = c->rcap - c->rlen;
        ssize_t r = read(c->fd, c->rbuf + c->rlen, space);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            break;
        if (r <= 0) {
            conn_finish(c, c->state != ST_OPEN && c->state != ST_CLOSING);
            return;
        }
        c->rlen += (uint32_t)r;
        if (c->state == ST_HANDSHAKE) {
            int h = on_head(c);
            if (h != 0) {
                if (h < 0)
                    conn_finish(c, true);
                return;
            }
        }
        if (parse_frames(c) < 0 || conn_flush(c) < 0) {
            conn_finish(c, false);
            return;
        }
        if ((size_t)r < space)
            break;
    }
}

static void on_event(struct conn *c, uint32_t ev)
{
    if (c->state == ST_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err || (ev & (EPOLLERR | EPOLLHUP)))
            conn_finish(c, true);
        else
            send_request(c);
        return;
    }
    if ((ev & EPOLLOUT) && c->state == ST_OPEN && conn_flush(c) < 0) {
        conn_finish(c, false);
        return;
    }
    if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
        on_readable(c);
}

/* Runs the loop until `until` (monotonic seconds) or until done() says so. */
static void run_until(double until, bool (*done)(void))
{
    struct epoll_event ev[512];
    while (!(done && done())) {
        double left = until - now_s();
        if (left <= 0)
            break;
        while (g.next_connect < g.nconn && g.connecting < opt.concurrency)
            start_connect(&g.c[g.next_connect++]);
        int n = epoll_wait(g.ep, ev, 512, left > 0.05 ? 50 : (int)(left * 1e3) + 1);
        for (int i = 0; i < n; i++)
            on_event(&g.c[ev[i].data.u32], ev[i].events);
    }
}

static bool all_connected(void)
{
    return g.next_connect == g.nconn && g.connecting == 0;
}

static bool all_closed(void)
{
    for (int i = 0; i < g.nconn; i++)
        if (g.c[i].state != ST_DONE)
            return false;
    return true;
}

/* Sends a Close to every open connection, waits for the servers to close, then resets
 * what is left (so a TIME_WAIT stays on the server side when it behaves). */
static void close_all(void)
{
    static const uint8_t code[2] = {0x03, 0xe8};
    for (int i = 0; i < g.nconn; i++) {
        struct conn *c = &g.c[i];
        if (c->state == ST_OPEN && c->off == 0) /* not in the middle of a frame */
            c->to_send = 0, send_control(c, 0x8, code, 2), c->state = ST_CLOSING;
    }
    run_until(now_s() + CLOSE_WAIT, all_closed);
    for (int i = 0; i < g.nconn; i++) {
        struct conn *c = &g.c[i];
        if (c->state == ST_DONE || c->state == ST_FREE)
            continue;
        struct linger l = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        close(c->fd), c->state = ST_DONE;
    }
}

static void setup_conns(int n)
{
    size_t max = opt.size + 14;
    g.c = calloc((size_t)n, sizeof *g.c);
    uint8_t *payload = malloc(opt.size + 1);
    if (!g.c || !payload)
        die("out of memory");
    for (size_t i = 0; i < opt.size; i++)
        payload[i] = (uint8_t)('a' + i % 26);
    bool shared = max * (size_t)n > SHARED_FRAMES;
    if (shared && !(g.shared_frame = malloc(max)))
        die("out of memory");
    if (shared)
        g.flen = build_frame(g.shared_frame, opt.binary ? 2 : 1, payload, opt.size);
    for (int i = 0; i < n; i++) {
        struct conn *c = &g.c[i];
        c->fd = -1;
        c->rcap = 4096;
        c->rbuf = malloc(c->rcap);
        c->ts = calloc((size_t)opt.depth, sizeof *c->ts);
        if (!c->rbuf || !c->ts || (!shared && !(c->frame = malloc(max))))
            die("out of memory");
        if (!shared)
            g.flen = build_frame(c->frame, opt.binary ? 2 : 1, payload, opt.size);
    }
    free(payload);
    g.nconn = n;
}

static double server_cpu(void)
{
    return opt.npids ? proc_cpu_seconds(opt.pids, opt.npids) : 0;
}

static void print_cpu(double cpu, double count, const char *per)
{
    if (opt.npids)
        printf(" server_cpu_s=%.2f server_cpu_us_per_%s=%.2f", cpu, per,
               count > 0 ? cpu * 1e6 / count : 0);
}

/* The fewest and most round trips of one connection: how fair the server was. */
static void spread(uint64_t *lo, uint64_t *hi)
{
    *lo = UINT64_MAX, *hi = 0;
    for (int i = 0; i < opt.conns; i++) {
        if (g.c[i].state == ST_FREE || g.c[i].state == ST_CONNECTING)
            continue;
        *lo = g.c[i].count < *lo ? g.c[i].count : *lo;
        *hi = g.c[i].count > *hi ? g.c[i].count : *hi;
    }
    if (*lo == UINT64_MAX)
        *lo = 0;
}

static int run_echo(void)
{
    run_until(now_s() + opt.connect_timeout, all_connected);
    for (int i = 0; i < g.nconn; i++) {
        struct conn *c = &g.c[i];
        if (c->state != ST_OPEN)
            continue;
        queue_frames(c, (uint32_t)opt.depth);
        if (conn_flush(c) < 0)
            conn_finish(c, false);
    }
    run_until(now_s() + opt.warmup, NULL);
    double cpu0 = server_cpu(), t0 = now_s();
    g.measuring = true;
    run_until(t0 + opt.seconds, NULL);
    g.measuring = false;
    double secs = now_s() - t0, cpu = server_cpu() - cpu0;
    close_all();
    printf("mode=echo conns=%d/%d failed=%d closed=%d size=%zu depth=%d msgs=%llu secs=%.2f "
           "msgs_per_s=%.0f p50_us=%.1f p99_us=%.1f",
           g.opened, opt.conns, g.failed, g.closed_early, opt.size, opt.depth,
           (unsigned long long)g.msgs, secs, (double)g.msgs / secs,
           (double)h_quantile(g.hist, 0.5) / 1e3, (double)h_quantile(g.hist, 0.99) / 1e3);
    print_cpu(cpu, (double)g.msgs, "msg");
    uint64_t lo, hi;
    spread(&lo, &hi);
    printf(" per_conn_min=%llu per_conn_max=%llu mismatched=%llu\n", (unsigned long long)lo,
           (unsigned long long)hi, (unsigned long long)g.mismatched);
    return g.opened && g.msgs ? 0 : 1;
}

static int run_idle(void)
{
    long before = proc_rss_kb(opt.pids, opt.npids);
    run_until(now_s() + opt.connect_timeout, all_connected);
    run_until(now_s() + opt.seconds, NULL);
    long after = proc_rss_kb(opt.pids, opt.npids);
    int open = g.opened - g.closed_early;
    close_all();
    printf("mode=idle conns=%d/%d failed=%d closed=%d deflate=%d rss_before_kb=%ld "
           "rss_after_kb=%ld bytes_per_conn=%.0f\n",
           g.opened, opt.conns, g.failed, g.closed_early, g.deflate_ok, before, after,
           open > 0 ? (double)(after - before) * 1024 / open : 0);
    return open > 0 ? 0 : 1;
}

static void publish(void)
{
    struct conn *p = &g.c[opt.conns];
    g.round++;
    g.toklen = (size_t)snprintf(g.token, sizeof g.token, "wsload-fanout %u ", g.round);
    g.got = g.subs_open = 0;
    for (int i = 0; i < opt.conns; i++)
        g.subs_open += g.c[i].state == ST_OPEN;
    g.t_pub = now_s();
    if (p->role == ROLE_PUB_HTTP) {
        start_connect(p); /* the POST goes out once connected */
        return;
    }
    uint8_t *msg = make_body(), *f = malloc(body_len() + 14);
    if (!f)
        die("out of memory");
    size_t len = build_frame(f, 1, msg, body_len());
    if (p->state != ST_OPEN || write_all(p->fd, f, len) < 0)
        g.pub_failed++;
    free(msg), free(f);
}

static bool round_done(void)
{
    return g.t_pub == 0;
}

static void print_fanout(double cpu, int timeouts)
{
    int n = g.nrounds;
    double deliveries = (double)n * g.subs_open;
    printf("mode=fanout subs=%d/%d failed=%d closed=%d rounds=%d timeouts=%d missing=%d "
           "pub_failed=%d first_ms_p50=%.2f last_ms_p50=%.2f last_ms_p99=%.2f "
           "last_ms_max=%.2f deliveries_per_s=%.0f",
           g.opened - (g.c[opt.conns].role == ROLE_PUB_WS), opt.conns, g.failed, g.closed_early, n,
           timeouts, g.missing, g.pub_failed, quantile(g.first_ms, n, 0.5),
           quantile(g.last_ms, n, 0.5), quantile(g.last_ms, n, 0.99), quantile(g.last_ms, n, 1.0),
           g.deliver_secs > 0 ? deliveries / g.deliver_secs : 0);
    print_cpu(cpu, deliveries, "delivery");
    printf("\n");
}

static int run_fanout(void)
{
    enum { MAX_ROUNDS = 100000 };
    g.first_ms = calloc(MAX_ROUNDS, sizeof(double));
    g.last_ms = calloc(MAX_ROUNDS, sizeof(double));
    if (!g.first_ms || !g.last_ms)
        die("out of memory");
    run_until(now_s() + opt.connect_timeout, all_connected);
    run_until(now_s() + 0.3, NULL); /* lets the server take the subscriptions */
    double cpu0 = server_cpu(), end = now_s() + opt.seconds;
    int timeouts = 0, max = opt.rounds ? opt.rounds : MAX_ROUNDS;
    while (g.nrounds + timeouts < max && (opt.rounds || g.nrounds == 0 || now_s() < end)) {
        publish();
        run_until(g.t_pub + ROUND_TIMEOUT, round_done);
        if (g.t_pub != 0) {
            g.missing += g.subs_open - g.got, timeouts++, g.t_pub = 0;
            break;
        }
        run_until(now_s() + 0.05, NULL);
    }
    double cpu = server_cpu() - cpu0;
    close_all();
    print_fanout(cpu, timeouts);
    return g.nrounds > 0 && timeouts == 0 ? 0 : 1;
}

static void usage(void)
{
    fputs("usage: ws-load --url ws://127.0.0.1:PORT/echo [--connections N] [--seconds S]\n"
          "         [--warmup S] [--size BYTES] [--depth D] [--binary] [--server-pid PID]...\n"
          "       ws-load --idle [--deflate] --url ... --connections N --server-pid PID\n"
          "       ws-load --fanout --url ws://.../sub [--publish-url http://.../pub | ws://...]\n"
          "         [--subscribe TEXT] [--rounds R] --connections N\n"
          "  also: --concurrency C (handshakes in flight, 256), --connect-timeout S (30)\n",
          stderr);
    exit(2);
}

static void parse_args(int argc, char **argv)
{
    static const struct option lo[] = {{"url", 1, 0, 'u'},         {"connections", 1, 0, 'c'},
                                       {"seconds", 1, 0, 's'},     {"warmup", 1, 0, 'w'},
                                       {"size", 1, 0, 'z'},        {"depth", 1, 0, 'd'},
                                       {"binary", 0, 0, 'b'},      {"server-pid", 1, 0, 'p'},
                                       {"idle", 0, 0, 'i'},        {"deflate", 0, 0, 'D'},
                                       {"fanout", 0, 0, 'f'},      {"publish-url", 1, 0, 'P'},
                                       {"subscribe", 1, 0, 'S'},   {"rounds", 1, 0, 'r'},
                                       {"concurrency", 1, 0, 'C'}, {"connect-timeout", 1, 0, 'T'},
                                       {"help", 0, 0, 'h'},        {0, 0, 0, 0}};
    const char *url = NULL, *pub = NULL;
    for (int ch; (ch = getopt_long(argc, argv, "", lo, NULL)) != -1;) {
        switch (ch) {
        case 'u': url = optarg; break;
        case 'c': opt.conns = atoi(optarg); break;
        case 's': opt.seconds = atof(optarg); break;
        case 'w': opt.warmup = atof(optarg); break;
        case 'z': opt.size = (size_t)atol(optarg); break;
        case 'd': opt.depth = atoi(optarg); break;
        case 'b': opt.binary = true; break;
        case 'p':
            if (opt.npids == 64)
                die("too many --server-pid");
            opt.pids[opt.npids++] = (pid_t)atoi(optarg);
            break;
        case 'i': opt.mode = MODE_IDLE; break;
        case 'D': opt.deflate = true; break;
        case 'f': opt.mode = MODE_FANOUT; break;
        case 'P': pub = optarg; break;
        case 'S': opt.subscribe = optarg; break;
        case 'r': opt.rounds = atoi(optarg); break;
        case 'C': opt.concurrency = atoi(optarg); break;
        case 'T': opt.connect_timeout = atof(optarg); break;
        default: usage();
        }
    }
    if (!url || optind != argc || opt.conns <= 0 || opt.depth <= 0 || opt.seconds <= 0 ||
        opt.concurrency <= 0 || opt.size > MAX_FRAME)
        usage();
    if (parse_url(url, &opt.url) < 0 || opt.url.http)
        die("--url must be ws://host[:port]/path and resolve");
    if (parse_url(pub ? pub : url, &opt.pub) < 0)
        die("--publish-url must be http:// or ws:// and resolve");
    if (opt.deflate && opt.mode != MODE_IDLE)
        die("--deflate measures idle memory only: use it with --idle");
    if (opt.mode == MODE_IDLE && opt.npids == 0)
        die("--idle needs --server-pid");
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    raise_nofile(opt.conns);
    if ((g.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        die("epoll_create1 failed");
    setup_conns(opt.conns + 1);
    g.nconn = opt.conns;
    if (opt.mode == MODE_FANOUT) {
        g.c[opt.conns].role = opt.pub.http ? ROLE_PUB_HTTP : ROLE_PUB_WS;
        g.nconn += !opt.pub.http; /* a WebSocket publisher connects with the others */
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    switch (opt.mode) {
    case MODE_IDLE: return run_idle();
    case MODE_FANOUT: return run_fanout();
    default: return run_echo();
    }
}
