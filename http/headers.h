/* HTTPHeaders: a case-insensitive multi-dict of header fields, in Tornado's order: names in
 * the order they were first added, the values of one name together at its place (Python's
 * dict of lists). The entries live in an arena; request headers point into the request's
 * copy of its head. */
#ifndef TP_HTTP_HEADERS_H
#define TP_HTTP_HEADERS_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "http/parser.h"

typedef struct tp_headers {
    tp_http_header *v;
    size_t n, cap;
    tp_arena *arena; /* where entries (and copies) are allocated */
} tp_headers;

/* An empty set whose memory comes from arena. */
TP_API void tp_headers_init(tp_headers *h, tp_arena *arena);
/* Adopts n parsed headers (no copy: the slices must outlive h). */
TP_API void tp_headers_adopt(tp_headers *h, tp_http_header *v, size_t n);
/* Adds a field after the last one of that name (at the end for a new name), copying name and
 * value into the arena. */
TP_API void tp_headers_add(tp_headers *h, tp_slice name, tp_slice value);
/* tp_headers_add without copying: name and value must outlive h (literals, arena data). */
TP_API void tp_headers_add_ref(tp_headers *h, tp_slice name, tp_slice value);
/* tp_headers_add_ref for a name h does not hold (else its values would be split): appends
 * without looking, for the fields every response gets. */
TP_API void tp_headers_append_ref(tp_headers *h, tp_slice name, tp_slice value);
/* Replaces every field of that name with one, at the place of the first (at the end for a
 * new name), as HTTPHeaders' h[name] = value. Copies name and value into the arena. */
TP_API void tp_headers_set(tp_headers *h, tp_slice name, tp_slice value);
/* tp_headers_set without copying: name and value must outlive h. */
TP_API void tp_headers_set_ref(tp_headers *h, tp_slice name, tp_slice value);
/* Removes every field of that name; returns how many went. */
TP_API size_t tp_headers_remove(tp_headers *h, tp_slice name);
/* The first value of name, or a NULL slice (p == NULL) if absent. */
TP_API tp_slice tp_headers_get(const tp_headers *h, tp_slice name);
/* All values of name joined with "," (Tornado's headers[name]); NULL slice if absent. */
TP_API tp_slice tp_headers_get_joined(const tp_headers *h, tp_slice name);
/* How many fields have that name. */
TP_API size_t tp_headers_count(const tp_headers *h, tp_slice name);
/* Appends one field, "name: value\r\n". */
TP_API void tp_headers_write_field(tp_buf *out, tp_slice name, tp_slice value);
/* Appends "Name: value\r\n" for every field. */
TP_API void tp_headers_write(const tp_headers *h, tp_buf *out);
/* Tornado's header-name case: "content-type" -> "Content-Type" (copied into arena). */
TP_API tp_slice tp_headers_normalize_name(tp_arena *arena, tp_slice name);

#endif
