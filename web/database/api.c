/* The statement calls of database.h, on the pool and inside a transaction, and the result
 * helpers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "web/database/db_internal.h"

static void free_json(void *v)
{
    json_decref(v);
}

/* A future already done: the error -EINVAL, or (why NULL) the json integer 0. */
static tp_future *done_now(tp_loop *loop, const char *why)
{
    tp_future *f = tp_future_new(loop);
    if (why)
        tp_future_set_error(f, -EINVAL, "%s", why);
    else
        tp_future_set_result(f, json_integer(0), free_json);
    return f;
}

static bool bad_args(const char *sql, const tp_db_param *params, size_t per_row, size_t nrows)
{
    return !sql || (per_row && nrows && !params);
}

static tp_future *pool_call(tp_db *db, enum op_kind kind, const char *sql,
                            const tp_db_param *params, size_t per_row, size_t nrows, bool many)
{
    if (bad_args(sql, params, per_row, nrows))
        return done_now(db->loop, "no SQL statement, or its parameters missing");
    if (many && nrows == 0)
        return done_now(db->loop, NULL);
    struct db_op *op = db_op_new(db, db->loop, kind, sql, params, per_row, nrows);
    op->many = many;
    tp_future *f = tp_future_ref(op->fut);
    db_submit(op);
    return f;
}

static tp_future *tx_call(tp_db_tx *tx, enum op_kind kind, const char *sql,
                          const tp_db_param *params, size_t per_row, size_t nrows, bool many)
{
    if (bad_args(sql, params, per_row, nrows))
        return done_now(tx->loop, "no SQL statement, or its parameters missing");
    if (many && nrows == 0)
        return done_now(tx->loop, NULL);
    struct db_op *op = tx_op_new(tx, kind, sql, params, per_row, nrows);
    op->many = many;
    return tx_run(op);
}

tp_future *tp_db_query(tp_db *db, const char *sql, const tp_db_param *params, size_t n)
{
    return pool_call(db, OP_QUERY, sql, params, n, 1, false);
}

tp_future *tp_db_get(tp_db *db, const char *sql, const tp_db_param *params, size_t n)
{
    return pool_call(db, OP_GET, sql, params, n, 1, false);
}

tp_future *tp_db_execute(tp_db *db, const char *sql, const tp_db_param *params, size_t n)
{
    return pool_call(db, OP_EXEC, sql, params, n, 1, false);
}

tp_future *tp_db_execute_rowcount(tp_db *db, const char *sql, const tp_db_param *params, size_t n)
{
    return pool_call(db, OP_ROWCOUNT, sql, params, n, 1, false);
}

tp_future *tp_db_executemany(tp_db *db, const char *sql, const tp_db_param *params, size_t per_row,
                             size_t nrows)
{
    return pool_call(db, OP_EXEC, sql, params, per_row, nrows, true);
}

tp_future *tp_db_executemany_rowcount(tp_db *db, const char *sql, const tp_db_param *params,
                                      size_t per_row, size_t nrows)
{
    return pool_call(db, OP_ROWCOUNT, sql, params, per_row, nrows, true);
}

tp_future *tp_db_query_stream(tp_db *db, const char *sql, const tp_db_param *params, size_t n,
                              tp_db_row_fn fn, void *arg)
{
    if (!fn)
        return done_now(db->loop, "no row callback");
    if (bad_args(sql, params, n, 1))
        return done_now(db->loop, "no SQL statement, or its parameters missing");
    struct db_op *op = db_op_new(db, db->loop, OP_STREAM, sql, params, n, 1);
    op->row_fn = fn;
    op->row_arg = arg;
    tp_future *f = tp_future_ref(op->fut);
    db_submit(op);
    return f;
}

tp_future *tp_db_tx_query(tp_db_tx *tx, const char *sql, const tp_db_param *params, size_t n)
{
    return tx_call(tx, OP_QUERY, sql, params, n, 1, false);
}

tp_future *tp_db_tx_get(tp_db_tx *tx, const char *sql, const tp_db_param *params, size_t n)
{
    return tx_call(tx, OP_GET, sql, params, n, 1, false);
}

tp_future *tp_db_tx_execute(tp_db_tx *tx, const char *sql, const tp_db_param *params, size_t n)
{
    return tx_call(tx, OP_EXEC, sql, params, n, 1, false);
}

tp_future *tp_db_tx_execute_rowcount(tp_db_tx *tx, const char *sql, const tp_db_param *params,
                                     size_t n)
{
    return tx_call(tx, OP_ROWCOUNT, sql, params, n, 1, false);
}

tp_future *tp_db_tx_executemany(tp_db_tx *tx, const char *sql, const tp_db_param *params,
                                size_t per_row, size_t nrows)
{
    return tx_call(tx, OP_EXEC, sql, params, per_row, nrows, true);
}

long long tp_db_result_int(const tp_future *f)
{
    json_t *v = tp_future_state(f) == TP_FUTURE_RESULT ? tp_future_result(f) : NULL;
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

unsigned tp_db_error_number(const tp_future *f)
{
    static const char prefix[] = "MariaDB error ";
    if (tp_future_state(f) != TP_FUTURE_ERROR)
        return 0;
    const char *m = tp_future_error_message(f);
    if (strncmp(m, prefix, sizeof(prefix) - 1) != 0)
        return 0;
    return (unsigned)strtoul(m + sizeof(prefix) - 1, NULL, 10);
}
