/* load_translations: Tornado's CSV translation files. The bytes are decoded as Tornado
 * opens them (UTF-16 after a UTF-16 BOM, else "utf-8-sig"), newlines translated as a
 * Python text file does, then split by a copy of Python's csv reader state machine
 * (Modules/_csv.c, excel dialect, strict off). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/escape.h"
#include "core/utf8.h"
#include "web/locale/internal.h"

#define CSV_FIELD_LIMIT 131072 /* csv.field_size_limit() default, in characters */
#define LOCALE_FILE_MAX (64 << 20)

/* Python's "utf-16" codec after a BOM: the BOM picks the byte order and is dropped; an odd
 * length or an unpaired surrogate is a UnicodeDecodeError. */
static int utf16_decode(tp_arena *a, tp_slice raw, tp_slice *text)
{
    const unsigned char *p = (const unsigned char *)raw.p;
    bool be = p[0] == 0xfe;
    if (raw.n % 2)
        return -EILSEQ;
    char *out = tp_arena_alloc(a, raw.n / 2 * 3 + 1), *w = out;
    for (size_t i = 2; i < raw.n; i += 2) {
        unsigned u = be ? (unsigned)p[i] << 8 | p[i + 1] : (unsigned)p[i + 1] << 8 | p[i];
        if (u >= 0xd800 && u < 0xdc00) {
            if (i + 3 >= raw.n)
                return -EILSEQ;
            unsigned lo =
                be ? (unsigned)p[i + 2] << 8 | p[i + 3] : (unsigned)p[i + 3] << 8 | p[i + 2];
            if (lo < 0xdc00 || lo > 0xdfff)
                return -EILSEQ;
            u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            i += 2;
        } else if (u >= 0xdc00 && u <= 0xdfff) {
            return -EILSEQ;
        }
        w += tp_utf8_encode(w, u);
    }
    *text = tp_slice_make(out, (size_t)(w - out));
    return 0;
}

/* The file's text as Tornado reads it, with "\r\n" and "\r" turned into "\n" (a text-mode
 * file's universal newlines). */
static int decode_text(tp_arena *a, tp_slice raw, tp_slice *text)
{
    const unsigned char *p = (const unsigned char *)raw.p;
    tp_slice t;
    if (raw.n >= 2 && ((p[0] == 0xff && p[1] == 0xfe) || (p[0] == 0xfe && p[1] == 0xff))) {
        int rc = utf16_decode(a, raw, &t);
        if (rc < 0)
            return rc;
    } else {
        if (raw.n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
            raw.p += 3, raw.n -= 3;
        if (!tp_utf8_valid(raw))
            return -EILSEQ;
        t = tp_arena_slice_dup(a, raw);
    }
    char *w = (char *)t.p;
    for (size_t i = 0; i < t.n; i++) {
        if (t.p[i] == '\r') {
            *w++ = '\n';
            if (i + 1 < t.n && t.p[i + 1] == '\n')
                i++;
        } else {
            *w++ = t.p[i];
        }
    }
    *text = tp_slice_make(t.p, (size_t)(w - t.p));
    return 0;
}

enum { START_RECORD, START_FIELD, IN_FIELD, IN_QUOTED_FIELD, QUOTE_IN_QUOTED, EAT_CRNL };
#define EOL (-1)

typedef struct csv_reader {
    tp_arena *a;
    int state;
    tp_buf field;
    size_t field_chars;
    tp_slice cells[3]; /* the first three fields of the row */
    size_t nfields;
} csv_reader;

static int add_char(csv_reader *r, int c)
{
    if (((unsigned)c & 0xc0) != 0x80 && r->field_chars++ >= CSV_FIELD_LIMIT)
        return -EINVAL; /* _csv.Error: field larger than field limit */
    char ch = (char)c;
    tp_buf_append(&r->field, &ch, 1);
    return 0;
}

static void save_field(csv_reader *r)
{
    if (r->nfields < 3)
        r->cells[r->nfields] = tp_arena_slice_dup(r->a, tp_buf_slice(&r->field));
    r->nfields++;
    tp_buf_clear(&r->field);
    r->field_chars = 0;
}

/* Modules/_csv.c parse_process_char for the excel dialect; c is a byte or EOL. */
static int process_char(csv_reader *r, int c)
{
    bool nl = c == '\n' || c == '\r' || c == EOL;
    switch (r->state) {
    case START_RECORD:
        if (c == EOL)
            return 0;
        if (c == '\n' || c == '\r') {
            r->state = EAT_CRNL;
            return 0;
        }
        r->state = START_FIELD;
        /* fall through */
    case START_FIELD:
        if (nl) {
            save_field(r);
            r->state = c == EOL ? START_RECORD : EAT_CRNL;
        } else if (c == '"') {
            r->state = IN_QUOTED_FIELD;
        } else if (c == ',') {
            save_field(r);
        } else {
            r->state = IN_FIELD;
            return add_char(r, c);
        }
        return 0;
    case IN_FIELD:
        if (nl || c == ',') {
            save_field(r);
            r->state = c == ',' ? START_FIELD : c == EOL ? START_RECORD : EAT_CRNL;
            return 0;
        }
        return add_char(r, c);
    case IN_QUOTED_FIELD:
        if (c == '"')
            r->state = QUOTE_IN_QUOTED;
        else if (c != EOL)
            return add_char(r, c);
        return 0;
    case QUOTE_IN_QUOTED:
        if (c == '"') {
            r->state = IN_QUOTED_FIELD;
            return add_char(r, c);
        }
        if (nl || c == ',') {
            save_field(r);
            r->state = c == ',' ? START_FIELD : c == EOL ? START_RECORD : EAT_CRNL;
            return 0;
        }
        r->state = IN_FIELD; /* strict off: '"a"b' is the field 'ab' */
        return add_char(r, c);
    default: /* EAT_CRNL: only reachable with a newline inside a line, which never happens */
        if (c == EOL)
            r->state = START_RECORD;
        return nl ? 0 : -EINVAL;
    }
}

/* The CSV loop's body for one row: strip the cells, check the plural indicator, store. */
static void store_row(csv_reader *r, const char *name, size_t rowno, tp_csv_tr *tr)
{
    if (r->nfields < 2)
        return;
    tp_slice english = tp_py_strip(r->cells[0]);
    tp_slice *translation = tp_arena_alloc(r->a, sizeof(*translation));
    *translation = tp_py_strip(r->cells[1]);
    tp_slice plural = r->nfields > 2 ? tp_py_strip(r->cells[2]) : TP_SLICE_NULL;
    int tag;
    if (plural.n == 0 || tp_slice_eq(plural, TP_SLICE_LIT("unknown")))
        tag = TP_CSV_UNKNOWN;
    else if (tp_slice_eq(plural, TP_SLICE_LIT("singular")))
        tag = TP_CSV_SINGULAR;
    else if (tp_slice_eq(plural, TP_SLICE_LIT("plural")))
        tag = TP_CSV_PLURAL;
    else {
        tp_log_error("Unrecognized plural indicator '%.*s' in %s line %zu", TP_SLICE_FMT(plural),
                     name, rowno);
        return;
    }
    *tp_lmap_put(&tr->map, r->a, english, tag) = translation;
    tr->nonempty = true;
}

int tp_locale_csv_parse(tp_arena *a, tp_slice data, const char *name, tp_csv_tr *tr)
{
    tp_slice text;
    int rc = decode_text(a, data, &text);
    if (rc < 0)
        return rc;
    csv_reader r = {.a = a, .state = START_RECORD};
    size_t rowno = 0;
    const char *p = text.p, *end = text.p + text.n;
    while (p < end && rc == 0) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl + 1 : end;
        for (; p < stop && rc == 0; p++)
            rc = process_char(&r, (unsigned char)*p);
        if (rc == 0)
            rc = process_char(&r, EOL);
        if (rc == 0 && r.state == START_RECORD) {
            store_row(&r, name, ++rowno, tr);
            r.nfields = 0;
        }
    }
    if (rc == 0 && r.state != START_RECORD) { /* EOF inside a quoted field: the row ends */
        save_field(&r);
        store_row(&r, name, ++rowno, tr);
    }
    tp_buf_free(&r.field);
    return rc;
}

/* Tornado's file-name check: re.match("[a-z]+(_[A-Z]+)?$", locale) ($ also matches before
 * a final newline). */
static bool code_ok(const char *s, size_t n)
{
    if (n && s[n - 1] == '\n')
        n--;
    size_t i = 0;
    while (i < n && s[i] >= 'a' && s[i] <= 'z')
        i++;
    if (i == 0)
        return false;
    if (i == n)
        return true;
    if (s[i++] != '_' || i == n)
        return false;
    while (i < n && s[i] >= 'A' && s[i] <= 'Z')
        i++;
    return i == n;
}

int tp_locale_read_file(tp_arena *a, const char *path, tp_slice *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = fstat(fd, &st) < 0             ? -errno
             : S_ISDIR(st.st_mode)          ? -EISDIR
             : st.st_size > LOCALE_FILE_MAX ? -EFBIG
                                            : 0;
    char *buf = rc == 0 ? tp_arena_alloc(a, (size_t)st.st_size + 1) : NULL;
    size_t got = 0;
    while (rc == 0 && got < (size_t)st.st_size) {
        ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    if (rc == 0)
        *out = tp_slice_make(buf, got);
    return rc;
}

/* One directory entry: -EAGAIN if it is not a translation (skipped), else loads it. */
static int load_one(tp_arena *a, const char *dir, const char *fname, tp_locale_tr *tr)
{
    size_t n = strlen(fname);
    if (n < 4 || strcmp(fname + n - 4, ".csv") != 0)
        return -EAGAIN;
    if (memchr(fname, '.', n - 4))
        return -EINVAL; /* `locale, extension = path.split(".")` raises in Tornado */
    if (!code_ok(fname, n - 4)) {
        tp_log_error("Unrecognized locale '%.*s' (path: %s/%s)", (int)(n - 4), fname, dir, fname);
        return -EAGAIN;
    }
    char *path = tp_arena_printf(a, "%s/%s", dir, fname);
    tp_slice data;
    int rc = tp_locale_read_file(a, path, &data);
    if (rc < 0)
        return rc;
    tp_csv_tr *csv = tp_arena_calloc(a, sizeof(*csv));
    rc = tp_locale_csv_parse(a, data, fname, csv);
    if (rc < 0) {
        tp_log_error("Cannot load translations %s: %s", path, strerror(-rc));
        return rc;
    }
    tr->code = tp_arena_strndup(a, fname, n - 4);
    tr->csv = csv;
    return 0;
}

int tp_locales_load_csv(tp_locales *r, const char *dir)
{
    if (!dir)
        return -EINVAL;
    tp_arena *a = tp_locales_arena(r);
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    size_t n = 0, cap = 8;
    tp_locale_tr *tr = tp_malloc(cap * sizeof(*tr));
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        if (n == cap)
            tr = tp_realloc(tr, (cap *= 2) * sizeof(*tr));
        rc = load_one(a, dir, e->d_name, &tr[n]);
        if (rc == 0)
            n++;
        else if (rc == -EAGAIN)
            rc = 0;
    }
    closedir(d);
    if (rc == 0) {
        tp_locale_tr *kept = tp_arena_alloc(a, (n ? n : 1) * sizeof(*kept));
        memcpy(kept, tr, n * sizeof(*kept));
        tp_locales_install(r, kept, n, false);
    }
    tp_free(tr);
    return rc;
}
