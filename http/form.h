/* Request body forms as Tornado 6.5 parses them (httputil.parse_body_arguments and
 * parse_multipart_form_data): application/x-www-form-urlencoded through tp_parse_qs, and
 * multipart/form-data with Tornado's part splitting, part-header rules, Content-Disposition
 * parameters (quoted strings, RFC 2231 filename*=) and the 6.5.5 limits (ParseMultipartConfig).
 *
 *   tp_form_limits lim = tp_form_limits_default();
 *   if (tp_form_parse_body(arena, ctype, body, content_encoding, &lim, &args, &files, &err))
 *       -> 400, log "Invalid body: <err>"
 *
 * Names, filenames and content types are NUL-terminated arena strings; argument values and
 * file bodies are slices into the body (no copy, not NUL-terminated): keep the body alive. */
#ifndef TP_HTTP_FORM_H
#define TP_HTTP_FORM_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/slice.h"
#include "http/query.h"

/* Tornado 6.5.5's ParseMultipartConfig defaults. */
#define TP_FORM_MAX_PARTS            100
#define TP_FORM_MAX_PART_HEADER_SIZE 10240

typedef struct tp_form_limits {
    bool multipart_enabled;      /* false: every multipart body is an error */
    size_t max_parts;            /* parts after the preamble; more is an error */
    size_t max_part_header_size; /* bytes of one part's header block; more is an error */
} tp_form_limits;

/* One uploaded file (Tornado's HTTPFile). content_type defaults to "application/unknown". */
typedef struct tp_form_file {
    tp_slice name;
    tp_slice filename;
    tp_slice content_type;
    tp_slice body;
} tp_form_file;

/* An ordered list of files; names repeat for repeated fields. Memory from the arena. */
typedef struct tp_form_files {
    tp_form_file *v;
    size_t n, cap;
} tp_form_files;

/* enabled, 100 parts, 10 KiB of part headers. */
TP_API tp_form_limits tp_form_limits_default(void);

/* parse_body_arguments: appends the body's arguments to args and its files to files.
 * content_type is the request's Content-Type (all values joined, "" if absent);
 * content_encoding is the joined Content-Encoding or a NULL slice if absent. A body of
 * another type is ignored (returns 0). On error returns -EINVAL, sets *err to Tornado's
 * message (arena text) and leaves args and files as they were; lim NULL means defaults. */
TP_API int tp_form_parse_body(tp_arena *a, tp_slice content_type, tp_slice body,
                              tp_slice content_encoding, const tp_form_limits *lim, tp_args *args,
                              tp_form_files *files, const char **err);

/* parse_multipart_form_data with the boundary parameter (quotes not yet removed). Same
 * results and errors as tp_form_parse_body (-E2BIG for a limit, -EINVAL otherwise); *err is
 * the message without the "Invalid multipart/form-data: " prefix parse_body adds. */
TP_API int tp_form_parse_multipart(tp_arena *a, tp_slice boundary, tp_slice body,
                                   const tp_form_limits *lim, tp_args *args, tp_form_files *files,
                                   const char **err);

/* Tornado's _parse_header for a Content-Disposition-like value: the first field in *key,
 * the parameters (RFC 2231 decoded, values UTF-8) appended to params, later ones
 * overriding earlier ones of the same name. -EINVAL (with *err) when Python would raise. */
TP_API int tp_form_parse_header(tp_arena *a, tp_slice line, tp_slice *key, tp_args *params,
                                const char **err);

/* The files named name: stores up to max in out, returns how many there are in all. */
TP_API size_t tp_form_files_get(const tp_form_files *files, tp_slice name, const tp_form_file **out,
                                size_t max);

#endif
