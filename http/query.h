/* URL decoding and query-string / urlencoded-form parsing (Tornado's parse_qs_bytes with
 * keep_blank_values). Results are arena copies. */
#ifndef TP_HTTP_QUERY_H
#define TP_HTTP_QUERY_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/escape.h" /* tp_url_unescape, which query parsing uses */
#include "core/slice.h"

typedef struct tp_arg {
    tp_slice name;
    tp_slice value;
} tp_arg;

/* An ordered list of name/value pairs; names repeat for repeated arguments. */
typedef struct tp_args {
    tp_arg *v;
    size_t n, cap;
} tp_args;

/* Appends the pairs of "a=1&b=&c" (separators '&'; blank values kept; a name without '='
 * gets the value ""). Names and values are decoded with '+' as space. */
TP_API void tp_parse_qs(tp_arena *a, tp_slice qs, tp_args *out);
/* Appends one pair (copied into the arena). */
TP_API void tp_args_add(tp_arena *a, tp_args *args, tp_slice name, tp_slice value);
/* Appends one pair without copying it (the slices must outlive args; the array grows in a). */
TP_API void tp_args_add_ref(tp_arena *a, tp_args *args, tp_slice name, tp_slice value);
/* The last value of name (Tornado's get_argument), or a NULL slice. */
TP_API tp_slice tp_args_get_last(const tp_args *args, tp_slice name);
/* Stores up to max values of name in out and returns how many there are in all. */
TP_API size_t tp_args_get_all(const tp_args *args, tp_slice name, tp_slice *out, size_t max);

#endif
