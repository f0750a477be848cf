/* Python's printf-style `fmt % args` (CPython 3.11's PyUnicode_Format) without the values:
 * the literal text and "%%", parsing one conversion spec, and laying out text and numbers
 * as Python does. web/template formats its values with it, web/locale its message
 * arguments; each fetches and converts its own values. */
#ifndef TP_CORE_PYFMT_H
#define TP_CORE_PYFMT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/slice.h"

typedef struct tp_pyfmt_spec {
    bool left, plus, space, alt, zero; /* the flags - + space # 0 */
    int64_t width, prec;               /* -1: none */
    uint32_t conv;                     /* the conversion character (a code point) */
    size_t conv_at;                    /* its byte offset in the format */
} tp_pyfmt_spec;

/* How a spec takes arguments, in Python's order: key for "%(key)" (looked up at once; with
 * mapping false "%(" is TP_PYFMT_NO_MAPPING), star for each `*` (the next argument as an
 * int). Each returns 0 or a negative code of its own (above -1000), which tp_pyfmt_parse
 * returns. */
typedef struct tp_pyfmt_args {
    bool mapping; /* the arguments are a mapping */
    int (*key)(void *ctx, tp_slice key);
    int (*star)(void *ctx, int64_t *v);
    void *ctx;
} tp_pyfmt_args;

/* Python's errors in a spec (tp_pyfmt_strerror has the messages). */
enum tp_pyfmt_err {
    TP_PYFMT_INCOMPLETE = -1001,     /* ValueError */
    TP_PYFMT_INCOMPLETE_KEY = -1002, /* ValueError */
    TP_PYFMT_WIDTH_BIG = -1003,      /* ValueError */
    TP_PYFMT_PREC_BIG = -1004,       /* ValueError */
    TP_PYFMT_PREC_INT = -1005,       /* OverflowError: a `*` precision past a C int */
    TP_PYFMT_NO_MAPPING = -1006,     /* TypeError: "%(" without a mapping */
};

/* Appends the text of fmt from *p up to the next conversion to b ("%%" as "%"). Returns
 * false at the end of fmt, else true with *p just after the conversion's '%'. */
bool tp_pyfmt_literal(tp_buf *b, const char **p, tp_slice fmt);
/* Parses the spec at *p (after a '%') through its conversion character and advances *p.
 * 0, a tp_pyfmt_err, or a callback's code. */
int tp_pyfmt_parse(const char **p, tp_slice fmt, const tp_pyfmt_args *args, tp_pyfmt_spec *sp);
/* Python's message for a tp_pyfmt_err ("incomplete format", ...). */
const char *tp_pyfmt_strerror(int err);
/* Appends UTF-8 text s cut to the precision and padded to the width, both counted in code
 * points (%s %r %a; %c passes prec -1). */
void tp_pyfmt_text(tp_buf *b, const tp_pyfmt_spec *sp, tp_slice s);
/* Appends a number as Python lays it out: [spaces] sign [0x 0X 0o with #] [zeros] body
 * [spaces]. For d i u x X o, body is the digits and the precision pads them with zeros;
 * for floats it is the formatted magnitude (or inf/nan). The 0 flag fills the width after
 * the sign and prefix; '-' wins over it. */
void tp_pyfmt_number(tp_buf *b, const tp_pyfmt_spec *sp, bool neg, tp_slice body);
/* The digits of mag for the integer conversion conv (base 10, x, X or o), written at the
 * end of buf (24 bytes). */
tp_slice tp_pyfmt_digits(char *buf, uint64_t mag, uint32_t conv);

#endif
