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

#endif
