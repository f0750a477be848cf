/* The PROXY protocol parser (http/proxy_protocol.c): tables of valid and invalid v1 and v2
 * headers, each also fed one byte more at a time (every shorter prefix needs more, or is
 * already refused), and the CRC-32C. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "core/status.h"
#include "http/proxy_protocol.h"
#include "tests/unit/suites.h"

/* ---- building v2 headers --------------------------------------------------------------- */

typedef struct hdr {
    uint8_t b[4096];
    size_t n;
} hdr;

static void put(hdr *h, const void *p, size_t n)
{
    memcpy(h->b + h->n, p, n);
    h->n += n;
}

static void put16(hdr *h, unsigned v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(h, b, 2);
}

/* Signature, version/command, family/transport and a length fixed up by v2_end. */
static void v2_begin(hdr *h, uint8_t ver_cmd, uint8_t fam)
{
    static const uint8_t sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                    0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    h->n = 0;
    put(h, sig, 12);
    put(h, &ver_cmd, 1);
    put(h, &fam, 1);
    put16(h, 0);
}

static void tlv(hdr *h, uint8_t type, const void *v, size_t n)
{
    put(h, &type, 1);
    put16(h, (unsigned)n);
    put(h, v, n);
}

static void v2_end(hdr *h)
{
    h->b[14] = (uint8_t)((h->n - 16) >> 8);
    h->b[15] = (uint8_t)(h->n - 16);
}

static void inet_block(hdr *h)
{
    static const uint8_t a[12] = {10, 0, 0, 1, 10, 0, 0, 2, 0x04, 0xD2, 0x00, 0x50};
    put(h, a, 12); /* 10.0.0.1:1234 -> 10.0.0.2:80 */
}

/* A PROXY TCP over IPv4 header with the given TLVs (type, length, value). */
static void v2_inet(hdr *h)
{
    v2_begin(h, 0x21, 0x11);
    inet_block(h);
}

/* Adds a CRC32C TLV and fills it in (after every other TLV). */
static void add_crc(hdr *h, int damage)
{
    static const uint8_t zero[4];
    tlv(h, 0x03, zero, 4);
    v2_end(h);
    uint32_t crc = tp_proxy_crc32c(0, h->b, h->n) + (uint32_t)damage;
    uint8_t *v = h->b + h->n - 4;
    v[0] = (uint8_t)(crc >> 24), v[1] = (uint8_t)(crc >> 16), v[2] = (uint8_t)(crc >> 8);
    v[3] = (uint8_t)crc;
}

/* ---- checking ---------------------------------------------------------------------------- */

/* Parses p whole and fed one byte more at a time: every shorter prefix needs more (or, for
 * an invalid header, is refused already); returns the whole input's result. */
static int parse_all(const void *p, size_t n, tp_proxy_header *out)
{
    bool refused = false;
    for (size_t k = 0; k < n; k++) {
        int r = tp_proxy_parse(p, k, out);
        ck_assert_msg(r == TP_AGAIN || (r == TP_ERROR), "prefix %zu gave %d", k, r);
        if (r == TP_ERROR)
            refused = true;
        else
            ck_assert_msg(!refused, "prefix %zu accepted after a shorter one was refused", k);
    }
    int r = tp_proxy_parse(p, n, out);
    ck_assert(!refused || r == TP_ERROR);
    return r;
}

static const char *ip_of(const struct sockaddr_storage *ss, char *buf)
{
    const void *a = ss->ss_family == AF_INET
                        ? (const void *)&((const struct sockaddr_in *)(const void *)ss)->sin_addr
                        : (const void *)&((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr;
    return inet_ntop(ss->ss_family, a, buf, INET6_ADDRSTRLEN);
}

static unsigned port_of(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)(const void *)ss)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)(const void *)ss)->sin6_port);
}

/* The header's addresses and ports are these. */
static void check_addrs(const tp_proxy_header *h, const char *src, const char *dst, unsigned sport,
                        unsigned dport)
{
    char a[INET6_ADDRSTRLEN];
    ck_assert(h->has_addr);
    ck_assert_str_eq(ip_of(&h->src, a), src);
    ck_assert_str_eq(ip_of(&h->dst, a), dst);
    ck_assert_uint_eq(port_of(&h->src), sport);
    ck_assert_uint_eq(port_of(&h->dst), dport);
}

/* ---- version 1 --------------------------------------------------------------------------- */

static const struct v1_ok {
    const char *line;
    int af;
    const char *src, *dst;
    unsigned sport, dport;
} v1_valid[] = {
    {"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", AF_INET, "192.168.0.1", "192.168.0.11",
     56324, 443},
    {"PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n", AF_INET, "0.0.0.0", "255.255.255.255", 0,
     65535},
    {"PROXY TCP6 2001:db8::1 ::1 1 8080\r\n", AF_INET6, "2001:db8::1", "::1", 1, 8080},
    {"PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
     "65535 65535\r\n",
     AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
     65535, 65535},
    {"PROXY UNKNOWN\r\n", 0, NULL, NULL, 0, 0},
    {"PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n", 0, NULL, NULL, 0, 0},
    /* the spec's longest line: 107 bytes */
    {"PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
     "65535 65535\r\n",
     0, NULL, NULL, 0, 0},
};

START_TEST(v1_valid_table)
{
    const struct v1_ok *t = &v1_valid[_i];
    char in[256];
    size_t n = strlen(t->line);
    ck_assert_uint_le(n, TP_PROXY_V1_MAX);
    memcpy(in, t->line, n);
    memcpy(in + n, "GET / HTTP/1.1\r\n", 16); /* what follows is not consumed */
    tp_proxy_header h;
    ck_assert_int_eq(parse_all(in, n, &h), (int)n);
    ck_assert_int_eq(tp_proxy_parse(in, n + 16, &h), (int)n);
    ck_assert_int_eq(h.version, 1);
    ck_assert(!h.local && !h.ssl && !h.crc_checked);
    ck_assert_int_eq(h.has_addr, t->af != 0);
    if (!t->af)
        return;
    ck_assert_int_eq(h.src.ss_family, t->af);
    check_addrs(&h, t->src, t->dst, t->sport, t->dport);
}
END_TEST

static const char *const v1_invalid[] = {
    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",         /* LF without CR */
    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX\r\n",    /* CR inside */
    "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",       /* protocol */
    "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",      /* two spaces */
    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",      /* a space at the end */
    "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n",      /* two spaces after PROXY */
    "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",     /* address */
    "PROXY TCP4 ::1 ::1 1 2\r\n",               /* IPv6 under TCP4 */
    "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",       /* IPv4 under TCP6 */
    "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",   /* port */
    "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",      /* leading zero */
    "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",      /* sign */
    "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",         /* a field missing */
    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",     /* a field too many */
    "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",       /* case */
    "PROXY UNKNOWNX\r\n",                       /* not UNKNOWN */
    "PROXY \r\n",                               /* nothing */
    "PROXY\r\n",                                /* no space */
    "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",       /* signature case */
    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\x80\r\n",   /* non-ASCII */
    "GET / HTTP/1.1\r\nHost: x\r\n\r\n",        /* no header at all */
    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03", /* a TLS ClientHello */
    /* 108 bytes: one past the spec's longest line */
    "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
    "65535 655355\r\n",
};

START_TEST(v1_invalid_table)
{
    const char *in = v1_invalid[_i];
    tp_proxy_header h;
    ck_assert_int_eq(parse_all(in, strlen(in), &h), TP_ERROR);
    ck_assert_ptr_nonnull(h.error);
}
END_TEST

START_TEST(v1_bounds)
{
    char in[300];
    memset(in, 'a', sizeof(in));
    memcpy(in, "PROXY UNKNOWN ", 14);
    tp_proxy_header h;
    /* no CRLF within 107 bytes: refused once 107 bytes are there, not before */
    ck_assert_int_eq(tp_proxy_parse(in, TP_PROXY_V1_MAX - 1, &h), TP_AGAIN);
    ck_assert_int_eq(tp_proxy_parse(in, TP_PROXY_V1_MAX, &h), TP_ERROR);
    ck_assert_int_eq(tp_proxy_parse(in, sizeof(in), &h), TP_ERROR);
    /* refused at the first byte that cannot start a header */
    ck_assert_int_eq(tp_proxy_parse("G", 1, &h), TP_ERROR);
    ck_assert_int_eq(tp_proxy_parse("PROXX", 5, &h), TP_ERROR);
    ck_assert_int_eq(tp_proxy_parse("PROXY", 5, &h), TP_AGAIN);
    ck_assert_int_eq(tp_proxy_parse("", 0, &h), TP_AGAIN);
}
END_TEST

/* ---- version 2 --------------------------------------------------------------------------- */

START_TEST(v2_inet4)
{
    hdr b;
    v2_inet(&b);
    v2_end(&b);
    put(&b, "GET", 3);
    tp_proxy_header h;
    ck_assert_int_eq(parse_all(b.b, 28, &h), 28);
    ck_assert_int_eq(tp_proxy_parse(b.b, b.n, &h), 28);
    ck_assert_int_eq(h.version, 2);
    ck_assert(!h.local && !h.ssl);
    check_addrs(&h, "10.0.0.1", "10.0.0.2", 1234, 80);
}
END_TEST

START_TEST(v2_inet6)
{
    hdr b;
    v2_begin(&b, 0x21, 0x21);
    struct in6_addr s, d;
    inet_pton(AF_INET6, "2001:db8::7", &s);
    inet_pton(AF_INET6, "::1", &d);
    put(&b, &s, 16);
    put(&b, &d, 16);
    put16(&b, 40000);
    put16(&b, 443);
    v2_end(&b);
    tp_proxy_header h;
    ck_assert_int_eq(parse_all(b.b, b.n, &h), 52);
    ck_assert_int_eq(h.src.ss_family, AF_INET6);
    check_addrs(&h, "2001:db8::7", "::1", 40000, 443);
}
END_TEST

START_TEST(v2_unix)
{
    hdr b;
    v2_begin(&b, 0x21, 0x31);
    char paths[216] = {0};
    strcpy(paths, "/run/client.sock");
    strcpy(paths + 108, "/run/server.sock");
    put(&b, paths, 216);
    v2_end(&b);
    tp_proxy_header h;
    ck_assert_int_eq(parse_all(b.b, b.n, &h), 232);
    ck_assert(h.has_addr);
    ck_assert_int_eq(h.src.ss_family, AF_UNIX);
    ck_assert_str_eq(((struct sockaddr_un *)(void *)&h.src)->sun_path, "/run/client.sock");
    ck_assert_str_eq(((struct sockaddr_un *)(void *)&h.dst)->sun_path, "/run/server.sock");
}
END_TEST

START_TEST(v2_local_and_unspec)
{
    hdr b;
    tp_proxy_header h;
    v2_begin(&b, 0x20, 0x00); /* LOCAL, as haproxy's health checks send it */
    v2_end(&b);
    ck_assert_int_eq(parse_all(b.b, b.n, &h), 16);
    ck_assert(h.local && !h.has_addr);
    v2_begin(&b, 0x20, 0x11); /* LOCAL with addresses: they are ignored */
    inet_block(&b);
    v2_end(&b);
    ck_assert_int_eq(parse_all(b.b, b.n, &h), 28);
    ck_assert(h.local && !h.has_addr);
    v2_begin(&b, 0x20, 0x72); /* LOCAL with a family we do not know: the block is skipped */
    put(&b, "abcde", 5);
    v2_end(&b);
    ck_assert_int_eq(parse_all(b.b, b.n, &h), 21);
    ck_assert(h.local && !h.has_addr);
    v2_begin(&b, 0x21, 0x00); /* PROXY, UNSPEC: the socket's addresses stay */
    v2_end(&b);
    ck_assert_int_eq(parse_all(b.b, b.n, &h), 16);
    ck_assert(!h.local && !h.has_addr);
}
END_TEST

START_TEST(v2_tlvs)
{
    hdr b;
    tp_proxy_header h;
    v2_inet(&b);
    tlv(&b, 0x04, "\0\0\0", 3);       /* NOOP */
    tlv(&b, 0x01, "h2", 2);           /* ALPN */
    tlv(&b, 0x02, "example.com", 11); /* AUTHORITY */
    tlv(&b, 0xE0, "custom", 6);       /* a custom type: skipped */
    tlv(&b, 0x20, "\x05\0\0\0\0", 5); /* SSL: PP2_CLIENT_SSL | CERT_SESS, verified */
    tlv(&b, 0x05, "", 0);             /* UNIQUE_ID, empty */
    add_crc(&b, 0);
    ck_assert_int_eq(parse_all(b.b, b.n, &h), (int)b.n);
    ck_assert(h.has_addr && h.ssl && h.crc_checked);
    ck_assert(tp_slice_eq(h.alpn, TP_SLICE_LIT("h2")));
    ck_assert(tp_slice_eq(h.authority, TP_SLICE_LIT("example.com")));
    /* SSL with sub-TLVs (version, cipher), and the client bit off: not TLS */
    v2_inet(&b);
    static const uint8_t ssl[] = {0x00, 0,   0,   0,   0,    0x21, 0, 7,   'T', 'L', 'S',
                                  'v',  '1', '.', '3', 0x23, 0,    4, 'A', 'E', 'S', '!'};
    tlv(&b, 0x20, ssl, sizeof(ssl));
    v2_end(&b);
    ck_assert_int_eq(parse_all(b.b, b.n, &h), (int)b.n);
    ck_assert(!h.ssl && !h.crc_checked);
    ck_assert_ptr_null(h.authority.p);
    static const uint8_t ssl_on[] = {0x01, 0, 0, 0, 0, 0x21, 0, 3, 'T', 'L', 'S'};
    v2_inet(&b);
    tlv(&b, 0x20, ssl_on, sizeof(ssl_on));
    v2_end(&b);
    ck_assert_int_eq(parse_all(b.b, b.n, &h), (int)b.n);
    ck_assert(h.ssl);
}
END_TEST

/* Each builds an invalid v2 header into b. */
static void bad_sig(hdr *b)
{
    v2_inet(b);
    v2_end(b);
    b->b[7] = 0x50;
}
/* A version/command and family/transport byte that no header may have, with an IPv4 block;
 * v is an index into bad_heads. */
static const uint8_t bad_heads[][2] = {
    {0x11, 0x11}, /* version 1 */
    {0x22, 0x11}, /* command 2 */
    {0x21, 0x41}, /* family 4 */
    {0x21, 0x12}, /* IPv4 over DGRAM */
    {0x21, 0x21}, /* IPv6 needs 36 bytes: the block is too short */
};
static void bad_head(hdr *b, size_t v)
{
    v2_begin(b, bad_heads[v][0], bad_heads[v][1]);
    inet_block(b);
    v2_end(b);
}
static void short_block(hdr *b)
{
    bad_head(b, 4);
}
static void tlv_past_end(hdr *b)
{
    v2_inet(b);
    tlv(b, 0x02, "example.com", 11);
    v2_end(b);
    b->b[b->n - 12] = 12; /* the TLV claims one byte more than there is */
}
static void tlv_head_cut(hdr *b)
{
    v2_inet(b);
    put(b, "\x02\x00", 2);
    v2_end(b);
}
static void crc_mismatch(hdr *b)
{
    v2_inet(b);
    tlv(b, 0x02, "example.com", 11);
    add_crc(b, 1);
}
/* A TLV that is malformed by itself, after an IPv4 block. */
static const struct {
    uint8_t type;
    const char *v;
    size_t n;
} bad_tlvs[] = {
    {0x03, "abc", 3},                        /* a CRC32C not of 4 bytes */
    {0x20, "\x01\0\0\0", 4},                 /* SSL shorter than client + verify */
    {0x20, "\x01\0\0\0\0\x21\0\x09TLS", 11}, /* an SSL sub-TLV past its end */
};
static void oversized(hdr *b)
{
    v2_inet(b);
    uint8_t pad[2100] = {0};
    tlv(b, 0x04, pad, sizeof(pad));
    v2_end(b);
}

static void (*const v2_invalid[])(hdr *) = {
    bad_sig, tlv_past_end, tlv_head_cut, crc_mismatch, oversized,
};

/* The builders above, then each of bad_heads, then each of bad_tlvs. */
START_TEST(v2_invalid_table)
{
    hdr b;
    size_t i = (size_t)_i, nb = TP_ARRAY_LEN(v2_invalid), nh = TP_ARRAY_LEN(bad_heads);
    if (i < nb) {
        v2_invalid[i](&b);
    } else if (i < nb + nh) {
        bad_head(&b, i - nb);
    } else {
        v2_inet(&b);
        tlv(&b, bad_tlvs[i - nb - nh].type, bad_tlvs[i - nb - nh].v, bad_tlvs[i - nb - nh].n);
        v2_end(&b);
    }
    tp_proxy_header h;
    ck_assert_int_eq(parse_all(b.b, b.n, &h), TP_ERROR);
    ck_assert_ptr_nonnull(h.error);
}
END_TEST

START_TEST(v2_refused_early)
{
    hdr b;
    tp_proxy_header h;
    oversized(&b); /* refused from its 16 bytes, before the block arrives */
    ck_assert_int_eq(tp_proxy_parse(b.b, 16, &h), TP_ERROR);
    bad_sig(&b);
    ck_assert_int_eq(tp_proxy_parse(b.b, 8, &h), TP_ERROR);
    ck_assert_int_eq(tp_proxy_parse(b.b, 7, &h), TP_AGAIN);
    short_block(&b);
    ck_assert_int_eq(tp_proxy_parse(b.b, 16, &h), TP_ERROR);
    v2_inet(&b);
    v2_end(&b);
    ck_assert_int_eq(tp_proxy_parse(b.b, 16, &h), TP_AGAIN);
}
END_TEST

START_TEST(crc32c_known)
{
    /* the CRC-32C check value (RFC 3720 B.4's polynomial) */
    ck_assert_uint_eq(tp_proxy_crc32c(0, "123456789", 9), 0xE3069283u);
    ck_assert_uint_eq(tp_proxy_crc32c(tp_proxy_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
    ck_assert_uint_eq(tp_proxy_crc32c(0, "", 0), 0);
}
END_TEST

Suite *proxy_protocol_suite(void)
{
    Suite *s = suite_create("proxy_protocol");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, v1_valid_table, 0, (int)TP_ARRAY_LEN(v1_valid));
    tcase_add_loop_test(tc, v1_invalid_table, 0, (int)TP_ARRAY_LEN(v1_invalid));
    tcase_add_test(tc, v1_bounds);
    tcase_add_test(tc, v2_inet4);
    tcase_add_test(tc, v2_inet6);
    tcase_add_test(tc, v2_unix);
    tcase_add_test(tc, v2_local_and_unspec);
    tcase_add_test(tc, v2_tlvs);
    tcase_add_loop_test(
        tc, v2_invalid_table, 0,
        (int)(TP_ARRAY_LEN(v2_invalid) + TP_ARRAY_LEN(bad_heads) + TP_ARRAY_LEN(bad_tlvs)));
    tcase_add_test(tc, v2_refused_early);
    tcase_add_test(tc, crc32c_known);
    suite_add_tcase(s, tc);
    return s;
}
