/* web/etag.c's If-None-Match matcher, which handlers (the automatic Etag) and
 * StaticFileHandler share: Tornado 6.5's check_etag_header. Every expected value is what
 * that function returns for the same header and Etag (re.findall(rb'\*|(?:W/)?"[^"]*"'),
 * "*" only as the first token, weak comparison), checked with Python 3.11. */
#include <stdbool.h>

#include "tests/unit/suites.h"
#include "web/web_internal.h"

typedef struct etag_case {
    const char *inm, *etag;
    bool match;
} etag_case;

static void check_cases(const etag_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(tp__etag_matches(tp_slice_cstr(cases[i].inm), tp_slice_cstr(cases[i].etag)) ==
                          cases[i].match,
                      "If-None-Match '%s' vs Etag %s: want %s", cases[i].inm, cases[i].etag,
                      cases[i].match ? "match" : "no match");
}

/* Tornado's CacheTest cases, and the findall scanning details (these were StaticFileHandler's
 * own matcher's cases). */
START_TEST(tornado_cache_cases)
{
    static const etag_case cases[] = {
        {"*", "\"abc\"", true},
        {"\"abc\"", "\"abc\"", true},
        {"W/\"abc\"", "\"abc\"", true},
        {"\"abc\"", "W/\"abc\"", true},
        {"\"xyz\"", "\"abc\"", false},
        {"\"xyz\", \"abc\"", "\"abc\"", true},
        {"\"xyz\",W/\"abc\"", "\"abc\"", true},
        {"\"xyz\", \"uvw\"", "\"abc\"", false},
        {"\"xyz\", *", "\"abc\"", false},
        {"junk *", "\"abc\"", true},
        {"abc", "\"abc\"", false},
        {"\"abc", "\"abc\"", false},
        {"*", "", false},
        {"", "\"abc\"", false},
        {"W/abc, \"abc\"", "\"abc\"", true},
    };
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

/* Weak and strong tags compare equal once W/ is dropped on both sides; the rest is exact. */
START_TEST(weak_comparison)
{
    static const etag_case cases[] = {
        {"W/\"abc\"", "W/\"abc\"", true}, {"*", "W/\"abc\"", true},
        {"\"abc\"", "\"ABC\"", false},   /* case matters */
        {"\"abc\"", "abc", false},       /* an unquoted Etag matches no tag */
        {"w/\"abc\"", "\"abc\"", true},  /* "w/" is junk; "abc" is a strong tag */
        {"W/ \"abc\"", "\"abc\"", true}, /* likewise "W/ " */
        {"W/W/\"abc\"", "\"abc\"", true}, {"\"\"", "\"\"", true},
    };
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

/* "*" counts only when it is the first token, wherever that starts. */
START_TEST(star_first)
{
    static const etag_case cases[] = {
        {"  *", "\"abc\"", true},          {", *", "\"abc\"", true},
        {"\"a*", "\"abc\"", true}, /* the quote never closes: the star is the first token */
        {"W/\"a*\", *", "\"abc\"", false}, {"\"abc\"*", "\"abc\"", true},
        {"\"xyz\"*", "\"abc\"", false},
    };
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

/* Lists as clients and proxies write them: spaces, tabs, no commas, quoted commas. */
START_TEST(lists)
{
    static const etag_case cases[] = {
        {"\"xyz\" ,  \"abc\"", "\"abc\"", true},
        {"\"xyz\",\t\"abc\"", "\"abc\"", true},
        {"\"x\" \"abc\"", "\"abc\"", true},
        {"\"a, b\"", "\"a, b\"", true}, /* a comma inside a tag is part of it */
        {"\"a, b\"", "\"a\"", false},
        {"\"xyz\", \"uvw\", W/\"abc\"", "W/\"abc\"", true},
    };
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

Suite *etag_suite(void)
{
    Suite *s = suite_create("etag");
    TCase *tc = tcase_create("if-none-match");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, tornado_cache_cases);
    tcase_add_test(tc, weak_comparison);
    tcase_add_test(tc, star_first);
    tcase_add_test(tc, lists);
    suite_add_tcase(s, tc);
    return s;
}
