/* Tornado's cookies without a request: Cookie header parsing (httputil.parse_cookie),
 * Set-Cookie serialisation (set_cookie + Morsel.OutputString) and signed values
 * (create_signed_value / decode_signed_value, versions 1 and 2). Results are NUL-terminated
 * copies in the caller's arena, returned as slices over them. */
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

/* One key version of a key-versioned secret (Tornado's cookie_secret dict). */
typedef struct tp_secret_key {
    int version;
    tp_slice secret;
} tp_secret_key;

/* A cookie secret: one secret (keys == NULL) or a key-version table whose entry
 * key_version signs new values (version 2 only). */
typedef struct tp_secret {
    tp_slice secret;
    const tp_secret_key *keys;
    size_t nkeys;
    int key_version;
} tp_secret;

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
/* Signs value for name at time now: version 1 (single secret only) or 2 (0 means 2). With
 * a key table the entry secrets->key_version signs. -EINVAL for another version, v1 with
 * keys, or an unknown key_version. */
TP_API int tp_signed_value_create(tp_arena *a, const tp_secret *secrets, tp_slice name,
                                  tp_slice value, int version, time_t now, tp_slice *out);
/* Verifies signed_value for name and puts the decoded value in *value_out. -EINVAL if
 * malformed, forged, for another name, older than max_age_days, (v1) over 31 days in the
 * future, of a version below min_version (0 means 1; above 2 is -EINVAL), v1 with a key
 * table, or signed with an unknown key version. */
TP_API int tp_signed_value_decode(tp_arena *a, const tp_secret *secrets, tp_slice name,
                                  tp_slice signed_value, double max_age_days, time_t now,
                                  int min_version, tp_slice *value_out);
/* The key version of a v2 signed value (get_signature_key_version), or -EINVAL if the
 * value is not a well-framed v2 value. */
TP_API int tp_signed_value_key_version(tp_slice signed_value);

#endif
