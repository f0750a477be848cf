/* StaticFileHandler: files under a root directory, with Tornado 6.5's path checks, ETag and
 * Last-Modified validators, single byte ranges and versioned URLs (static_url). Bodies go out
 * with sendfile(2); only the version hash (SHA-512 of the content) reads the whole file, in
 * chunks, once per path and stat signature. */
#ifndef TP_WEB_STATIC_H
#define TP_WEB_STATIC_H

#include "platform/api.h"

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/slice.h"
#include "web/app.h"
#include "web/handler.h"

/* Tornado's StaticFileHandler.CACHE_MAX_AGE: what a request with a ?v= argument is told. */
#define TP_STATIC_CACHE_MAX_AGE (86400L * 365 * 10)
/* Hex digits of a version hash (SHA-512). */
#define TP_STATIC_HASH_LEN 128

/* Route data of tp_static_file_handler (Tornado's initialize(path, default_filename)): root
 * directory, and the file served for a directory (NULL: directories are 403). The route's
 * first group is the path under root. Must outlive the app. */
typedef struct tp_static_opts {
    const char *path;
    const char *default_filename;
} tp_static_opts;

/* GET and HEAD of files under tp_static_opts.path. */
TP_API extern const tp_handler_class tp_static_file_handler;

/* Tornado's static_path setting: serves static_path at url_prefix (NULL: "/static/") with
 * routes "<prefix>(.*)", "/(favicon\.ico)" and "/(robots\.txt)" put in front of the routes
 * added so far, and remembers both for tp_static_url. Strings are copied. 0, -EEXIST when
 * called twice, -EINVAL if a route does not compile. */
TP_API int tp_app_add_static(tp_app *app, const char *static_path, const char *url_prefix);
/* Tornado's static_url/make_static_url: url_prefix + path, plus "?v=<sha512 hex>" when
 * include_version and the file can be read. Allocated in a; NULL without tp_app_add_static. */
TP_API char *tp_static_url(tp_app *app, tp_arena *a, const char *path, bool include_version);

/* ---- building blocks (web/static/util.c), pure functions the handler is made of ---------- */

/* What a Range header asks for, as Tornado's httputil._parse_request_range returns it
 * (Python slice indices: start < 0 counts from the end; has_* false for None). */
typedef struct tp_byte_range {
    int64_t start, end;
    bool has_start, has_end;
} tp_byte_range;

/* Parses "bytes=a-b" / "bytes=a-" / "bytes=-n" (Python int() syntax for the numbers). false
 * when the header must be ignored (other unit, several ranges, junk): the whole file. */
TP_API bool tp_static_parse_range(tp_slice header, tp_byte_range *out);
/* Applies a parsed range to a file of size bytes as StaticFileHandler.get does: 200 (the
 * whole file), 206 (part, [*start, *end)) or 416 (not satisfiable). */
TP_API int tp_static_resolve_range(const tp_byte_range *r, uint64_t size, uint64_t *start,
                                   uint64_t *end);
/* Content-Type Tornado sends for path (mimetypes.guess_type on this name; ".gz" encodings
 * give application/gzip, other encodings and unknown types application/octet-stream). */
TP_API const char *tp_static_content_type(const char *path);
/* Python's os.path.abspath(os.path.join(root, rel)) (lexical: symlinks are not resolved;
 * a relative root is taken from the current directory). The result is NUL-terminated in a,
 * and may hold NUL bytes of rel (its length counts them). */
TP_API tp_slice tp_static_abspath(tp_arena *a, const char *root, tp_slice rel);
/* Tornado's validate_absolute_path root test: abs + "/" starts with root_abs + "/" (root
 * "/" accepts everything). root_abs is an abspath result. */
TP_API bool tp_static_in_root(tp_slice root_abs, tp_slice abs);
/* SHA-512 hex of the first size bytes of fd, read with pread in 64 KiB chunks, into
 * out[TP_STATIC_HASH_LEN + 1]. 0, -EIO if the file is shorter, or -errno. */
TP_API int tp_static_hash_fd(int fd, uint64_t size, char *out);

#endif
