/* WebSocket frames (RFC 6455 §5.2): reading a frame's head, writing one, masking. Internal to
 * http/websocket/; conn.c builds messages and the close handshake on top. */
#ifndef TP_HTTP_WEBSOCKET_FRAME_H
#define TP_HTTP_WEBSOCKET_FRAME_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tp_ws_opcode {
    TP_WS_OP_CONT = 0x0,
    TP_WS_OP_TEXT = 0x1,
    TP_WS_OP_BINARY = 0x2,
    TP_WS_OP_CLOSE = 0x8,
    TP_WS_OP_PING = 0x9,
    TP_WS_OP_PONG = 0xa,
};

#define TP_WS_MAX_HEAD    14  /* 2 + 8 bytes of length + 4 of mask */
#define TP_WS_MAX_CONTROL 125 /* payload limit of a control frame */

typedef struct tp_ws_frame {
    uint64_t len;   /* payload length */
    uint8_t opcode; /* enum tp_ws_opcode (or an unknown one: the caller refuses it) */
    uint8_t rsv;    /* the three RSV bits, RSV1 = 4 */
    bool fin, masked;
    uint8_t mask[4];
    uint8_t head_len; /* 2..14 */
} tp_ws_frame;

/* Reads the head at p (n bytes available): 1 with *f filled, 0 when more bytes are needed,
 * -1 for a length with its most significant bit set (RFC 6455 §5.2: a protocol error). */
int tp__ws_frame_read_head(const uint8_t *p, size_t n, tp_ws_frame *f);
/* Writes a head for a payload of len bytes (masked with mask unless it is NULL) at out;
 * returns its length. */
size_t tp__ws_frame_write_head(uint8_t out[TP_WS_MAX_HEAD], unsigned opcode, bool fin, bool rsv1,
                               uint64_t len, const uint8_t *mask);
/* dst = src XOR mask, where src is the payload's bytes from offset `at` on (dst may be src). */
void tp__ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t mask[4],
                      uint64_t at);
/* A close code a peer may send (RFC 6455 §7.4): 1000-1003, 1007-1014 (1012-1014 are
 * IANA-registered), 3000-4999. */
bool tp__ws_close_code_valid(unsigned code);

#endif
