/* tornado.database (Tornado 2.x) in C: MariaDB/MySQL on the IOLoop through MariaDB
 * Connector/C's non-blocking API (no thread per query), a connection pool per tp_db,
 * parameterised queries only (server-side prepared statements with typed parameters), rows as
 * jansson objects (column name -> value) a template reads directly, transactions, timeouts and
 * reconnect. Needs only a tp_loop; under a handler, pass the futures to tp_handler_await.
 *
 * Every call returns a future (never NULL) owned by the caller; it fails with:
 *   TP_ERROR       the server refused the statement (message "MariaDB error N (SQLSTATE): ...",
 *                  the number through tp_db_error_number), or Database.get() saw several rows;
 *   -ECONNRESET    the connection was lost during the statement (it is not retried);
 *   -ECONNREFUSED  no connection could be made (message names the MariaDB error);
 *   -ETIMEDOUT     the query timeout passed (the query is killed, the connection dropped), or
 *                  the wait for a pooled connection timed out;
 *   -EBUSY         the pool's wait queue was full (at once, without waiting);
 *   -EINVAL        bad arguments (parameter count, NULL sql);
 *   -ECANCELED     the tp_db was closed, or the caller cancelled the future.
 * Cancelling a future whose statement is running kills nothing: the statement completes and
 * its result is dropped (a cancelled statement inside a transaction still ran). */
#ifndef TP_WEB_DATABASE_DATABASE_H
#define TP_WEB_DATABASE_DATABASE_H

#include "platform/api.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/async/future.h"
#include "core/loop.h"

typedef struct tp_db tp_db;
typedef struct tp_db_tx tp_db_tx;

/* Connection and pool settings. Zero/NULL fields take the defaults shown. Strings are copied
 * by tp_db_new. */
struct tp_db_options {
    const char *host;        /* "127.0.0.1"; ignored when unix_socket is set */
    unsigned port;           /* 3306 */
    const char *unix_socket; /* a socket path: used instead of host/port */
    const char *user;        /* NULL: the connector's default (the login name) */
    const char *password;    /* NULL: none */
    const char *database;    /* NULL: none selected */
    const char *charset;     /* "utf8mb4" */
    unsigned pool_size;      /* 4: connections at most, made lazily */
    unsigned queue_size;     /* 128: statements waiting for a connection; more fail -EBUSY */
    double connect_timeout;  /* 10 s: TCP/socket connect and handshake */
    double query_timeout;    /* 0: none; else seconds per statement (-ETIMEDOUT, killed) */
    double wait_timeout;     /* 10 s: waiting in the queue for a pooled connection */
    double max_idle_time;    /* 7 h (Tornado's max_idle_time): older idle connections are
                                closed and made again before use */
};

/* Reads a URL-ish string into o (over what o holds): mysql://user:pass@host:port/db or
 * mysql://user:pass@/db?unix_socket=/path (user, password, port, db optional; %XX decoded;
 * the query may also set pool_size, queue_size, connect_timeout, query_timeout, wait_timeout,
 * charset). The strings of o then point into *storage (free it with free() after tp_db_new).
 * 0, or -EINVAL for a string it cannot read. */
TP_API int tp_db_options_from_url(struct tp_db_options *o, const char *url, char **storage);

/* A database handle on loop (no connection is made yet). NULL opts: all defaults. */
TP_API tp_db *tp_db_new(tp_loop *loop, const struct tp_db_options *opts);
/* tp_db_new with the settings of a URL (tp_db_options_from_url) over opts (may be NULL).
 * NULL if url cannot be read. */
TP_API tp_db *tp_db_new_url(tp_loop *loop, const char *url, const struct tp_db_options *opts);
/* Closes db: queued statements fail -ECANCELED, idle connections close, open transactions
 * are rolled back; running statements finish first, then the handle is freed. */
TP_API void tp_db_close(tp_db *db);

/* ---- parameters: typed values bound to the statement's `?` placeholders -------------- */

enum tp_db_type { TP_DB_NULL, TP_DB_INT, TP_DB_DOUBLE, TP_DB_TEXT, TP_DB_BLOB };

/* One parameter. Text and blob bytes are borrowed for the call only (copied at once). */
typedef struct tp_db_param {
    enum tp_db_type type;
    long long i;
    double d;
    const void *p;
    size_t len;
} tp_db_param;

static inline tp_db_param tp_db_null(void)
{
    return (tp_db_param){.type = TP_DB_NULL};
}
static inline tp_db_param tp_db_int(long long v)
{
    return (tp_db_param){.type = TP_DB_INT, .i = v};
}
static inline tp_db_param tp_db_double(double v)
{
    return (tp_db_param){.type = TP_DB_DOUBLE, .d = v};
}
/* A NUL-terminated string (NULL binds SQL NULL). */
static inline tp_db_param tp_db_str(const char *s)
{
    return s ? (tp_db_param){.type = TP_DB_TEXT, .p = s, .len = __builtin_strlen(s)} : tp_db_null();
}
/* Text of len bytes (any bytes, NULs included). */
static inline tp_db_param tp_db_text(const void *p, size_t len)
{
    return (tp_db_param){.type = TP_DB_TEXT, .p = p, .len = len};
}
static inline tp_db_param tp_db_blob(const void *p, size_t len)
{
    return (tp_db_param){.type = TP_DB_BLOB, .p = p, .len = len};
}
/* Builds the (params, n) pair of a call from a list: TP_DB_PARAMS(tp_db_int(1), tp_db_str(s)). */
#define TP_DB_PARAMS(...)                                                                          \
    ((const tp_db_param[]){__VA_ARGS__}),                                                          \
        (sizeof((const tp_db_param[]){__VA_ARGS__}) / sizeof(tp_db_param))

/* ---- statements on the pool ----------------------------------------------------------- *
 * sql has `?` placeholders, n parameters bound in order (n must match the count). Values of
 * rows: NULL -> null, integer columns -> integers, FLOAT/DOUBLE -> reals, DECIMAL -> its exact
 * text as a string, text -> strings (byte-exact; bytes that are not UTF-8 are kept as they
 * are, through json_stringn_nocheck), blob/binary -> strings of the raw bytes, dates and
 * times -> strings as MariaDB prints them. */

/* Tornado's query(): result a json array of row objects (json_t *, owned by the future). */
TP_API tp_future *tp_db_query(tp_db *db, const char *sql, const tp_db_param *params, size_t n);
/* Tornado's get(): result the one row (json object), or NULL for no row; several rows fail
 * with TP_ERROR "Multiple rows returned for Database.get() query". */
TP_API tp_future *tp_db_get(tp_db *db, const char *sql, const tp_db_param *params, size_t n);
/* Tornado's execute(): result the last insert id as a json integer. */
TP_API tp_future *tp_db_execute(tp_db *db, const char *sql, const tp_db_param *params, size_t n);
/* Tornado's execute_rowcount(): result the affected row count as a json integer. */
TP_API tp_future *tp_db_execute_rowcount(tp_db *db, const char *sql, const tp_db_param *params,
                                         size_t n);
/* Tornado's executemany(): the statement prepared once, run for each of nrows rows of
 * per_row parameters (params holds nrows * per_row). Result: the last insert id (json
 * integer). The rows run one by one on one connection, not in a transaction: on an error the
 * rows before it stay written (wrap it in a transaction for all-or-nothing). */
TP_API tp_future *tp_db_executemany(tp_db *db, const char *sql, const tp_db_param *params,
                                    size_t per_row, size_t nrows);
/* executemany_rowcount(): as tp_db_executemany, result the total affected rows. */
TP_API tp_future *tp_db_executemany_rowcount(tp_db *db, const char *sql, const tp_db_param *params,
                                             size_t per_row, size_t nrows);

/* A streamed row: row is borrowed for the call. Return 0 to go on, anything else to stop (the
 * rest of the result is read and dropped; the future fails with that code, TP_ERROR if it
 * is not negative). */
typedef int (*tp_db_row_fn)(json_t *row, void *arg);
/* Tornado's iter(): rows reach fn one by one as they arrive (an unbuffered result: memory
 * stays bounded by one row), never before this call returns. Result: the row count (json
 * integer). Once the future is
 * cancelled (a handler whose client left), fn is not called again: arg may be gone. */
TP_API tp_future *tp_db_query_stream(tp_db *db, const char *sql, const tp_db_param *params,
                                     size_t n, tp_db_row_fn fn, void *arg);

/* ---- transactions --------------------------------------------------------------------- *
 * tp_db_begin takes one pooled connection and runs START TRANSACTION; its result is a
 * tp_db_tx * owned by the future: take it with tp_db_tx_take. Statements on a tx run in order
 * on its connection. A tx released (tp_db_tx_release, or its begin future freed without a
 * take) before commit/rollback is rolled back before its connection goes back to the pool. */

/* Result: a tp_db_tx * (take it with tp_db_tx_take). */
TP_API tp_future *tp_db_begin(tp_db *db);
/* The tx of a done begin future, with a reference for the caller (NULL if it failed). */
TP_API tp_db_tx *tp_db_tx_take(tp_future *begin);
/* Drops the caller's reference; the last one of an open tx rolls it back. */
TP_API void tp_db_tx_release(tp_db_tx *tx);
/* COMMIT / ROLLBACK (result NULL); the tx is then ended, its connection back in the pool,
 * and further statements on it fail -EINVAL. */
TP_API tp_future *tp_db_commit(tp_db_tx *tx);
TP_API tp_future *tp_db_rollback(tp_db_tx *tx);
/* The statements above, inside tx. */
TP_API tp_future *tp_db_tx_query(tp_db_tx *tx, const char *sql, const tp_db_param *params,
                                 size_t n);
TP_API tp_future *tp_db_tx_get(tp_db_tx *tx, const char *sql, const tp_db_param *params, size_t n);
TP_API tp_future *tp_db_tx_execute(tp_db_tx *tx, const char *sql, const tp_db_param *params,
                                   size_t n);
TP_API tp_future *tp_db_tx_execute_rowcount(tp_db_tx *tx, const char *sql,
                                            const tp_db_param *params, size_t n);
TP_API tp_future *tp_db_tx_executemany(tp_db_tx *tx, const char *sql, const tp_db_param *params,
                                       size_t per_row, size_t nrows);

/* ---- results and errors --------------------------------------------------------------- */

/* The json integer result of execute/execute_rowcount/executemany/query_stream (0 if f is
 * not done with a result). */
TP_API long long tp_db_result_int(const tp_future *f);
/* The MariaDB error number of a failed future (e.g. 1062 duplicate key, 2013 lost
 * connection), 0 if its failure did not come from the server or the connector. */
TP_API unsigned tp_db_error_number(const tp_future *f);

/* Pool counters, for tests and metrics. */
struct tp_db_stats {
    unsigned open;     /* connections open (idle + busy + connecting) */
    unsigned busy;     /* connections running a statement or held by a transaction */
    unsigned waiting;  /* statements queued for a connection */
    uint64_t connects; /* connections made, reconnects included */
    uint64_t lost;     /* connections dropped after an error or timeout */
    uint64_t prepares; /* statements prepared (each connection keeps its first 32 prepared) */
};
TP_API void tp_db_get_stats(const tp_db *db, struct tp_db_stats *out);

#endif
