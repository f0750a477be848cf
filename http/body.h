/* The request body decoder: Content-Length and chunked framing (RFC 9112 §6-7), gzip for
 * decompress_request, and the body size limit. It knows nothing of connections: it turns the
 * bytes it is fed into body bytes for a sink and says when the body is complete. */
#ifndef TP_HTTP_BODY_H
#define TP_HTTP_BODY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/slice.h"
#include "http/headers.h"

typedef struct z_stream_s z_stream;

/* The chunked decoder's position. */
enum tp_chunk_state {
    CH_SIZE,    /* hex digits */
    CH_EXT,     /* chunk extension or whitespace, up to CR */
    CH_SIZE_LF, /* LF after the size line */
    CH_DATA,    /* chunk data: left bytes */
    CH_DATA_CR, /* CRLF after chunk data */
    CH_DATA_LF,
    CH_TRAILER, /* start of a trailer line (or the final CRLF) */
    CH_TRAILER_LINE,
    CH_END_LF, /* LF of the final CRLF */
};

typedef struct tp_body_decoder {
    bool chunked;
    enum tp_chunk_state chunk;
    uint64_t left;        /* Content-Length bytes, or bytes of the current chunk, still to come */
    uint64_t total;       /* body bytes given to the sink (decompressed when inflating) */
    uint64_t max_body;    /* limit on total (413 beyond) */
    size_t max_trailer;   /* limit on the trailer section (431 beyond) */
    size_t chunk_line;    /* bytes in the current size/extension/trailer line */
    size_t trailer_bytes; /* trailer bytes so far */
    z_stream *inflate;    /* decompress_request: the gzip decoder, or NULL */
} tp_body_decoder;

/* The sink's answer for "the request was answered meanwhile: drop the rest of the body". */
#define TP_BODY_STOP 1

/* Receives decoded body bytes; returns 0, TP_BODY_STOP, or an HTTP status (400, 413...) that
 * ends the request. */
typedef int (*tp_body_sink)(void *arg, const char *p, size_t n);

/* Sets d up for a request with headers h (Transfer-Encoding, Content-Length, and with
 * decompress, Content-Encoding: gzip, which it replaces by X-Consumed-Content-Encoding).
 * Returns 0, or the status to refuse the request with (400, 413, 501, 500). Free with
 * tp__body_reset. */
int tp__body_begin(tp_body_decoder *d, tp_headers *h, uint64_t max_body, size_t max_trailer,
                   bool decompress);
/* True if the request has a body still to read. */
bool tp__body_pending(const tp_body_decoder *d);
/* Decodes from data: returns how many bytes belong to the body (all of data after a sink's
 * TP_BODY_STOP), or -status for a bad body. *done is set once the body is complete. */
ssize_t tp__body_decode(tp_body_decoder *d, tp_slice data, tp_body_sink sink, void *arg,
                        bool *done);
/* Frees the decoder's state (d can be begun again). */
void tp__body_reset(tp_body_decoder *d);

#endif
