/* Tornado's GZipContentEncoding output transform (compress_response): decides from the
 * request's Accept-Encoding and the response's status and headers whether to gzip, fixes the
 * headers (Vary, Content-Encoding, Content-Length) and compresses each chunk at level 6 with
 * a sync flush, wrapped as Python's gzip.GzipFile writes it (so bytes equal Tornado's for
 * the same mtime).
 *
 *   tp_gzip gz; tp_gzip_init(&gz);
 *   tp_gzip_begin(&gz, req_headers, &status, resp_headers, chunk, finishing, &out);
 *   ... tp_gzip_chunk(&gz, chunk, finishing, &out); ...   then tp_gzip_end(&gz)
 */
#ifndef TP_WEB_GZIP_H
#define TP_WEB_GZIP_H

#include <stdbool.h>
#include <stdint.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/slice.h"
#include "http/headers.h"

#define TP_GZIP_LEVEL      6
#define TP_GZIP_MIN_LENGTH 1024

typedef struct tp_gzip {
    bool gzipping;  /* compressing this response */
    bool started;   /* zlib state allocated */
    bool finished;  /* the trailer was written */
    uint32_t mtime; /* gzip header MTIME; Tornado writes time.time(), 0 is reproducible */
    uint32_t crc;   /* CRC-32 of the input so far */
    uint32_t isize; /* input length mod 2^32 */
    z_stream zs;
    tp_buf out; /* the last call's output */
} tp_gzip;

/* A transform that has decided nothing yet, mtime 0. Holds no memory until begin. */
void tp_gzip_init(tp_gzip *t);
/* transform_first_chunk: adds ", Accept-Encoding" to Vary (or sets it), then gzips if the
 * request's Accept-Encoding contains "gzip", the status may carry a body (not 1xx, 204,
 * 304), Content-Type (before ';') is text/ or a listed type, there is no Content-Encoding,
 * and the body is >= 1024 bytes when finishing. Then it sets Content-Encoding, rewrites
 * (finishing) or removes Content-Length. *out is the chunk to send: the input itself, or
 * bytes held by t until the next call. Returns 0 (*status is left as it is). */
int tp_gzip_begin(tp_gzip *t, const tp_headers *request, int *status, tp_headers *response,
                  tp_slice chunk, bool finishing, tp_slice *out);
/* transform_chunk: compresses chunk (sync flush, or the gzip trailer when finishing) into
 * *out, or passes it through when not gzipping. -EINVAL after the trailer was written. */
int tp_gzip_chunk(tp_gzip *t, tp_slice chunk, bool finishing, tp_slice *out);
/* True for a Content-Type value (parameters allowed) that gzip compresses: "text/..." and the
 * listed application types. */
bool tp_gzip_compressible_type(tp_slice content_type);
/* True once begin decided to compress. */
bool tp_gzip_active(const tp_gzip *t);
/* Frees the zlib state and the output buffer (after the last chunk or on abort); t can be
 * initialised again. */
void tp_gzip_end(tp_gzip *t);

#endif
