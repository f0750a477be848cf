/* ws-load's helpers (see tools/ws_load.h): URLs, frames, handshake fields, the latency
 * histogram and the /proc readers. */
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "tools/ws_load.h"

#define MAX_PROCS 4096

unsigned h_index(uint64_t v)
{
    if (v < 2 * H_SUB)
        return (unsigned)v;
    int shift = 63 - __builtin_clzll(v) - 7; /* v >> shift is in [128, 255] */
    unsigned i = 2 * H_SUB + (unsigned)(shift - 1) * H_SUB + (unsigned)((v >> shift) - H_SUB);
    return i < H_N ? i : H_N - 1;
}

/* The middle of bucket i. */
static uint64_t h_value(unsigned i)
{
    if (i < 2 * H_SUB)
        return i;
    unsigned k = i - 2 * H_SUB, shift = k / H_SUB + 1;
    return ((uint64_t)(k % H_SUB + H_SUB) << shift) + ((1ull << shift) >> 1);
}

uint64_t h_quantile(const uint64_t *hist, double q)
{
    uint64_t total = 0, seen = 0;
    for (unsigned i = 0; i < H_N; i++)
        total += hist[i];
    if (total == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)total + 0.999999);
    if (want == 0)
        want = 1;
    for (unsigned i = 0; i < H_N; i++)
        if ((seen += hist[i]) >= want)
            return h_value(i);
    return h_value(H_N - 1);
}

/* Adds pid and its descendants (from /proc/PID/task/TID/children) to out, once each. */
static int add_tree(pid_t pid, pid_t *out, int n)
{
    for (int i = 0; i < n; i++)
        if (out[i] == pid)
            return n;
    if (n == MAX_PROCS)
        return n;
    out[n++] = pid;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return n;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char cp[300];
        snprintf(cp, sizeof cp, "/proc/%d/task/%s/children", (int)pid, e->d_name);
        FILE *f = fopen(cp, "r");
        for (int child; f && fscanf(f, "%d", &child) == 1;)
            n = add_tree((pid_t)child, out, n);
        if (f)
            fclose(f);
    }
    closedir(d);
    return n;
}

/* fn summed over pids and their descendants. */
static long tree_sum(const pid_t *pids, int n, long (*fn)(pid_t))
{
    static pid_t all[MAX_PROCS];
    int k = 0;
    long sum = 0;
    for (int i = 0; i < n; i++)
        k = add_tree(pids[i], all, k);
    for (int i = 0; i < k; i++)
        sum += fn(all[i]);
    return sum;
}

static long stat_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (long)(ut + st);
}

double proc_cpu_seconds(const pid_t *pids, int n)
{
    return (double)tree_sum(pids, n, stat_ticks) / (double)sysconf(_SC_CLK_TCK);
}

static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = 0;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

long proc_rss_kb(const pid_t *pids, int n)
{
    return tree_sum(pids, n, rss_kb);
}

int parse_url(const char *s, struct url *u)
{
    int port = 80;
    if (strncmp(s, "ws://", 5) == 0)
        s += 5;
    else if (strncmp(s, "http://", 7) == 0)
        s += 7, u->http = true;
    else
        return -1;
    const char *slash = strchr(s, '/');
    size_t hl = slash ? (size_t)(slash - s) : strlen(s);
    if (hl == 0 || hl >= sizeof u->hostport)
        return -1;
    memcpy(u->hostport, s, hl);
    u->hostport[hl] = 0;
    snprintf(u->path, sizeof u->path, "%s", slash ? slash : "/");
    const char *h = u->hostport, *colon = strrchr(h, ':');
    if (h[0] == '[') {
        const char *close = strchr(h, ']');
        if (!close)
            return -1;
        snprintf(u->host, sizeof u->host, "%.*s", (int)(close - h - 1), h + 1);
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        snprintf(u->host, sizeof u->host, "%.*s", (int)(colon ? colon - h : (long)hl), h);
    }
    if (colon && (port = atoi(colon + 1)) <= 0)
        return -1;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    if (getaddrinfo(u->host, ps, &hints, &ai) != 0)
        return -1;
    memcpy(&u->addr, ai->ai_addr, ai->ai_addrlen);
    u->addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

void make_accept(const char *key, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char buf[64];
    unsigned char sha[SHA_DIGEST_LENGTH];
    int n = snprintf(buf, sizeof buf, "%s%s", key, guid);
    SHA1((unsigned char *)buf, (size_t)n, sha);
    EVP_EncodeBlock((unsigned char *)out, sha, SHA_DIGEST_LENGTH);
}

/* A client frame: FIN, opcode, mask bit, 7/16/64-bit length, mask, masked payload. */
size_t build_frame(uint8_t *out, int opcode, const uint8_t *p, size_t n)
{
    size_t h = 0;
    uint8_t mask[4];
    if (getrandom(mask, 4, 0) != 4)
        memset(mask, 0x5a, 4);
    out[h++] = (uint8_t)(0x80 | opcode);
    if (n < 126) {
        out[h++] = (uint8_t)(0x80 | n);
    } else if (n < 65536) {
        out[h++] = 0x80 | 126;
        out[h++] = (uint8_t)(n >> 8), out[h++] = (uint8_t)n;
    } else {
        out[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    memcpy(out + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < n; i++)
        out[h + i] = p[i] ^ mask[i & 3];
    return h + n;
}

const char *find_header(const char *head, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (const char *l = strstr(head, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
        const char *p = l + 2;
        if (strncasecmp(p, name, nl) != 0 || p[nl] != ':')
            continue;
        p += nl + 1;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *e = strstr(p, "\r\n");
        while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        *len = (size_t)(e - p);
        return p;
    }
    return NULL;
}

int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            usleep(100);
            continue;
        }
        if (w < 0)
            return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double quantile(double *v, int n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int i = (int)(q * n + 0.999999) - 1;
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

void raise_nofile(int conns)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
    if ((rlim_t)conns + 64 > r.rlim_cur)
        fprintf(stderr, "ws-load: warning: RLIMIT_NOFILE %llu is below --connections\n",
                (unsigned long long)r.rlim_cur);
}
