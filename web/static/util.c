/* The pure parts of StaticFileHandler (web/static/static.h): Range parsing, Content-Type guessing,
 * path normalisation and the root test, the content hash. Each one follows the Python it
 * stands for, named above it (tornado/web.py, tornado/httputil.py, posixpath.py, mimetypes.py
 * of Tornado 6.5 and Python 3.11). If-None-Match is matched by web/etag.c, for handlers and
 * static files alike. */
#include "web/static/static.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/alloc.h"
#include "core/hex.h"
#include "core/utf8.h"

/* Larger numbers behave the same as this in every comparison Tornado makes. */
#define RANGE_SATURATE (INT64_MAX / 4)
#define HASH_CHUNK     (64 * 1024)

/* ---- Range ------------------------------------------------------------------------------- */

/* Python's str.isspace() for a header decoded as latin-1: what str.strip() removes. */
/* httputil._int_or_none: "" -> None (*has = false); else Python int(): a sign, digits with
 * single underscores between them. false (ValueError) for anything else. */
static bool int_or_none(tp_slice s, int64_t *v, bool *has)
{
    s = tp_slice_strip_bytes(s, tp_py_isspace_latin1);
    *has = false;
    if (!s.n)
        return true;
    size_t i = 0;
    bool neg = false;
    if (s.p[0] == '+' || s.p[0] == '-')
        neg = s.p[i++] == '-';
    int64_t x = 0;
    size_t digits = 0;
    for (; i < s.n; i++) {
        char c = s.p[i];
        if (c == '_' && digits && i + 1 < s.n && s.p[i + 1] >= '0' && s.p[i + 1] <= '9')
            continue;
        if (c < '0' || c > '9')
            return false;
        x = x >= RANGE_SATURATE / 10 ? RANGE_SATURATE : x * 10 + (c - '0');
        digits++;
    }
    if (!digits)
        return false;
    *v = neg ? -x : x;
    *has = true;
    return true;
}

/* httputil._parse_request_range: unit, _, value = header.partition("="), then
 * start, _, end = value.partition("-"); "-n" means start = -n; "a-b" means end = b + 1. */
bool tp_static_parse_range(tp_slice header, tp_byte_range *out)
{
    const char *eq = memchr(header.p, '=', header.n);
    tp_slice unit = eq ? (tp_slice){header.p, (size_t)(eq - header.p)} : header;
    tp_slice value =
        eq ? (tp_slice){eq + 1, header.n - (size_t)(eq + 1 - header.p)} : TP_SLICE_NULL;
    if (!tp_slice_eq(tp_slice_strip_bytes(unit, tp_py_isspace_latin1), TP_SLICE_LIT("bytes")))
        return false;
    value = tp_slice_strip_bytes(value, tp_py_isspace_latin1);
    const char *dash = value.n ? memchr(value.p, '-', value.n) : NULL;
    tp_slice sb = dash ? (tp_slice){value.p, (size_t)(dash - value.p)} : value;
    tp_slice eb =
        dash ? (tp_slice){dash + 1, value.n - (size_t)(dash + 1 - value.p)} : TP_SLICE_NULL;
    tp_byte_range r = {0};
    if (!int_or_none(sb, &r.start, &r.has_start) || !int_or_none(eb, &r.end, &r.has_end))
        return false;
    if (r.has_end) {
        if (!r.has_start) {
            if (r.end != 0) {
                r.start = -r.end;
                r.has_start = true;
                r.has_end = false;
            }
        } else {
            r.end += 1;
        }
    }
    *out = r;
    return true;
}

/* StaticFileHandler.get: negative starts count from the end; 416 when the start is past the
 * end, the range is empty or "bytes=-0"; the end is clamped to the size; a range covering
 * the whole file is a plain 200 (Chrome will not play audio from a 206 for "bytes=0-"). */
int tp_static_resolve_range(const tp_byte_range *r, uint64_t size, uint64_t *start, uint64_t *end)
{
    int64_t sz = size > (uint64_t)RANGE_SATURATE ? RANGE_SATURATE : (int64_t)size;
    int64_t s = r->start, e = r->end;
    if (r->has_start && s < 0) {
        s += sz;
        if (s < 0)
            s = 0;
    }
    if ((r->has_start && (s >= sz || (r->has_end && s >= e))) || (r->has_end && e == 0))
        return 416;
    if (r->has_end && e > sz)
        e = sz;
    *start = r->has_start ? (uint64_t)s : 0;
    *end = r->has_end ? (uint64_t)e : size;
    return *end - *start == size ? 200 : 206;
}

/* ---- Content-Type ------------------------------------------------------------------------ */

/* mimetypes' table as Debian's Python sees it (its built-in map overlaid with
 * /etc/mime.types) for the types a web site serves. Sorted by extension. */
static const struct {
    const char *ext, *type;
} types[] = {
    {".aac", "audio/aac"},
    {".apng", "image/apng"},
    {".avi", "video/x-msvideo"},
    {".avif", "image/avif"},
    {".bin", "application/octet-stream"},
    {".bmp", "image/bmp"},
    {".css", "text/css"},
    {".csv", "text/csv"},
    {".doc", "application/msword"},
    {".eot", "application/vnd.ms-fontobject"},
    {".epub", "application/epub+zip"},
    {".flac", "audio/flac"},
    {".gif", "image/gif"},
    {".gz", "application/gzip"}, /* reached by ".GZ": the encoding suffix is case-sensitive */
    {".heic", "image/heic"},
    {".htm", "text/html"},
    {".html", "text/html"},
    {".ico", "image/vnd.microsoft.icon"},
    {".ics", "text/calendar"},
    {".jpe", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".jpg", "image/jpeg"},
    {".js", "text/javascript"},
    {".json", "application/json"},
    {".jsonld", "application/ld+json"},
    {".m3u8", "application/vnd.apple.mpegurl"},
    {".m4a", "audio/mp4"},
    {".md", "text/markdown"},
    {".mjs", "text/javascript"},
    {".mov", "video/quicktime"},
    {".mp3", "audio/mpeg"},
    {".mp4", "video/mp4"},
    {".mpeg", "video/mpeg"},
    {".mpg", "video/mpeg"},
    {".oga", "audio/ogg"},
    {".ogg", "audio/ogg"},
    {".ogv", "video/ogg"},
    {".otf", "font/otf"},
    {".pdf", "application/pdf"},
    {".png", "image/png"},
    {".ps", "application/postscript"},
    {".py", "text/x-python"},
    {".rss", "application/x-rss+xml"},
    {".rtf", "application/rtf"},
    {".sh", "text/x-sh"},
    {".svg", "image/svg+xml"},
    {".tar", "application/x-tar"},
    {".tif", "image/tiff"},
    {".tiff", "image/tiff"},
    {".tsv", "text/tab-separated-values"},
    {".ttf", "font/ttf"},
    {".txt", "text/plain"},
    {".vtt", "text/vtt"},
    {".wasm", "application/wasm"},
    {".wav", "audio/x-wav"},
    {".webm", "video/webm"},
    {".webmanifest", "application/manifest+json"},
    {".webp", "image/webp"},
    {".woff", "font/woff"},
    {".woff2", "font/woff2"},
    {".xhtml", "application/xhtml+xml"},
    {".xls", "application/vnd.ms-excel"},
    {".xml", "application/xml"},
    {".xz", "application/x-xz"}, /* ".XZ" likewise */
    {".zip", "application/zip"},
};

/* posixpath.splitext: the index of the extension's dot in p[0..n), or n. Leading dots of
 * the file name do not start an extension (".bashrc" has none). */
static size_t splitext(const char *p, size_t n)
{
    size_t dot = n, sep = 0;
    for (size_t i = n; i > 0; i--) {
        if (p[i - 1] == '/') {
            sep = i;
            break;
        }
        if (p[i - 1] == '.' && dot == n)
            dot = i - 1;
    }
    if (dot == n)
        return n;
    for (size_t i = sep; i < dot; i++)
        if (p[i] != '.')
            return dot;
    return n;
}

static bool ext_is(const char *ext, size_t n, const char *name, bool nocase)
{
    return strlen(name) == n && (nocase ? strncasecmp(ext, name, n) : strncmp(ext, name, n)) == 0;
}

/* mimetypes.guess_type: suffix_map (.tgz -> .tar.gz...: case-insensitive), then the
 * encodings (.gz .Z .bz2 .xz .br: case-sensitive), then the type (case-insensitive). Tornado
 * turns a gzip encoding into application/gzip and any other into application/octet-stream. */
const char *tp_static_content_type(const char *path)
{
    static const char *const gz_suffixes[] = {".tgz", ".taz", ".tz", ".svgz"};
    static const char *const other_suffixes[] = {".tbz2", ".txz"};
    static const char *const other_encodings[] = {".Z", ".bz2", ".xz", ".br"};
    size_t n = strlen(path), dot = splitext(path, n);
    const char *ext = path + dot;
    size_t en = n - dot;
    for (size_t i = 0; i < sizeof(gz_suffixes) / sizeof(gz_suffixes[0]); i++)
        if (ext_is(ext, en, gz_suffixes[i], true))
            return "application/gzip";
    for (size_t i = 0; i < sizeof(other_suffixes) / sizeof(other_suffixes[0]); i++)
        if (ext_is(ext, en, other_suffixes[i], true))
            return "application/octet-stream";
    if (ext_is(ext, en, ".gz", false))
        return "application/gzip";
    for (size_t i = 0; i < sizeof(other_encodings) / sizeof(other_encodings[0]); i++)
        if (ext_is(ext, en, other_encodings[i], false))
            return "application/octet-stream";
    char low[16];
    if (!en || en >= sizeof(low))
        return "application/octet-stream";
    for (size_t i = 0; i < en; i++)
        low[i] = (char)(ext[i] >= 'A' && ext[i] <= 'Z' ? ext[i] + 32 : ext[i]);
    low[en] = '\0';
    size_t lo = 0, hi = sizeof(types) / sizeof(types[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(low, types[mid].ext);
        if (c == 0)
            return types[mid].type;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return "application/octet-stream";
}

/* ---- paths ------------------------------------------------------------------------------- */

/* posixpath.normpath of an absolute path p[0..n) into out (at least n + 1 bytes): "." and
 * empty components go, ".." removes one (never above "/"); exactly two leading slashes are
 * kept, as POSIX allows. Returns the length. */
static size_t normpath(const char *p, size_t n, char *out)
{
    size_t lead = (n >= 2 && p[1] == '/' && (n < 3 || p[2] != '/')) ? 2 : 1;
    size_t o = 0;
    for (size_t k = 0; k < lead; k++)
        out[o++] = '/';
    size_t base = o;
    for (size_t i = 0; i < n;) {
        while (i < n && p[i] == '/')
            i++;
        size_t j = i;
        while (j < n && p[j] != '/')
            j++;
        size_t len = j - i;
        if (len == 2 && p[i] == '.' && p[i + 1] == '.') {
            while (o > base && out[o - 1] != '/')
                o--;
            if (o > base)
                o--; /* the slash before the removed component */
        } else if (len && !(len == 1 && p[i] == '.')) {
            if (o > base)
                out[o++] = '/';
            memcpy(out + o, p + i, len);
            o += len;
        }
        i = j;
    }
    out[o] = '\0';
    return o;
}

/* os.path.abspath(os.path.join(root, rel)): an absolute rel replaces root; a relative
 * result is taken from the current directory; then normpath. */
tp_slice tp_static_abspath(tp_arena *a, const char *root, tp_slice rel)
{
    char cwd[PATH_MAX] = "";
    size_t rn = strlen(root);
    bool rel_abs = rel.n && rel.p[0] == '/';
    if (!rel_abs && (!rn || root[0] != '/') && !getcwd(cwd, sizeof(cwd)))
        strcpy(cwd, "/");
    size_t cn = strlen(cwd);
    char *joined = tp_arena_alloc(a, cn + rn + rel.n + 3);
    size_t j = 0;
    if (!rel_abs) {
        memcpy(joined, cwd, cn);
        j = cn;
        if (cn && rn)
            joined[j++] = '/';
        memcpy(joined + j, root, rn);
        j += rn;
        if (j && joined[j - 1] != '/')
            joined[j++] = '/';
    }
    if (rel.n)
        memcpy(joined + j, rel.p, rel.n);
    j += rel.n;
    char *out = tp_arena_alloc(a, j + 2);
    return (tp_slice){out, normpath(joined, j, out)};
}

/* Tornado's validate_absolute_path: abspath strips the trailing slash, so one is put back on
 * both sides; "root/" itself matches, "rootx/..." does not. */
bool tp_static_in_root(tp_slice root_abs, tp_slice abs)
{
    size_t rn = root_abs.n;
    size_t need = rn && root_abs.p[rn - 1] == '/' ? rn : rn + 1; /* root with its slash */
    if (abs.n + 1 < need)
        return false;
    for (size_t i = 0; i < need; i++) {
        char r = i < rn ? root_abs.p[i] : '/';
        char c = i < abs.n ? abs.p[i] : '/';
        if (r != c)
            return false;
    }
    return true;
}

/* ---- the version hash -------------------------------------------------------------------- */

/* StaticFileHandler.get_content_version: SHA-512 of the content, read in 64 KiB chunks. */
int tp_static_hash_fd(int fd, uint64_t size, char *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    char *buf = tp_malloc(HASH_CHUNK);
    int r = EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) == 1 ? 0 : -EIO;
    for (uint64_t off = 0; r == 0 && off < size;) {
        size_t want = size - off < HASH_CHUNK ? (size_t)(size - off) : HASH_CHUNK;
        ssize_t got = pread(fd, buf, want, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            r = got < 0 ? -errno : -EIO;
        else if (EVP_DigestUpdate(ctx, buf, (size_t)got) != 1)
            r = -EIO;
        else
            off += (uint64_t)got;
    }
    unsigned char md[64];
    unsigned int mdn = 0;
    if (r == 0 && EVP_DigestFinal_ex(ctx, md, &mdn) != 1)
        r = -EIO;
    if (r == 0)
        tp_hex_encode(md, mdn, out);
    tp_free(buf);
    EVP_MD_CTX_free(ctx);
    return r;
}
