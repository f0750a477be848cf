/* What the files of web/locale/ share: the string map, the CSV and gettext translation tables, the
 * locale object and the Python-style helpers (str.strip, %-formatting). */
#ifndef TP_WEB_LOCALE_INTERNAL_H
#define TP_WEB_LOCALE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/slice.h"
#include "web/locale/locale.h"

/* Python's gettext joins a context and a message with this byte. */
#define TP_LOCALE_CTX_SEP '\x04'

/* An open-addressing map from (key bytes, tag) to a pointer, in an arena. Zeroed = empty. */
typedef struct tp_lmap_entry {
    tp_slice key;
    int tag;
    void *val;
} tp_lmap_entry;

typedef struct tp_lmap {
    tp_lmap_entry *v;
    size_t cap, n;
} tp_lmap;

/* The value slot for (key, tag), created (NULL value) if absent. The key is not copied. */
void **tp_lmap_put(tp_lmap *m, tp_arena *a, tp_slice key, int tag);
/* The value for (ctx "\x04" key, tag) if ctx.p, else for (key, tag); NULL if absent. */
void *tp_lmap_get(const tp_lmap *m, tp_slice ctx, tp_slice key, int tag);

/* CSV tables: one map, tag = which table (Tornado's "unknown"/"singular"/"plural" dicts);
 * values are tp_slice *. */
enum { TP_CSV_UNKNOWN, TP_CSV_SINGULAR, TP_CSV_PLURAL };
typedef struct tp_csv_tr {
    tp_lmap map;
    bool nonempty; /* a row was stored (Tornado's `if self.translations`) */
} tp_csv_tr;

/* Parses one CSV file's bytes (BOM detection, Python's csv reader, universal newlines) into
 * tr. name is the file name for log lines. -EILSEQ if the bytes do not decode, -EINVAL
 * for a field over Python's csv limit. */
int tp_locale_csv_parse(tp_arena *a, tp_slice data, const char *name, tp_csv_tr *tr);

/* A compiled Plural-Forms expression (Python's gettext.c2py semantics). */
typedef struct tp_plural tp_plural;
/* Compiles expr as c2py does; NULL (with a reason in *why) if c2py would raise. */
tp_plural *tp_plural_compile(tp_arena *a, tp_slice expr, const char **why);
/* Evaluates for n into *out. -EDOM on a division by zero, -ERANGE on overflow. */
int tp_plural_eval(const tp_plural *p, int64_t n, int64_t *out);

/* One .mo catalog: tag 0 entries map a msgid to a tp_slice *, tag 1 entries map a plural
 * msgid to a tp_mo_forms *. fallback is the language-only catalog of "ll_CC", or NULL. */
typedef struct tp_mo_forms {
    size_t n;
    tp_slice *f;
} tp_mo_forms;

typedef struct tp_mo {
    tp_lmap map;
    const tp_plural *plural; /* NULL: Python's default int(n != 1) */
    const struct tp_mo *fallback;
} tp_mo;

/* Parses .mo bytes as Python's GNUTranslations._parse does; -EINVAL (reason in *why) where
 * Python raises. The catalog's strings point into data, which must outlive it. */
int tp_mo_parse(tp_arena *a, tp_slice data, tp_mo *mo, const char **why);
/* GNUTranslations.gettext / ngettext over the fallback chain (plural NULL: gettext). A
 * NULL mo translates nothing. ctx.p set: the keys are ctx "\x04" msgid. *found tells if
 * some catalog had it; if not the result is msgid or plural as Python returns them. */
tp_slice tp_mo_gettext(const tp_mo *mo, tp_slice ctx, tp_slice msgid, bool *found);
tp_slice tp_mo_ngettext(const tp_mo *mo, tp_slice ctx, tp_slice msgid, tp_slice plural, int64_t n,
                        bool *found);

struct tp_locale {
    const char *code;
    const char *name;
    bool rtl;
    bool gettext;         /* GettextLocale (else CSVLocale) */
    const tp_csv_tr *csv; /* CSV mode: the tables (NULL: none) */
    const tp_mo *mo;      /* gettext mode */
    tp_slice months[12];  /* translated "January".. */
    tp_slice weekdays[7]; /* translated "Monday".. */
};

/* One locale's translations as a load found them. */
typedef struct tp_locale_tr {
    const char *code;
    const tp_csv_tr *csv;
    const tp_mo *mo;
} tp_locale_tr;

/* Where loaders allocate: the registry's arena (freed with the registry). */
tp_arena *tp_locales_arena(tp_locales *r);
/* Makes tr[0..n) (arena memory, codes unique) the translations, in gettext or CSV mode, and
 * rebuilds the supported locales: tr's codes plus the default. */
void tp_locales_install(tp_locales *r, tp_locale_tr *tr, size_t n, bool gettext);

/* Reads a whole file (at most 64 MiB) into a; -errno (-EISDIR for a directory). */
int tp_locale_read_file(tp_arena *a, const char *path, tp_slice *out);

/* One named argument of Python's "fmt % {...}". */
typedef struct tp_pyarg {
    const char *name;
    bool is_int;
    int64_t i;
    tp_slice s;
} tp_pyarg;

/* fmt % dict for %% and %(name)[flags][width][.prec]{s,d,i,u,r}; appends to a new
 * NUL-terminated string in a. -EINVAL where Python raises (unknown key, %d of a string,
 * a spec without a key, an unsupported conversion). */
int tp_locale_pyformat(tp_arena *a, tp_slice fmt, const tp_pyarg *args, size_t n, tp_slice *out);

#endif
