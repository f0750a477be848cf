/* libFuzzer target for the PROXY protocol parser (http/proxy_protocol.c). The input is what a
 * peer sends first. Checks more than "no crash": the result is TP_AGAIN, TP_ERROR (with a
 * reason) or a length within the input and the version's bound; a header found is found
 * again, with the same length, in the input cut right after it and with other bytes after
 * it, while every shorter prefix needs more; TLV slices lie inside the header; a prefix that
 * needs more is shorter than the bounds. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "http/proxy_protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(tp_slice s, const uint8_t *p, size_t n)
{
    assert(!s.p || ((const uint8_t *)s.p >= p && (const uint8_t *)s.p + s.n <= p + n));
}

static void check_found(const uint8_t *data, size_t size, int r, const tp_proxy_header *h)
{
    size_t n = (size_t)r;
    assert(n <= size && n <= TP_PROXY_MAX);
    assert(h->version == 1 || h->version == 2);
    assert(h->version == 2 || n <= TP_PROXY_V1_MAX);
    assert(!h->local || !h->has_addr);
    assert(h->version == 2 || (!h->local && !h->ssl && !h->crc_checked && !h->authority.p));
    inside(h->authority, data, n);
    inside(h->alpn, data, n);
    tp_proxy_header again;
    /* the header alone, on a copy (nothing is read past it), and with other bytes after it */
    uint8_t *copy = malloc(n + 1);
    memcpy(copy, data, n);
    assert(tp_proxy_parse(copy, n, &again) == r);
    copy[n] = 'X';
    assert(tp_proxy_parse(copy, n + 1, &again) == r);
    assert(tp_proxy_parse(copy, n - 1, &again) == TP_AGAIN);
    assert(tp_proxy_parse(copy, n / 2, &again) == TP_AGAIN);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tp_proxy_header h, h2;
    int r = tp_proxy_parse(data, size, &h);
    assert(tp_proxy_parse(data, size, &h2) == r); /* no state between calls */
    if (r == TP_ERROR)
        assert(h.error && *h.error);
    else if (r == TP_AGAIN)
        assert(size < TP_PROXY_MAX && (size == 0 || data[0] != 'P' || size < TP_PROXY_V1_MAX));
    else {
        assert(r > 0);
        check_found(data, size, r, &h);
    }
    return 0;
}
