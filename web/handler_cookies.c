/* The cookie part of the RequestHandler: get_cookie, set_cookie, clear_cookie and the signed
 * variants, over http/cookie.h. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "web/web_internal.h"

/* Tornado reads request.cookies from headers["Cookie"] (repeated headers joined with ",") and
 * drops names the Python cookie jar would refuse. */
static const tp_args *cookies(tp_handler *h)
{
    if (!h->cookies_parsed) {
        tp_args all = {0};
        tp_slice header = tp_headers_get_joined(&h->req->headers, TP_SLICE_LIT("Cookie"));
        h->cookies_parsed = true;
        if (header.p)
            tp_cookie_parse(&h->req->arena, header, &all);
        for (size_t i = 0; i < all.n; i++)
            if (tp_cookie_name_legal(all.v[i].name))
                tp_args_add(&h->req->arena, &h->cookies, all.v[i].name, all.v[i].value);
    }
    return &h->cookies;
}

const char *tp_get_cookie(tp_handler *h, const char *name, const char *def)
{
    tp_slice v = tp_args_get_last(cookies(h), tp_slice_cstr(name));
    return v.p ? v.p : def;
}

/* One Set-Cookie per name, the last one set wins (Tornado keeps them in a dict). */
static void drop_set_cookie(tp_handler *h, tp_slice name)
{
    tp_headers *hd = &h->new_cookies;
    size_t k = 0;
    for (size_t i = 0; i < hd->n; i++) {
        tp_http_header *e = &hd->v[i];
        bool same = tp_slice_caseeq(e->name, TP_SLICE_LIT("Set-Cookie")) && e->value.n > name.n &&
                    memcmp(e->value.p, name.p, name.n) == 0 && e->value.p[name.n] == '=';
        if (!same)
            hd->v[k++] = *e;
    }
    hd->n = k;
}

int tp_set_cookie(tp_handler *h, const char *name, const char *value, const tp_cookie_attrs *attrs)
{
    tp_slice out, n = tp_slice_cstr(name);
    if (h->flushed)
        return -EALREADY;
    tp_cookie_attrs def = tp_cookie_attrs_default();
    int r = tp_cookie_format(&h->req->arena, n, tp_slice_cstr(value), attrs ? attrs : &def, &out);
    if (r < 0)
        return r;
    drop_set_cookie(h, n);
    tp_headers_add_ref(&h->new_cookies, TP_SLICE_LIT("Set-Cookie"), out);
    return 0;
}

int tp_clear_cookie(tp_handler *h, const char *name, const char *path, const char *domain)
{
    tp_cookie_attrs a = tp_cookie_attrs_default();
    a.path = path ? path : "/";
    a.domain = domain;
    a.expires = time(NULL) - 365 * 86400; /* Tornado: a year ago */
    return tp_set_cookie(h, name, "", &a);
}

int tp_clear_all_cookies(tp_handler *h, const char *path, const char *domain)
{
    const tp_args *all = cookies(h);
    int r = 0;
    for (size_t i = 0; i < all->n && r == 0; i++)
        r = tp_clear_cookie(h, all->v[i].name.p, path, domain);
    return r;
}

int tp_set_signed_cookie(tp_handler *h, const char *name, const char *value,
                         const tp_cookie_attrs *attrs)
{
    tp_slice signed_value;
    const tp_secret *secret = &h->app->settings.cookie_secret;
    if (!secret->secret.n && !secret->nkeys)
        return -EINVAL;
    int r = tp_signed_value_create(&h->req->arena, secret, tp_slice_cstr(name),
                                   tp_slice_cstr(value), 2, time(NULL), &signed_value);
    if (r < 0)
        return r;
    tp_cookie_attrs def = tp_cookie_attrs_default();
    if (!attrs) { /* Tornado's set_signed_cookie default: expires_days=30 */
        def.expires = time(NULL) + 30 * 86400;
        attrs = &def;
    }
    return tp_set_cookie(h, name, signed_value.p, attrs);
}

/* No cookie_secret: Tornado's require_setting raises (a 500); here the callers answer NULL or
 * -EINVAL. */
static const tp_secret *secret_of(tp_handler *h)
{
    const tp_secret *secret = &h->app->settings.cookie_secret;
    return secret->secret.n || secret->nkeys ? secret : NULL;
}

const char *tp_create_signed_value(tp_handler *h, const char *name, const void *value, size_t n,
                                   int version)
{
    tp_slice out;
    const tp_secret *secret = secret_of(h);
    if (!secret ||
        tp_signed_value_create(&h->req->arena, secret, tp_slice_cstr(name), tp_slice_make(value, n),
                               version ? version : 2, time(NULL), &out) < 0)
        return NULL;
    return out.p;
}

const char *tp_get_signed_cookie_ex(tp_handler *h, const char *name, double max_age_days,
                                    int min_version, size_t *n)
{
    tp_slice value;
    const tp_secret *secret = secret_of(h);
    const char *raw = tp_get_cookie(h, name, NULL);
    if (!raw || !secret)
        return NULL;
    if (tp_signed_value_decode(&h->req->arena, secret, tp_slice_cstr(name), tp_slice_cstr(raw),
                               max_age_days > 0 ? max_age_days : 31, time(NULL), min_version,
                               &value) < 0)
        return NULL;
    if (n)
        *n = value.n;
    return value.p;
}

const char *tp_get_signed_cookie(tp_handler *h, const char *name, double max_age_days)
{
    return tp_get_signed_cookie_ex(h, name, max_age_days, 0, NULL);
}

size_t tp_get_cookies(tp_handler *h, const char **names, const char **values, size_t max)
{
    const tp_args *all = cookies(h);
    for (size_t i = 0; i < all->n && i < max; i++) {
        names[i] = all->v[i].name.p;
        values[i] = all->v[i].value.p;
    }
    return all->n;
}
