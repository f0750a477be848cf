/* tornado.locale: translations (Tornado's CSV files or gettext .mo catalogs), the closest
 * supported locale for a list of codes or an Accept-Language header, and Tornado's date,
 * list and number formatting. A registry (tp_locales) holds what Tornado keeps in module
 * globals; it owns every tp_locale it hands out. Strings are UTF-8 bytes. Loading and
 * set_default must not run while other threads read the registry. */
#ifndef TP_WEB_LOCALE_H
#define TP_WEB_LOCALE_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/slice.h"

typedef struct tp_locales tp_locales;
typedef struct tp_locale tp_locale;

/* One row of Tornado's LOCALE_NAMES table (62 rows, sorted by code). */
typedef struct tp_locale_info {
    const char *code;    /* "es_LA" */
    const char *name_en; /* "Spanish" */
    const char *name;    /* "Español" */
} tp_locale_info;

/* The built-in table; *n gets its length (62). */
TP_API const tp_locale_info *tp_locale_names(size_t *n);
/* The row for code (exact, case-sensitive), or NULL. */
TP_API const tp_locale_info *tp_locale_info_find(const char *code);

/* A registry with no translations and the default locale "en_US" (the only supported one).
 * Free with tp_locales_free. */
TP_API tp_locales *tp_locales_new(void);
/* Frees the registry and every locale it handed out. NULL is fine. */
TP_API void tp_locales_free(tp_locales *r);
/* load_translations(dir): every DIR/LOCALE.csv (LOCALE matching [a-z]+(_[A-Z]+)?, others
 * logged and skipped); UTF-16 if the file starts with a UTF-16 BOM, else UTF-8 with an
 * optional BOM; rows "english","translation"[,"plural"|"singular"|"unknown"|""]. Replaces
 * all translations and switches to CSV mode. Locales handed out earlier stay valid (old
 * ones until tp_locales_free). On error the registry is unchanged: -errno if the directory
 * or a file cannot be read, -EILSEQ for a file that does not decode, -EINVAL for a name
 * with two dots ("a.b.csv", which Tornado fails on too). */
TP_API int tp_locales_load_csv(tp_locales *r, const char *dir);
/* load_gettext_translations(dir, domain): every DIR/LANG/LC_MESSAGES/DOMAIN.mo (either
 * byte order, Plural-Forms honoured, LANG "ll_CC" falling back to "ll"'s catalog if
 * loaded). A catalog that does not parse is logged and skipped. Replaces all translations
 * and switches to gettext mode. -errno if dir cannot be read (registry unchanged). */
TP_API int tp_locales_load_gettext(tp_locales *r, const char *dir, const char *domain);
/* set_default_locale(code): the locale get_closest falls back to, supported from now on.
 * code is copied. -EINVAL if code is empty. */
TP_API int tp_locales_set_default(tp_locales *r, const char *code);
/* The default locale's code (owned by the registry). */
TP_API const char *tp_locales_default(const tp_locales *r);
/* get_supported_locales(): the supported codes, sorted, in *codes (owned by the registry,
 * valid until the next load or set_default); returns how many. */
TP_API size_t tp_locales_supported(const tp_locales *r, const char *const **codes);
/* Locale.get(code): the locale for exactly this supported code, or NULL if unsupported. */
TP_API const tp_locale *tp_locales_get(const tp_locales *r, tp_slice code);
/* Locale.get_closest(*codes) == tornado.locale.get: for each code ('-' read as '_', codes
 * of more than two parts and empty ones skipped, "ll_cc" normalised to "ll_CC") the exact
 * supported locale, else the supported language "ll"; else the default. Never NULL. */
TP_API const tp_locale *tp_locales_closest(const tp_locales *r, const tp_slice *codes, size_t n);
/* RequestHandler.get_browser_locale(default): header is the Accept-Language value (several
 * headers joined with ','), or a NULL slice (p == NULL) if the request has none. Entries
 * with a q below or equal to 0 or an unparsable q are dropped, the rest stably sorted by q
 * (highest first) and passed to tp_locales_closest; without a header (or without entries)
 * the result is tp_locales_closest(default_code). Never NULL. */
TP_API const tp_locale *tp_locales_browser(const tp_locales *r, tp_slice header,
                                           const char *default_code);

/* Locale.code, .name (LOCALE_NAMES name or "Unknown") and .rtl (code starts with fa, ar
 * or he). The strings live as long as the registry. */
TP_API const char *tp_locale_code(const tp_locale *l);
TP_API const char *tp_locale_name(const tp_locale *l);
TP_API bool tp_locale_rtl(const tp_locale *l);
/* True for a locale of gettext mode with a catalog (Tornado's GettextLocale). */
TP_API bool tp_locale_is_gettext(const tp_locale *l);

/* Locale.translate(message, plural_message, count). plural is a NULL slice for None; with
 * a plural, count picks the form (CSV: count != 1 is plural; gettext: the Plural-Forms
 * expression). The result points into the registry or at message/plural itself; it is not
 * NUL-terminated unless its source is. */
TP_API tp_slice tp_locale_translate(const tp_locale *l, tp_slice message, tp_slice plural,
                                    int64_t count);
/* Locale.pgettext(context, message, plural, count): gettext looks up "context\x04message"
 * and falls back as Tornado does; CSV locales log a warning (if they hold translations)
 * and ignore the context. Lifetime as for tp_locale_translate. */
TP_API tp_slice tp_locale_pgettext(const tp_locale *l, tp_slice context, tp_slice message,
                                   tp_slice plural, int64_t count);

/* Locale.format_date for the Unix time date (seconds, UTC) with "now" given: relative
 * ("2 minutes ago", "yesterday at 3:04 pm", ...), shorter, full_format as in Tornado;
 * gmt_offset in minutes (local = UTC - offset). The result is NUL-terminated in a.
 * -ERANGE if a date leaves years 1-9999, -EINVAL if a translated format string is bad
 * (an unknown %(key)s or conversion: Tornado raises there). */
TP_API int tp_locale_format_date(const tp_locale *l, tp_arena *a, double date, double now,
                                 int gmt_offset, bool relative, bool shorter, bool full_format,
                                 tp_slice *out);
/* Locale.format_day: "Sunday, April 28" (dow) or "April 28". Errors as format_date. */
TP_API int tp_locale_format_day(const tp_locale *l, tp_arena *a, double date, int gmt_offset,
                                bool dow, tp_slice *out);
/* Locale.list: "" | "A" | "A and B" | "A, B and C" (translated "and"; Persian comma).
 * NUL-terminated in a. -EINVAL only if the translated "%(commas)s and %(last)s" is bad. */
TP_API int tp_locale_list(const tp_locale *l, tp_arena *a, const tp_slice *parts, size_t n,
                          tp_slice *out);
/* Locale.friendly_number: str(value) with ',' every three digits for en and en_US only
 * (Tornado's digit grouping, sign included: -100000 gives "-,100,000"). In a. */
TP_API tp_slice tp_locale_friendly_number(const tp_locale *l, tp_arena *a, int64_t value);

#endif
