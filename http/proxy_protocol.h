/* The HAProxy PROXY protocol, versions 1 (text) and 2 (binary): a pure parser of the header a
 * load balancer sends before the connection's own bytes. It keeps no state between calls:
 * call it again with the longer prefix until it says done or invalid (headers are small and
 * bounded, so reading them again costs nothing). The accept-time step that uses it is
 * http/proxy_accept.c. */
#ifndef TP_HTTP_PROXY_PROTOCOL_H
#define TP_HTTP_PROXY_PROTOCOL_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/slice.h"

#define TP_PROXY_V1_MAX 107  /* the longest v1 line, CRLF included (the spec's bound) */
#define TP_PROXY_V2_MAX 2048 /* our bound on a whole v2 header: 16 bytes and the block */
#define TP_PROXY_V2_MIN 16   /* the v2 signature, version/command, family and length */
#define TP_PROXY_MAX    TP_PROXY_V2_MAX

typedef struct tp_proxy_header {
    int version; /* 1 or 2 */
    /* The addresses to use instead of the socket's: false for v2 LOCAL (a health check), v1
     * UNKNOWN and v2 UNSPEC (keep the socket's). */
    bool has_addr;
    bool local;                  /* v2 LOCAL */
    bool ssl;                    /* v2 SSL TLV with PP2_CLIENT_SSL: the client used TLS */
    bool crc_checked;            /* v2 CRC32C TLV present (and it matched) */
    struct sockaddr_storage src; /* the client (AF_INET, AF_INET6 or AF_UNIX), if has_addr */
    struct sockaddr_storage dst; /* the address the client connected to, if has_addr */
    tp_slice authority;          /* v2 AUTHORITY TLV (in the input), or TP_SLICE_NULL */
    tp_slice alpn;               /* v2 ALPN TLV (in the input), or TP_SLICE_NULL */
    const char *error;           /* why the header is invalid (static text) */
} tp_proxy_header;

/* Parses the PROXY header at the start of p[0..n). Returns the header's length (> 0) with out
 * filled in, TP_AGAIN when p is a valid prefix that needs more bytes, or TP_ERROR (out->error
 * says why) when p does not start with a valid header: no signature, bad fields, a v1 line
 * past 107 bytes or a v2 header past TP_PROXY_V2_MAX. Slices in out point into p. */
TP_API int tp_proxy_parse(const void *p, size_t n, tp_proxy_header *out);

/* The CRC-32C (Castagnoli) of p[0..n), continuing from crc (0 to start). */
TP_API uint32_t tp_proxy_crc32c(uint32_t crc, const void *p, size_t n);

#endif
