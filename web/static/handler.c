/* StaticFileHandler (tornado/web.py of 6.5) over the handler API: the checks of
 * validate_absolute_path, the headers of set_headers, should_return_304, the Range cases of
 * get, and the static_path setting with static_url. The pure parts are in static_util.c. */
#include "web/static/static.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/date.h"
#include "core/escape.h"
#include "web/web_internal.h"

/* One version hash, valid while the file keeps the stat signature it was computed for. */
typedef struct hash_entry {
    struct hash_entry *next;
    char *path;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    char hex[TP_STATIC_HASH_LEN + 1];
} hash_entry;

/* Per app (app->static_files): the static_path settings and the version hash cache (Tornado's
 * StaticFileHandler._static_hashes, which is per process; a worker runs one app). */
struct tp_static_files {
    char *static_path; /* NULL until tp_app_add_static */
    char *url_prefix;
    tp_static_opts opts; /* route data of the static_path routes */
    hash_entry **buckets;
    size_t nbuckets, count;
};

/* ---- the version hash cache -------------------------------------------------------------- */

static struct tp_static_files *files_of(tp_app *app)
{
    if (!app->static_files)
        app->static_files = tp_calloc(1, sizeof(struct tp_static_files));
    return app->static_files;
}

void tp_static_files_free(struct tp_static_files *sf)
{
    if (!sf)
        return;
    for (size_t i = 0; i < sf->nbuckets; i++) {
        for (hash_entry *e = sf->buckets[i], *next; e; e = next) {
            next = e->next;
            tp_free(e->path);
            tp_free(e);
        }
    }
    tp_free(sf->buckets);
    tp_free(sf->static_path);
    tp_free(sf->url_prefix);
    tp_free(sf);
}

static size_t path_hash(tp_slice p)
{
    size_t h = 14695981039346656037ull;
    for (size_t i = 0; i < p.n; i++)
        h = (h ^ (unsigned char)p.p[i]) * 1099511628211ull;
    return h;
}

static void grow(struct tp_static_files *sf)
{
    size_t n = sf->nbuckets ? sf->nbuckets * 2 : 64;
    hash_entry **b = tp_calloc(n, sizeof(*b));
    for (size_t i = 0; i < sf->nbuckets; i++) {
        for (hash_entry *e = sf->buckets[i], *next; e; e = next) {
            next = e->next;
            size_t k = path_hash(tp_slice_cstr(e->path)) & (n - 1);
            e->next = b[k];
            b[k] = e;
        }
    }
    tp_free(sf->buckets);
    sf->buckets = b;
    sf->nbuckets = n;
}

static bool same_file(const hash_entry *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* The hash of the open file fd (stat st) at path: from the cache when its stat signature is
 * unchanged, else computed and stored. NULL (logged) when the file cannot be read. With
 * the debug setting nothing is cached (Tornado's static_hash_cache=False). */
static const char *version_hash(tp_app *app, tp_arena *a, tp_slice path, int fd,
                                const struct stat *st)
{
    struct tp_static_files *sf = files_of(app);
    bool cache = !tp_app_settings_of(app)->debug;
    hash_entry *e = NULL;
    if (cache && sf->nbuckets) {
        e = sf->buckets[path_hash(path) & (sf->nbuckets - 1)];
        while (e && strcmp(e->path, path.p) != 0)
            e = e->next;
        if (e && same_file(e, st))
            return e->hex;
    }
    char *hex = tp_arena_alloc(a, TP_STATIC_HASH_LEN + 1);
    int r = tp_static_hash_fd(fd, (uint64_t)st->st_size, hex);
    if (r < 0) {
        tp_log_error("Could not open static file '%s': %s", path.p, strerror(-r));
        return NULL;
    }
    if (!cache)
        return hex;
    if (!e) {
        if (sf->count >= sf->nbuckets)
            grow(sf);
        size_t k = path_hash(path) & (sf->nbuckets - 1);
        e = tp_calloc(1, sizeof(*e));
        e->path = tp_strndup(path.p, path.n);
        e->next = sf->buckets[k];
        sf->buckets[k] = e;
        sf->count++;
    }
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->size = st->st_size;
    e->mtime = st->st_mtim;
    memcpy(e->hex, hex, sizeof(e->hex));
    return e->hex;
}

/* ---- the handler ------------------------------------------------------------------------- */

/* An HTTPError with a log message: Tornado's "%d %s: %s" warning, then the error page. The
 * decoded path may hold control characters (%0a): they are logged as '?'. */
static int fail(tp_handler *h, int status, const char *what, tp_slice path)
{
    tp_request *req = tp_handler_request(h);
    char *clean = tp_arena_strndup(tp_handler_arena(h), path.p ? path.p : "", path.n);
    for (size_t i = 0; i < path.n; i++)
        if ((unsigned char)clean[i] < 0x20 || clean[i] == 0x7f)
            clean[i] = '?';
    path.p = clean;
    tp__web_log(TP_LOG_WARNING, "%d %.*s %.*s (%.*s): %.*s%s", status, TP_SLICE_FMT(req->method),
                TP_SLICE_FMT(req->uri), TP_SLICE_FMT(req->remote_ip), TP_SLICE_FMT(path), what);
    tp_send_error(h, status);
    return TP_DONE;
}

/* validate_absolute_path and the open: the fd of the regular file to serve (its path in
 * *abs_out), or TP_DONE when the request was answered (403, 404, redirect). */
static int open_file(tp_handler *h, const tp_static_opts *o, tp_slice rel, tp_slice *abs_out)
{
    tp_arena *a = tp_handler_arena(h);
    tp_request *req = tp_handler_request(h);
    tp_slice root = tp_static_abspath(a, o->path, TP_SLICE_LIT(""));
    tp_slice abs = tp_static_abspath(a, o->path, rel);
    if (!tp_static_in_root(root, abs))
        return fail(h, 403, " is not in root static directory", rel);
    /* A NUL cannot name a file: Python's os.path tests answer False for it. */
    bool named = memchr(abs.p, '\0', abs.n) == NULL;
    struct stat st;
    bool exists = named && stat(abs.p, &st) == 0;
    if (exists && S_ISDIR(st.st_mode) && o->default_filename) {
        tp_slice path = req->path;
        if (!path.n || path.p[path.n - 1] != '/') {
            /* "//host/" would be a protocol-relative URL: an open redirect. */
            if (path.n >= 2 && path.p[0] == '/' && path.p[1] == '/')
                return fail(h, 403, "cannot redirect path with two initial slashes",
                            TP_SLICE_LIT(""));
            tp_redirect(h, tp_arena_printf(a, "%.*s/", TP_SLICE_FMT(path)), true);
            return TP_DONE;
        }
        const char *df = o->default_filename;
        abs.p = df[0] == '/'
                    ? df
                    : tp_arena_printf(a, "%s%s%s", abs.p, abs.p[abs.n - 1] == '/' ? "" : "/", df);
        abs.n = strlen(abs.p);
        exists = stat(abs.p, &st) == 0;
    }
    if (!exists) {
        tp_send_error(h, 404);
        return TP_DONE;
    }
    if (!S_ISREG(st.st_mode))
        return fail(h, 403, " is not a file", rel);
    int fd = open(abs.p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        tp_log_error("Could not open static file '%s': %s", abs.p, strerror(errno));
        tp_send_error(h, errno == ENOENT ? 404 : 500);
        return TP_DONE;
    }
    *abs_out = abs;
    return fd;
}

static void set_number(tp_handler *h, const char *name, const char *fmt, uint64_t a, uint64_t b,
                       uint64_t c)
{
    char v[80];
    snprintf(v, sizeof(v), fmt, (unsigned long long)a, (unsigned long long)b,
             (unsigned long long)c);
    tp_set_header(h, name, v);
}

/* set_headers: Accept-Ranges, Etag (the version hash), Last-Modified, Content-Type, and for
 * a URL with a v argument a ten-year Expires and Cache-Control. */
static void set_headers(tp_handler *h, tp_slice abs, int fd, const struct stat *st)
{
    tp_arena *a = tp_handler_arena(h);
    tp_set_header(h, "Accept-Ranges", "bytes");
    const char *hash = version_hash(tp_handler_app(h), a, abs, fd, st);
    if (hash)
        tp_set_header(h, "Etag", tp_arena_printf(a, "\"%s\"", hash));
    char date[TP_HTTP_DATE_LEN + 1];
    tp_http_date_format(st->st_mtime, date);
    tp_set_header(h, "Last-Modified", date);
    tp_set_header(h, "Content-Type", tp_static_content_type(abs.p));
    if (tp_get_argument(h, "v", NULL)) {
        tp_http_date_format(time(NULL) + TP_STATIC_CACHE_MAX_AGE, date);
        tp_set_header(h, "Expires", date);
        set_number(h, "Cache-Control", "max-age=%llu", TP_STATIC_CACHE_MAX_AGE, 0, 0);
    }
}

/* should_return_304: If-None-Match decides alone when present (If-Modified-Since is then
 * ignored); else an If-Modified-Since date at or after the mtime (whole seconds). */
static bool not_modified(tp_handler *h, const struct stat *st)
{
    tp_request *req = tp_handler_request(h);
    tp_slice inm = tp_headers_get_joined(&req->headers, TP_SLICE_LIT("If-None-Match"));
    if (inm.n)
        return tp_check_etag_header(h); /* web/etag.c: the handlers' own matcher */
    tp_slice ims = tp_headers_get_joined(&req->headers, TP_SLICE_LIT("If-Modified-Since"));
    time_t since;
    return ims.p && tp_http_date_parse(ims.p, ims.n, &since) && since >= st->st_mtime;
}

static int serve(tp_handler *h, bool include_body)
{
    const tp_static_opts *o = tp_handler_route_data(h);
    tp_request *req = tp_handler_request(h);
    tp_slice rel = tp_path_arg(h, 0);
    if (!rel.p)
        rel = TP_SLICE_LIT("");
    if (!tp_utf8_valid(rel))
        return fail(h, 400, "Invalid unicode in url", TP_SLICE_LIT(""));
    tp_slice abs;
    int fd = open_file(h, o, rel, &abs);
    if (fd < 0)
        return TP_OK;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return TP_ERROR;
    }
    set_headers(h, abs, fd, &st);
    if (not_modified(h, &st)) {
        close(fd);
        tp_set_status(h, 304, NULL);
        tp_clear_header(h, "Content-Type"); /* a 304 has no representation headers */
        return TP_OK;
    }
    uint64_t size = (uint64_t)st.st_size, start = 0, end = size;
    tp_slice range = tp_headers_get_joined(&req->headers, TP_SLICE_LIT("Range"));
    tp_byte_range br;
    int status = range.n && tp_static_parse_range(range, &br)
                     ? tp_static_resolve_range(&br, size, &start, &end)
                     : 200;
    if (status == 416) {
        close(fd);
        tp_set_status(h, 416, NULL);
        tp_set_header(h, "Content-Type", "text/plain");
        set_number(h, "Content-Range", "bytes */%llu", size, 0, 0);
        return TP_OK;
    }
    if (status == 206) {
        tp_set_status(h, 206, NULL);
        set_number(h, "Content-Range", "bytes %llu-%llu/%llu", start, end - 1, size);
    }
    set_number(h, "Content-Length", "%llu", end - start, 0, 0);
    /* As Tornado's get(): the content is written and flushed (with Content-Length set that is
     * no chunking; under compress_response the gzip transform then streams it chunked) */
    if (include_body && end > start) {
        if (tp_write_file(h, fd, (off_t)start, (size_t)(end - start)) < 0)
            return TP_ERROR;
        tp_flush(h); /* a client gone meanwhile is the connection's business */
        return TP_OK;
    }
    close(fd);
    return TP_OK;
}

static int static_get(tp_handler *h)
{
    return serve(h, true);
}

static int static_head(tp_handler *h)
{
    return serve(h, false);
}

/* TP_NO_ETAG: the Etag is the version hash or none (compute_etag), never a hash of the body. */
const tp_handler_class tp_static_file_handler = {
    .name = "StaticFileHandler", .flags = TP_NO_ETAG, .get = static_get, .head = static_head};

/* ---- the static_path setting ------------------------------------------------------------- */

/* re.escape for PCRE2: every ASCII character that is not a letter, digit or '_' escaped. */
static char *escape_pattern(const char *s)
{
    size_t n = strlen(s);
    char *out = tp_malloc(2 * n + 8), *p = out;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x80 &&
            !(c == '_' || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z')))
            *p++ = '\\';
        *p++ = (char)c;
    }
    strcpy(p, "(.*)");
    return out;
}

/* Application.__init__ inserts the three routes at index 0 one after the other, so they end
 * up as robots.txt, favicon.ico, then the prefix, before every other route. */
int tp_app_add_static(tp_app *app, const char *static_path, const char *url_prefix)
{
    struct tp_static_files *sf = files_of(app);
    if (sf->static_path)
        return -EEXIST;
    if (!url_prefix)
        url_prefix = "/static/";
    char *pattern = escape_pattern(url_prefix);
    size_t before = app->nroutes;
    sf->opts = (tp_static_opts){static_path, NULL};
    int r = tp_app_route(app, "/(robots\\.txt)", &tp_static_file_handler, &sf->opts);
    if (r == 0)
        r = tp_app_route(app, "/(favicon\\.ico)", &tp_static_file_handler, &sf->opts);
    if (r == 0)
        r = tp_app_route(app, pattern, &tp_static_file_handler, &sf->opts);
    tp_free(pattern);
    if (r < 0)
        return r; /* cannot happen for an escaped prefix; the added routes stay harmless */
    tp_route added[3];
    memcpy(added, app->routes + before, sizeof(added));
    memmove(app->routes + 3, app->routes, before * sizeof(*app->routes));
    memcpy(app->routes, added, sizeof(added));
    sf->static_path = tp_strndup(static_path, strlen(static_path));
    sf->url_prefix = tp_strndup(url_prefix, strlen(url_prefix));
    sf->opts.path = sf->static_path;
    return 0;
}

/* make_static_url + get_version: the hash of abspath(join(static_path, path)), no check
 * that it is under static_path (Tornado does none either). */
char *tp_static_url(tp_app *app, tp_arena *a, const char *path, bool include_version)
{
    struct tp_static_files *sf = app->static_files;
    if (!sf || !sf->static_path)
        return NULL;
    if (!include_version)
        return tp_arena_printf(a, "%s%s", sf->url_prefix, path);
    tp_slice abs = tp_static_abspath(a, sf->static_path, tp_slice_cstr(path));
    int fd = open(abs.p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    const char *hash = NULL;
    if (fd < 0)
        tp_log_error("Could not open static file '%s': %s", abs.p, strerror(errno));
    else if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        hash = version_hash(app, a, abs, fd, &st);
    if (fd >= 0)
        close(fd);
    if (!hash)
        return tp_arena_printf(a, "%s%s", sf->url_prefix, path);
    return tp_arena_printf(a, "%s%s?v=%s", sf->url_prefix, path, hash);
}
