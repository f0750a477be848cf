/* Return codes shared by every layer (DESIGN.md §5).
 * Low-level calls return 0 or -errno; the request pipeline uses these. */
#ifndef TP_CORE_STATUS_H
#define TP_CORE_STATUS_H

enum tp_status {
    TP_OK = 0,        /* done, go on */
    TP_ERROR = -1,    /* failed; the caller sends 500 or closes */
    TP_AGAIN = -2,    /* not finished yet: more input, or an async handler */
    TP_DECLINED = -3, /* not mine: let the next one try */
    TP_DONE = -4,     /* finished early (a response was already sent) */
};

#define TP_UNUSED(x)                       ((void)(x))
#define TP_LIKELY(x)                       __builtin_expect(!!(x), 1)
#define TP_UNLIKELY(x)                     __builtin_expect(!!(x), 0)
#define TP_ARRAY_LEN(a)                    (sizeof(a) / sizeof((a)[0]))
#define TP_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif
