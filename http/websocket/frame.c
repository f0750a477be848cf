/* WebSocket frame heads and masking (frame.h). */
#include "http/websocket/frame.h"

#include <string.h>

int tp__ws_frame_read_head(const uint8_t *p, size_t n, tp_ws_frame *f)
{
    if (n < 2)
        return 0;
    size_t need = 2;
    uint64_t len = p[1] & 0x7f;
    size_t ext = len == 126 ? 2 : len == 127 ? 8 : 0;
    bool masked = p[1] & 0x80;
    need += ext + (masked ? 4 : 0);
    if (n < need)
        return 0;
    if (ext) {
        len = 0;
        for (size_t i = 0; i < ext; i++)
            len = len << 8 | p[2 + i];
        if (len >> 63)
            return -1;
    }
    f->fin = p[0] & 0x80;
    f->rsv = (p[0] >> 4) & 7;
    f->opcode = p[0] & 0x0f;
    f->masked = masked;
    f->len = len;
    if (masked)
        memcpy(f->mask, p + 2 + ext, 4);
    f->head_len = (uint8_t)need;
    return 1;
}

size_t tp__ws_frame_write_head(uint8_t out[TP_WS_MAX_HEAD], unsigned opcode, bool fin, bool rsv1,
                               uint64_t len, const uint8_t *mask)
{
    size_t k = 2;
    out[0] = (uint8_t)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (opcode & 0x0f));
    uint8_t m = mask ? 0x80 : 0;
    if (len < 126) {
        out[1] = (uint8_t)(m | len);
    } else if (len <= 0xffff) {
        out[1] = m | 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        k = 4;
    } else {
        out[1] = m | 127;
        for (int i = 0; i < 8; i++)
            out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
        k = 10;
    }
    if (mask) {
        memcpy(out + k, mask, 4);
        k += 4;
    }
    return k;
}

/* Eight bytes at a time with the mask rotated to the payload offset, then the tail. */
void tp__ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t mask[4],
                      uint64_t at)
{
    uint8_t m[8];
    for (int i = 0; i < 8; i++)
        m[i] = mask[(at + (uint64_t)i) & 3];
    uint64_t m8;
    memcpy(&m8, m, 8);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, src + i, 8);
        w ^= m8;
        memcpy(dst + i, &w, 8);
    }
    for (; i < n; i++)
        dst[i] = src[i] ^ m[i & 7];
}

bool tp__ws_close_code_valid(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}
