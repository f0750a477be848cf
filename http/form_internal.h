/* What http/form.c (bodies, multipart) shares with http/form_params.c (header parameters). */
#ifndef TP_HTTP_FORM_INTERNAL_H
#define TP_HTTP_FORM_INTERNAL_H

#include <stdint.h>

#include "core/arena.h"
#include "core/slice.h"

/* x + y + z as one arena string (NUL-terminated). */
tp_slice tp__form_cat(tp_arena *a, tp_slice x, tp_slice y, tp_slice z);
/* The code point at s (n bytes): its length, or -k for an invalid sequence whose first k
 * bytes were read (Python's decode error position). */
int tp__form_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);
/* Writes cp as UTF-8 at w; returns the end. */
char *tp__form_put_utf8(char *w, uint32_t cp);

#endif
