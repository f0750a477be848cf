/* The PROXY protocol header parser (haproxy's doc/proxy-protocol.txt, versions 1 and 2). Pure:
 * no I/O, no allocation, no state between calls; every length is checked against the bytes
 * at hand before it is read. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "core/status.h"
#include "http/proxy_protocol.h"

static const uint8_t v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                   0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

enum { V2_LOCAL = 0x0, V2_PROXY = 0x1 };
enum { V2_UNSPEC = 0x0, V2_INET = 0x1, V2_INET6 = 0x2, V2_UNIX = 0x3 };
enum { V2_STREAM = 0x1 };
enum {
    TLV_ALPN = 0x01,
    TLV_AUTHORITY = 0x02,
    TLV_CRC32C = 0x03,
    TLV_SSL = 0x20,
};
#define PP2_CLIENT_SSL 0x01
#define UNIX_PATH      108 /* the v2 block's size of each Unix path */

static int fail(tp_proxy_header *out, const char *why)
{
    out->error = why;
    return TP_ERROR;
}

/* The CRC-32C is not in zlib or OpenSSL (Debian packages no C library for it here), and the
 * header it covers is at most TP_PROXY_V2_MAX bytes: the bitwise form (reflected polynomial
 * 0x82F63B78) is fast enough for a check that only runs when a balancer asks for it. */
uint32_t tp_proxy_crc32c(uint32_t crc, const void *p, size_t n)
{
    const uint8_t *b = p;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= b[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* ---- version 1 ------------------------------------------------------------------------- */

/* A decimal port, 0-65535, without a leading zero (as the spec writes them). */
static bool v1_port(tp_slice t, uint16_t *port)
{
    if (!t.n || t.n > 5 || (t.n > 1 && t.p[0] == '0'))
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < t.n; i++) {
        if (t.p[i] < '0' || t.p[i] > '9')
            return false;
        v = v * 10 + (unsigned)(t.p[i] - '0');
    }
    *port = (uint16_t)v;
    return v <= 65535;
}

/* A numeric address of family af and a port into ss. */
static bool v1_addr(int af, tp_slice ip, tp_slice port, struct sockaddr_storage *ss)
{
    char text[INET6_ADDRSTRLEN];
    uint16_t p;
    if (ip.n >= sizeof(text) || !v1_port(port, &p))
        return false;
    memcpy(text, ip.p, ip.n);
    text[ip.n] = '\0';
    memset(ss, 0, sizeof(*ss));
    if (af == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)(void *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(p);
        return inet_pton(AF_INET, text, &a->sin_addr) == 1;
    }
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)(void *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(p);
    return inet_pton(AF_INET6, text, &a->sin6_addr) == 1;
}

/* Splits line at single spaces into at most max tokens; false on an empty token (two spaces,
 * or one at an end) or too many. */
static bool v1_split(tp_slice line, tp_slice *tok, size_t max, size_t *count)
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= line.n; i++) {
        if (i < line.n && line.p[i] != ' ')
            continue;
        if (i == start || k == max)
            return false;
        tok[k++] = (tp_slice){line.p + start, i - start};
        start = i + 1;
    }
    *count = k;
    return true;
}

/* The fields after "PROXY " (line: without the CRLF). */
static int v1_fields(tp_slice line, size_t len, tp_proxy_header *out)
{
    if (line.n >= 7 && memcmp(line.p, "UNKNOWN", 7) == 0 && (line.n == 7 || line.p[7] == ' '))
        return (int)len; /* the rest of the line is to be ignored */
    tp_slice tok[5];
    size_t count;
    if (!v1_split(line, tok, 5, &count) || count != 5)
        return fail(out, "v1 line without its five fields");
    int af;
    if (tp_slice_eq(tok[0], TP_SLICE_LIT("TCP4")))
        af = AF_INET;
    else if (tp_slice_eq(tok[0], TP_SLICE_LIT("TCP6")))
        af = AF_INET6;
    else
        return fail(out, "v1 protocol not TCP4, TCP6 or UNKNOWN");
    if (!v1_addr(af, tok[1], tok[3], &out->src) || !v1_addr(af, tok[2], tok[4], &out->dst))
        return fail(out, "v1 address or port invalid");
    out->has_addr = true;
    return (int)len;
}

static int parse_v1(const uint8_t *b, size_t n, tp_proxy_header *out)
{
    out->version = 1;
    if (memcmp(b, "PROXY ", n < 6 ? n : 6) != 0)
        return fail(out, "no PROXY protocol signature");
    size_t scan = n < TP_PROXY_V1_MAX ? n : TP_PROXY_V1_MAX;
    for (size_t i = 0; i < scan; i++) {
        if (b[i] == '\n') {
            if (i < 7 || b[i - 1] != '\r')
                return fail(out, "v1 line not ended by CRLF");
            return v1_fields((tp_slice){(const char *)b + 6, i - 7}, i + 1, out);
        }
        if ((b[i] < 0x20 && b[i] != '\r') || b[i] > 0x7e ||
            (b[i] == '\r' && i + 1 < n && b[i + 1] != '\n'))
            return fail(out, "v1 line with a control or non-ASCII byte");
    }
    return n >= TP_PROXY_V1_MAX ? fail(out, "v1 line longer than 107 bytes") : TP_AGAIN;
}

/* ---- version 2 ------------------------------------------------------------------------- */

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void v2_inet(const uint8_t *a, tp_proxy_header *out)
{
    struct sockaddr_in *s = (struct sockaddr_in *)(void *)&out->src;
    struct sockaddr_in *d = (struct sockaddr_in *)(void *)&out->dst;
    s->sin_family = d->sin_family = AF_INET;
    memcpy(&s->sin_addr, a, 4);
    memcpy(&d->sin_addr, a + 4, 4);
    memcpy(&s->sin_port, a + 8, 2);
    memcpy(&d->sin_port, a + 10, 2);
}

static void v2_inet6(const uint8_t *a, tp_proxy_header *out)
{
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)(void *)&out->src;
    struct sockaddr_in6 *d = (struct sockaddr_in6 *)(void *)&out->dst;
    s->sin6_family = d->sin6_family = AF_INET6;
    memcpy(&s->sin6_addr, a, 16);
    memcpy(&d->sin6_addr, a + 16, 16);
    memcpy(&s->sin6_port, a + 32, 2);
    memcpy(&d->sin6_port, a + 34, 2);
}

static void v2_unix(const uint8_t *a, tp_proxy_header *out)
{
    struct sockaddr_un *s = (struct sockaddr_un *)(void *)&out->src;
    struct sockaddr_un *d = (struct sockaddr_un *)(void *)&out->dst;
    _Static_assert(sizeof(s->sun_path) >= UNIX_PATH, "a v2 Unix path fits sun_path");
    s->sun_family = d->sun_family = AF_UNIX;
    memcpy(s->sun_path, a, UNIX_PATH);
    memcpy(d->sun_path, a + UNIX_PATH, UNIX_PATH);
}

/* The SSL TLV: client bits, verify result, then sub-TLVs that must fit it exactly. */
static bool v2_ssl(const uint8_t *v, size_t n, tp_proxy_header *out)
{
    if (n < 5)
        return false;
    for (size_t off = 5; off < n;) {
        if (n - off < 3 || n - off - 3 < be16(v + off + 1))
            return false;
        off += 3 + (size_t)be16(v + off + 1);
    }
    out->ssl = (v[0] & PP2_CLIENT_SSL) != 0;
    return true;
}

/* The CRC32C TLV's value at b[at..at+4): the CRC of the header with that field zeroed. */
static bool v2_crc_ok(const uint8_t *b, size_t total, size_t at)
{
    static const uint8_t zero[4];
    uint32_t crc = tp_proxy_crc32c(0, b, at);
    crc = tp_proxy_crc32c(crc, zero, 4);
    crc = tp_proxy_crc32c(crc, b + at + 4, total - at - 4);
    uint32_t sent =
        (uint32_t)b[at] << 24 | (uint32_t)b[at + 1] << 16 | (uint32_t)b[at + 2] << 8 | b[at + 3];
    return crc == sent;
}

/* The TLVs in b[off..total). */
static int v2_tlvs(const uint8_t *b, size_t off, size_t total, tp_proxy_header *out)
{
    size_t crc_at = 0;
    while (off < total) {
        if (total - off < 3 || total - off - 3 < be16(b + off + 1))
            return fail(out, "v2 TLV past the end of the header");
        const uint8_t *v = b + off + 3;
        size_t len = be16(b + off + 1);
        if (b[off] == TLV_ALPN)
            out->alpn = (tp_slice){(const char *)v, len};
        else if (b[off] == TLV_AUTHORITY)
            out->authority = (tp_slice){(const char *)v, len};
        else if (b[off] == TLV_CRC32C && (len != 4 || crc_at))
            return fail(out, "v2 CRC32C TLV not of 4 bytes, or twice");
        else if (b[off] == TLV_CRC32C)
            crc_at = off + 3;
        else if (b[off] == TLV_SSL && !v2_ssl(v, len, out))
            return fail(out, "v2 SSL TLV malformed");
        off += 3 + len;
    }
    if (crc_at && !v2_crc_ok(b, total, crc_at))
        return fail(out, "v2 CRC32C mismatch");
    out->crc_checked = crc_at != 0;
    return (int)total;
}

/* The address block's size for family fam (its transport checked), or -1. */
static int v2_addr_size(unsigned fam, unsigned transport)
{
    static const int sizes[] = {0, 12, 36, 2 * UNIX_PATH};
    if (fam > V2_UNIX || (fam != V2_UNSPEC && transport != V2_STREAM))
        return -1;
    return sizes[fam];
}

static int parse_v2(const uint8_t *b, size_t n, tp_proxy_header *out)
{
    out->version = 2;
    if (memcmp(b, v2_sig, n < 12 ? n : 12) != 0)
        return fail(out, "no PROXY protocol signature");
    if (n < TP_PROXY_V2_MIN)
        return TP_AGAIN;
    unsigned cmd = b[12] & 0xf, fam = b[13] >> 4;
    if (b[12] >> 4 != 2 || cmd > V2_PROXY)
        return fail(out, "v2 version or command unknown");
    size_t total = TP_PROXY_V2_MIN + be16(b + 14);
    if (total > TP_PROXY_V2_MAX)
        return fail(out, "v2 header longer than our bound (2048 bytes)");
    int asize = v2_addr_size(fam, b[13] & 0xf);
    if (cmd == V2_LOCAL && asize < 0)
        asize = (int)(total - TP_PROXY_V2_MIN); /* a LOCAL header's block is ignored */
    if (asize < 0)
        return fail(out, "v2 address family or transport unsupported");
    if (total - TP_PROXY_V2_MIN < (size_t)asize)
        return fail(out, "v2 address block shorter than its family's");
    if (n < total)
        return TP_AGAIN;
    out->local = cmd == V2_LOCAL;
    out->has_addr = cmd == V2_PROXY && fam != V2_UNSPEC;
    if (out->has_addr && fam == V2_INET)
        v2_inet(b + 16, out);
    else if (out->has_addr && fam == V2_INET6)
        v2_inet6(b + 16, out);
    else if (out->has_addr)
        v2_unix(b + 16, out);
    return v2_tlvs(b, TP_PROXY_V2_MIN + (size_t)asize, total, out);
}

int tp_proxy_parse(const void *p, size_t n, tp_proxy_header *out)
{
    const uint8_t *b = p;
    memset(out, 0, sizeof(*out));
    if (n == 0)
        return TP_AGAIN;
    if (b[0] == 'P')
        return parse_v1(b, n, out);
    if (b[0] == '\r')
        return parse_v2(b, n, out);
    return fail(out, "no PROXY protocol signature");
}
