/* web/database against a real MariaDB server (tests/database/run.py starts a private one and
 * gives its URL in TP_DB_URL, and a control socket in TP_DB_CONTROL_FD through which a test
 * asks the runner to kill or start the server). Each test runs in its own forked process on a
 * fresh loop, with its own table names. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "tp_testing.h"
#include "web/database/database.h"

#define DEADLINE 60.0

static tp_loop *L;

static void setup(void)
{
    tp_test_setup();
    L = tp_test_loop();
}

static void teardown(void)
{
    tp_test_teardown();
}

static const char *url(void)
{
    const char *u = getenv("TP_DB_URL");
    ck_assert_msg(u != NULL, "TP_DB_URL is not set (run tests/database/run.py)");
    return u;
}

static tp_db *open_db(const struct tp_db_options *o)
{
    tp_db *db = tp_db_new_url(L, url(), o);
    ck_assert_ptr_nonnull(db);
    return db;
}

/* Runs the loop until f is done; returns its error code (0 for a result). f stays owned. */
static int wait_f(tp_future *f)
{
    int r = tp_future_run_sync(L, f, DEADLINE);
    ck_assert_msg(r != -ETIMEDOUT || tp_future_done(f), "future not done within %g s", DEADLINE);
    return r;
}

/* The result of a statement that must succeed (the future is kept in *keep for the caller to
 * unref, the value lives as long). */
static json_t *ok(tp_future *f)
{
    int r = wait_f(f);
    ck_assert_msg(r == 0, "statement failed: %d %s", r, tp_future_error_message(f));
    return tp_future_result(f);
}

/* Runs a statement that must succeed and drops its result. */
static void run_ok(tp_future *f)
{
    ok(f);
    tp_future_unref(f);
}

static long long int_ok(tp_future *f)
{
    ok(f);
    long long v = tp_db_result_int(f);
    tp_future_unref(f);
    return v;
}

/* Drops and creates table `name` with the given column list. */
static void fresh_table(tp_db *db, const char *name, const char *columns)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s", name);
    run_ok(tp_db_execute(db, sql, NULL, 0));
    snprintf(sql, sizeof(sql), "CREATE TABLE %s (%s) ENGINE=InnoDB", name, columns);
    run_ok(tp_db_execute(db, sql, NULL, 0));
}

static long long count_rows(tp_db *db, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) AS n FROM %s", table);
    tp_future *f = tp_db_get(db, sql, NULL, 0);
    long long n = json_integer_value(json_object_get(ok(f), "n"));
    tp_future_unref(f);
    return n;
}

static struct tp_db_stats stats(const tp_db *db)
{
    struct tp_db_stats st;
    tp_db_get_stats(db, &st);
    return st;
}

/* ---- options ------------------------------------------------------------------------------ */

START_TEST(url_options)
{
    struct tp_db_options o = {.pool_size = 3};
    char *s;
    ck_assert_int_eq(tp_db_options_from_url(&o,
                                            "mysql://us%40er:p%3Ass@db.example:3307/blog"
                                            "?query_timeout=2.5&queue_size=9",
                                            &s),
                     0);
    ck_assert_str_eq(o.user, "us@er");
    ck_assert_str_eq(o.password, "p:ss");
    ck_assert_str_eq(o.host, "db.example");
    ck_assert_uint_eq(o.port, 3307);
    ck_assert_str_eq(o.database, "blog");
    ck_assert_double_eq(o.query_timeout, 2.5);
    ck_assert_uint_eq(o.queue_size, 9);
    ck_assert_uint_eq(o.pool_size, 3); /* kept from before */
    free(s);
    o = (struct tp_db_options){0};
    ck_assert_int_eq(tp_db_options_from_url(&o, "mysql://tp@/d?unix_socket=/run/m.sock", &s), 0);
    ck_assert_str_eq(o.unix_socket, "/run/m.sock");
    ck_assert_ptr_null(o.password);
    ck_assert_ptr_null(o.host);
    free(s);
    ck_assert_int_eq(tp_db_options_from_url(&o, "postgres://x/y", &s), -EINVAL);
    ck_assert_int_eq(tp_db_options_from_url(&o, "mysql://h:99999/y", &s), -EINVAL);
    ck_assert_int_eq(tp_db_options_from_url(&o, "mysql://h/y?bogus=1", &s), -EINVAL);
    ck_assert_ptr_null(tp_db_new_url(L, "mysql://h/y?pool_size=x", NULL));
}
END_TEST

/* ---- values: types, NULLs, hostile strings, binary data ------------------------------------- */

START_TEST(types_and_nulls)
{
    tp_db *db = open_db(NULL);
    fresh_table(db, "ty",
                "id INT AUTO_INCREMENT PRIMARY KEY, i INT, big BIGINT UNSIGNED, d DOUBLE, dec_ "
                "DECIMAL(10,3), s VARCHAR(40), b BLOB, t DATETIME, n INT NULL");
    long long id = int_ok(tp_db_execute(
        db, "INSERT INTO ty (i, big, d, dec_, s, b, t, n) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        TP_DB_PARAMS(tp_db_int(-42), tp_db_int(9000000000LL), tp_db_double(2.5),
                     tp_db_str("12.345"), tp_db_str("h\xc3\xa9llo"), tp_db_blob("\x00\x01", 2),
                     tp_db_str("2024-02-29 12:34:56"), tp_db_null())));
    ck_assert_int_eq(id, 1);
    tp_future *f = tp_db_get(db, "SELECT * FROM ty WHERE id = ?", TP_DB_PARAMS(tp_db_int(id)));
    json_t *row = ok(f);
    ck_assert(json_is_object(row));
    ck_assert_int_eq(json_integer_value(json_object_get(row, "i")), -42);
    ck_assert_int_eq(json_integer_value(json_object_get(row, "big")), 9000000000LL);
    ck_assert_double_eq(json_real_value(json_object_get(row, "d")), 2.5);
    ck_assert_str_eq(json_string_value(json_object_get(row, "dec_")), "12.345");
    ck_assert_str_eq(json_string_value(json_object_get(row, "s")), "h\xc3\xa9llo");
    ck_assert_uint_eq(json_string_length(json_object_get(row, "b")), 2);
    ck_assert_mem_eq(json_string_value(json_object_get(row, "b")), "\x00\x01", 2);
    ck_assert_str_eq(json_string_value(json_object_get(row, "t")), "2024-02-29 12:34:56");
    ck_assert(json_is_null(json_object_get(row, "n")));
    tp_future_unref(f);
    /* a NULL parameter matches nothing with =, and IS NULL finds the row */
    f = tp_db_query(db, "SELECT id FROM ty WHERE n = ?", TP_DB_PARAMS(tp_db_null()));
    ck_assert_uint_eq(json_array_size(ok(f)), 0);
    tp_future_unref(f);
    f = tp_db_query(db, "SELECT id FROM ty WHERE n IS NULL AND ? IS NULL",
                    TP_DB_PARAMS(tp_db_str(NULL)));
    ck_assert_uint_eq(json_array_size(ok(f)), 1);
    tp_future_unref(f);
    ck_assert_int_eq(int_ok(tp_db_execute_rowcount(db, "UPDATE ty SET n = ? WHERE id > ?",
                                                   TP_DB_PARAMS(tp_db_int(7), tp_db_int(0)))),
                     1);
    tp_db_close(db);
}
END_TEST

START_TEST(hostile_strings)
{
    static const char *const evil[] = {
        "O'Reilly",
        "\"double\" and 'single' quotes",
        "back\\slash \\' \\\" \\\\",
        "'; DROP TABLE hostile; --",
        "\" OR 1=1 -- ",
        "? ? placeholders ?",
        "%s %d %n",
        "\xe2\x80\x99 unicode quote \xf0\x9f\x98\x80",
    };
    tp_db *db = open_db(NULL);
    fresh_table(db, "hostile", "id INT PRIMARY KEY, s TEXT, b BLOB");
    size_t n = sizeof(evil) / sizeof(evil[0]);
    for (size_t i = 0; i < n; i++)
        run_ok(tp_db_execute(db, "INSERT INTO hostile VALUES (?, ?, NULL)",
                             TP_DB_PARAMS(tp_db_int((long long)i), tp_db_str(evil[i]))));
    /* NUL bytes inside a text value, and one as a where-clause value */
    static const char nul[] = "a\0b'\0; DROP TABLE hostile;\0";
    run_ok(tp_db_execute(
        db, "INSERT INTO hostile VALUES (?, ?, ?)",
        TP_DB_PARAMS(tp_db_int(100), tp_db_text(nul, sizeof(nul)), tp_db_blob(nul, sizeof(nul)))));
    for (size_t i = 0; i < n; i++) {
        tp_future *f = tp_db_get(db, "SELECT id, s FROM hostile WHERE s = ?",
                                 TP_DB_PARAMS(tp_db_str(evil[i])));
        json_t *row = ok(f);
        ck_assert_msg(row != NULL, "no row for %s", evil[i]);
        ck_assert_int_eq(json_integer_value(json_object_get(row, "id")), (long long)i);
        ck_assert_str_eq(json_string_value(json_object_get(row, "s")), evil[i]);
        tp_future_unref(f);
    }
    tp_future *f = tp_db_get(db, "SELECT s, b FROM hostile WHERE s = ?",
                             TP_DB_PARAMS(tp_db_text(nul, sizeof(nul))));
    json_t *row = ok(f);
    ck_assert_ptr_nonnull(row);
    ck_assert_uint_eq(json_string_length(json_object_get(row, "s")), sizeof(nul));
    ck_assert_mem_eq(json_string_value(json_object_get(row, "s")), nul, sizeof(nul));
    ck_assert_mem_eq(json_string_value(json_object_get(row, "b")), nul, sizeof(nul));
    tp_future_unref(f);
    ck_assert_int_eq(count_rows(db, "hostile"), (long long)n + 1); /* the table survived */
    tp_db_close(db);
}
END_TEST

START_TEST(binary_exact)
{
    tp_db *db = open_db(NULL);
    fresh_table(db, "bin", "id INT PRIMARY KEY, b LONGBLOB");
    size_t sizes[] = {0, 1, 255, 256, 257, 4096, 300000};
    unsigned seed = 12345;
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        unsigned char *buf = malloc(sizes[k] + 1);
        for (size_t i = 0; i < sizes[k]; i++)
            buf[i] = k == 2 ? (unsigned char)i : (unsigned char)(rand_r(&seed) >> 7);
        run_ok(tp_db_execute(db, "INSERT INTO bin VALUES (?, ?)",
                             TP_DB_PARAMS(tp_db_int((long long)k), tp_db_blob(buf, sizes[k]))));
        tp_future *f = tp_db_query(db, "SELECT b, LENGTH(b) AS n FROM bin WHERE id = ?",
                                   TP_DB_PARAMS(tp_db_int((long long)k)));
        json_t *row = json_array_get(ok(f), 0);
        json_t *b = json_object_get(row, "b");
        ck_assert_int_eq(json_integer_value(json_object_get(row, "n")), (long long)sizes[k]);
        ck_assert_uint_eq(json_string_length(b), sizes[k]);
        ck_assert(memcmp(json_string_value(b), buf, sizes[k]) == 0);
        tp_future_unref(f);
        free(buf);
    }
    tp_db_close(db);
}
END_TEST

/* ---- query, get, execute, executemany, errors ----------------------------------------------- */

START_TEST(get_and_many)
{
    tp_db *db = open_db(NULL);
    fresh_table(db, "many", "id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) UNIQUE, v INT");
    tp_db_param rows[] = {tp_db_str("a"), tp_db_int(1),   tp_db_str("b"),
                          tp_db_int(2),   tp_db_str("c"), tp_db_int(2)};
    ck_assert_int_eq(
        int_ok(tp_db_executemany(db, "INSERT INTO many (name, v) VALUES (?, ?)", rows, 2, 3)),
        3); /* the last insert id */
    ck_assert_int_eq(
        int_ok(tp_db_executemany_rowcount(
            db, "UPDATE many SET v = v + ? WHERE name = ?",
            (tp_db_param[]){tp_db_int(10), tp_db_str("a"), tp_db_int(10), tp_db_str("zz")}, 2, 2)),
        1);
    /* get: none -> NULL, one -> the row, several -> Tornado's error */
    tp_future *f = tp_db_get(db, "SELECT * FROM many WHERE v = ?", TP_DB_PARAMS(tp_db_int(99)));
    ck_assert_int_eq(wait_f(f), 0);
    ck_assert_ptr_null(tp_future_result(f));
    tp_future_unref(f);
    f = tp_db_get(db, "SELECT name FROM many WHERE v = ?", TP_DB_PARAMS(tp_db_int(11)));
    ck_assert_str_eq(json_string_value(json_object_get(ok(f), "name")), "a");
    tp_future_unref(f);
    f = tp_db_get(db, "SELECT name FROM many WHERE v = ?", TP_DB_PARAMS(tp_db_int(2)));
    ck_assert_int_eq(wait_f(f), TP_ERROR);
    ck_assert_str_eq(tp_future_error_message(f), "Multiple rows returned for Database.get() query");
    tp_future_unref(f);
    f = tp_db_query(db, "SELECT name FROM many ORDER BY id", NULL, 0);
    json_t *all = ok(f);
    ck_assert_uint_eq(json_array_size(all), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(all, 2), "name")), "c");
    tp_future_unref(f);
    /* errors: the server's number and message, the connection stays usable */
    f = tp_db_query(db, "SELEC nothing", NULL, 0);
    ck_assert_int_eq(wait_f(f), TP_ERROR);
    ck_assert_uint_eq(tp_db_error_number(f), 1064);
    ck_assert_ptr_nonnull(strstr(tp_future_error_message(f), "SQL syntax"));
    tp_future_unref(f);
    f = tp_db_execute(db, "INSERT INTO many (name, v) VALUES (?, ?)",
                      TP_DB_PARAMS(tp_db_str("a"), tp_db_int(0)));
    ck_assert_int_eq(wait_f(f), TP_ERROR);
    ck_assert_uint_eq(tp_db_error_number(f), 1062);
    tp_future_unref(f);
    f = tp_db_query(db, "SELECT ? + ?", TP_DB_PARAMS(tp_db_int(1)));
    ck_assert_int_eq(wait_f(f), -EINVAL);
    tp_future_unref(f);
    ck_assert_int_eq(count_rows(db, "many"), 3);
    ck_assert_uint_eq(stats(db).connects, 1); /* errors did not cost the connection */
    tp_db_close(db);
}
END_TEST

START_TEST(prepared_once)
{
    tp_db *db = open_db(&(struct tp_db_options){.pool_size = 1});
    fresh_table(db, "prep", "k INT PRIMARY KEY");
    uint64_t before = stats(db).prepares;
    for (int i = 0; i < 3; i++) /* prepared the first time only */
        run_ok(tp_db_execute(db, "INSERT INTO prep VALUES (?)", TP_DB_PARAMS(tp_db_int(i))));
    ck_assert_uint_eq(stats(db).prepares, before + 1);
    tp_future *f = tp_db_execute(db, "INSERT INTO prep VALUES (?)", TP_DB_PARAMS(tp_db_int(1)));
    ck_assert_int_eq(wait_f(f), TP_ERROR); /* a duplicate: the statement is dropped */
    tp_future_unref(f);
    run_ok(tp_db_execute(db, "INSERT INTO prep VALUES (?)", TP_DB_PARAMS(tp_db_int(7))));
    ck_assert_uint_eq(stats(db).prepares, before + 2);
    f = tp_db_query(db, "SELECT k FROM prep WHERE k > ? ORDER BY k", TP_DB_PARAMS(tp_db_int(0)));
    ck_assert_uint_eq(json_array_size(ok(f)), 3);
    tp_future_unref(f);
    f = tp_db_query(db, "SELECT k FROM prep WHERE k > ? ORDER BY k", TP_DB_PARAMS(tp_db_int(2)));
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(ok(f), 0), "k")), 7);
    tp_future_unref(f);
    ck_assert_uint_eq(stats(db).prepares, before + 3);
    tp_db_close(db);
}
END_TEST

/* ---- a large result streamed with bounded memory -------------------------------------------- */

static long rss_kb(void)
{
    long pages = 0, res = 0;
    FILE *fp = fopen("/proc/self/statm", "r");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fscanf(fp, "%ld %ld", &pages, &res), 2);
    fclose(fp);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

struct stream_state {
    long long rows, sum;
    long rss0, rss_max;
};

static int on_row(json_t *row, void *arg)
{
    struct stream_state *s = arg;
    s->rows++;
    s->sum += json_integer_value(json_object_get(row, "n"));
    ck_assert_uint_eq(json_string_length(json_object_get(row, "pad")), 200);
    if (s->rows % 5000 == 0) {
        long r = rss_kb();
        if (r > s->rss_max)
            s->rss_max = r;
    }
    return 0;
}

START_TEST(stream_large)
{
    enum { N = 200000 };
    tp_db *db = open_db(NULL);
    run_ok(tp_db_query(db, "SELECT 1", NULL, 0)); /* the connection made before measuring */
    struct stream_state s = {.rss0 = rss_kb()};
    s.rss_max = s.rss0;
    tp_future *f = tp_db_query_stream(db,
                                      "SELECT seq AS n, REPEAT('x', 200) AS pad FROM "
                                      "seq_1_to_200000 WHERE seq <= ?",
                                      TP_DB_PARAMS(tp_db_int(N)), on_row, &s);
    ck_assert_int_eq(int_ok(f), N);
    ck_assert_int_eq(s.rows, N);
    ck_assert_int_eq(s.sum, (long long)N * (N + 1) / 2);
    /* 200k rows of 200+ bytes are over 40 MB held at once; streamed, a few MB at most */
    ck_assert_msg(s.rss_max - s.rss0 < 16 * 1024, "RSS grew by %ld kB while streaming",
                  s.rss_max - s.rss0);
    tp_db_close(db);
}
END_TEST

static int stop_at_10(json_t *row, void *arg)
{
    (void)row;
    return ++*(int *)arg == 10 ? -ECANCELED : 0;
}

START_TEST(stream_stop)
{
    tp_db *db = open_db(&(struct tp_db_options){.pool_size = 1});
    int seen = 0;
    tp_future *f =
        tp_db_query_stream(db, "SELECT seq FROM seq_1_to_1000", NULL, 0, stop_at_10, &seen);
    ck_assert_int_eq(wait_f(f), -ECANCELED);
    ck_assert_int_eq(seen, 10);
    tp_future_unref(f);
    run_ok(tp_db_query(db, "SELECT 1", NULL, 0)); /* the rest was drained: usable */
    tp_db_close(db);
}
END_TEST

struct cancel_state {
    tp_future *f;
    int seen;
};

static int cancel_at_10(json_t *row, void *arg)
{
    (void)row;
    struct cancel_state *s = arg;
    if (++s->seen == 10)
        tp_future_cancel(s->f); /* as a handler whose client left */
    return 0;
}

START_TEST(stream_cancelled)
{
    tp_db *db = open_db(&(struct tp_db_options){.pool_size = 1});
    struct cancel_state s = {0};
    s.f = tp_db_query_stream(db, "SELECT seq FROM seq_1_to_100000", NULL, 0, cancel_at_10, &s);
    ck_assert_int_eq(s.seen, 0); /* rows never come inside the call */
    ck_assert_int_eq(wait_f(s.f), -ECANCELED);
    tp_future *after = tp_db_get(db, "SELECT 2 AS two", NULL, 0); /* waits for the drain */
    ck_assert_int_eq(json_integer_value(json_object_get(ok(after), "two")), 2);
    tp_future_unref(after);
    ck_assert(tp_future_cancelled(s.f));
    ck_assert_int_eq(s.seen, 10); /* no row after the cancel */
    tp_future_unref(s.f);
    tp_db_close(db);
}
END_TEST

/* ---- transactions -----------------------------------------------------------------------------
 */

static tp_db_tx *begin(tp_db *db)
{
    tp_future *f = tp_db_begin(db);
    ok(f);
    tp_db_tx *tx = tp_db_tx_take(f);
    ck_assert_ptr_nonnull(tx);
    tp_future_unref(f);
    return tx;
}

START_TEST(tx_commit_rollback)
{
    tp_db *db = open_db(NULL);
    fresh_table(db, "txt", "v INT");
    tp_db_tx *tx = begin(db);
    run_ok(tp_db_tx_execute(tx, "INSERT INTO txt VALUES (?)", TP_DB_PARAMS(tp_db_int(1))));
    tp_future *f = tp_db_tx_get(tx, "SELECT COUNT(*) AS n FROM txt", NULL, 0);
    ck_assert_int_eq(json_integer_value(json_object_get(ok(f), "n")), 1); /* seen inside */
    tp_future_unref(f);
    ck_assert_int_eq(count_rows(db, "txt"), 0); /* not outside */
    run_ok(tp_db_rollback(tx));
    f = tp_db_tx_execute(tx, "INSERT INTO txt VALUES (2)", NULL, 0);
    ck_assert_int_eq(wait_f(f), -EINVAL); /* ended */
    tp_future_unref(f);
    tp_db_tx_release(tx);
    ck_assert_int_eq(count_rows(db, "txt"), 0);
    tx = begin(db);
    tp_db_param two[] = {tp_db_int(2), tp_db_int(3)};
    run_ok(tp_db_tx_executemany(tx, "INSERT INTO txt VALUES (?)", two, 1, 2));
    run_ok(tp_db_commit(tx));
    tp_db_tx_release(tx);
    ck_assert_int_eq(count_rows(db, "txt"), 2);
    tp_db_close(db);
}
END_TEST

START_TEST(tx_abandoned)
{
    /* one connection: what the next statement sees is what the abandoned tx left behind */
    tp_db *db = open_db(&(struct tp_db_options){.pool_size = 1});
    fresh_table(db, "txa", "v INT");
    tp_db_tx *tx = begin(db);
    run_ok(tp_db_tx_execute(tx, "INSERT INTO txa VALUES (1)", NULL, 0));
    tp_future *bad = tp_db_tx_execute(tx, "INSERT INTO nonexistent VALUES (1)", NULL, 0);
    ck_assert_int_eq(wait_f(bad), TP_ERROR); /* an error: the code gives up on the tx */
    tp_future_unref(bad);
    tp_db_tx_release(tx); /* no commit, no rollback */
    ck_assert_int_eq(count_rows(db, "txa"), 0);
    tp_future *f = tp_db_get(db, "SELECT @@in_transaction AS t", NULL, 0);
    ck_assert_int_eq(json_integer_value(json_object_get(ok(f), "t")), 0);
    tp_future_unref(f);
    /* a begin whose waiter went away (its future cancelled before it was done) */
    f = tp_db_begin(db);
    tp_future_cancel(f);
    tp_future_unref(f);
    ck_assert_int_eq(count_rows(db, "txa"), 0); /* queued after the begin's rollback */
    f = tp_db_get(db, "SELECT @@in_transaction AS t", NULL, 0);
    ck_assert_int_eq(json_integer_value(json_object_get(ok(f), "t")), 0);
    tp_future_unref(f);
    ck_assert_uint_eq(stats(db).connects, 1);
    ck_assert_uint_eq(stats(db).busy, 0);
    tp_db_close(db);
}
END_TEST

/* ---- the pool: waiters, a full queue, a wait timeout ---------------------------------------- */

START_TEST(pool_exhausted)
{
    tp_db *db =
        open_db(&(struct tp_db_options){.pool_size = 2, .queue_size = 2, .wait_timeout = 60});
    tp_future *f[5];
    for (int i = 0; i < 4; i++)
        f[i] = tp_db_get(db, "SELECT SLEEP(0.3) AS s, ? AS i", TP_DB_PARAMS(tp_db_int(i)));
    ck_assert_uint_eq(stats(db).open, 2);
    ck_assert_uint_eq(stats(db).waiting, 2);
    f[4] = tp_db_get(db, "SELECT 1", NULL, 0);
    ck_assert(tp_future_done(f[4])); /* at once */
    ck_assert_int_eq(tp_future_error(f[4]), -EBUSY);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(json_integer_value(json_object_get(ok(f[i]), "i")), i);
        tp_future_unref(f[i]);
    }
    tp_future_unref(f[4]);
    ck_assert_uint_eq(stats(db).connects, 2);
    ck_assert_uint_eq(stats(db).waiting, 0);
    tp_db_close(db);
}
END_TEST

START_TEST(pool_wait_timeout)
{
    tp_db *db = open_db(&(struct tp_db_options){.pool_size = 1, .wait_timeout = 0.3});
    tp_future *slow = tp_db_query(db, "SELECT SLEEP(3)", NULL, 0);
    tp_future *waiter = tp_db_query(db, "SELECT 1", NULL, 0);
    ck_assert_int_eq(wait_f(waiter), -ETIMEDOUT);
    ck_assert_ptr_nonnull(strstr(tp_future_error_message(waiter), "waited"));
    ck_assert(!tp_future_done(slow));
    tp_future_unref(waiter);
    run_ok(slow); /* unharmed */
    tp_db_close(db);
}
END_TEST

/* ---- timeouts, concurrency ----------------------------------------------------------------------
 */

/* Waits until `want` statements whose text matches `like` run on the server at once (want
 * 0: none does any more), asking through admin. */
static void wait_count(tp_db *admin, const char *like, long long want)
{
    double deadline = tp__monotonic() + DEADLINE;
    for (;;) {
        tp_future *f = tp_db_get(admin,
                                 "SELECT COUNT(*) AS n FROM information_schema.processlist "
                                 "WHERE info LIKE ? AND id <> CONNECTION_ID()",
                                 TP_DB_PARAMS(tp_db_str(like)));
        long long n = json_integer_value(json_object_get(ok(f), "n"));
        tp_future_unref(f);
        if (want ? n >= want : n == 0)
            return;
        ck_assert_msg(tp__monotonic() < deadline, "%s: %lld running, not %lld", like, n, want);
        tp_future *nap = tp_sleep(L, 0.05);
        wait_f(nap);
        tp_future_unref(nap);
    }
}

/* Waits until a statement matching `like` runs on the server (running) or none does. */
static void wait_running(tp_db *admin, const char *like, bool running)
{
    wait_count(admin, like, running ? 1 : 0);
}

START_TEST(query_timeout)
{
    tp_db *db = open_db(&(struct tp_db_options){.query_timeout = 0.5});
    tp_db *admin = open_db(NULL);
    double t0 = tp__monotonic();
    tp_future *f = tp_db_query(db, "SELECT SLEEP(40) AS marker_sleep_40", NULL, 0);
    ck_assert_int_eq(wait_f(f), -ETIMEDOUT);
    ck_assert_ptr_nonnull(strstr(tp_future_error_message(f), "query timeout"));
    ck_assert_double_lt(tp__monotonic() - t0, 30);
    tp_future_unref(f);
    run_ok(tp_db_query(db, "SELECT 1", NULL, 0));    /* a new connection */
    wait_running(admin, "%marker_sleep_40%", false); /* killed, not left running */
    tp_db_close(db);
    tp_db_close(admin);
}
END_TEST

START_TEST(concurrent_overlap)
{
    enum { N = 4 };
    tp_db *db = open_db(&(struct tp_db_options){.pool_size = N});
    tp_future *f[N];
    for (int i = 0; i < N; i++) /* N connections made first */
        f[i] = tp_db_query(db, "SELECT SLEEP(0.05)", NULL, 0);
    for (int i = 0; i < N; i++)
        run_ok(f[i]);
    /* All N at once on the server (one after the other, never more than one runs): seen
     * through a side connection, no timing involved. */
    tp_db *admin = open_db(NULL);
    for (int i = 0; i < N; i++)
        f[i] = tp_db_query(db, "SELECT SLEEP(5) AS marker_overlap", NULL, 0);
    wait_count(admin, "%marker_overlap%", N);
    for (int i = 0; i < N; i++)
        run_ok(f[i]);
    ck_assert_uint_eq(stats(db).connects, N);
    tp_db_close(db);
    tp_db_close(admin);
}
END_TEST

/* A connection the server refuses (a wrong password) fails its statement, and the next
 * statement too (on a new try, not on a dead handle it would wait on forever). */
START_TEST(connect_refused_twice)
{
    const char *u = url(), *at = strchr(u, '@'), *colon = strchr(u + strlen("mysql://"), ':');
    ck_assert(at && colon && colon < at);
    char bad[1024];
    snprintf(bad, sizeof(bad), "%.*s:wrong-password%s", (int)(colon - u), u, at);
    tp_db *db = tp_db_new_url(L, bad, NULL);
    ck_assert_ptr_nonnull(db);
    for (int i = 0; i < 2; i++) {
        tp_future *f = tp_db_query(db, "SELECT 1", NULL, 0);
        ck_assert_int_eq(wait_f(f), -ECONNREFUSED);
        ck_assert_ptr_nonnull(strstr(tp_future_error_message(f), "Access denied"));
        tp_future_unref(f);
    }
    ck_assert_uint_eq(stats(db).open, 0);
    tp_db_close(db);
}
END_TEST

START_TEST(connect_timeout)
{
    int port, fd = tp_test_bind_unused_port(&port); /* listens, never says hello */
    ck_assert_int_ge(fd, 0);
    tp_db *db = tp_db_new(L, &(struct tp_db_options){.host = "127.0.0.1",
                                                     .port = (unsigned)port,
                                                     .user = "nobody",
                                                     .connect_timeout = 0.3});
    tp_future *f = tp_db_query(db, "SELECT 1", NULL, 0);
    ck_assert_int_eq(wait_f(f), -ETIMEDOUT);
    ck_assert_ptr_nonnull(strstr(tp_future_error_message(f), "connect timeout"));
    tp_future_unref(f);
    ck_assert_uint_eq(stats(db).open, 0);
    tp_db_close(db);
    close(fd);
}
END_TEST

START_TEST(session_settings)
{
    tp_db *db = open_db(NULL);
    tp_future *f = tp_db_get(db,
                             "SELECT @@character_set_connection AS cs, @@time_zone AS tz, "
                             "@@sql_mode LIKE ? AS strict, @@autocommit AS ac",
                             TP_DB_PARAMS(tp_db_str("%STRICT_ALL_TABLES%")));
    json_t *row = ok(f);
    ck_assert_str_eq(json_string_value(json_object_get(row, "cs")), "utf8mb4");
    ck_assert_str_eq(json_string_value(json_object_get(row, "tz")), "+00:00");
    ck_assert_int_eq(json_integer_value(json_object_get(row, "strict")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(row, "ac")), 1);
    tp_future_unref(f);
    tp_db_close(db);
}
END_TEST

/* ---- the server killed and restarted
 * ------------------------------------------------------------- */

static void control(const char *cmd)
{
    const char *fd_s = getenv("TP_DB_CONTROL_FD");
    ck_assert_ptr_nonnull(fd_s);
    int fd = atoi(fd_s);
    ck_assert_int_eq(write(fd, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
    char buf[64];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    ck_assert_int_gt(n, 0);
    buf[n] = '\0';
    ck_assert_msg(strncmp(buf, "ok", 2) == 0, "runner: %s", buf);
}

START_TEST(server_restart)
{
    tp_db *db = open_db(&(struct tp_db_options){.pool_size = 3, .connect_timeout = 5});
    tp_future *warm[3];
    for (int i = 0; i < 3; i++)
        warm[i] = tp_db_query(db, "SELECT SLEEP(0.05)", NULL, 0);
    for (int i = 0; i < 3; i++)
        run_ok(warm[i]);
    tp_db *admin = open_db(NULL);
    tp_future *inflight = tp_db_query(db, "SELECT SLEEP(30) AS marker_inflight", NULL, 0);
    wait_running(admin, "%marker_inflight%", true); /* executing on the server */
    tp_db_close(admin);
    ck_assert(!tp_future_done(inflight));
    control("kill\n");
    ck_assert_int_eq(wait_f(inflight), -ECONNRESET); /* reported, not retried */
    ck_assert_uint_eq(tp_db_error_number(inflight), 2013);
    tp_future_unref(inflight);
    tp_future *down = tp_db_query(db, "SELECT 1", NULL, 0);
    ck_assert_int_eq(wait_f(down), -ECONNREFUSED);
    tp_future_unref(down);
    control("start\n");
    for (int i = 0; i < 3; i++) /* later statements reconnect */
        warm[i] = tp_db_query(db, "SELECT 1 AS one", NULL, 0);
    for (int i = 0; i < 3; i++)
        run_ok(warm[i]);
    ck_assert_uint_ge(stats(db).connects, 4);
    tp_db_close(db);
}
END_TEST

/* ---- under a handler: rows to the page, an error to a 500 and a log line ------------------------
 */

static tp_db *handler_db;

static int rows_ready(tp_handler *h, tp_future *f, void *arg)
{
    (void)arg;
    if (tp_future_error(f))
        return TP_ERROR;
    json_t *page = json_pack("{sO}", "rows", tp_future_result(f));
    int r = tp_write_json(h, page);
    json_decref(page);
    return r;
}

static int list_get(tp_handler *h)
{
    tp_future *f = tp_db_query(handler_db, tp_get_argument(h, "sql", "SELECT 1"), NULL, 0);
    tp_handler_await(h, f, rows_ready, NULL);
    tp_future_unref(f);
    return TP_AGAIN;
}

static const tp_handler_class list_class = {.name = "List", .get = list_get};

START_TEST(handler_error_500)
{
    handler_db = open_db(NULL);
    tp_app *app = tp_app_new();
    ck_assert_int_eq(tp_app_route(app, "/q", &list_class, NULL), 0);
    tp_log_set_access(false);
    tp_http_test *t = tp_http_test_serve(L, app);
    ck_assert_ptr_nonnull(t);
    tp_http_response *r = tp_test_fetch(t, "/q?sql=SELECT+%27a%27+AS+x", NULL);
    ck_assert_int_eq(r->code, 200);
    static const char want[] = "{\"rows\": [{\"x\": \"a\"}]}";
    ck_assert_msg(r->body.n == strlen(want) && !memcmp(r->body.p, want, r->body.n), "body %.*s",
                  (int)r->body.n, r->body.p);
    tp_http_response_free(r);
    tp_expect_log *e =
        tp_expect_log_begin("(?s)Uncaught exception GET /q.*MariaDB error 1064", 0, true);
    r = tp_test_fetch(t, "/q?sql=SELEC+1", NULL);
    ck_assert_int_eq(r->code, 500);
    tp_http_response_free(r);
    ck_assert_int_eq(tp_expect_log_end(e), 0);
    tp_http_test_free(t);
    tp_db_close(handler_db);
}
END_TEST

static Suite *database_suite(void)
{
    Suite *s = suite_create("database");
    TCase *tc = tcase_create("database");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, url_options);
    tcase_add_test(tc, types_and_nulls);
    tcase_add_test(tc, hostile_strings);
    tcase_add_test(tc, binary_exact);
    tcase_add_test(tc, get_and_many);
    tcase_add_test(tc, prepared_once);
    tcase_add_test(tc, stream_large);
    tcase_add_test(tc, stream_stop);
    tcase_add_test(tc, stream_cancelled);
    tcase_add_test(tc, tx_commit_rollback);
    tcase_add_test(tc, tx_abandoned);
    tcase_add_test(tc, pool_exhausted);
    tcase_add_test(tc, pool_wait_timeout);
    tcase_add_test(tc, query_timeout);
    tcase_add_test(tc, concurrent_overlap);
    tcase_add_test(tc, connect_timeout);
    tcase_add_test(tc, connect_refused_twice);
    tcase_add_test(tc, session_settings);
    tcase_add_test(tc, server_restart);
    tcase_add_test(tc, handler_error_500);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(database_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
