/* UTF-8 and Python's notion of whitespace, shared by the layers that re-create Python string
 * behaviour (argument decoding, cookies, multipart headers, escaping, static ranges). */
#ifndef TP_CORE_UTF8_H
#define TP_CORE_UTF8_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/slice.h"

/* Decodes the character at p (n bytes available) into *cp and returns its length, or 0 if
 * the bytes are not valid UTF-8 (overlong forms, surrogates, past U+10FFFF, truncated). */
TP_API size_t tp_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp);
/* Python counts characters, not bytes: the number of code points in n bytes of UTF-8. */
TP_API size_t tp_utf8_len(const char *p, size_t n);
/* Bytes taken by the first k code points of the n bytes at p (all n if there are fewer). */
TP_API size_t tp_utf8_prefix(const char *p, size_t n, size_t k);
/* Writes code point c (at most U+10FFFF) as UTF-8 into w (room for 4 bytes); returns the
 * length, 1-4. Surrogates are written as their 3-byte form (Python's surrogatepass). */
TP_API size_t tp_utf8_encode(char *w, uint32_t c);
/* Appends Python's repr() of the bytes s to b: b'...' (b"..." when s holds ' and no "),
 * with \\, \t, \n, \r and \xhh escapes. */
TP_API void tp_py_bytes_repr(tp_buf *b, tp_slice s);
/* s read as latin-1 and written as UTF-8 (each byte >= 0x80 becomes two): s itself when it
 * is ASCII, else a copy in a (not NUL-terminated). */
TP_API tp_slice tp_latin1_to_utf8(tp_arena *a, tp_slice s);
/* Python's str.isspace() for one code point. */
TP_API bool tp_py_isspace(uint32_t cp);
/* Python's str.strip() on valid UTF-8 text (an invalid sequence stops the stripping). */
TP_API tp_slice tp_py_strip(tp_slice s);
/* s without the leading and trailing bytes for which space() is true (str.strip() on text
 * whose characters are bytes, e.g. latin-1, with the caller's notion of whitespace). */
TP_API tp_slice tp_slice_strip_bytes(tp_slice s, bool (*space)(unsigned char c));
/* Python's str.isspace() for a latin-1 character (space() for tp_slice_strip_bytes). */
TP_API bool tp_py_isspace_latin1(unsigned char c);

#endif
