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

/* A statement on the pool (tx NULL) or in tx. */
static tp_future *call(tp_db *db, tp_db_tx *tx, enum op_kind kind, const char *sql,
                       const tp_db_param *params, size_t per_row, size_t nrows, bool many)
{
    tp_loop *loop = tx ? tx->loop : db->loop;
    if (bad_args(sql, params, per_row, nrows))
        return done_now(loop, "no SQL statement, or its parameters missing");
    if (many && nrows == 0)
        return done_now(loop, NULL);
    struct db_op *op = tx ? tx_op_new(tx, kind, sql, params, per_row, nrows)
                          : db_op_new(db, loop, kind, sql, params, per_row, nrows);
    op->many = many;
    if (tx)
        return tx_run(op);
    tp_future *f = tp_future_ref(op->fut);
    db_submit(op);
    return f;
}

static tp_future *pool_call(tp_db *db, enum op_kind kind, const char *sql,
                            const tp_db_param *params, size_t per_row, size_t nrows, bool many)
{
    return call(db, NULL, kind, sql, params, per_row, nrows, many);
}

static tp_future *tx_call(tp_db_tx *tx, enum op_kind kind, const char *sql,
                          const tp_db_param *params, size_t per_row, size_t nrows, bool many)
{
    return call(NULL, tx, kind, sql, params, per_row, nrows, many);
}

/* A statement of one parameter row, on the pool (tp_db_NAME) and in a transaction
 * (tp_db_tx_NAME). */
#define ONE_ROW_CALLS(name, kind)                                                                  \
    tp_future *tp_db_##name(tp_db *db, const char *sql, const tp_db_param *params, size_t n)       \
    {                                                                                              \
        return pool_call(db, kind, sql, params, n, 1, false);                                      \
    }                                                                                              \
    tp_future *tp_db_tx_##name(tp_db_tx *tx, const char *sql, const tp_db_param *params, size_t n) \
    {                                                                                              \
        return tx_call(tx, kind, sql, params, n, 1, false);                                        \
    }

ONE_ROW_CALLS(query, OP_QUERY)
ONE_ROW_CALLS(get, OP_GET)
ONE_ROW_CALLS(execute, OP_EXEC)
ONE_ROW_CALLS(execute_rowcount, OP_ROWCOUNT)

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
    db_submit_later(op); /* fn never runs before this call returns */
    return f;
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
