/* Hexadecimal digits: the value of one, and bytes written as lowercase hex (digests, tokens,
 * percent escapes and chunk sizes all go through these two). */
#ifndef TP_CORE_HEX_H
#define TP_CORE_HEX_H

#include <stddef.h>

/* The value of hex digit c (either case), or -1 for anything else (negative chars too). */
static inline int tp_hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Writes the n bytes at p as 2n lowercase hex digits and a NUL at out (2n + 1 bytes). */
static inline void tp_hex_encode(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

#endif
