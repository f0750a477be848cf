#include "http/headers.h"

#include <ctype.h>
#include <string.h>

void tp_headers_init(tp_headers *h, tp_arena *arena)
{
    *h = (tp_headers){.arena = arena};
}

void tp_headers_adopt(tp_headers *h, tp_http_header *v, size_t n)
{
    h->v = v;
    h->n = h->cap = n;
}

static void grow(tp_headers *h)
{
    h->v = tp_arena_grow(h->arena, h->v, h->n, &h->cap, h->n + 1, sizeof(*h->v), 8);
}

/* Where a field of that name goes: after the last one of the same name (HTTPHeaders keeps
 * a name's values together, at the place of its first), else at the end. */
static size_t insert_at(const tp_headers *h, tp_slice name)
{
    for (size_t i = h->n; i > 0; i--)
        if (tp_slice_caseeq(h->v[i - 1].name, name))
            return i;
    return h->n;
}

void tp_headers_append_ref(tp_headers *h, tp_slice name, tp_slice value)
{
    if (h->n == h->cap)
        grow(h);
    h->v[h->n++] = (tp_http_header){name, value};
}

void tp_headers_add_ref(tp_headers *h, tp_slice name, tp_slice value)
{
    if (h->n == h->cap)
        grow(h);
    size_t at = insert_at(h, name);
    if (at < h->n)
        memmove(h->v + at + 1, h->v + at, (h->n - at) * sizeof(*h->v));
    h->v[at] = (tp_http_header){name, value};
    h->n++;
}

void tp_headers_add(tp_headers *h, tp_slice name, tp_slice value)
{
    tp_headers_add_ref(h, tp_arena_slice_dup(h->arena, name), tp_arena_slice_dup(h->arena, value));
}

/* As HTTPHeaders' h[name] = value: the first field of that name takes the value in its
 * place and the others go; a new name goes at the end. */
void tp_headers_set_ref(tp_headers *h, tp_slice name, tp_slice value)
{
    size_t i = 0;
    while (i < h->n && !tp_slice_caseeq(h->v[i].name, name))
        i++;
    if (i == h->n) {
        tp_headers_add_ref(h, name, value);
        return;
    }
    h->v[i] = (tp_http_header){name, value};
    size_t k = i + 1;
    for (size_t j = i + 1; j < h->n; j++)
        if (!tp_slice_caseeq(h->v[j].name, name))
            h->v[k++] = h->v[j];
    h->n = k;
}

void tp_headers_set(tp_headers *h, tp_slice name, tp_slice value)
{
    tp_headers_set_ref(h, tp_arena_slice_dup(h->arena, name), tp_arena_slice_dup(h->arena, value));
}

size_t tp_headers_remove(tp_headers *h, tp_slice name)
{
    size_t k = 0;
    for (size_t i = 0; i < h->n; i++)
        if (!tp_slice_caseeq(h->v[i].name, name))
            h->v[k++] = h->v[i];
    size_t gone = h->n - k;
    h->n = k;
    return gone;
}

tp_slice tp_headers_get(const tp_headers *h, tp_slice name)
{
    for (size_t i = 0; i < h->n; i++)
        if (tp_slice_caseeq(h->v[i].name, name))
            return h->v[i].value;
    return TP_SLICE_NULL;
}

size_t tp_headers_count(const tp_headers *h, tp_slice name)
{
    size_t c = 0;
    for (size_t i = 0; i < h->n; i++)
        c += tp_slice_caseeq(h->v[i].name, name);
    return c;
}

tp_slice tp_headers_get_joined(const tp_headers *h, tp_slice name)
{
    size_t count = 0, total = 0;
    tp_slice first = TP_SLICE_NULL;
    for (size_t i = 0; i < h->n; i++) {
        if (!tp_slice_caseeq(h->v[i].name, name))
            continue;
        if (!count++)
            first = h->v[i].value;
        total += h->v[i].value.n + 1;
    }
    if (count <= 1)
        return first.p ? first : (count ? TP_SLICE_LIT("") : TP_SLICE_NULL);
    char *out = tp_arena_alloc(h->arena, total), *w = out;
    for (size_t i = 0; i < h->n; i++) {
        if (!tp_slice_caseeq(h->v[i].name, name))
            continue;
        if (w != out)
            *w++ = ',';
        memcpy(w, h->v[i].value.p, h->v[i].value.n);
        w += h->v[i].value.n;
    }
    return (tp_slice){out, (size_t)(w - out)};
}

static inline void write_field(tp_buf *out, tp_slice name, tp_slice value)
{
    size_t need = name.n + value.n + 4;
    char *w = out->cap - out->off - out->len >= need ? out->base + out->off + out->len
                                                     : tp_buf_reserve(out, need);
    memcpy(w, name.p, name.n);
    w += name.n;
    *w++ = ':';
    *w++ = ' ';
    memcpy(w, value.p, value.n);
    w += value.n;
    *w++ = '\r';
    *w++ = '\n';
    tp_buf_commit(out, need);
}

void tp_headers_write_field(tp_buf *out, tp_slice name, tp_slice value)
{
    write_field(out, name, value);
}

void tp_headers_write(const tp_headers *h, tp_buf *out)
{
    for (size_t i = 0; i < h->n; i++)
        write_field(out, h->v[i].name, h->v[i].value);
}

tp_slice tp_headers_normalize_name(tp_arena *arena, tp_slice name)
{
    char *out = tp_arena_alloc(arena, name.n + 1);
    bool upper = true;
    for (size_t i = 0; i < name.n; i++) {
        unsigned char c = (unsigned char)name.p[i];
        out[i] = (char)(upper ? toupper(c) : tolower(c));
        upper = c == '-';
    }
    out[name.n] = '\0';
    return (tp_slice){out, name.n};
}
