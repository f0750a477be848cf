/* tornado.escape: HTML, URL and JSON escaping, squeeze and linkify. Inputs are UTF-8 bytes;
 * results are NUL-terminated copies in the caller's arena, returned as slices over them. */
#ifndef TP_CORE_ESCAPE_H
#define TP_CORE_ESCAPE_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/slice.h"

/* Escapes & < > " ' as &amp; &lt; &gt; &quot; &#x27; (Tornado 6.4+, html.escape). */
TP_API tp_slice tp_xhtml_escape(tp_arena *a, tp_slice s);
/* The same escaping appended to b (one reservation; runs without specials are copied in
 * 16-byte blocks). */
TP_API void tp_xhtml_escape_buf(tp_buf *b, tp_slice s);
/* Replaces named and numeric character references by Python's html.unescape rules (HTML5:
 * the whole named table, references without ';', the spec's invalid-number replacements). */
TP_API tp_slice tp_xhtml_unescape(tp_arena *a, tp_slice s);
/* Percent-encodes every byte but A-Za-z0-9_.-~. With plus, quote_plus (space -> '+', '/'
 * encoded); without, quote (space -> %20, '/' kept). */
TP_API tp_slice tp_url_escape(tp_arena *a, tp_slice s, bool plus);
/* Percent-decodes s into the arena (NUL-terminated); with plus, '+' becomes a space.
 * Invalid escapes are kept as they are, as Python's unquote does. */
TP_API tp_slice tp_url_unescape(tp_arena *a, tp_slice s, bool plus);
/* Returns false if s holds a '%' not followed by two hex digits. */
TP_API bool tp_url_escapes_valid(tp_slice s);
/* tornado.escape's name for tp_url_unescape: the bytes are not UTF-8 checked. */
TP_API tp_slice tp_url_unescape_slice(tp_arena *a, tp_slice s, bool plus);
/* Python's json.dumps(v) (ASCII-only, ", " and ": ", keys in insertion order) with "</"
 * written as "<\/". A NULL slice if jansson cannot encode v (NULL, or a cycle). */
TP_API tp_slice tp_json_encode(tp_arena *a, const json_t *v);
/* Parses any JSON value (NUL escapes allowed). The caller owns the result (json_decref);
 * NULL on a syntax error, described in *err (err may be NULL). */
TP_API json_t *tp_json_decode(tp_slice s, json_error_t *err);
/* Runs of bytes 0x00-0x20 become one space; then leading and trailing (Unicode) whitespace
 * is stripped, as Python's str.strip does. */
TP_API tp_slice tp_squeeze(tp_arena *a, tp_slice s);

/* Options of tp_linkify; a zeroed struct (or NULL) gives Tornado's defaults. */
typedef struct tp_linkify_opts {
    bool shorten;             /* clip the shown text of long URLs, full URL in a title */
    bool require_protocol;    /* leave "www.x.com" (no scheme) as text */
    const char *extra_params; /* attributes put in every <a> tag (stripped), or NULL */
    /* If set, called per link with its href instead of extra_params; the text it returns
     * (stripped) goes into that tag. It may allocate in a. */
    tp_slice (*extra_params_fn)(void *data, tp_arena *a, tp_slice href);
    void *extra_params_data;
    /* NULL-terminated list of linked schemes (case-sensitive); NULL means http and https. */
    const char *const *permitted_protocols;
} tp_linkify_opts;

/* Tornado's linkify: xhtml-escapes s, then wraps URLs ("scheme://..." with a permitted
 * scheme, or "www....", given "http://") in <a href="...">. o may be NULL. */
TP_API tp_slice tp_linkify(tp_arena *a, tp_slice s, const tp_linkify_opts *o);
/* True if s is valid UTF-8 (no overlongs, surrogates or code points above U+10FFFF). */
TP_API bool tp_utf8_valid(tp_slice s);

#endif
