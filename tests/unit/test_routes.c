/* web/routes.c and web/route_index.c: first match wins in table order whatever the literal
 * prefixes the index files routes under; host rules first; reverse_url as Tornado's
 * URLSpec.reverse (expected strings checked with Debian's Tornado 6.2). */
#include <string.h>

#include "core/arena.h"
#include "tests/unit/suites.h"
#include "web/web_internal.h"

static const tp_handler_class classes[16];

/* The index (in classes) of the route path matches on host, or -1. */
static int route_for(tp_app *app, const char *path, const char *host)
{
    tp_request req = {0};
    tp_arena_init(&req.arena, 1024);
    req.path = tp_slice_cstr(path);
    req.host_name = tp_slice_cstr(host ? host : "localhost");
    tp_slice *args;
    size_t nargs;
    const tp_route *r = tp__routes_match(app, &req, &args, &nargs);
    tp_arena_destroy(&req.arena);
    return r ? (int)(r->cls - classes) : -1;
}

static tp_app *app_of(const char *const *patterns, size_t n)
{
    tp_app *app = tp_app_new();
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(tp_app_route(app, patterns[i], &classes[i], NULL), 0);
    return app;
}

START_TEST(first_match_wins_in_table_order)
{
    static const char *const p[] = {"/a/(.*)", "/a/b",       "/(.*)",  "/",       "/ab?c", "/x|/y",
                                    "/q\\.r",  "/(?i:CASE)", "/d\\d+", "/star*s", "/[ab]z"};
    tp_app *app = app_of(p, sizeof(p) / sizeof(p[0]));
    static const struct {
        const char *path;
        int want;
    } cases[] = {
        {"/a/b", 0}, {"/a/", 0},  {"/ab", 2},   {"/", 2}, {"/ac", 2},
        {"/x", 2},   {"/q.r", 2}, {"/case", 2}, {"", -1}, {"x", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(route_for(app, cases[i].path, NULL) == cases[i].want, "%s: %d, want %d",
                      cases[i].path, route_for(app, cases[i].path, NULL), cases[i].want);
    tp_app_free(app);
}
END_TEST

/* Without the catch-alls the later routes are reached: their prefixes must not hide them. */
START_TEST(literal_prefixes_do_not_hide_routes)
{
    static const char *const p[] = {"/ab?c",   "/x|/y",        "/q\\.r",     "/(?i:CASE)", "/d\\d+",
                                    "/star*s", "/[ab]z",       "^/anchored", "/plus+",     "/",
                                    "/a/b",    "/br\\{ace\\}", "/bs\\\\x"};
    tp_app *app = app_of(p, sizeof(p) / sizeof(p[0]));
    static const struct {
        const char *path;
        int want;
    } cases[] = {
        {"/ac", 0},      {"/abc", 0},  {"/x", 1},    {"/y", 1},        {"/q.r", 2},
        {"/qxr", -1},    {"/CaSe", 3}, {"/d12", 4},  {"/d", -1},       {"/stas", 5},
        {"/starrrs", 5}, {"/az", 6},   {"/bz", 6},   {"/anchored", 7}, {"/plusss", 8},
        {"/plu", -1},    {"/", 9},     {"/a/b", 10}, {"/a/b/", -1},    {"/br{ace}", 11},
        {"/bs\\x", 12},  {"/bsx", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(route_for(app, cases[i].path, NULL) == cases[i].want, "%s: %d, want %d",
                      cases[i].path, route_for(app, cases[i].path, NULL), cases[i].want);
    tp_app_free(app);
}
END_TEST

START_TEST(index_follows_added_routes)
{
    static const char *const p[] = {"/one"};
    tp_app *app = app_of(p, 1);
    ck_assert_int_eq(route_for(app, "/two", NULL), -1);
    ck_assert_int_eq(tp_app_route(app, "/two", &classes[1], NULL), 0);
    ck_assert_int_eq(route_for(app, "/two", NULL), 1);
    ck_assert_int_eq(route_for(app, "/one", NULL), 0);
    tp_app_free(app);
}
END_TEST

START_TEST(many_routes)
{
    tp_app *app = tp_app_new();
    char pat[64];
    for (int i = 0; i < 200; i++) {
        snprintf(pat, sizeof(pat), "/api/v1/items%d/(\\d+)", i);
        ck_assert_int_eq(tp_app_route(app, pat, &classes[i % 16], NULL), 0);
    }
    ck_assert_int_eq(tp_app_route(app, "/api/(.*)", &classes[15], NULL), 0);
    ck_assert_int_eq(route_for(app, "/api/v1/items17/5", NULL), 17 % 16);
    ck_assert_int_eq(route_for(app, "/api/v1/items199/5", NULL), 199 % 16);
    ck_assert_int_eq(route_for(app, "/api/v1/items1/x", NULL), 15);
    ck_assert_int_eq(route_for(app, "/other", NULL), -1);
    tp_app_free(app);
}
END_TEST

START_TEST(host_rules_first)
{
    tp_app *app = tp_app_new();
    ck_assert_int_eq(tp_app_route(app, "/h", &classes[0], NULL), 0);
    ck_assert_int_eq(
        tp_app_add_route(app, &(tp_route_spec){"/h", &classes[1], NULL, NULL, "(www\\.)?ex\\.com"}),
        0);
    ck_assert_int_eq(route_for(app, "/h", "ex.com"), 1);
    ck_assert_int_eq(route_for(app, "/h", "www.ex.com"), 1);
    ck_assert_int_eq(route_for(app, "/h", "ex.com.evil"), 0);
    ck_assert_int_eq(route_for(app, "/h", "other"), 0);
    tp_app_free(app);
}
END_TEST

static const char *reverse(tp_app *app, tp_arena *a, const char *name, size_t n, const char *a0,
                           const char *a1)
{
    const char *args[2] = {a0, a1};
    return tp_reverse_url(app, a, name, n, args);
}

START_TEST(reverse_url_as_tornado)
{
    tp_app *app = tp_app_new();
    static const tp_route_spec specs[] = {
        {"/user/(\\d+)/([a-z ]+)", &classes[0], NULL, "user", NULL},
        {"/files/(.*)", &classes[1], NULL, "files", NULL},
        {"/re/\\d+", &classes[2], NULL, "regex", NULL},
        {"^/esc\\.aped/(\\w+)$", &classes[3], NULL, "esc", NULL},
        {"/nested/((a)b)", &classes[4], NULL, "nested", NULL},
        {"/plain", &classes[5], NULL, "plain", NULL},
    };
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
        ck_assert_int_eq(tp_app_add_route(app, &specs[i]), 0);
    tp_arena a;
    tp_arena_init(&a, 1024);
    ck_assert_str_eq(reverse(app, &a, "user", 2, "42", "a b/c"), "/user/42/a%20b/c");
    ck_assert_str_eq(reverse(app, &a, "files", 1, "x?y=1&z=é", NULL),
                     "/files/x%3Fy%3D1%26z%3D%C3%A9");
    ck_assert_str_eq(reverse(app, &a, "esc", 1, "v", NULL), "/esc.aped/v");
    ck_assert_str_eq(reverse(app, &a, "plain", 0, NULL, NULL), "/plain");
    ck_assert_ptr_null(reverse(app, &a, "regex", 0, NULL, NULL)); /* \d: cannot reverse */
    ck_assert_ptr_null(reverse(app, &a, "nested", 1, "ab", NULL));
    ck_assert_ptr_null(reverse(app, &a, "user", 1, "42", NULL)); /* argument count */
    ck_assert_ptr_null(reverse(app, &a, "missing", 0, NULL, NULL));
    tp_arena_destroy(&a);
    tp_app_free(app);
}
END_TEST

Suite *routes_suite(void)
{
    Suite *s = suite_create("routes");
    TCase *tc = tcase_create("routes");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, first_match_wins_in_table_order);
    tcase_add_test(tc, literal_prefixes_do_not_hide_routes);
    tcase_add_test(tc, index_follows_added_routes);
    tcase_add_test(tc, many_routes);
    tcase_add_test(tc, host_rules_first);
    tcase_add_test(tc, reverse_url_as_tornado);
    suite_add_tcase(s, tc);
    return s;
}
