/* load_gettext_translations and the catalogs behind GettextLocale: .mo files parsed as
 * Python's gettext.GNUTranslations._parse does (both byte orders, the header's charset and
 * Plural-Forms, plural entries keyed by their first msgid), looked up as its gettext and
 * ngettext do. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/escape.h"
#include "core/utf8.h"
#include "web/locale/internal.h"

#define MO_LE_MAGIC 0x950412deu
#define MO_BE_MAGIC 0xde120495u
#define MO_FILE_MAX (64 << 20)

static uint32_t rd32(const unsigned char *p, bool be)
{
    return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
              : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* The charset as Python's codec registry would see it; NULL means UTF-8. */
typedef struct mo_charset {
    bool ascii;
    const char *iconv_name;   /* another charset: converted with iconv */
    const char *iconv_alt[2]; /* Python's normalised name with '-' for '_', and without '_' */
} mo_charset;

/* encodings.normalize_encoding + the aliases of the two codecs we decode ourselves. */
static mo_charset charset_of(tp_arena *a, tp_slice name)
{
    char norm[64];
    size_t n = 0;
    bool gap = false;
    for (size_t i = 0; i < name.n && n + 2 < sizeof(norm); i++) {
        char c = name.p[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (alnum || c == '.') {
            if (gap && n)
                norm[n++] = '_';
            norm[n++] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
            gap = false;
        } else {
            gap = true;
        }
    }
    norm[n] = '\0';
    static const char *const utf8[] = {"utf_8",     "utf8",      "u8",     "utf",
                                       "utf8_ucs2", "utf8_ucs4", "cp65001"};
    static const char *const ascii[] = {
        "ascii",          "us_ascii",         "646",     "us",      "ansi_x3.4_1968",
        "ansi_x3_4_1968", "ansi_x3.4_1986",   "cp367",   "csascii", "ibm367",
        "iso646_us",      "iso_646.irv_1991", "iso_ir_6"};
    for (size_t i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++)
        if (strcmp(norm, utf8[i]) == 0)
            return (mo_charset){0};
    for (size_t i = 0; i < sizeof(ascii) / sizeof(ascii[0]); i++)
        if (strcmp(norm, ascii[i]) == 0)
            return (mo_charset){.ascii = true};
    mo_charset cs = {.iconv_name = tp_arena_strndup(a, name.p, name.n)};
    char *dash = tp_arena_strndup(a, norm, n), *bare = tp_arena_alloc(a, n + 1), *w = bare;
    for (size_t i = 0; i < n; i++) {
        dash[i] = norm[i] == '_' ? '-' : norm[i];
        if (norm[i] != '_')
            *w++ = norm[i];
    }
    *w = '\0';
    cs.iconv_alt[0] = dash, cs.iconv_alt[1] = bare;
    return cs;
}

/* str(bytes, charset): the text as UTF-8, or -EILSEQ (UnicodeDecodeError / LookupError). */
static int decode(tp_arena *a, const mo_charset *cs, tp_slice in, tp_slice *out)
{
    if (!cs->iconv_name) {
        for (size_t i = 0; cs->ascii && i < in.n; i++)
            if ((unsigned char)in.p[i] >= 0x80)
                return -EILSEQ;
        if (!cs->ascii && !tp_utf8_valid(in))
            return -EILSEQ;
        *out = in;
        return 0;
    }
    iconv_t cd = iconv_open("UTF-8", cs->iconv_name);
    if (cd == (iconv_t)-1 && cs->iconv_alt[0])
        cd = iconv_open("UTF-8", cs->iconv_alt[0]);
    if (cd == (iconv_t)-1 && cs->iconv_alt[1])
        cd = iconv_open("UTF-8", cs->iconv_alt[1]);
    if (cd == (iconv_t)-1)
        return -EILSEQ; /* LookupError: unknown encoding */
    size_t cap = in.n * 4 + 1, left = cap;
    char *buf = tp_arena_alloc(a, cap), *w = buf, *r = (char *)in.p;
    size_t inleft = in.n;
    size_t rc = iconv(cd, &r, &inleft, &w, &left);
    if (rc != (size_t)-1)
        rc = iconv(cd, NULL, NULL, &w, &left);
    iconv_close(cd);
    if (rc == (size_t)-1)
        return -EILSEQ;
    *w = '\0';
    *out = tp_slice_make(buf, (size_t)(w - buf));
    return 0;
}

static tp_slice slice_until(tp_slice s, const char *sep, tp_slice *rest)
{
    const char *hit = memmem(s.p, s.n, sep, strlen(sep));
    if (!hit) {
        *rest = TP_SLICE_NULL;
        return s;
    }
    size_t k = (size_t)(hit - s.p), sn = strlen(sep);
    *rest = tp_slice_make(hit + sn, s.n - k - sn);
    return tp_slice_make(s.p, k);
}

/* One header line "key: value": content-type sets the charset, plural-forms the plural
 * function (value.split(';')[1].split('plural=')[1]); -EINVAL where Python raises. */
static int header_field(tp_arena *a, tp_slice k, tp_slice v, tp_mo *mo, mo_charset *cs,
                        const char **why)
{
    tp_slice rest, part;
    if (tp_slice_caseeq(k, TP_SLICE_LIT("content-type"))) {
        slice_until(v, "charset=", &rest);
        if (!rest.p) {
            *why = "no charset= in Content-Type";
            return -EINVAL;
        }
        *cs = charset_of(a, slice_until(rest, "charset=", &part));
    } else if (tp_slice_caseeq(k, TP_SLICE_LIT("plural-forms"))) {
        slice_until(v, ";", &rest);
        if (rest.p)
            slice_until(slice_until(rest, ";", &part), "plural=", &rest);
        if (!rest.p) {
            *why = "no plural= in Plural-Forms";
            return -EINVAL;
        }
        mo->plural = tp_plural_compile(a, slice_until(rest, "plural=", &part), why);
        if (!mo->plural)
            return -EINVAL;
    }
    return 0;
}

/* The catalog description (the entry with an empty msgid). */
static int parse_header(tp_arena *a, tp_slice text, tp_mo *mo, mo_charset *cs, const char **why)
{
    tp_slice rest = text;
    while (rest.p) {
        tp_slice line = slice_until(rest, "\n", &rest);
        if (!tp_utf8_valid(line)) {
            *why = "header line is not UTF-8";
            return -EINVAL;
        }
        line = tp_py_strip(line);
        if (line.n == 0 || (line.n >= 18 && !memcmp(line.p, "#-#-#-#-#", 9) &&
                            !memcmp(line.p + line.n - 9, "#-#-#-#-#", 9)))
            continue;
        const char *colon = memchr(line.p, ':', line.n);
        if (!colon)
            continue; /* a continuation line: only extends _info */
        tp_slice k = tp_py_strip(tp_slice_make(line.p, (size_t)(colon - line.p)));
        tp_slice v = tp_py_strip(tp_slice_make(colon + 1, line.n - (size_t)(colon + 1 - line.p)));
        int rc = header_field(a, k, v, mo, cs, why);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* catalog[(msgid1, i)] = form for each form: a later entry overwrites the forms it has. */
static int add_plural(tp_arena *a, tp_mo *mo, const mo_charset *cs, tp_slice msg, tp_slice tmsg)
{
    tp_slice id1 = tp_slice_make(msg.p, (size_t)((const char *)memchr(msg.p, 0, msg.n) - msg.p));
    size_t nf = 1;
    for (size_t i = 0; i < tmsg.n; i++)
        nf += tmsg.p[i] == '\0';
    tp_mo_forms *f = tp_arena_alloc(a, sizeof(*f));
    if (decode(a, cs, id1, &id1) < 0)
        return -EILSEQ;
    void **slot = tp_lmap_put(&mo->map, a, id1, 1);
    const tp_mo_forms *old = *slot;
    f->n = old && old->n > nf ? old->n : nf;
    f->f = tp_arena_alloc(a, f->n * sizeof(tp_slice));
    if (old)
        memcpy(f->f, old->f, old->n * sizeof(tp_slice));
    const char *p = tmsg.p, *end = tmsg.p + tmsg.n;
    for (size_t i = 0; i < nf; i++, p++) { /* tmsg.split(b'\0') */
        const char *z = memchr(p, 0, (size_t)(end - p));
        z = z ? z : end;
        if (decode(a, cs, tp_slice_make(p, (size_t)(z - p)), &f->f[i]) < 0)
            return -EILSEQ;
        p = z;
    }
    *slot = f;
    return 0;
}

/* One (msgid, msgstr) pair of the tables. */
static int add_entry(tp_arena *a, tp_mo *mo, mo_charset *cs, tp_slice msg, tp_slice tmsg,
                     const char **why)
{
    if (msg.n == 0) {
        int rc = parse_header(a, tmsg, mo, cs, why);
        if (rc < 0)
            return rc;
    }
    const char *z = memchr(msg.p, 0, msg.n);
    if (z && memchr(z + 1, 0, msg.n - (size_t)(z + 1 - msg.p))) {
        *why = "msgid with two NULs"; /* msgid1, msgid2 = msg.split(b'\0') */
        return -EINVAL;
    }
    int rc;
    if (z) {
        rc = add_plural(a, mo, cs, msg, tmsg);
    } else {
        tp_slice *t = tp_arena_alloc(a, sizeof(*t));
        tp_slice key;
        rc = decode(a, cs, msg, &key);
        if (rc == 0)
            rc = decode(a, cs, tmsg, t);
        if (rc == 0)
            *tp_lmap_put(&mo->map, a, key, 0) = t;
    }
    if (rc < 0)
        *why = "string does not decode in the catalog's charset";
    return rc;
}

int tp_mo_parse(tp_arena *a, tp_slice data, tp_mo *mo, const char **why)
{
    const unsigned char *p = (const unsigned char *)data.p;
    *why = "file is truncated";
    if (data.n < 20)
        return -EINVAL;
    uint32_t magic = rd32(p, false);
    bool be = magic == MO_BE_MAGIC;
    if (magic != MO_LE_MAGIC && !be) {
        *why = "bad magic number";
        return -EINVAL;
    }
    uint32_t version = rd32(p + 4, be), count = rd32(p + 8, be);
    uint64_t midx = rd32(p + 12, be), tidx = rd32(p + 16, be);
    if (version >> 16 > 1) {
        *why = "bad version number";
        return -EINVAL;
    }
    mo_charset cs = {.ascii = true}; /* self._charset or 'ascii' */
    for (uint32_t i = 0; i < count; i++, midx += 8, tidx += 8) {
        *why = "file is corrupt";
        if (midx + 8 > data.n || tidx + 8 > data.n)
            return -EINVAL;
        uint64_t mlen = rd32(p + midx, be), moff = rd32(p + midx + 4, be);
        uint64_t tlen = rd32(p + tidx, be), toff = rd32(p + tidx + 4, be);
        if (moff + mlen >= data.n || toff + tlen >= data.n)
            return -EINVAL;
        int rc = add_entry(a, mo, &cs, tp_slice_make(data.p + moff, mlen),
                           tp_slice_make(data.p + toff, tlen), why);
        if (rc < 0)
            return rc;
    }
    return 0;
}

tp_slice tp_mo_gettext(const tp_mo *mo, tp_slice ctx, tp_slice msgid, bool *found)
{
    for (; mo; mo = mo->fallback) {
        const tp_slice *t = tp_lmap_get(&mo->map, ctx, msgid, 0);
        if (t) {
            *found = true;
            return *t;
        }
    }
    *found = false;
    return msgid;
}

tp_slice tp_mo_ngettext(const tp_mo *mo, tp_slice ctx, tp_slice msgid, tp_slice plural, int64_t n,
                        bool *found)
{
    for (; mo; mo = mo->fallback) {
        int64_t idx = n != 1;
        if (mo->plural && tp_plural_eval(mo->plural, n, &idx) < 0)
            continue; /* Python raises here; we treat it as a miss */
        const tp_mo_forms *f = tp_lmap_get(&mo->map, ctx, msgid, 1);
        if (f && idx >= 0 && (uint64_t)idx < f->n) {
            *found = true;
            return f->f[idx];
        }
    }
    *found = false;
    return n == 1 ? msgid : plural;
}

/* One DIR/LANG/LC_MESSAGES/DOMAIN.mo found by the glob, and its parse. */
typedef struct mo_file {
    const char *lang;
    tp_mo *mo; /* NULL: does not parse */
} mo_file;

static tp_mo *load_mo(tp_arena *a, const char *path)
{
    tp_slice data;
    const char *why = NULL;
    tp_mo *mo = tp_arena_calloc(a, sizeof(*mo));
    int rc = tp_locale_read_file(a, path, &data);
    if (rc < 0)
        why = strerror(-rc);
    else if (tp_mo_parse(a, data, mo, &why) < 0)
        rc = -EINVAL;
    if (rc < 0) {
        tp_log_error("Cannot load translation %s: %s", path, why);
        return NULL;
    }
    return mo;
}

static const mo_file *find_lang(const mo_file *v, size_t n, const char *lang, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(v[i].lang) == len && memcmp(v[i].lang, lang, len) == 0)
            return &v[i];
    return NULL;
}

/* gettext.translation(domain, dir, [lang]) chains the catalogs of lang's expansions that
 * exist; of those we follow "ll_CC" -> "ll". A catalog in the chain that does not parse
 * makes the whole translation fail, as there. */
static size_t link_fallbacks(tp_arena *a, mo_file *v, size_t n, tp_locale_tr *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *us = strchr(v[i].lang, '_');
        const mo_file *ll = us ? find_lang(v, n, v[i].lang, (size_t)(us - v[i].lang)) : NULL;
        if (!v[i].mo || (ll && !ll->mo))
            continue;
        tp_mo *mo = tp_arena_alloc(a, sizeof(*mo));
        *mo = *v[i].mo;
        mo->fallback = ll ? ll->mo : NULL;
        out[k++] = (tp_locale_tr){.code = v[i].lang, .mo = mo};
    }
    return k;
}

int tp_locales_load_gettext(tp_locales *r, const char *dir, const char *domain)
{
    if (!dir || !domain)
        return -EINVAL;
    tp_arena *a = tp_locales_arena(r);
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    size_t n = 0, cap = 8;
    mo_file *v = tp_malloc(cap * sizeof(*v));
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') /* glob's '*' skips hidden names */
            continue;
        char *path = tp_arena_printf(a, "%s/%s/LC_MESSAGES/%s.mo", dir, e->d_name, domain);
        struct stat st;
        if (lstat(path, &st) < 0)
            continue;
        if (n == cap)
            v = tp_realloc(v, (cap *= 2) * sizeof(*v));
        v[n].lang = tp_arena_strndup(a, e->d_name, strlen(e->d_name));
        v[n++].mo = load_mo(a, path);
    }
    closedir(d);
    tp_locale_tr *tr = tp_arena_alloc(a, (n ? n : 1) * sizeof(*tr));
    size_t k = link_fallbacks(a, v, n, tr);
    tp_free(v);
    tp_locales_install(r, tr, k, true);
    return 0;
}
