/* Cookie headers without a request: Cookie header parsing (httputil.parse_cookie) and
 * Set-Cookie serialisation (set_cookie + Morsel.OutputString); signed values are
 * web/signed_value.h. Results are NUL-terminated copies in the caller's arena, returned as
 * slices over them. */
#ifndef TP_HTTP_COOKIE_H
#define TP_HTTP_COOKIE_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/arena.h"
#include "core/slice.h"
#include "http/query.h"

/* Attributes of one Set-Cookie; tp_cookie_attrs_default() gives Tornado's defaults. */
typedef struct tp_cookie_attrs {
    const char *domain; /* NULL or "": none */
    const char *path;   /* NULL or "": none; Tornado's default is "/" */
    time_t expires;     /* 0: none; else written as expires=<HTTP date> */
    long max_age;       /* -1 or 0: none (Tornado skips a falsy max_age) */
    bool secure;
    bool httponly;
    const char *samesite; /* NULL or "": none */
} tp_cookie_attrs;

/* path "/", max_age -1, everything else off. */
TP_API tp_cookie_attrs tp_cookie_attrs_default(void);
/* Appends the cookies of a Cookie header value as parse_cookie does: a chunk without '='
 * gets the name "", quoted values are unquoted (\ooo gives that code point as UTF-8), a
 * repeated name keeps its first position with the last value. Returns 0. */
TP_API int tp_cookie_parse(tp_arena *a, tp_slice header, tp_args *out);
/* True if name is a legal key of Python's cookie jar (non-empty, only
 * A-Za-z0-9!#$%&'*+-.^_`|~:, not an attribute name such as "path"); request.cookies
 * drops parsed cookies whose name is not. */
TP_API bool tp_cookie_name_legal(tp_slice name);
/* The Set-Cookie header value Tornado's set_cookie produces, in *out. -EINVAL if name or
 * value holds a byte 0x00-0x20, name is not legal, value is not UTF-8, or domain, path or
 * samesite holds 0x00-0x20, ';' or 0x7f. attrs NULL means tp_cookie_attrs_default(). */
TP_API int tp_cookie_format(tp_arena *a, tp_slice name, tp_slice value,
                            const tp_cookie_attrs *attrs, tp_slice *out);
#endif
