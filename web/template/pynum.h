/* Python's number conversions shared by the template builtins and `str % args`: exact
 * decimal digits of a double, int(str, base) and round(); and the code point helpers of
 * the template's str code. Internal to web/template. */
#ifndef TP_WEB_TEMPLATE_PYNUM_H
#define TP_WEB_TEMPLATE_PYNUM_H

#include "core/utf8.h"
#include "web/template/internal.h"

/* Decodes the UTF-8 code point at s (n > 0 bytes); returns its length (1 for a bad byte,
 * whose value is then *cp). */
size_t tpl_cp_decode(const char *s, size_t n, uint32_t *cp);

#define TPL_DIGITS_MAX 320 /* digits of the largest double (309) with room to spare */

/* The decimal digits of trunc(|d|) for a finite d, exact (1e300 has 301 digits, as Python's
 * int(1e300) prints them); returns their count. out holds TPL_DIGITS_MAX bytes, no NUL. */
size_t tpl_trunc_digits(double d, char *out);

/* int(s, base) of Python 3.11 for base 0 or 2..36 (the caller checks the range): signs,
 * prefixes, underscores, Unicode digits and spaces. -1 after raising ValueError with
 * Python's message, or OverflowError past 64 bits. */
int tpl_int_from_str(tpl_render *r, tp_slice s, int base, int64_t *out);

/* round(v, ndigits) of an int: v unchanged for ndigits >= 0, else half to even at a multiple
 * of 10**-ndigits. -1 after raising OverflowError when the result needs over 64 bits. */
int tpl_round_int(tpl_render *r, int64_t v, int64_t ndigits, int64_t *out);

/* round(d, ndigits) of a float as CPython's double_round: the exact binary value rounded
 * half to even at 10**-ndigits; inf and nan unchanged. */
double tpl_round_float(double d, int64_t ndigits);

#endif
