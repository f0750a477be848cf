/* web/static/static.h building blocks. The expected values were generated once with Debian's
 * Python 3.11 and Tornado 6.2 (httputil._parse_request_range followed by the range logic of
 * StaticFileHandler.get for a 20-byte file; mimetypes.guess_type as get_content_type uses it;
 * posixpath.abspath(posixpath.join(root, rel))) and pasted here as literals. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "web/static/static.h"
#include "tests/unit/suites.h"

#define N(v) (sizeof(v) / sizeof((v)[0]))
#define HASH_200K                                                                                  \
    "251276bec7ec8a9792e3c5c581f15a8c82453b37941a26617fe2fed4e757a11f8ecd7667fc391298c2792e14f19"  \
    "231d2efe31410b898ea43e494bf83f7092dfa"

typedef struct range_case {
    const char *header;
    bool parsed;
    int status;
    uint64_t start, end;
} range_case;

static const range_case ranges[] = {
    {"bytes=0-4", true, 206, 0, 5},
    {"bytes=5-", true, 206, 5, 20},
    {"bytes=-5", true, 206, 15, 20},
    {"bytes=-100", true, 200, 0, 20},
    {"bytes=0-", true, 200, 0, 20},
    {"bytes=0-1000", true, 200, 0, 20},
    {"bytes=19-19", true, 206, 19, 20},
    {"bytes=20-", true, 416, 0, 0},
    {"bytes=-0", true, 416, 0, 0},
    {"bytes=5-2", true, 416, 0, 0},
    {"bytes=5-4", true, 416, 0, 0},
    {"bytes=0-1,3-4", false, 0, 0, 0},
    {"bytes=abc", false, 0, 0, 0},
    {"items=0-4", false, 0, 0, 0},
    {"bytes=", true, 200, 0, 20},
    {"bytes", true, 200, 0, 20},
    {" bytes = 2 - 3 ", true, 206, 2, 4},
    {"bytes=+2-3", true, 206, 2, 4},
    {"bytes=1_0-", true, 206, 10, 20},
    {"bytes=1__0-", false, 0, 0, 0},
    {"bytes=_1-", false, 0, 0, 0},
    {"bytes=--5", true, 206, 5, 20},
    {"bytes=5--3", true, 416, 0, 0},
    {"Bytes=0-4", false, 0, 0, 0},
    {"bytes=-", true, 200, 0, 20},
    {"bytes=99999999999999999999999-", true, 416, 0, 0},
    {"bytes=0-99999999999999999999", true, 200, 0, 20},
    {"bytes=-99999999999999999999", true, 200, 0, 20},
    {"bytes=\t3-\t4", true, 206, 3, 5},
    {"bytes=3-4 ", true, 206, 3, 5},
    {"bytes=1-2-3", false, 0, 0, 0},
    {"bytes=+-3", false, 0, 0, 0},
    {"=0-4", false, 0, 0, 0},
    {"", false, 0, 0, 0},
};

START_TEST(range_table)
{
    for (size_t i = 0; i < N(ranges); i++) {
        const range_case *c = &ranges[i];
        tp_byte_range r;
        bool parsed = tp_static_parse_range(tp_slice_cstr(c->header), &r);
        ck_assert_msg(parsed == c->parsed, "row %zu '%s': parsed %d", i, c->header, parsed);
        if (!parsed)
            continue;
        uint64_t start = 0, end = 0;
        int status = tp_static_resolve_range(&r, 20, &start, &end);
        ck_assert_msg(status == c->status, "row %zu '%s': status %d, want %d", i, c->header, status,
                      c->status);
        if (status != 416)
            ck_assert_msg(start == c->start && end == c->end, "row %zu '%s': [%llu, %llu)", i,
                          c->header, (unsigned long long)start, (unsigned long long)end);
    }
}
END_TEST

/* An empty file satisfies no range that has a start; "bytes=" is the whole (empty) file. */
START_TEST(range_empty_file)
{
    static const char *const unsatisfiable[] = {"bytes=0-", "bytes=-5", "bytes=0-0"};
    tp_byte_range r;
    uint64_t s, e;
    for (size_t i = 0; i < N(unsatisfiable); i++) {
        ck_assert(tp_static_parse_range(tp_slice_cstr(unsatisfiable[i]), &r));
        ck_assert_int_eq(tp_static_resolve_range(&r, 0, &s, &e), 416);
    }
    ck_assert(tp_static_parse_range(TP_SLICE_LIT("bytes="), &r));
    ck_assert_int_eq(tp_static_resolve_range(&r, 0, &s, &e), 200);
    ck_assert(s == 0 && e == 0);
}
END_TEST

static const struct {
    const char *path, *type;
} types[] = {
    {"/r/a.txt", "text/plain"},
    {"/r/A.TXT", "text/plain"},
    {"/r/a.html", "text/html"},
    {"/r/x.tar.gz", "application/gzip"},
    {"/r/x.TGZ", "application/gzip"},
    {"/r/x.tgz", "application/gzip"},
    {"/r/x.GZ", "application/gzip"},
    {"/r/x.Gz", "application/gzip"},
    {"/r/x.gz", "application/gzip"},
    {"/r/x.bz2", "application/octet-stream"},
    {"/r/x.tbz2", "application/octet-stream"},
    {"/r/x.Z", "application/octet-stream"},
    {"/r/x.z", "application/octet-stream"},
    {"/r/x.br", "application/octet-stream"},
    {"/r/x.xz", "application/octet-stream"},
    {"/r/x.XZ", "application/x-xz"},
    {"/r/x.svgz", "application/gzip"},
    {"/r/.gz", "application/octet-stream"},
    {"/r/..gz", "application/octet-stream"},
    {"/r/...txt", "application/octet-stream"},
    {"/r/.hidden", "application/octet-stream"},
    {"/r/noext", "application/octet-stream"},
    {"/r/dir.d/noext", "application/octet-stream"},
    {"/r/a.unknownext", "application/octet-stream"},
    {"/r/a.js", "text/javascript"},
    {"/r/a.json", "application/json"},
    {"/r/a.woff2", "font/woff2"},
    {"/r/a.svg", "image/svg+xml"},
    {"/r/a.", "application/octet-stream"},
    {"/r/a.txt.gz", "application/gzip"},
    {"/r/a.verylongextensionname", "application/octet-stream"},
    {"/r/a.PNG", "image/png"},
};

START_TEST(content_types)
{
    for (size_t i = 0; i < N(types); i++) {
        const char *got = tp_static_content_type(types[i].path);
        ck_assert_msg(strcmp(got, types[i].type) == 0, "%s: got %s, want %s", types[i].path, got,
                      types[i].type);
    }
}
END_TEST

static const struct {
    const char *root, *rel, *abs;
} paths[] = {
    {"/srv/static", "", "/srv/static"},
    {"/srv/static", "a/b.txt", "/srv/static/a/b.txt"},
    {"/srv/static", "../x", "/srv/x"},
    {"/srv/static", "a/../../x", "/srv/x"},
    {"/srv/static", "/etc/passwd", "/etc/passwd"},
    {"/srv/static/", "a//b/./c/", "/srv/static/a/b/c"},
    {"/srv/static", "//etc/passwd", "//etc/passwd"},
    {"/srv/static", "///etc/passwd", "/etc/passwd"},
    {"/", "x/..", "/"},
    {"/srv/static", "a/..", "/srv/static"},
    {"/srv/./static/..", "a", "/srv/a"},
    {"/srv/static", "....", "/srv/static/...."},
    {"/srv/static", "../../../../..", "/"},
    {"//srv", "a", "//srv/a"},
};

START_TEST(abspath_table)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    for (size_t i = 0; i < N(paths); i++) {
        tp_slice got = tp_static_abspath(&a, paths[i].root, tp_slice_cstr(paths[i].rel));
        ck_assert_msg(tp_slice_eq(got, tp_slice_cstr(paths[i].abs)) && got.p[got.n] == '\0',
                      "join(%s, %s): got '%.*s', want '%s'", paths[i].root, paths[i].rel,
                      TP_SLICE_FMT(got), paths[i].abs);
    }
    tp_arena_destroy(&a);
}
END_TEST

/* A relative root is taken from the current directory; NUL bytes of rel are kept (and
 * counted) so the caller can refuse them. */
START_TEST(abspath_relative_and_nul)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    char cwd[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
    tp_slice got = tp_static_abspath(&a, "static", TP_SLICE_LIT("x/../y.txt"));
    char *want = tp_arena_printf(&a, "%s/static/y.txt", strcmp(cwd, "/") ? cwd : "");
    ck_assert_str_eq(got.p, want);
    got = tp_static_abspath(&a, "/r", (tp_slice){"a\0b", 3});
    ck_assert(got.n == 6 && memcmp(got.p, "/r/a\0b", 6) == 0);
    tp_arena_destroy(&a);
}
END_TEST

START_TEST(in_root)
{
    static const struct {
        const char *root, *abs;
        bool in;
    } cases[] = {
        {"/srv/static", "/srv/static", true},
        {"/srv/static", "/srv/static/a", true},
        {"/srv/static", "/srv/staticx/a", false},
        {"/srv/static", "/srv", false},
        {"/srv/static", "/srv/stati", false},
        {"/", "/etc/passwd", true},
        {"/", "/", true},
        {"//", "/", true},
        {"/srv/static", "//srv/static/a", false},
        {"/srv/static", "/srv/static/../x", true},
    };
    for (size_t i = 0; i < N(cases); i++)
        ck_assert_msg(tp_static_in_root(tp_slice_cstr(cases[i].root),
                                        tp_slice_cstr(cases[i].abs)) == cases[i].in,
                      "%s in %s", cases[i].abs, cases[i].root);
}
END_TEST

/* sha512 of "" and of 200,000 bytes "i % 251" (past several 64 KiB chunks), by hashlib. */
START_TEST(hash_fd)
{
    char name[] = "/tmp/tp-static-hash-XXXXXX";
    int fd = mkstemp(name);
    ck_assert_int_ge(fd, 0);
    unlink(name);
    char hex[TP_STATIC_HASH_LEN + 1];
    ck_assert_int_eq(tp_static_hash_fd(fd, 0, hex), 0);
    ck_assert_str_eq(hex, "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d1"
                          "3c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
    static char data[200000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)(i % 251);
    ck_assert_int_eq(write(fd, data, sizeof(data)), (int)sizeof(data));
    ck_assert_int_eq(tp_static_hash_fd(fd, sizeof(data), hex), 0);
    ck_assert_str_eq(hex, HASH_200K);
    ck_assert_int_eq(tp_static_hash_fd(fd, sizeof(data) + 1, hex), -EIO); /* file shorter */
    close(fd);
}
END_TEST

Suite *static_suite(void)
{
    Suite *s = suite_create("static");
    TCase *tc = tcase_create("static");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, range_table);
    tcase_add_test(tc, range_empty_file);
    tcase_add_test(tc, content_types);
    tcase_add_test(tc, abspath_table);
    tcase_add_test(tc, abspath_relative_and_nul);
    tcase_add_test(tc, in_root);
    tcase_add_test(tc, hash_fd);
    suite_add_tcase(s, tc);
    return s;
}
