/* Tornado's signed values (the payload of secure cookies): create_signed_value,
 * decode_signed_value and get_signature_key_version, versions 1 and 2. Results are
 * NUL-terminated copies in the caller's arena, returned as slices over them. */
#ifndef TP_WEB_SIGNED_VALUE_H
#define TP_WEB_SIGNED_VALUE_H

#include "platform/api.h"

#include <stddef.h>
#include <time.h>

#include "core/arena.h"
#include "core/slice.h"

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
