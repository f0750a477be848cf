/* Values a handler formats from the request or for the response: request.full_url() and
 * set_header/add_header with int and datetime values (Tornado's _convert_header_value). */
#include <stdio.h>

#include "http/date.h"
#include "web/web_internal.h"

const char *tp_full_url(tp_handler *h)
{
    tp_request *req = h->req;
    return tp_arena_printf(&req->arena, "%.*s://%.*s%.*s", TP_SLICE_FMT(req->protocol),
                           TP_SLICE_FMT(req->host), TP_SLICE_FMT(req->uri));
}

int tp_set_header_int(tp_handler *h, const char *name, long long value)
{
    char s[24];
    snprintf(s, sizeof(s), "%lld", value);
    return tp_set_header(h, name, s);
}

int tp_add_header_int(tp_handler *h, const char *name, long long value)
{
    char s[24];
    snprintf(s, sizeof(s), "%lld", value);
    return tp_add_header(h, name, s);
}

int tp_set_header_date(tp_handler *h, const char *name, time_t t)
{
    char s[TP_HTTP_DATE_LEN + 1];
    tp_http_date_format(t, s);
    return tp_set_header(h, name, s);
}

int tp_add_header_date(tp_handler *h, const char *name, time_t t)
{
    char s[TP_HTTP_DATE_LEN + 1];
    tp_http_date_format(t, s);
    return tp_add_header(h, name, s);
}
