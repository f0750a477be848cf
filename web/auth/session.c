/* Signed-cookie sessions: the signed-in user as compact JSON in a cookie signed with the
 * app's cookie_secret (Tornado's set_signed_cookie / get_signed_cookie). */
#include "web/auth/auth_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/cookie.h"

/* Browsers keep 4096 bytes per cookie (name, value and attributes): the signed value is the
 * JSON in base64 (4/3 of it) with the signature, timestamp and name around it. */
#define SESSION_MAX_JSON 2800

static const char *cookie_name(const tp_auth_session_opts *o)
{
    return o && o->cookie_name && *o->cookie_name ? o->cookie_name : "tp_session";
}

static double max_age_days(const tp_auth_session_opts *o)
{
    return o && o->max_age_days > 0 ? o->max_age_days : 30;
}

int tp_auth_session_set(tp_handler *h, const json_t *user, const tp_auth_session_opts *o)
{
    char *val = json_dumps(user, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!val)
        return -EINVAL;
    if (strlen(val) > SESSION_MAX_JSON) {
        free(val);
        return -EMSGSIZE;
    }
    tp_cookie_attrs a = tp_cookie_attrs_default();
    a.httponly = true;
    a.samesite = "Lax";
    a.secure = tp_slice_eq(tp_handler_request(h)->protocol, TP_SLICE_LIT("https"));
    a.expires = time(NULL) + (time_t)(max_age_days(o) * 86400);
    int rc = tp_set_signed_cookie(h, cookie_name(o), val, &a);
    free(val);
    return rc;
}

json_t *tp_auth_session_get(tp_handler *h, const tp_auth_session_opts *o)
{
    const char *v = tp_get_signed_cookie(h, cookie_name(o), max_age_days(o));
    return v ? json_loads(v, JSON_DECODE_ANY, NULL) : NULL;
}

int tp_auth_session_clear(tp_handler *h, const tp_auth_session_opts *o)
{
    return tp_clear_cookie(h, cookie_name(o), "/", NULL);
}
