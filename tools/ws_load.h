/* ws-load's measuring helpers (tools/ws_load_stats.c): a latency histogram and the server's
 * CPU time and memory read from /proc. */
#ifndef TP_TOOLS_WS_LOAD_H
#define TP_TOOLS_WS_LOAD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct url {
    bool http;
    char host[256], hostport[300], path[2048];
    struct sockaddr_storage addr;
    socklen_t addrlen;
};

/* Parses ws://host[:port]/path or http://... ([v6] literals too) and resolves the host
 * (getaddrinfo, once). 0, or -1 for a bad or unresolvable URL. */
int parse_url(const char *s, struct url *u);
/* Sec-WebSocket-Accept for key (NUL-terminated): 28 characters and a NUL. */
void make_accept(const char *key, char out[29]);
/* Writes a masked client frame (FIN, opcode, a random mask) for p[0..n) to out, which has
 * room for n + 14 bytes; returns its length. */
size_t build_frame(uint8_t *out, int opcode, const uint8_t *p, size_t n);
/* The trimmed value of header `name` in a NUL-terminated response head (each line ending in
 * CRLF), with its length in *len, or NULL. */
const char *find_header(const char *head, const char *name, size_t *len);

/* Log-linear buckets: exact below 256, then 128 per power of two (under 1 % error). */
#define H_SUB 128
#define H_N   (2 * H_SUB + 40 * H_SUB)
/* The bucket of value v (values past the last bucket land in it). */
unsigned h_index(uint64_t v);
/* The value at quantile q (0..1) of the counts in hist[H_N]; 0 when empty. */
uint64_t h_quantile(const uint64_t *hist, double q);

/* utime+stime in seconds of pids and all their descendants (each process counted once; a
 * process's threads are in its own figure). */
double proc_cpu_seconds(const pid_t *pids, int n);
/* VmRSS in KiB summed over pids and their descendants. */
long proc_rss_kb(const pid_t *pids, int n);
/* Writes all n bytes to a non-blocking fd, waiting (100 µs sleeps) while it is full. 0 or -1. */
int write_all(int fd, const uint8_t *p, size_t n);
/* The value at quantile q (0..1) of v[0..n) (sorts v); 0 when n is 0. */
double quantile(double *v, int n, double q);
/* Raises RLIMIT_NOFILE to the hard limit; warns when that is below conns + 64. */
void raise_nofile(int conns);

#endif
