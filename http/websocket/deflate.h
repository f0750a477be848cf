/* permessage-deflate (RFC 7692) for WebSocket, server and client: negotiating the four
 * parameters in Sec-WebSocket-Extensions, and one message compressor and decompressor per
 * direction over zlib's raw deflate. A decompressor never inflates past a size limit: a
 * decompression bomb is cut at max_message_size. */
#ifndef TP_HTTP_WEBSOCKET_DEFLATE_H
#define TP_HTTP_WEBSOCKET_DEFLATE_H
#include "platform/api.h"
#include <stdbool.h>
#include <stddef.h>
#include "core/buf.h"
#include "core/slice.h"

/* The negotiated (or wanted) parameters. Window bits are 8..15 (15 when not given). */
typedef struct tp_ws_deflate_params {
    bool enabled;
    bool server_no_context_takeover;
    bool client_no_context_takeover;
    int server_max_window_bits;
    int client_max_window_bits;
    int compression_level; /* zlib level for what we send (Tornado: 6) */
    int mem_level;         /* zlib memLevel for what we send (Tornado: 8) */
} tp_ws_deflate_params;

/* Tornado's defaults: enabled, context takeover both ways, 15 bits, level 6, memLevel 8. */
TP_API tp_ws_deflate_params tp_ws_deflate_defaults(void);

/* Server side: reads the client's Sec-WebSocket-Extensions value (all offers, comma
 * separated) and takes the first permessage-deflate offer (only that one, as Tornado). On
 * success fills *out (level and mem_level from `ours`; our server_* side may only get
 * stricter from ours), appends the response extension value to resp (the client's offer
 * echoed in sorted order, a valueless client_max_window_bits dropped, as Tornado) and
 * returns 0. -ENOENT when nothing is offered or ours is disabled; -EINVAL when the offer has
 * an unknown, repeated or bad parameter or the header is malformed (Tornado fails the
 * handshake then). */
TP_API int tp_ws_deflate_accept_offer(tp_slice header, const tp_ws_deflate_params *ours,
                                      tp_ws_deflate_params *out, tp_buf *resp);

/* Client side: appends the offer for `want` to b ("permessage-deflate;
 * client_max_window_bits" plus the parameters set in want). */
TP_API void tp_ws_deflate_write_offer(const tp_ws_deflate_params *want, tp_buf *b);

/* Client side: reads the server's answer. 0 with *out filled (level and mem_level from
 * `want`), -ENOENT when the server declined, -EINVAL when the answer is not one the client
 * may accept (unknown parameter, bits out of range, an extension it did not offer). */
TP_API int tp_ws_deflate_read_answer(tp_slice header, const tp_ws_deflate_params *want,
                                     tp_ws_deflate_params *out);

/* One direction's zlib stream. `is_client` says which side we are: a server compresses with
 * server_* parameters and decompresses with client_* ones, a client the other way round. */
typedef struct tp_ws_deflater tp_ws_deflater;
typedef struct tp_ws_inflater tp_ws_inflater;

/* Free with tp_ws_deflater_free. NULL for parameters zlib refuses (window bits outside 8..15,
 * a bad level or mem_level: the connection then fails with 1011); out of memory aborts.
 * Window bits 8 deflate with zlib's 9, whose distances stay within 256 bytes. */
TP_API tp_ws_deflater *tp_ws_deflater_new(const tp_ws_deflate_params *p, bool is_client);
TP_API void tp_ws_deflater_free(tp_ws_deflater *d);
/* Appends the compressed message (SYNC_FLUSH, trailing 00 00 ff ff removed) to out. The
 * context is reset afterwards when our side has no_context_takeover. 0 (out of memory aborts). */
TP_API int tp_ws_deflate_message(tp_ws_deflater *d, tp_slice msg, tp_buf *out);

/* Free with tp_ws_inflater_free. NULL for window bits outside 8..15. */
TP_API tp_ws_inflater *tp_ws_inflater_new(const tp_ws_deflate_params *p, bool is_client);
TP_API void tp_ws_inflater_free(tp_ws_inflater *in);
/* Feeds one frame's payload of a compressed message; `fin` marks its last frame (the
 * 00 00 ff ff tail is added then). Appends the inflated bytes to out while out->len stays
 * at most `max`. 0; -EMSGSIZE as soon as the message would exceed max (nothing more is
 * inflated); -EINVAL for corrupt data. After an error the stream restarts empty. */
TP_API int tp_ws_inflate_frame(tp_ws_inflater *in, tp_slice payload, bool fin, size_t max,
                               tp_buf *out);

#endif
