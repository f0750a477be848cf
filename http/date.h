/* HTTP dates (RFC 9110 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"). */
#ifndef TP_HTTP_DATE_H
#define TP_HTTP_DATE_H

#include "platform/api.h"

#include <stdbool.h>
#include <time.h>

#define TP_HTTP_DATE_LEN 29

/* Writes the 29-character date of t and a NUL into out[30]. */
TP_API void tp_http_date_format(time_t t, char out[TP_HTTP_DATE_LEN + 1]);
/* The current date, formatted at most once a second (per thread). */
TP_API const char *tp_http_date_now(void);
/* Parses IMF-fixdate, RFC 850 and asctime dates; false if s is none of them. */
TP_API bool tp_http_date_parse(const char *s, size_t n, time_t *out);

#endif
