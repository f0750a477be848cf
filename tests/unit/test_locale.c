/* web/locale/locale.h: Tornado's tornado/test/locale_test.py re-created (CSV with and without BOMs,
 * gettext with plurals and pgettext, format_date relative/shorter/full, format_day, list,
 * friendly_number, LOCALE_NAMES), plus get_closest, get_browser_locale, Plural-Forms as
 * Python's gettext evaluates them, and the loaders' refusals. Translation files are written
 * into a temporary directory (the .mo files by a small writer below). Expected strings
 * were produced by Debian's Tornado 6.2 and pasted here; tests/locale/run.py compares
 * many more calls live. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "web/locale/locale.h"
#include "web/locale/internal.h"
#include "tests/unit/suites.h"

#define S(lit)   TP_SLICE_LIT(lit)
#define NONE     TP_SLICE_NULL
#define NOW      1367174100.0 /* Sunday 2013-04-28 18:35:00 UTC */
#define DAY      86400.0
#define LEN(arr) (sizeof(arr) / sizeof((arr)[0]))

static char dir[64];

static void make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/tp-locale-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *rel, const void *data, size_t n)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        mkdir(path, 0700);
        *p = '/';
    }
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void ck_str(tp_slice got, const char *want)
{
    ck_assert_msg(got.n == strlen(want) && memcmp(got.p, want, got.n) == 0, "got '%.*s', want '%s'",
                  TP_SLICE_FMT(got), want);
}

/* ---- a .mo writer (GNU format, no hash table) ------------------------------------------- */

typedef struct mo_entry {
    const char *id, *str; /* may hold NULs: lengths below */
    size_t id_n, str_n;
} mo_entry;

#define MO(id, str)                                                                                \
    {                                                                                              \
        id, str, sizeof(id) - 1, sizeof(str) - 1                                                   \
    }

static void put32(unsigned char *p, uint32_t v, bool be)
{
    for (int i = 0; i < 4; i++)
        p[be ? i : 3 - i] = (unsigned char)(v >> (24 - 8 * i));
}

/* Writes entries (sorted by msgid by the caller) to rel in either byte order. */
static void write_mo(const char *rel, const mo_entry *e, size_t n, bool be)
{
    size_t ids = 0, strs = 0;
    for (size_t i = 0; i < n; i++)
        ids += e[i].id_n + 1, strs += e[i].str_n + 1;
    size_t kstart = 28 + 16 * n, vstart = kstart + ids, size = vstart + strs;
    unsigned char *buf = calloc(1, size);
    uint32_t head[7] = {0x950412de, 0, (uint32_t)n, 28, (uint32_t)(28 + 8 * n), 0, 0};
    for (int i = 0; i < 7; i++)
        put32(buf + 4 * i, head[i], be);
    for (size_t i = 0, ko = kstart, vo = vstart; i < n; i++) {
        put32(buf + 28 + 8 * i, (uint32_t)e[i].id_n, be);
        put32(buf + 32 + 8 * i, (uint32_t)ko, be);
        put32(buf + 28 + 8 * n + 8 * i, (uint32_t)e[i].str_n, be);
        put32(buf + 32 + 8 * n + 8 * i, (uint32_t)vo, be);
        memcpy(buf + ko, e[i].id, e[i].id_n), ko += e[i].id_n + 1;
        memcpy(buf + vo, e[i].str, e[i].str_n), vo += e[i].str_n + 1;
    }
    write_file(rel, buf, size);
    free(buf);
}

/* tornado/test/gettext_translations/fr_FR/LC_MESSAGES/tornado_test.po, compiled. */
static const mo_entry tornado_test_mo[] = {
    MO("", "Content-Type: text/plain; charset=utf-8\n"
           "Plural-Forms: nplurals=2; plural=(n > 1);\n"),
    MO("good\x04right", "le bien"),
    MO("law\x04right", "le droit"),
    MO("organization\x04"
       "club\0clubs",
       "le club\0les clubs"),
    MO("school", "\xc3\xa9\x63ole"),
    MO("stick\x04"
       "club\0clubs",
       "le b\xc3\xa2ton\0les b\xc3\xa2tons"),
};

/* ---- TranslationLoaderTest ------------------------------------------------------------- */

static const char fr_csv[] = "\"school\",\"\xc3\xa9\x63ole\"\n";

START_TEST(csv)
{
    make_dir();
    write_file("fr_FR.csv", fr_csv, sizeof(fr_csv) - 1);
    tp_locales *r = tp_locales_new();
    ck_assert_int_eq(tp_locales_load_csv(r, dir), 0);
    const tp_locale *l = tp_locales_closest(r, &S("fr_FR"), 1);
    ck_assert_str_eq(tp_locale_code(l), "fr_FR");
    ck_assert(!tp_locale_is_gettext(l));
    ck_str(tp_locale_translate(l, S("school"), NONE, 0), "\xc3\xa9\x63ole");
    ck_str(tp_locale_translate(l, S("missing"), NONE, 0), "missing");
    tp_locales_free(r);
    remove_dir();
}
END_TEST

/* Tornado re-encodes fr_FR.csv as utf-8-sig and utf-16; we also try both UTF-16 orders. */
START_TEST(csv_bom)
{
    static const unsigned char le[] = {0xff, 0xfe, '"', 0, 's', 0, 'c', 0, 'h', 0, 'o',  0,
                                       'o',  0,    'l', 0, '"', 0, ',', 0, '"', 0, 0xe9, 0,
                                       'c',  0,    'o', 0, 'l', 0, 'e', 0, '"', 0, '\n', 0};
    unsigned char be[sizeof(le)], u8[sizeof(fr_csv) + 2] = {0xef, 0xbb, 0xbf};
    for (size_t i = 0; i < sizeof(le); i += 2)
        be[i] = le[i + 1], be[i + 1] = le[i];
    memcpy(u8 + 3, fr_csv, sizeof(fr_csv) - 1);
    const unsigned char *data[] = {u8, le, be};
    size_t len[] = {sizeof(u8), sizeof(le), sizeof(be)};
    for (size_t i = 0; i < 3; i++) {
        make_dir();
        write_file("fr_FR.csv", data[i], len[i]);
        tp_locales *r = tp_locales_new();
        ck_assert_int_eq(tp_locales_load_csv(r, dir), 0);
        const tp_locale *l = tp_locales_closest(r, &S("fr_FR"), 1);
        ck_assert(!tp_locale_is_gettext(l));
        ck_str(tp_locale_translate(l, S("school"), NONE, 0), "\xc3\xa9\x63ole");
        tp_locales_free(r);
        remove_dir();
    }
}
END_TEST

START_TEST(gettext_catalog)
{
    for (int be = 0; be < 2; be++) {
        make_dir();
        write_mo("fr_FR/LC_MESSAGES/tornado_test.mo", tornado_test_mo, LEN(tornado_test_mo), be);
        tp_locales *r = tp_locales_new();
        ck_assert_int_eq(tp_locales_load_gettext(r, dir, "tornado_test"), 0);
        const tp_locale *l = tp_locales_closest(r, &S("fr_FR"), 1);
        ck_assert(tp_locale_is_gettext(l));
        ck_str(tp_locale_translate(l, S("school"), NONE, 0), "\xc3\xa9\x63ole");
        ck_str(tp_locale_pgettext(l, S("law"), S("right"), NONE, 0), "le droit");
        ck_str(tp_locale_pgettext(l, S("good"), S("right"), NONE, 0), "le bien");
        ck_str(tp_locale_pgettext(l, S("organization"), S("club"), S("clubs"), 1), "le club");
        ck_str(tp_locale_pgettext(l, S("organization"), S("club"), S("clubs"), 2), "les clubs");
        ck_str(tp_locale_pgettext(l, S("stick"), S("club"), S("clubs"), 1), "le b\xc3\xa2ton");
        ck_str(tp_locale_pgettext(l, S("stick"), S("club"), S("clubs"), 2), "les b\xc3\xa2tons");
        /* misses: the message itself, or ngettext without the context */
        ck_str(tp_locale_pgettext(l, S("nope"), S("right"), NONE, 0), "right");
        ck_str(tp_locale_pgettext(l, S("nope"), S("club"), S("clubs"), 1), "club");
        ck_str(tp_locale_pgettext(l, S("nope"), S("club"), S("clubs"), 0), "clubs");
        ck_str(tp_locale_pgettext(l, S("nope"), S("club"), S("clubs"), 3), "clubs");
        tp_locales_free(r);
        remove_dir();
    }
}
END_TEST

/* ---- LocaleDataTest ------------------------------------------------------------------- */

START_TEST(names)
{
    size_t n;
    const tp_locale_info *v = tp_locale_names(&n);
    ck_assert_uint_eq(n, 62);
    for (size_t i = 1; i < n; i++)
        ck_assert_int_lt(strcmp(v[i - 1].code, v[i].code), 0);
    const tp_locale_info *es = tp_locale_info_find("es_LA");
    ck_assert_ptr_nonnull(es);
    ck_assert_str_eq(es->name, "Espa\xc3\xb1ol");
    ck_assert_str_eq(es->name_en, "Spanish");
    ck_assert_str_eq(tp_locale_info_find("uk_UA")->name_en, "Ukraini ");
    ck_assert_str_eq(tp_locale_info_find("zh_CN")->name,
                     "\xe4\xb8\xad\xe6\x96\x87(\xe7\xae\x80\xe4\xbd\x93)");
    ck_assert_ptr_null(tp_locale_info_find("es"));
    ck_assert_ptr_null(tp_locale_info_find("en_us"));
}
END_TEST

/* ---- EnglishTest ----------------------------------------------------------------------- */

static const char *const months[] = {"January",   "February", "March",    "April",
                                     "May",       "June",     "July",     "August",
                                     "September", "October",  "November", "December"};
static const char *const weekdays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                       "Thursday", "Friday", "Saturday"}; /* tm_wday order */

static tp_slice fmt_date(const tp_locale *l, tp_arena *a, double date, double now, int off,
                         bool rel, bool shorter, bool full)
{
    tp_slice out = NONE;
    ck_assert_int_eq(tp_locale_format_date(l, a, date, now, off, rel, shorter, full, &out), 0);
    ck_assert(out.p[out.n] == '\0');
    return out;
}

START_TEST(english_format_date)
{
    tp_locales *r = tp_locales_new();
    tp_arena a;
    tp_arena_init(&a, 0);
    const tp_locale *l = tp_locales_closest(r, &S("en_US"), 1);
    ck_str(fmt_date(l, &a, NOW, NOW + 5, 0, true, false, true), "April 28, 2013 at 6:35 pm");
    /* the rest of Tornado's test, at several "now"s, with libc's gmtime as the oracle */
    const double nows[] = {NOW, 1709251230, 1609459210.25, 951782400 + 43200, 4102444799};
    char want[64];
    for (size_t i = 0; i < LEN(nows); i++) {
        double now = nows[i];
        ck_str(fmt_date(l, &a, now - 2, now, 0, true, false, false), "2 seconds ago");
        ck_str(fmt_date(l, &a, now - 120, now, 0, true, false, false), "2 minutes ago");
        ck_str(fmt_date(l, &a, now - 7200, now, 0, true, false, false), "2 hours ago");
        ck_str(fmt_date(l, &a, now - DAY, now, 0, true, true, false), "yesterday");
        time_t t = (time_t)(now - 2 * DAY);
        struct tm tm;
        gmtime_r(&t, &tm);
        ck_str(fmt_date(l, &a, now - 2 * DAY, now, 0, true, true, false), weekdays[tm.tm_wday]);
        t = (time_t)(now - 300 * DAY);
        gmtime_r(&t, &tm);
        snprintf(want, sizeof(want), "%s %d", months[tm.tm_mon], tm.tm_mday);
        ck_str(fmt_date(l, &a, now - 300 * DAY, now, 0, true, true, false), want);
        t = (time_t)(now - 500 * DAY);
        gmtime_r(&t, &tm);
        snprintf(want, sizeof(want), "%s %d, %d", months[tm.tm_mon], tm.tm_mday, tm.tm_year + 1900);
        ck_str(fmt_date(l, &a, now - 500 * DAY, now, 0, true, true, false), want);
    }
    tp_arena_destroy(&a);
    tp_locales_free(r);
}
END_TEST

/* Every branch, each row checked against Tornado 6.2 with utcnow() fixed at NOW. */
START_TEST(format_date_cases)
{
    static const struct {
        double age;
        int off;
        bool rel, shorter, full;
        const char *want;
    } rows[] = {
        {0, 0, true, false, false, "0 seconds ago"},
        {1, 0, true, false, false, "1 second ago"},
        {49.9, 0, true, false, false, "49 seconds ago"},
        {50, 0, true, false, false, "1 minute ago"},
        {90, 0, true, false, false, "2 minutes ago"},  /* round(1.5) */
        {150, 0, true, false, false, "2 minutes ago"}, /* round(2.5): half to even */
        {2999, 0, true, false, false, "50 minutes ago"},
        {3000, 0, true, false, false, "1 hour ago"}, /* round(0.83) */
        {5400, 0, true, false, false, "2 hours ago"},
        {9000, 0, true, false, false, "2 hours ago"},
        {7200, 0, false, false, false, "4:35 pm"},
        {DAY, 0, true, false, false, "yesterday at 6:35 pm"},
        {DAY, 1140, true, false, false, "yesterday at 11:35 pm"},
        {DAY + 3600 * 20, 0, true, false, false, "Friday at 10:35 pm"},
        {DAY, 0, false, true, false, "Saturday"},
        {4 * DAY, 0, true, false, false, "Wednesday at 6:35 pm"},
        {5 * DAY, 0, true, true, false, "April 23"},
        {333 * DAY, 0, true, false, false, "May 30 at 6:35 pm"},
        {334 * DAY, 0, true, true, false, "May 29, 2012"},
        {3 * DAY, -330, false, false, false, "Friday at 12:05 am"},
        {-30, 0, true, false, false, "0 seconds ago"}, /* clock skew */
        {-90, 0, true, false, false, "April 28, 2013 at 6:36 pm"},
        {-DAY - 30, 0, true, false, false, "0 seconds ago"}, /* .seconds ignores days */
        {-30, 0, false, false, false, "April 28, 2013 at 6:35 pm"},
        {12 * 3600, 0, true, false, true, "April 28, 2013 at 6:35 am"},
        {18 * 3600 + 35 * 60, 0, true, true, true, "April 28, 2013"},
        {18 * 3600 + 36 * 60, 0, false, false, false, "11:59 pm"},
    };
    tp_locales *r = tp_locales_new();
    tp_arena a;
    tp_arena_init(&a, 0);
    const tp_locale *l = tp_locales_closest(r, &S("en"), 1);
    for (size_t i = 0; i < LEN(rows); i++) {
        tp_slice got = fmt_date(l, &a, NOW - rows[i].age, NOW, rows[i].off, rows[i].rel,
                                rows[i].shorter, rows[i].full);
        ck_assert_msg(tp_slice_eq(got, tp_slice_cstr(rows[i].want)), "row %zu: '%.*s' != '%s'", i,
                      TP_SLICE_FMT(got), rows[i].want);
    }
    tp_arena_destroy(&a);
    tp_locales_free(r);
}
END_TEST

START_TEST(english_misc)
{
    tp_locales *r = tp_locales_new();
    tp_arena a;
    tp_arena_init(&a, 0);
    const tp_locale *l = tp_locales_closest(r, &S("en_US"), 1);
    ck_str(tp_locale_friendly_number(l, &a, 1000000), "1,000,000");
    ck_str(tp_locale_friendly_number(l, &a, 999), "999");
    ck_str(tp_locale_friendly_number(l, &a, -100000), "-,100,000");
    ck_str(tp_locale_friendly_number(l, &a, INT64_MIN), "-9,223,372,036,854,775,808");
    tp_slice parts[] = {S("A"), S("B"), S("C")}, out;
    const char *lists[] = {"", "A", "A and B", "A, B and C"};
    for (size_t n = 0; n <= 3; n++) {
        ck_assert_int_eq(tp_locale_list(l, &a, parts, n, &out), 0);
        ck_str(out, lists[n]);
    }
    ck_assert_int_eq(tp_locale_format_day(l, &a, NOW, 0, true, &out), 0);
    ck_str(out, "Sunday, April 28");
    ck_assert_int_eq(tp_locale_format_day(l, &a, NOW, 0, false, &out), 0);
    ck_str(out, "April 28");
    ck_assert_int_eq(tp_locale_format_day(l, &a, NOW, 19 * 60, true, &out), 0);
    ck_str(out, "Saturday, April 27");
    ck_str(tp_locale_translate(l, S("apple"), S("apples"), 1), "apple");
    ck_str(tp_locale_translate(l, S("apple"), S("apples"), 0), "apples");
    ck_str(tp_locale_pgettext(l, S("fruit"), S("apple"), S("apples"), 2), "apples");
    ck_assert_str_eq(tp_locale_name(l), "English (US)");
    ck_assert(!tp_locale_rtl(l));
    tp_arena_destroy(&a);
    tp_locales_free(r);
}
END_TEST

/* ---- other locales ------------------------------------------------------------------------ */

static const char es_csv[] =
    "\"Thursday\",\"jueves\"\n\"March\",\"marzo\"\n\"Sunday\",\"domingo\"\n\"April\",\"abril\"\n"
    "\"1 second ago\",\"hace 1 segundo\",\"singular\"\n"
    "\"%(seconds)d seconds ago\",\"hace %(seconds)d segundos\",\"plural\"\n"
    "\"yesterday at %(time)s\",\"ayer a las %(time)s\"\n"
    "\"%(weekday)s at %(time)s\",\"el %(weekday)s a las %(time)s\"\n"
    "\"%(month_name)s %(day)s, %(year)s\",\"%(day)s de %(month_name)s de %(year)s\"\n"
    "\"%(weekday)s, %(month_name)s %(day)s\",\"%(weekday)s, %(day)s de %(month_name)s\"\n"
    "\"%(commas)s and %(last)s\",\"%(commas)s y %(last)s\"\n"
    "\"%(name)s liked this\",\"A %(name)s les gust\xc3\xb3 esto\",\"plural\"\n"
    "\"%(name)s liked this\",\"A %(name)s le gust\xc3\xb3 esto\",\"singular\"\n"
    "\"bad\",\"x\",\"sometimes\"\n\"short\"\n\n"
    "\"  spaced \xc2\xa0\",\" \xe3\x80\x80 sp \"\n";

START_TEST(csv_locales)
{
    make_dir();
    write_file("es_LA.csv", es_csv, sizeof(es_csv) - 1);
    write_file("zh_CN.csv", "", 0);
    write_file("fa_IR.csv", "", 0);
    write_file("ar_AR.csv", "", 0);
    write_file("EN.csv", "\"a\",\"b\"\n", 8); /* not a locale name: skipped */
    write_file("notes.txt", "x", 1);
    tp_locales *r = tp_locales_new();
    tp_arena a;
    tp_arena_init(&a, 0);
    ck_assert_int_eq(tp_locales_load_csv(r, dir), 0);
    const char *const *codes;
    ck_assert_uint_eq(tp_locales_supported(r, &codes), 5);
    ck_assert_str_eq(codes[0], "ar_AR");
    ck_assert_str_eq(codes[4], "zh_CN");
    const tp_locale *es = tp_locales_closest(r, &S("es-la"), 1);
    ck_assert_str_eq(tp_locale_code(es), "es_LA");
    ck_assert_str_eq(tp_locale_name(es), "Espa\xc3\xb1ol");
    ck_str(fmt_date(es, &a, NOW - 30, NOW, 0, true, false, false), "hace 30 segundos");
    ck_str(fmt_date(es, &a, NOW - 1, NOW, 0, true, false, false), "hace 1 segundo");
    ck_str(fmt_date(es, &a, NOW - DAY, NOW, 0, true, false, false), "ayer a las 18:35");
    ck_str(fmt_date(es, &a, NOW - 3 * DAY, NOW, 0, true, false, false), "el jueves a las 18:35");
    ck_str(fmt_date(es, &a, NOW - 400 * DAY, NOW, 0, true, true, false), "24 de marzo de 2012");
    ck_str(tp_locale_translate(es, S("%(name)s liked this"), S("%(name)s liked this"), 1),
           "A %(name)s le gust\xc3\xb3 esto");
    ck_str(tp_locale_translate(es, S("%(name)s liked this"), S("%(name)s liked this"), 2),
           "A %(name)s les gust\xc3\xb3 esto");
    ck_str(tp_locale_translate(es, S("bad"), NONE, 0), "bad");
    ck_str(tp_locale_translate(es, S("spaced"), NONE, 0), "sp"); /* Unicode strip */
    ck_str(tp_locale_pgettext(es, S("ctx"), S("Sunday"), NONE, 0), "domingo");
    tp_slice parts[] = {S("a"), S("b"), S("c")}, out;
    ck_assert_int_eq(tp_locale_list(es, &a, parts, 3, &out), 0);
    ck_str(out, "a, b y c");
    ck_assert_int_eq(tp_locale_format_day(es, &a, NOW, 0, true, &out), 0);
    ck_str(out, "domingo, 28 de abril");
    ck_str(tp_locale_friendly_number(es, &a, 1000000), "1000000");
    const tp_locale *zh = tp_locales_closest(r, &S("zh-cn"), 1);
    ck_str(fmt_date(zh, &a, NOW - 3 * DAY, NOW, 0, true, false, false),
           "Thursday at \xe4\xb8\x8b\xe5\x8d\x88\x36:35");
    ck_str(fmt_date(zh, &a, NOW - 18 * 3600, NOW, 0, false, false, false),
           "\xe4\xb8\x8a\xe5\x8d\x88\x31\x32:35");
    const tp_locale *fa = tp_locales_closest(r, &S("fa-ir"), 1);
    ck_assert_str_eq(tp_locale_code(fa), "fa_IR");
    ck_assert(tp_locale_rtl(fa) && tp_locale_rtl(tp_locales_closest(r, &S("ar_AR"), 1)));
    ck_assert_int_eq(tp_locale_list(fa, &a, parts, 3, &out), 0);
    ck_str(out, "a \xd9\x88 b and c");
    tp_arena_destroy(&a);
    tp_locales_free(r);
    remove_dir();
}
END_TEST

START_TEST(closest_and_default)
{
    make_dir();
    write_file("pt.csv", "\"a\",\"b\"\n", 8);
    write_file("es_LA.csv", "", 0);
    tp_locales *r = tp_locales_new();
    ck_assert_int_eq(tp_locales_load_csv(r, dir), 0);
    static const struct {
        const char *codes[3];
        const char *want;
    } rows[] = {
        {{"en-us"}, "en_US"},
        {{"EN_us"}, "en_US"},
        {{"pt-BR"}, "pt"},
        {{"PT"}, "pt"},
        {{"pt_PT_x", "es-LA"}, "es_LA"},
        {{"", "es_la"}, "es_LA"},
        {{"es"}, "en_US"},
        {{"en"}, "en_US"},
        {{"xx", "pt"}, "pt"},
        {{"-la"}, "en_US"},
        {{"Pt_"}, "pt"},
        {{0}, "en_US"},
    };
    for (size_t i = 0; i < LEN(rows); i++) {
        tp_slice c[3];
        size_t n = 0;
        while (n < 3 && rows[i].codes[n])
            c[n] = tp_slice_cstr(rows[i].codes[n]), n++;
        ck_assert_msg(!strcmp(tp_locale_code(tp_locales_closest(r, c, n)), rows[i].want), "row %zu",
                      i);
    }
    char longcode[400] = "pt-";
    memset(longcode + 3, 'x', 300); /* longer than any code: "pt" still matches */
    ck_assert_str_eq(tp_locale_code(tp_locales_closest(r, &(tp_slice){longcode, 303}, 1)), "pt");
    ck_assert_ptr_null(tp_locales_get(r, S("es")));
    ck_assert_ptr_nonnull(tp_locales_get(r, S("pt")));
    ck_assert_int_eq(tp_locales_set_default(r, ""), -EINVAL);
    ck_assert_int_eq(tp_locales_set_default(r, "xx_YY"), 0);
    ck_assert_str_eq(tp_locales_default(r), "xx_YY");
    const tp_locale *x = tp_locales_closest(r, &S("de"), 1);
    ck_assert_str_eq(tp_locale_code(x), "xx_YY");
    ck_assert_str_eq(tp_locale_name(x), "Unknown");
    ck_assert_ptr_null(tp_locales_get(r, S("en_US")));
    tp_locales_free(r);
    remove_dir();
}
END_TEST

START_TEST(browser)
{
    make_dir();
    write_file("fr_FR.csv", "", 0);
    write_file("es_LA.csv", "", 0);
    write_file("de.csv", "", 0);
    tp_locales *r = tp_locales_new();
    ck_assert_int_eq(tp_locales_load_csv(r, dir), 0);
    static const struct {
        const char *header, *def, *want;
    } rows[] = {
        {NULL, "es-la", "es_LA"},
        {"", "es_LA", "en_US"}, /* a header, but no usable code: the registry default */
        {"fr-FR,fr;q=0.9,en;q=0.8", "en_US", "fr_FR"},
        {"en;q=0.8, fr-fr;q=0.9", "en_US", "fr_FR"},
        {"es-LA;q=0, fr-fr;q=0.1", "en_US", "fr_FR"},
        {"es-la;q=-1, xx", "de", "en_US"},
        {"es-la;q=abc", "de", "de"},
        {"fr-fr;q=0.5,es-la;q=0.5", "en_US", "fr_FR"}, /* stable sort */
        {"es-la;q=0.5,fr-fr;q=0.5", "en_US", "es_LA"},
        {"fr-fr;q=1_0, es-la;q=2", "en_US", "fr_FR"},
        {"fr-fr;q=inf, es-la", "en_US", "fr_FR"},
        {"fr-fr;q=nan, es-la;q=0.1", "en_US", "es_LA"},
        {"fr-fr;level=1;q=0.1, es-la;q=0.5", "en_US", "fr_FR"},
        {"es-la;q=1e-400, fr-fr;q=0.1", "en_US", "fr_FR"},
        {"\x85"
         "de-AT ;q=0.3, xx",
         "en_US", "de"}, /* Latin-1 spaces; "de-AT " -> "de" */
        {"\xa0"
         "de-AT;q=0.3, xx",
         "en_US", "de"},
        {"es-la; q=.5, fr-fr; q=5.", "en_US", "fr_FR"},
        {"es-la;Q=0.1, fr-fr;q=0.2", "en_US", "es_LA"},
    };
    for (size_t i = 0; i < LEN(rows); i++) {
        tp_slice h = rows[i].header ? tp_slice_cstr(rows[i].header) : NONE;
        const char *got = tp_locale_code(tp_locales_browser(r, h, rows[i].def));
        ck_assert_msg(!strcmp(got, rows[i].want), "row %zu: %s != %s", i, got, rows[i].want);
    }
    tp_locales_free(r);
    remove_dir();
}
END_TEST

/* ---- gettext catalogs ------------------------------------------------------------------- */

static const mo_entry pl_mo[] = {
    MO("", "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=3; plural=(n==1 "
           "? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\n"),
    MO("1 second ago\0%(seconds)d seconds ago",
       "%(seconds)d sekunda temu\0%(seconds)d sekundy temu\0%(seconds)d sekund temu"),
    MO("file\0files", "plik\0pliki\0plik\xc3\xb3w"),
};
static const mo_entry pl_base_mo[] = {
    MO("", "Content-Type: text/plain; charset=latin-1\n"),
    MO("caf\xe9", "kawiarnia \xe9"),
    MO("only here", "tylko tu"),
};

START_TEST(gettext_plurals)
{
    make_dir();
    write_mo("pl_PL/LC_MESSAGES/app.mo", pl_mo, LEN(pl_mo), false);
    write_mo("pl/LC_MESSAGES/app.mo", pl_base_mo, LEN(pl_base_mo), true);
    tp_locales *r = tp_locales_new();
    tp_arena a;
    tp_arena_init(&a, 0);
    ck_assert_int_eq(tp_locales_load_gettext(r, dir, "app"), 0);
    const tp_locale *l = tp_locales_closest(r, &S("pl-pl"), 1);
    ck_assert(tp_locale_is_gettext(l));
    static const struct {
        int64_t n;
        const char *want;
    } rows[] = {{1, "plik"},           {2, "pliki"},  {4, "pliki"},         {5, "plik\xc3\xb3w"},
                {12, "plik\xc3\xb3w"}, {22, "pliki"}, {0, "plik\xc3\xb3w"}, {112, "plik\xc3\xb3w"},
                {-2, "plik\xc3\xb3w"}}; /* Python: -2 % 10 == 8 */
    for (size_t i = 0; i < LEN(rows); i++)
        ck_str(tp_locale_translate(l, S("file"), S("files"), rows[i].n), rows[i].want);
    ck_str(fmt_date(l, &a, NOW - 23, NOW, 0, true, false, false), "23 sekundy temu");
    ck_str(fmt_date(l, &a, NOW - 25, NOW, 0, true, false, false), "25 sekund temu");
    /* the "ll" catalog behind "ll_CC" (Latin-1 converted), and the header as msgid "" */
    ck_str(tp_locale_translate(l, S("only here"), NONE, 0), "tylko tu");
    ck_str(tp_locale_translate(l, S("caf\xc3\xa9"), NONE, 0), "kawiarnia \xc3\xa9");
    ck_str(tp_locale_translate(tp_locales_closest(r, &S("pl"), 1), S("only here"), NONE, 0),
           "tylko tu");
    ck_assert(tp_locale_translate(l, S(""), NONE, 0).n > 20);
    tp_arena_destroy(&a);
    tp_locales_free(r);
    remove_dir();
}
END_TEST

static const mo_entry ok_mo[] = {MO("", "Content-Type: text/plain; charset=utf-8\n"), MO("x", "y")};

/* Catalogs Python's gettext refuses are skipped (the rest still load). */
START_TEST(gettext_refused)
{
    static const mo_entry bad_plural[] = {
        MO("",
           "Content-Type: text/plain; charset=utf-8\nPlural-Forms: nplurals=2; plural=n == !n;\n")};
    static const mo_entry no_charset[] = {MO("", "Content-Type: text/plain\n")};
    static const mo_entry ascii_only[] = {MO("", "Project-Id-Version: 1\n"), MO("x", "\xc3\xa9")};
    static const mo_entry no_semicolon[] = {
        MO("", "Content-Type: text/plain; charset=utf-8\nPlural-Forms: nplurals=2\n")};
    static const mo_entry deep[] = {
        MO("", "Content-Type: text/plain; charset=utf-8\nPlural-Forms: nplurals=2; "
               "plural=((((((((((((((((((((((n))))))))))))))))))))));\n")};
    static const mo_entry two_nuls[] = {MO("a\0b\0c", "x")};
    make_dir();
    write_mo("aa/LC_MESSAGES/app.mo", bad_plural, 1, false);
    write_mo("ab/LC_MESSAGES/app.mo", no_charset, 1, false);
    write_mo("ac/LC_MESSAGES/app.mo", ascii_only, 2, false);
    write_mo("ad/LC_MESSAGES/app.mo", no_semicolon, 1, true);
    write_mo("ae/LC_MESSAGES/app.mo", deep, 1, false);
    write_mo("af/LC_MESSAGES/app.mo", two_nuls, 1, false);
    write_file("ag/LC_MESSAGES/app.mo", "\xde\x12\x04\x95", 4);
    write_mo("zz/LC_MESSAGES/app.mo", bad_plural, 1, false);
    write_mo("zz_ZZ/LC_MESSAGES/app.mo", ok_mo, 2, false); /* its "zz" fails: so does it */
    write_mo("ok/LC_MESSAGES/app.mo", ok_mo, 2, false);
    write_mo(".hidden/LC_MESSAGES/app.mo", ok_mo, 2, false);
    tp_locales *r = tp_locales_new();
    ck_assert_int_eq(tp_locales_load_gettext(r, dir, "app"), 0);
    const char *const *codes;
    ck_assert_uint_eq(tp_locales_supported(r, &codes), 2);
    ck_assert_str_eq(codes[0], "en_US");
    ck_assert_str_eq(codes[1], "ok");
    ck_str(tp_locale_translate(tp_locales_closest(r, &S("ok"), 1), S("x"), NONE, 0), "y");
    ck_assert(!tp_locale_is_gettext(tp_locales_closest(r, &S("en_US"), 1)));
    ck_assert_int_eq(tp_locales_load_gettext(r, "/nonexistent/dir", "app"), -ENOENT);
    ck_assert_uint_eq(tp_locales_supported(r, &codes), 2);
    tp_locales_free(r);
    remove_dir();
}
END_TEST

/* Python's rewrite of the C expression, evaluated: its quirks are part of the result. */
START_TEST(plural_expressions)
{
    static const struct {
        const char *expr;
        int64_t n, want; /* want -1: does not compile */
    } rows[] = {
        {"n != 1", 1, 0},
        {"n != 1", 0, 1},
        {"(n || 5) - 4", 0, 1}, /* "or" returns an operand */
        {"n && 7", 3, 7},
        {"!n == 1 ? 2 : 3", 2, 2}, /* "not n == 1": not (n == 1) */
        {"!n == 1 ? 2 : 3", 1, 3},
        {"(n + 10) / 3 % 4", -20, 0}, /* floor division and modulo */
        {"n % 10", -2, 8},
        {"n == 1 == 0 ? 2 : n>=2>=1", 5, 2},
        {"n<2 ? n : n<5 ? 2 : 3", 4, 2},
        {"n ? 1 : 2 ? 3 : 4", 0, 3},
        {"!!n&&!n+1", 3, 0},
        {"  n\t>1", 2, 1},
        {"007", 0, 7},
        {"n == !n", 0, -1},
        {"n + !n", 0, -1},
        {"n ++ 1", 0, -1},
        {"-1", 0, -1},
        {"n1", 0, -1},
        {"n ? 1", 0, -1},
        {"(n", 0, -1},
        {"n = 1", 0, -1},
        {"n & 1", 0, -1},
        {"", 0, -1},
        {"n > 1 #", 0, -1},
        {"99999999999999999999", 0, -1},
    };
    tp_arena a;
    tp_arena_init(&a, 0);
    for (size_t i = 0; i < LEN(rows); i++) {
        const char *why = NULL;
        tp_plural *p = tp_plural_compile(&a, tp_slice_cstr(rows[i].expr), &why);
        if (rows[i].want < 0) {
            ck_assert_msg(p == NULL && why, "row %zu compiled", i);
            continue;
        }
        ck_assert_msg(p != NULL, "row %zu: %s", i, why);
        int64_t v = -99;
        ck_assert_int_eq(tp_plural_eval(p, rows[i].n, &v), 0);
        ck_assert_msg(v == rows[i].want, "row %zu: %lld", i, (long long)v);
    }
    int64_t v;
    tp_plural *p = tp_plural_compile(&a, S("n / (n - 2)"), &(const char *){0});
    ck_assert_int_eq(tp_plural_eval(p, 2, &v), -EDOM);
    ck_assert_int_eq(tp_plural_eval(p, 4, &v), 0);
    ck_assert_int_eq(v, 2);
    p = tp_plural_compile(&a, S("n * n"), &(const char *){0});
    ck_assert_int_eq(tp_plural_eval(p, INT64_MAX, &v), -ERANGE);
    char longexpr[1100];
    memset(longexpr, ' ', sizeof(longexpr));
    longexpr[0] = 'n';
    ck_assert_ptr_null(tp_plural_compile(&a, tp_slice_make(longexpr, 1001), &(const char *){0}));
    ck_assert_ptr_nonnull(tp_plural_compile(&a, tp_slice_make(longexpr, 1000), &(const char *){0}));
    tp_arena_destroy(&a);
}
END_TEST

/* ---- refusals and lifetimes --------------------------------------------------------------- */

START_TEST(csv_refused)
{
    static const struct {
        const char *name, *data;
        size_t n;
        int rc;
    } rows[] = {
        {"es_LA.csv", "\"a\",\"\xe9\"\n", 8, -EILSEQ},
        {"es_LA.csv", "\xff\xfe\x61\x00\x62", 5, -EILSEQ},
        {"es_LA.csv", "\xff\xfe\x00\xd8\x61\x00", 6, -EILSEQ},
        {"es.LA.csv", "\"a\",\"b\"\n", 8, -EINVAL},
    };
    for (size_t i = 0; i < LEN(rows); i++) {
        make_dir();
        write_file("fr_FR.csv", fr_csv, sizeof(fr_csv) - 1);
        tp_locales *r = tp_locales_new();
        const tp_locale *before = tp_locales_closest(r, &S("en_US"), 1);
        remove_dir();
        make_dir();
        write_file(rows[i].name, rows[i].data, rows[i].n);
        ck_assert_int_eq(tp_locales_load_csv(r, dir), rows[i].rc);
        ck_assert_ptr_eq(tp_locales_closest(r, &S("en_US"), 1), before); /* unchanged */
        tp_locales_free(r);
        remove_dir();
    }
}
END_TEST

/* A locale handed out before a reload stays usable until the registry goes. */
START_TEST(reload_keeps_locales)
{
    make_dir();
    write_file("fr_FR.csv", fr_csv, sizeof(fr_csv) - 1);
    tp_locales *r = tp_locales_new();
    ck_assert_int_eq(tp_locales_load_csv(r, dir), 0);
    const tp_locale *old = tp_locales_closest(r, &S("fr_FR"), 1);
    write_mo("fr_FR/LC_MESSAGES/tornado_test.mo", tornado_test_mo, LEN(tornado_test_mo), false);
    ck_assert_int_eq(tp_locales_load_gettext(r, dir, "tornado_test"), 0);
    const tp_locale *now = tp_locales_closest(r, &S("fr_FR"), 1);
    ck_assert_ptr_ne(old, now);
    ck_assert(!tp_locale_is_gettext(old) && tp_locale_is_gettext(now));
    ck_str(tp_locale_translate(old, S("school"), NONE, 0), "\xc3\xa9\x63ole");
    ck_str(tp_locale_pgettext(now, S("law"), S("right"), NONE, 0), "le droit");
    tp_locales_free(r);
    remove_dir();
}
END_TEST

/* tp_locale_pyformat: core/pyfmt's flags, widths and precisions (results from Python 3.11);
 * what Python refuses is -EINVAL. */
START_TEST(pyformat_specs)
{
    static const char *const ok[][2] = {
        {"%(n)5d|%(n)-5d|%(n)05d|%(n)+.4d", "  -42|-42  |-0042|-0042"},
        {"%(w)#x|%(w)#08X|%(w)o|%(s)3s|%(s)-3s|%(s).0s|",
         "0xff|0X0000FF|377|  \xc3\xa9|\xc3\xa9  ||"},
        {"%(n)s%%%(w)i", "-42%255"},
    };
    static const char *const bad[] = {"%(s)d", "%(x)s", "%s", "%(n)*d", "%(n", "%(n)", "%(n)y"};
    tp_pyarg args[] = {
        {"n", true, -42, {0}}, {"w", true, 255, {0}}, {"s", false, 0, S("\xc3\xa9")}};
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_slice out;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ck_assert_int_eq(tp_locale_pyformat(&a, tp_slice_cstr(ok[i][0]), args, 3, &out), 0);
        ck_str(out, ok[i][1]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(tp_locale_pyformat(&a, tp_slice_cstr(bad[i]), args, 3, &out) == -EINVAL, "%s",
                      bad[i]);
    tp_arena_destroy(&a);
}
END_TEST

START_TEST(format_errors)
{
    make_dir();
    static const char bad[] = "\"%(time)s\",\"%(hour)s\"\n\"%(month_name)s %(day)s\",\"%(day)d\"\n"
                              "\"%(commas)s and %(last)s\",\"%(commas)s %\"\n";
    write_file("es_LA.csv", bad, sizeof(bad) - 1);
    tp_locales *r = tp_locales_new();
    tp_arena a;
    tp_arena_init(&a, 0);
    ck_assert_int_eq(tp_locales_load_csv(r, dir), 0);
    const tp_locale *es = tp_locales_closest(r, &S("es_LA"), 1), *en;
    en = tp_locales_closest(r, &S("en"), 1);
    tp_slice out, parts[] = {S("a"), S("b")};
    /* KeyError, TypeError (%d of a str), "incomplete format": Tornado raises, we refuse */
    ck_assert_int_eq(tp_locale_format_date(es, &a, NOW - 60, NOW, 0, false, false, false, &out),
                     -EINVAL);
    ck_assert_int_eq(tp_locale_format_day(es, &a, NOW, 0, false, &out), -EINVAL);
    ck_assert_int_eq(tp_locale_list(es, &a, parts, 2, &out), -EINVAL);
    /* datetime's years 1-9999 */
    ck_assert_int_eq(
        tp_locale_format_date(en, &a, -62135596801.0, NOW, 0, true, false, false, &out), -ERANGE);
    ck_assert_int_eq(
        tp_locale_format_date(en, &a, -62135596800.0, -62135596800.0, 60, true, false, false, &out),
        -ERANGE);
    ck_assert_int_eq(
        tp_locale_format_date(en, &a, 253402300799.0, 253402300799.0, -1, true, false, false, &out),
        -ERANGE);
    ck_assert_int_eq(
        tp_locale_format_date(en, &a, 253402300799.0, 253402300799.0, 1, true, false, true, &out),
        0);
    ck_str(out, "December 31, 9999 at 11:58 pm");
    tp_arena_destroy(&a);
    tp_locales_free(r);
    remove_dir();
}
END_TEST

Suite *locale_suite(void)
{
    Suite *s = suite_create("locale");
    TCase *tc = tcase_create("locale");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, csv);
    tcase_add_test(tc, csv_bom);
    tcase_add_test(tc, gettext_catalog);
    tcase_add_test(tc, names);
    tcase_add_test(tc, english_format_date);
    tcase_add_test(tc, format_date_cases);
    tcase_add_test(tc, english_misc);
    tcase_add_test(tc, csv_locales);
    tcase_add_test(tc, closest_and_default);
    tcase_add_test(tc, browser);
    tcase_add_test(tc, gettext_plurals);
    tcase_add_test(tc, gettext_refused);
    tcase_add_test(tc, plural_expressions);
    tcase_add_test(tc, csv_refused);
    tcase_add_test(tc, reload_keeps_locales);
    tcase_add_test(tc, format_errors);
    tcase_add_test(tc, pyformat_specs);
    suite_add_tcase(s, tc);
    return s;
}
