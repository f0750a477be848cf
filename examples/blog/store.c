#include "examples/blog/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "tp.h"

/* A file larger than this is not read (a demo store; a real one would use a database). */
#define STORE_FILE_MAX (64L << 20)

static struct {
    char *path; /* NULL: memory only */
    blog_post *posts;
    size_t n, cap;
    /* What was read: the file's identity, and how far (complete lines only). */
    dev_t dev;
    ino_t ino;
    off_t offset;
    struct timespec mtime;
} S;

static void post_free(blog_post *p)
{
    tp_free(p->slug);
    tp_free(p->title);
    tp_free(p->body);
    tp_free(p->author);
}

static void store_clear(void)
{
    for (size_t i = 0; i < S.n; i++)
        post_free(&S.posts[i]);
    S.n = 0;
    S.offset = 0;
}

static blog_post *find(tp_slice slug)
{
    for (size_t i = 0; i < S.n; i++)
        if (strlen(S.posts[i].slug) == slug.n && !memcmp(S.posts[i].slug, slug.p, slug.n))
            return &S.posts[i];
    return NULL;
}

static char *dup_str(const char *s)
{
    return tp_strndup(s, strlen(s));
}

/* A new post, or an edit of an existing one (which keeps its place and publication time). */
static void apply(const char *slug, const char *title, const char *body, const char *author,
                  time_t t)
{
    blog_post *p = find(tp_slice_cstr(slug));
    if (p) {
        tp_free(p->title), tp_free(p->body), tp_free(p->author);
    } else {
        if (S.n == S.cap) {
            S.cap = S.cap ? S.cap * 2 : 16;
            S.posts = tp_realloc(S.posts, S.cap * sizeof(*S.posts));
        }
        p = &S.posts[S.n++];
        p->slug = dup_str(slug);
        p->published = t;
    }
    p->title = dup_str(title);
    p->body = dup_str(body);
    p->author = dup_str(author);
    p->updated = t;
}

static bool slug_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > BLOG_SLUG_MAX)
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* A string member without NUL bytes of at most max bytes, or NULL. */
static const char *member(json_t *o, const char *key, size_t max)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    return n <= max && strlen(s) == n ? s : NULL;
}

static void apply_line(const char *line, size_t n, off_t at)
{
    json_error_t err;
    json_t *o = json_loadb(line, n, 0, &err);
    const char *slug = o ? member(o, "slug", BLOG_SLUG_MAX) : NULL;
    const char *title = o ? member(o, "title", BLOG_TITLE_MAX) : NULL;
    const char *body = o ? member(o, "body", BLOG_BODY_MAX) : NULL;
    const char *author = o ? member(o, "author", 256) : NULL;
    json_t *t = o ? json_object_get(o, "time") : NULL;
    if (slug && slug_valid(slug) && title && body && author && json_is_integer(t))
        apply(slug, title, body, author, (time_t)json_integer_value(t));
    else
        tp_log_warning("%s: bad record at byte %lld skipped", S.path, (long long)at);
    json_decref(o);
}

/* Applies the complete lines of buf; returns how many bytes they take. */
static size_t apply_lines(const char *buf, size_t n, off_t base)
{
    size_t done = 0;
    for (;;) {
        const char *nl = memchr(buf + done, '\n', n - done);
        if (!nl)
            return done;
        size_t len = (size_t)(nl - (buf + done));
        if (len > 0)
            apply_line(buf + done, len, base + (off_t)done);
        done += len + 1;
    }
}

/* Reads what was appended since S.offset (all of it after a reset). fd is locked. */
static int read_tail(int fd, const struct stat *st)
{
    if (st->st_size > STORE_FILE_MAX) {
        tp_log_error("%s: over %ld bytes, not read", S.path, STORE_FILE_MAX);
        return -EFBIG;
    }
    size_t n = (size_t)(st->st_size - S.offset), got = 0;
    char *buf = tp_malloc(n);
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, S.offset + (off_t)got);
        if (r <= 0) {
            n = got; /* truncated meanwhile: use what is there */
            break;
        }
        got += (size_t)r;
    }
    S.offset += (off_t)apply_lines(buf, n, S.offset);
    tp_free(buf);
    return 0;
}

static bool same_file(const struct stat *st)
{
    return st->st_dev == S.dev && st->st_ino == S.ino;
}

static bool unchanged(const struct stat *st)
{
    return same_file(st) && st->st_size == S.offset && st->st_mtim.tv_sec == S.mtime.tv_sec &&
           st->st_mtim.tv_nsec == S.mtime.tv_nsec;
}

/* Brings the posts up to date with the file open on fd, which the caller has locked. */
static int refresh_fd(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (unchanged(&st))
        return 0;
    /* Appends only grow a file: anything else (a new file, a shorter one, a rewrite of the
     * same size) is read again from the start. */
    if (!same_file(&st) || st.st_size < S.offset || st.st_size == S.offset)
        store_clear();
    S.dev = st.st_dev;
    S.ino = st.st_ino;
    S.mtime = st.st_mtim;
    return read_tail(fd, &st);
}

int blog_store_refresh(void)
{
    struct stat st;
    if (!S.path)
        return 0;
    if (stat(S.path, &st) < 0) {
        int e = errno;
        if (e == ENOENT && S.ino) /* removed: the store is empty again */
            store_clear(), S.ino = 0;
        return e == ENOENT ? 0 : -e;
    }
    if (unchanged(&st))
        return 0;
    int fd = open(S.path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    int r = flock(fd, LOCK_SH) < 0 ? -errno : refresh_fd(fd);
    close(fd);
    if (r < 0)
        tp_log_error("%s: cannot read: %s", S.path, strerror(-r));
    return r;
}

int blog_store_open(const char *path)
{
    blog_store_close();
    S.path = path ? dup_str(path) : NULL;
    return blog_store_refresh();
}

void blog_store_close(void)
{
    store_clear();
    tp_free(S.posts);
    tp_free(S.path);
    memset(&S, 0, sizeof(S));
}

size_t blog_store_count(void)
{
    return S.n;
}

const blog_post *blog_store_newest(size_t i)
{
    return i < S.n ? &S.posts[S.n - 1 - i] : NULL;
}

const blog_post *blog_store_find(tp_slice slug)
{
    return find(slug);
}

void blog_slugify(const char *title, char *out)
{
    size_t n = 0;
    bool dash = false;
    for (const unsigned char *s = (const unsigned char *)title; *s && n < BLOG_SLUG_MAX; s++) {
        bool alnum =
            (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9');
        if (!alnum) {
            dash = n > 0;
            continue;
        }
        if (dash && n + 1 < BLOG_SLUG_MAX)
            out[n++] = '-';
        dash = false;
        out[n++] = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
    }
    out[n] = 0;
    if (n == 0)
        strcpy(out, "post");
}

/* title's slug, with "-2", "-3"... until no post has it. */
static void unique_slug(const char *title, char *out)
{
    char base[BLOG_SLUG_MAX + 1];
    blog_slugify(title, base);
    snprintf(out, BLOG_SLUG_MAX + 1, "%s", base);
    for (unsigned i = 2; find(tp_slice_cstr(out)); i++) {
        char suffix[16];
        int k = snprintf(suffix, sizeof(suffix), "-%u", i);
        snprintf(out, BLOG_SLUG_MAX + 1, "%.*s%s", BLOG_SLUG_MAX - k, base, suffix);
    }
}

static char *record(const char *slug, const char *title, const char *body, const char *author,
                    time_t t)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "slug", slug, "title", title, "body", body,
                          "author", author, "time", (json_int_t)t);
    char *line = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return line;
}

/* One write(2) of the whole line to an O_APPEND file under LOCK_EX: readers (LOCK_SH) never
 * see half a record, and two workers never interleave theirs. */
static int append_line(int fd, const char *line)
{
    size_t n = strlen(line);
    char *buf = tp_malloc(n + 1);
    memcpy(buf, line, n);
    buf[n] = '\n';
    ssize_t w = write(fd, buf, n + 1);
    int r = w == (ssize_t)(n + 1) ? 0 : w < 0 ? -errno : -EIO;
    tp_free(buf);
    return r;
}

/* Picks the slug (a new one must be unique among the posts as of now) and writes the record:
 * to the file (then read back by refresh_fd, as other workers will), or to memory. */
static int save_locked(int fd, const char *slug, const char *title, const char *body,
                       const char *author, char *slug_out)
{
    if (slug && !find(tp_slice_cstr(slug)))
        return -ENOENT;
    if (slug)
        snprintf(slug_out, BLOG_SLUG_MAX + 1, "%s", slug);
    else
        unique_slug(title, slug_out);
    time_t now = time(NULL);
    if (fd < 0)
        return apply(slug_out, title, body, author, now), 0;
    char *line = record(slug_out, title, body, author, now);
    if (!line)
        return -EINVAL; /* not UTF-8 (arguments are checked before) */
    int r = append_line(fd, line);
    json_free_t free_fn;
    json_get_alloc_funcs(NULL, &free_fn); /* json_dumps allocates with jansson's allocator */
    free_fn(line);
    return r < 0 ? r : refresh_fd(fd);
}

int blog_store_save(const char *slug, const char *title, const char *body, const char *author,
                    char *slug_out)
{
    if (!S.path)
        return save_locked(-1, slug, title, body, author, slug_out);
    int fd = open(S.path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        tp_log_error("%s: cannot open for writing: %s", S.path, strerror(e));
        return -e;
    }
    int r = flock(fd, LOCK_EX) < 0 ? -errno : refresh_fd(fd);
    if (r == 0)
        r = save_locked(fd, slug, title, body, author, slug_out);
    close(fd);
    if (r < 0 && r != -ENOENT)
        tp_log_error("%s: cannot save: %s", S.path, strerror(-r));
    return r;
}
