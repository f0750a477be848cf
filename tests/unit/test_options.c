/* tornado.options in C (core/options.h): the C-meaningful cases of Tornado's options_test.py
 * (command line, config files, types, multiple, callbacks, dashes and underscores, --help
 * against Tornado's own output) and the config-file parser's errors. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/options.h"
#include "tests/unit/options_help_expected.h"
#include "tests/unit/suites.h"

/* ---- the options of tests/unit/gen_options_help.py --------------------------------------- */

typedef struct demo {
    int port, a_very_long_option_name_that_is_long, nohelp;
    double ratio, timeout, half;
    bool debug;
    const char *name, *url, *off;
    tp_opt_list items, tags;
    struct tm when;
} demo;

#define D(n_, t_, h_) .name = #n_, .type = t_, .offset = offsetof(demo, n_), .help = h_
static const tp_option alpha[] = {
    {D(port, TP_OPT_INT, "the port to listen on"), .metavar = "PORT"},
    {D(ratio, TP_OPT_DOUBLE,
       "a ratio used for something moderately long so that it needs wrapping over lines")},
    {D(debug, TP_OPT_BOOL,
       "run in debug mode; a non-blocking well-known "
       "multi-word-hyphenated explanation follows here")},
    {D(name, TP_OPT_STRING, "no default shown")},
    {D(url, TP_OPT_STRING,
       "see https://example.com/a/very/long/path/that/does/not/fit/in/one/line/at/all ok")},
    {D(a_very_long_option_name_that_is_long, TP_OPT_INT, "long name")},
    {D(items, TP_OPT_INT, "list of ints"), .multiple = true},
    {D(nohelp, TP_OPT_INT, NULL)},
};
static const tp_option beta[] = {
    {D(timeout, TP_OPT_DURATION, "a duration")},        {D(when, TP_OPT_DATETIME, "a date")},
    {D(tags, TP_OPT_STRING, "tags"), .multiple = true}, {D(off, TP_OPT_STRING, "none default")},
    {D(half, TP_OPT_DURATION, NULL), .metavar = "D"},
};

static demo dv;
static const char *default_tags[] = {"a", "b"};
/* Deliberately listed out of order: --help sorts groups by title. */
static tp_option_group demo_groups[] = {
    {"beta", beta, sizeof(beta) / sizeof(beta[0]), &dv},
    {"alpha", alpha, sizeof(alpha) / sizeof(alpha[0]), &dv},
};

static void demo_defaults(void)
{
    dv = (demo){.port = 8888,
                .ratio = 1.5,
                .name = "",
                .url = "x",
                .a_very_long_option_name_that_is_long = 1,
                .nohelp = 3,
                .timeout = 90,
                .when = {.tm_year = 113, .tm_mon = 3, .tm_mday = 28, .tm_hour = 5, .tm_min = 16},
                .tags = {2, default_tags},
                .half = 2 * 86400 + 1.5};
}

static char err[512];

static int cmdline(tp_option_group *g, size_t ng, int *rest, ...)
{
    char *argv[32] = {"main.py"};
    int argc = 1;
    va_list ap;
    va_start(ap, rest);
    for (const char *a; (a = va_arg(ap, const char *));)
        argv[argc++] = (char *)a;
    va_end(ap);
    int r0;
    err[0] = '\0';
    return tp_options_parse(g, ng, argc, argv, rest ? rest : &r0, err, sizeof(err));
}

static int config(tp_option_group *g, size_t ng, const char *text)
{
    err[0] = '\0';
    return tp_options_parse_config_text(g, ng, "test.cfg", text, strlen(text), err, sizeof(err));
}

START_TEST(help_matches_tornado)
{
    demo_defaults();
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    tp_options_print_usage(demo_groups, 2, "prog", f);
    fclose(f);
    ck_assert_str_eq(text, options_help_expected);
    free(text);
}
END_TEST

/* ---- options_test.py's types -------------------------------------------------------------- */

typedef struct types {
    const char *str, *basestring;
    int i;
    double f, td;
    struct tm dt;
    tp_opt_list list_of_int, list_of_str;
} types;

static types tv;
static const tp_option type_opts[] = {
    {.name = "str", .type = TP_OPT_STRING, .offset = offsetof(types, str)},
    {.name = "basestring", .type = TP_OPT_STRING, .offset = offsetof(types, basestring)},
    {.name = "int", .type = TP_OPT_INT, .offset = offsetof(types, i)},
    {.name = "float", .type = TP_OPT_DOUBLE, .offset = offsetof(types, f)},
    {.name = "datetime", .type = TP_OPT_DATETIME, .offset = offsetof(types, dt)},
    {.name = "timedelta", .type = TP_OPT_DURATION, .offset = offsetof(types, td)},
    {.name = "list-of-int",
     .type = TP_OPT_INT,
     .offset = offsetof(types, list_of_int),
     .multiple = true},
    {.name = "list-of-str",
     .type = TP_OPT_STRING,
     .offset = offsetof(types, list_of_str),
     .multiple = true},
};
static tp_option_group type_group[] = {{"types", type_opts, 8, &tv}};

static void check_types(void)
{
    ck_assert_str_eq(tv.str, "asdf");
    ck_assert_str_eq(tv.basestring, "qwer");
    ck_assert_int_eq(tv.i, 42);
    ck_assert_double_eq(tv.f, 1.5);
    ck_assert_int_eq(tv.dt.tm_year, 113);
    ck_assert_int_eq(tv.dt.tm_mon, 3);
    ck_assert_int_eq(tv.dt.tm_mday, 28);
    ck_assert_int_eq(tv.dt.tm_hour, 5);
    ck_assert_int_eq(tv.dt.tm_min, 16);
    ck_assert_double_eq(tv.td, 45);
    ck_assert_uint_eq(tv.list_of_int.n, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(((int *)tv.list_of_int.items)[i], i + 1);
    ck_assert_uint_eq(tv.list_of_str.n, 3);
    ck_assert_str_eq(((const char **)tv.list_of_str.items)[0], "a");
    ck_assert_str_eq(((const char **)tv.list_of_str.items)[2], "c");
}

START_TEST(types_command_line)
{
    tv = (types){0};
    ck_assert_int_eq(cmdline(type_group, 1, NULL, "--str=asdf", "--basestring=qwer", "--int=42",
                             "--float=1.5", "--datetime=2013-04-28 05:16", "--timedelta=45s",
                             "--list-of-int=1,2,3", "--list-of-str=a,b,c", NULL),
                     0);
    check_types();
}
END_TEST

START_TEST(types_config_literals)
{
    /* options_test_types.cfg, without the constructors Python would run. */
    tv = (types){0};
    ck_assert_int_eq(config(type_group, 1,
                            "str = 'asdf'\nbasestring = 'qwer'\nint = 42\nfloat = 1.5\n"
                            "datetime = '2013-04-28 05:16'\ntimedelta = 45\n"
                            "list_of_int = [1, 2, 3]\nlist_of_str = [\"a\", \"b\", \"c\"]\n"),
                     0);
    check_types();
}
END_TEST

START_TEST(types_config_strings)
{
    /* options_test_types_str.cfg: strings are parsed as on the command line. */
    tv = (types){0};
    ck_assert_int_eq(config(type_group, 1,
                            "str = 'asdf'\nbasestring = 'qwer'\nint = 42\nfloat = 1.5\n"
                            "datetime = '2013-04-28 05:16'\ntimedelta = '45s'\n"
                            "list_of_int = '1,2,3'\nlist_of_str = 'a,b,c'\n"),
                     0);
    check_types();
}
END_TEST

START_TEST(multiple_ranges_and_append)
{
    tv = (types){0};
    ck_assert_int_eq(cmdline(type_group, 1, NULL, "--list-of-int=1,3,5:7", NULL), 0);
    ck_assert_uint_eq(tv.list_of_int.n, 5);
    int want[] = {1, 3, 5, 6, 7};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(((int *)tv.list_of_int.items)[i], want[i]);
    /* Without .append a second --name replaces the list, as in Tornado. */
    ck_assert_int_eq(cmdline(type_group, 1, NULL, "--list-of-int=9", NULL), 0);
    ck_assert_uint_eq(tv.list_of_int.n, 1);
    /* A multiline list in a config file; an empty one. */
    ck_assert_int_eq(config(type_group, 1, "list_of_int = [\n  4,  # four\n  8:9,\n]\n"), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "test.cfg:3"));
    ck_assert_int_eq(config(type_group, 1, "list_of_int = [\n  4,  # four\n  8,\n]\n"), 0);
    ck_assert_uint_eq(tv.list_of_int.n, 2);
    ck_assert_int_eq(config(type_group, 1, "list_of_int = (5,)\nlist_of_str = []\n"), 0);
    ck_assert_uint_eq(tv.list_of_int.n, 1);
    ck_assert_uint_eq(tv.list_of_str.n, 0);
    ck_assert_int_eq(config(type_group, 1, "list_of_int = '1:3,7'\n"), 0);
    ck_assert_uint_eq(tv.list_of_int.n, 4);

    /* .append: each --name adds (tornado-prefork's --port). */
    static const tp_option app[] = {{.name = "port",
                                     .type = TP_OPT_INT,
                                     .offset = 0,
                                     .multiple = true,
                                     .append = true,
                                     .min = 1,
                                     .max = 65535}};
    tp_opt_list ports = {0};
    tp_option_group g = {"x", app, 1, &ports};
    ck_assert_int_eq(cmdline(&g, 1, NULL, "--port=80", "--port=8000:8002", NULL), 0);
    ck_assert_uint_eq(ports.n, 4);
    ck_assert_int_eq(((int *)ports.items)[3], 8002);
    /* Bounds apply to each item; a bad item leaves the list alone. */
    ck_assert_int_eq(cmdline(&g, 1, NULL, "--port=5,0", NULL), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "port"));
    ck_assert_uint_eq(ports.n, 4);
    tp_buf b = {0};
    tp_options_format(&app[0], &ports, &b);
    tp_buf_append(&b, "", 1);
    ck_assert_str_eq(tp_buf_data(&b), "[80, 8000, 8001, 8002]");
    tp_buf_free(&b);
}
END_TEST

/* Tornado's _parse_timedelta, in seconds. */
START_TEST(durations)
{
    static const struct {
        const char *text;
        double seconds;
    } ok[] = {{"1h", 3600},       {"30m", 1800},     {"45s", 45},       {"1.5h", 5400},
              {"10ms", 0.01},     {"1w", 604800},    {"1h 30m", 5400},  {"1d 2h", 93600},
              {"2 hours", 7200},  {"5", 5},          {"1e1s", 10},      {" 3s ", 3},
              {"3min 5sec", 185}, {"250us", 250e-6}, {"-1h", -3600},    {".5m", 30},
              {"1weeks", 604800}, {"", 0},           {"2days", 172800}, {"1..2s", 1.2}};
    static const char *bad[] = {"1h30m", "1x", "abc", "1H", "h", "1s x"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        tv.td = -99;
        char arg[64];
        snprintf(arg, sizeof(arg), "timedelta=%s", ok[i].text);
        int r = tp_options_parse_one(type_group, 1, arg, err, sizeof(err));
        ck_assert_msg(r == 0, "%s: %s", ok[i].text, err);
        ck_assert_msg(fabs(tv.td - ok[i].seconds) < 1e-9, "%s: %g", ok[i].text, tv.td);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tv.td = 7;
        char arg[64];
        snprintf(arg, sizeof(arg), "timedelta=%s", bad[i]);
        ck_assert_msg(tp_options_parse_one(type_group, 1, arg, err, sizeof(err)) == -EINVAL, "%s",
                      bad[i]);
        ck_assert_ptr_nonnull(strstr(err, "timedelta"));
        ck_assert_ptr_nonnull(strstr(err, bad[i]));
        ck_assert_double_eq(tv.td, 7);
    }
    /* str(timedelta) */
    tp_buf b = {0};
    tv.td = 5400.25;
    tp_options_format(&type_opts[5], &tv, &b);
    tv.td = -1;
    tp_buf_append_str(&b, "|");
    tp_options_format(&type_opts[5], &tv, &b);
    tp_buf_append(&b, "", 1);
    ck_assert_str_eq(tp_buf_data(&b), "1:30:00.250000|-1 day, 23:59:59");
    tp_buf_free(&b);
}
END_TEST

/* Each of Tornado's _DATETIME_FORMATS. */
START_TEST(datetimes)
{
    static const struct {
        const char *text;
        int year, mon, mday, hour, min, sec;
    } ok[] = {{"Sun Apr 28 05:16:07 2013", 2013, 4, 28, 5, 16, 7},
              {"2013-04-28 05:16:07", 2013, 4, 28, 5, 16, 7},
              {"2013-04-28 05:16", 2013, 4, 28, 5, 16, 0},
              {"2013-04-28T05:16", 2013, 4, 28, 5, 16, 0},
              {"20130428 05:16:07", 2013, 4, 28, 5, 16, 7},
              {"20130428 05:16", 2013, 4, 28, 5, 16, 0},
              {"2013-04-28", 2013, 4, 28, 0, 0, 0},
              {"20130428", 2013, 4, 28, 0, 0, 0},
              {"05:16:07", 1900, 1, 1, 5, 16, 7},
              {"05:16", 1900, 1, 1, 5, 16, 0}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char arg[64];
        snprintf(arg, sizeof(arg), "datetime=%s", ok[i].text);
        ck_assert_msg(tp_options_parse_one(type_group, 1, arg, err, sizeof(err)) == 0, "%s: %s",
                      ok[i].text, err);
        ck_assert_int_eq(tv.dt.tm_year + 1900, ok[i].year);
        ck_assert_int_eq(tv.dt.tm_mon + 1, ok[i].mon);
        ck_assert_int_eq(tv.dt.tm_mday, ok[i].mday);
        ck_assert_int_eq(tv.dt.tm_hour, ok[i].hour);
        ck_assert_int_eq(tv.dt.tm_min, ok[i].min);
        ck_assert_int_eq(tv.dt.tm_sec, ok[i].sec);
    }
    static const char *bad[] = {"2013-04-28 05", "yesterday", "2013-04-28 05:16:07 x", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char arg[64];
        snprintf(arg, sizeof(arg), "datetime=%s", bad[i]);
        ck_assert_msg(tp_options_parse_one(type_group, 1, arg, err, sizeof(err)) == -EINVAL, "%s",
                      bad[i]);
        ck_assert_ptr_nonnull(strstr(err, "datetime"));
    }
}
END_TEST

/* ---- options_test.py: command line, config file, subcommands, dashes ---------------------- */

typedef struct basic {
    int port;
    const char *username, *my_path, *foo_bar;
    bool verbose;
} basic;
static basic bv;
static const tp_option basic_opts[] = {
    {.name = "port", .type = TP_OPT_INT, .offset = offsetof(basic, port)},
    {.name = "username", .type = TP_OPT_STRING, .offset = offsetof(basic, username)},
    {.name = "my_path", .type = TP_OPT_STRING, .offset = offsetof(basic, my_path)},
    {.name = "foo-bar", .type = TP_OPT_STRING, .offset = offsetof(basic, foo_bar)},
    {.name = "verbose", .type = TP_OPT_BOOL, .offset = offsetof(basic, verbose)},
};
static tp_option_group basic_group[] = {{"basic", basic_opts, 5, &bv}};

START_TEST(parse_command_line_and_subcommand)
{
    bv = (basic){.port = 80};
    ck_assert_int_eq(cmdline(basic_group, 1, NULL, "--port=443", NULL), 0);
    ck_assert_int_eq(bv.port, 443);
    int rest;
    ck_assert_int_eq(cmdline(basic_group, 1, &rest, "--verbose", "subcommand", "--foo=bar", NULL),
                     0);
    ck_assert(bv.verbose);
    ck_assert_int_eq(rest, 2);
    ck_assert_int_eq(cmdline(basic_group, 1, NULL, "--foo=bar", NULL), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "foo"));
    /* Dashes and underscores are interchangeable, however the option was named. */
    ck_assert_int_eq(cmdline(basic_group, 1, NULL, "--foo_bar=a", NULL), 0);
    ck_assert_str_eq(bv.foo_bar, "a");
    ck_assert_int_eq(cmdline(basic_group, 1, NULL, "--foo-bar=b", NULL), 0);
    ck_assert_str_eq(bv.foo_bar, "b");
    void *field;
    ck_assert_ptr_eq(tp_options_find(basic_group, 1, "foo_bar", &field), &basic_opts[3]);
    ck_assert_ptr_eq(field, &bv.foo_bar);
}
END_TEST

START_TEST(parse_config_file)
{
    /* options_test.cfg, from a real file. */
    char path[] = "/tmp/tp-options-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *text = "port=443\nport=443\nusername='\xe6\x9d\x8e\xe5\xba\xb7'\n\n"
                       "foo_bar='a'\n\nmy_path = __file__\n";
    ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    bv = (basic){.port = 80, .username = "foo"};
    int r = tp_options_parse_config_file(basic_group, 1, path, err, sizeof(err));
    unlink(path);
    ck_assert_msg(r == 0, "%s", err);
    ck_assert_int_eq(bv.port, 443);
    ck_assert_str_eq(bv.username, "\xe6\x9d\x8e\xe5\xba\xb7");
    ck_assert_str_eq(bv.foo_bar, "a");
    ck_assert_str_eq(bv.my_path, path);
    /* Gone now: -ENOENT with the path in the message. */
    ck_assert_int_eq(tp_options_parse_config_file(basic_group, 1, path, err, sizeof(err)), -ENOENT);
    ck_assert_ptr_nonnull(strstr(err, path));
}
END_TEST

START_TEST(config_literals_and_comments)
{
    bv = (basic){0};
    ck_assert_int_eq(config(basic_group, 1, "# a comment\n  port = 0x10  # Python hex\n"), 0);
    ck_assert_int_eq(bv.port, 16);
    ck_assert_int_eq(config(basic_group, 1, "# a comment\n  port = 12abc  # bare text\n"), -EINVAL);
    ck_assert_str_eq(err, "test.cfg:2: option --port: '12abc' is not a number");
    ck_assert_int_eq(config(basic_group, 1,
                            "port = -5 # negative\r\nusername = \"a\\tb\\\"c\\x41\\u00e9\"\n"
                            "verbose = True\nmy_path = r'C:\\dir'\nfoo_bar = None\n"),
                     0);
    ck_assert_int_eq(bv.port, -5);
    ck_assert_str_eq(bv.username, "a\tb\"cA\xc3\xa9");
    ck_assert(bv.verbose);
    ck_assert_str_eq(bv.my_path, "C:\\dir");
    ck_assert_str_eq(bv.foo_bar, "");
    /* Unquoted text is taken as it is (tornado-prefork's older config files), up to a #. */
    ck_assert_int_eq(config(basic_group, 1, "username = plain text here # c\nverbose = false\n"),
                     0);
    ck_assert_str_eq(bv.username, "plain text here");
    ck_assert(!bv.verbose);
}
END_TEST

/* Each must fail with a "test.cfg:LINE:" message naming the problem. */
START_TEST(config_errors)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"port = 1\nnope = 3\n", "test.cfg:2: unknown option nope"},
        {"port 3\n", "test.cfg:1: expected '=' after port"},
        {"port = 1.5\n", "test.cfg:1: option port is required to be a int (float 1.5 given)"},
        {"port = True\n", "test.cfg:1: option port is required to be a int (bool True given)"},
        {"port = 'abc'\n", "test.cfg:1: option --port: 'abc' is not a number"},
        {"verbose = 1\n", "test.cfg:1: option verbose is required to be a bool"},
        {"\n\nusername = 'open\n", "test.cfg:3: unterminated string"},
        {"port = [1, 2]\n", "test.cfg:1: option port takes one value, not a list"},
        {"port = 1 2\n", "test.cfg:1: unexpected '2' after the value of port"},
        {"= 3\n", "test.cfg:1: expected 'name = value'"},
        {"port = __import__('os').system('touch /tmp/tp-options-pwned')\n", "test.cfg:1:"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bv = (basic){.port = 7};
        ck_assert_msg(config(basic_group, 1, cases[i].text) == -EINVAL, "accepted: %s",
                      cases[i].text);
        ck_assert_msg(strstr(err, cases[i].want) != NULL, "%s: got '%s', want '%s'", cases[i].text,
                      err, cases[i].want);
    }
    ck_assert_int_eq(access("/tmp/tp-options-pwned", F_OK), -1); /* parsed, never executed */
    ck_assert_int_eq(bv.port, 7);
}
END_TEST

/* ---- callbacks ----------------------------------------------------------------------------- */

static int seen_calls;
static int even_only(void *base, const tp_option *o, char *e, size_t n)
{
    seen_calls++;
    int v = *(int *)((char *)base + o->offset);
    if (v % 2) {
        snprintf(e, n, "option --%s: %d is odd", o->name, v);
        return -EINVAL;
    }
    return 0;
}

START_TEST(callbacks)
{
    static const tp_option opts[] = {
        {.name = "n", .type = TP_OPT_INT, .offset = 0, .callback = even_only}};
    int n = 2;
    tp_option_group g = {"cb", opts, 1, &n};
    seen_calls = 0;
    ck_assert_int_eq(cmdline(&g, 1, NULL, "--n=4", NULL), 0);
    ck_assert_int_eq(config(&g, 1, "n = 6\n"), 0);
    ck_assert_int_eq(tp_options_set(&g, 1, "n", "8", err, sizeof(err)), 0);
    ck_assert_int_eq(n, 8);
    ck_assert_int_eq(seen_calls, 3);
    /* A callback can reject the value: the old one stays. */
    ck_assert_int_eq(cmdline(&g, 1, NULL, "--n=5", NULL), -EINVAL);
    ck_assert_str_eq(err, "option --n: 5 is odd");
    ck_assert_int_eq(n, 8);
    ck_assert_int_eq(config(&g, 1, "\nn = 7\n"), -EINVAL);
    ck_assert_str_eq(err, "test.cfg:2: option --n: 7 is odd");
    ck_assert_int_eq(n, 8);
}
END_TEST

START_TEST(group_dict_and_describe)
{
    demo_defaults();
    tp_buf b = {0};
    ck_assert_int_eq(tp_options_group_dict(demo_groups, 2, "beta", &b), 5);
    tp_buf_append(&b, "", 1);
    ck_assert_str_eq(tp_buf_data(&b), "timeout=0:01:30\nwhen=2013-04-28 05:16:00\n"
                                      "tags=['a', 'b']\noff=\nhalf=2 days, 0:00:01.500000\n");
    tp_buf_clear(&b);
    ck_assert_int_eq(tp_options_group_dict(demo_groups, 2, "gamma", &b), -ENOENT);
    ck_assert_int_eq(tp_options_group_dict(demo_groups, 2, NULL, &b), 13);
    tp_buf_free(&b);
}
END_TEST

Suite *options_suite(void)
{
    Suite *s = suite_create("options");
    TCase *tc = tcase_create("options");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, help_matches_tornado);
    tcase_add_test(tc, types_command_line);
    tcase_add_test(tc, types_config_literals);
    tcase_add_test(tc, types_config_strings);
    tcase_add_test(tc, multiple_ranges_and_append);
    tcase_add_test(tc, durations);
    tcase_add_test(tc, datetimes);
    tcase_add_test(tc, parse_command_line_and_subcommand);
    tcase_add_test(tc, parse_config_file);
    tcase_add_test(tc, config_literals_and_comments);
    tcase_add_test(tc, config_errors);
    tcase_add_test(tc, callbacks);
    tcase_add_test(tc, group_dict_and_describe);
    suite_add_tcase(s, tc);
    return s;
}
