/* web/database internals: the pool (pool.c), a connection's state machine (conn.c), the
 * statement steps (stmt.c), result rows as json (rows.c), transactions (tx.c).
 *
 * Lifetimes. A connection (struct db_conn) belongs to its tp_db and is freed in one place,
 * conn_free, once it is CLOSED and not inside a connector call. An operation (struct db_op) is
 * a statement with its future; it lives in exactly one place at a time: the pool's wait queue,
 * a transaction's queue, or a connection (c->op), and is freed by op_finish. A transaction
 * is freed by tx_maybe_free when it has no reference, no connection and no queued op. */
#ifndef TP_WEB_DATABASE_DB_INTERNAL_H
#define TP_WEB_DATABASE_DB_INTERNAL_H

#include <mysql.h>

#include "core/async/future.h"
#include "core/loop.h"
#include "core/status.h"
#include "web/database/database.h"

enum op_kind {
    OP_QUERY,    /* rows into a json array */
    OP_GET,      /* one row or NULL; several fail */
    OP_EXEC,     /* last insert id */
    OP_ROWCOUNT, /* affected rows */
    OP_STREAM,   /* rows to a callback, the count as the result */
    OP_TEXT,     /* a text statement without parameters or result (transactions, KILL) */
    OP_BEGIN,    /* START TRANSACTION: takes a connection for its tx */
};

struct db_op {
    struct db_op *next; /* in the wait queue or a tx's queue */
    tp_db *db;
    tp_db_tx *tx;       /* the transaction it runs in (its queue), or NULL */
    tp_db_tx *begin_tx; /* OP_BEGIN: the transaction it opens */
    enum op_kind kind;
    bool many;    /* executemany: nrows rows of per_row params */
    bool ends_tx; /* COMMIT/ROLLBACK: the tx ends when it is done */
    bool retried; /* retried once already on a new connection */
    bool failed;  /* its future was failed already */
    tp_future *fut;
    char *sql;
    tp_db_param *params; /* per_row * nrows, bytes copied into the same block */
    size_t per_row, nrows;
    tp_db_row_fn row_fn;
    void *row_arg;
    tp_timer wait_timer; /* waiting in the pool's queue */
    /* results collected while running */
    json_t *rows;    /* OP_QUERY/OP_GET */
    long long count; /* rows streamed, or affected rows summed */
    long long last_id;
    int stop_code; /* a row callback asked to stop */
};

enum conn_state {
    C_NEW,
    C_CONNECTING,
    C_IDLE,
    C_BUSY,
    C_CLOSED,
};

enum conn_phase {
    PH_NONE,
    PH_CONNECT,
    PH_PREPARE,
    PH_EXECUTE,
    PH_FETCH,
    PH_STMT_CLOSE,
    PH_TEXT,
};

/* Statements a connection keeps prepared, by their SQL text (the first ones it saw). */
enum { STMT_CACHE = 32 };
struct db_cached {
    char *sql;
    MYSQL_STMT *stmt;
};

struct db_conn {
    struct db_conn *prev, *next; /* in db->conns */
    struct db_conn *idle_next;   /* in db->idle */
    tp_db *db;
    MYSQL *m;
    MYSQL_STMT *stmt; /* the op's statement */
    int stmt_slot;    /* its index in cache[], or -1: closed when the op is done */
    struct db_cached cache[STMT_CACHE];
    unsigned ncache;
    int fd; /* -1 until the connector made its socket */
    bool fd_added;
    bool pending; /* a _start returned a wait status: the next step is its _cont */
    bool killer;  /* a side connection that kills a timed-out query */
    bool parked;  /* held by its transaction, waiting for the tx's next statement */
    enum conn_state state;
    enum conn_phase phase;
    struct db_op *op;
    tp_db_tx *tx; /* the transaction holding this connection */
    unsigned long thread_id;
    double idle_since;
    size_t row_i;            /* executemany: the row being executed */
    tp_timer io_timer;       /* the connector's own timeout (MYSQL_WAIT_TIMEOUT) */
    tp_timer deadline_timer; /* connect_timeout or query_timeout */
    char *kill_sql;          /* a killer's statement */
    /* result binding (rows.c) */
    MYSQL_RES *meta;
    unsigned ncols;
    MYSQL_BIND *rbind;
    struct db_col *cols;
};

struct db_col {
    char *buf;
    unsigned long cap;
    unsigned long len;
    my_bool is_null;
    my_bool error;
    long long i;
    double d;
    enum { COL_INT, COL_UINT, COL_REAL, COL_BYTES } as;
};

enum tx_state { TX_PENDING, TX_OPEN, TX_ENDING, TX_ENDED };

struct tp_db_tx {
    tp_db *db;
    tp_loop *loop;
    enum tx_state state;
    unsigned refs;
    struct db_conn *conn;
    struct db_op *head, *tail; /* statements waiting for the tx's connection */
};

enum db_state { DB_OPEN, DB_CLOSING };

struct tp_db {
    tp_loop *loop;
    enum db_state state;
    struct tp_db_options o; /* strings owned (copies) */
    struct db_conn *conns;  /* all, killers included */
    struct db_conn *idle;   /* a stack: the most recently used first */
    struct db_op *qhead, *qtail;
    unsigned nopen, nbusy, nwaiting;
    unsigned ndeferred; /* db_submit_later calls still to run */
    uint64_t nconnects, nlost, nprepares;
};

/* pool.c */
void db_submit(struct db_op *op);
/* db_submit from the loop's next iteration: for statements whose callbacks must not run
 * inside the call that made them (streams). */
void db_submit_later(struct db_op *op);
struct db_op *db_op_new(tp_db *db, tp_loop *loop, enum op_kind kind, const char *sql,
                        const tp_db_param *params, size_t per_row, size_t nrows);
/* Completes op's future (an error if code != 0, with msg) and frees op. */
void db_op_fail(struct db_op *op, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void db_op_free(struct db_op *op);
/* The connection finished its op (or was made): give it the next op or make it idle. */
void db_conn_ready(struct db_conn *c);
/* The connection closed: forget it, start a new one for a waiter if the pool allows. */
void db_conn_gone(tp_db *db);

/* conn.c */
struct db_conn *conn_new(tp_db *db);
/* Runs op on c (connecting first if c is new). */
void conn_run(struct db_conn *c, struct db_op *op);
/* c's op is done (its future completed): free the op, hand c on (tx, pool). */
void conn_op_done(struct db_conn *c);
/* c's op failed with the connector's error (stmt or connection): completes the op's future,
 * drops c if the connection is lost (retrying the op once when nothing was executed yet).
 * true: c lives on, its phase set to what comes next (PH_STMT_CLOSE, or PH_NONE: done);
 * false: c is gone. */
bool conn_fail(struct db_conn *c);
/* Frees a CLOSED connection and tells the pool. */
void conn_free(struct db_conn *c);
/* Drops c (its socket shut, the connector's call ended); c->op is not touched. */
void conn_drop(struct db_conn *c);
/* Starts a side connection that runs KILL thread_id (fire and forget). */
void conn_kill_thread(tp_db *db, unsigned long thread_id);
void conn_idle_watch(struct db_conn *c);

/* stmt.c: the prepared statements a connection keeps; closes them all (no I/O: after
 * mysql_close). */
void stmt_cache_free(struct db_conn *c);
/* Forgets c->stmt from the cache (it is closed when the op is done). */
void stmt_cache_forget(struct db_conn *c);
/* stmt.c: the statement steps, resumed with the connector's ready flags (0 to start). */
void stmt_step(struct db_conn *c, int ready);
/* Waits for the connector's status st (MYSQL_WAIT_*) then calls stmt_step again. */
void conn_wait(struct db_conn *c, int st);

/* rows.c */
int rows_bind(struct db_conn *c);
/* The current row as a json object (the truncated columns fetched whole first). */
json_t *rows_row(struct db_conn *c, bool truncated);
void rows_free(struct db_conn *c);
void db_params_bind(MYSQL_BIND *b, const tp_db_param *p, size_t n);

/* tx.c */
tp_db_tx *tx_new(tp_db *db);
void tx_conn_done(tp_db_tx *tx, struct db_conn *c);
void tx_lost(tp_db_tx *tx);
/* The begin op succeeded on c: c now belongs to op->begin_tx, the future gets the tx. */
void tx_begin_done(struct db_op *op, struct db_conn *c);
/* An op that never ran ends: its pending tx (begin) is ended too. */
void tx_begin_failed(tp_db_tx *tx);
/* Queues op on its tx (op->tx), running it at once if the tx's connection waits. */
void tx_submit(struct db_op *op);
/* An op on tx, and its submission (the caller's future; -EINVAL when tx is not open). */
struct db_op *tx_op_new(tp_db_tx *tx, enum op_kind kind, const char *sql, const tp_db_param *params,
                        size_t per_row, size_t nrows);
tp_future *tx_run(struct db_op *op);
/* The next op of c's transaction, or NULL. */
struct db_op *tx_next(tp_db_tx *tx);

#endif
