/* Pointer+length views of bytes the holder does not own. */
#ifndef TP_CORE_SLICE_H
#define TP_CORE_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

typedef struct tp_slice {
    const char *p;
    size_t n;
} tp_slice;

#define TP_SLICE_LIT(s) ((tp_slice){(s), sizeof(s) - 1})
#define TP_SLICE_NULL   ((tp_slice){NULL, 0})
/* printf("%.*s", TP_SLICE_FMT(s)) */
#define TP_SLICE_FMT(s) (int)(s).n, (s).p

static inline tp_slice tp_slice_make(const char *p, size_t n)
{
    return (tp_slice){p, n};
}

static inline tp_slice tp_slice_cstr(const char *s)
{
    return (tp_slice){s, s ? strlen(s) : 0};
}

static inline bool tp_slice_eq(tp_slice a, tp_slice b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

/* ASCII case-insensitive comparison. */
static inline bool tp_slice_caseeq(tp_slice a, tp_slice b)
{
    return a.n == b.n && (a.n == 0 || strncasecmp(a.p, b.p, a.n) == 0);
}

/* The slice without leading and trailing spaces and tabs. */
static inline tp_slice tp_slice_trim(tp_slice s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t'))
        s.p++, s.n--;
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
        s.n--;
    return s;
}

/* The items of a comma-separated list (a header value such as "gzip, chunked"), empty ones
 * included: "a,,b" gives "a", "", "b" and "" gives one "". Items are not trimmed.
 *     tp_list_iter it = tp_list_begin(value);
 *     for (tp_slice item; tp_list_next(&it, &item);) ... */
typedef struct tp_list_iter {
    const char *p, *end; /* the rest of the list; p > end once the last item was given */
} tp_list_iter;

static inline tp_list_iter tp_list_begin(tp_slice list)
{
    const char *p = list.p ? list.p : "";
    return (tp_list_iter){p, p + list.n};
}

static inline bool tp_list_next(tp_list_iter *it, tp_slice *item)
{
    if (it->p > it->end)
        return false;
    const char *comma =
        it->p < it->end ? (const char *)memchr(it->p, ',', (size_t)(it->end - it->p)) : NULL;
    const char *stop = comma ? comma : it->end;
    *item = (tp_slice){it->p, (size_t)(stop - it->p)};
    it->p = stop + 1;
    return true;
}

/* True if token is one of the items of list, spaces and tabs around it aside (ASCII
 * case-insensitive): tp_list_has(connection_header, TP_SLICE_LIT("close")). */
static inline bool tp_list_has(tp_slice list, tp_slice token)
{
    tp_list_iter it = tp_list_begin(list);
    for (tp_slice item; tp_list_next(&it, &item);)
        if (tp_slice_caseeq(tp_slice_trim(item), token))
            return true;
    return false;
}

#endif
