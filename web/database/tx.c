/* Transactions: START TRANSACTION takes a pooled connection, which then runs only the tx's
 * statements, in order, until COMMIT or ROLLBACK (or the connection is lost) gives it back.
 * The last reference of a tx still open queues a ROLLBACK first: an abandoned transaction
 * never returns its connection to the pool with work half done. */
#include <errno.h>

#include "core/alloc.h"
#include "web/database/db_internal.h"

tp_db_tx *tx_new(tp_db *db)
{
    tp_db_tx *tx = tp_calloc(1, sizeof(*tx));
    tx->db = db;
    tx->loop = db->loop;
    tx->state = TX_PENDING;
    return tx;
}

static void tx_maybe_free(tp_db_tx *tx)
{
    if (tx->refs == 0 && tx->state == TX_ENDED && !tx->conn && !tx->head)
        tp_free(tx);
}

static void fail_queued(tp_db_tx *tx, int code, const char *why)
{
    struct db_op *op;
    while ((op = tx->head)) {
        tx->head = op->next;
        db_op_fail(op, code, "%s", why);
    }
    tx->tail = NULL;
}

static void tx_unref(tp_db_tx *tx)
{
    if (--tx->refs)
        return;
    if (tx->state == TX_OPEN) { /* abandoned: roll back before the connection is pooled */
        tx->state = TX_ENDING;
        struct db_op *op = db_op_new(tx->db, tx->loop, OP_TEXT, "ROLLBACK", NULL, 0, 1);
        op->tx = tx;
        op->ends_tx = true;
        tx_submit(op);
        return;
    }
    tx_maybe_free(tx);
}

static void free_tx_ref(void *tx)
{
    tx_unref(tx);
}

void tx_begin_done(struct db_op *op, struct db_conn *c)
{
    tp_db_tx *tx = op->begin_tx;
    tx->conn = c;
    c->tx = tx;
    tx->state = TX_OPEN;
    tx->refs++; /* the future's, dropped when it is freed (at once if it was cancelled) */
    tp_future_set_result(op->fut, tx, free_tx_ref);
}

void tx_begin_failed(tp_db_tx *tx)
{
    if (tx->state != TX_PENDING)
        return;
    tx->state = TX_ENDED;
    tx_maybe_free(tx);
}

void tx_submit(struct db_op *op)
{
    tp_db_tx *tx = op->tx;
    if (tx->state == TX_ENDED) {
        db_op_fail(op, -EINVAL, "the transaction has ended");
        return;
    }
    if (tx->tail)
        tx->tail->next = op;
    else
        tx->head = op;
    tx->tail = op;
    struct db_conn *c = tx->conn;
    if (c && c->parked) {
        c->parked = false;
        conn_run(c, tx_next(tx));
    }
}

struct db_op *tx_next(tp_db_tx *tx)
{
    struct db_op *op;
    while ((op = tx->head)) {
        tx->head = op->next;
        if (!tx->head)
            tx->tail = NULL;
        op->next = NULL;
        if (op->ends_tx || !tp_future_done(op->fut))
            return op;
        db_op_free(op); /* cancelled while it waited */
    }
    return NULL;
}

void tx_conn_done(tp_db_tx *tx, struct db_conn *c)
{
    c->tx = NULL;
    c->parked = false;
    tx->conn = NULL;
    tx->state = TX_ENDED;
    fail_queued(tx, -EINVAL, "the transaction has ended");
    tx_maybe_free(tx);
}

void tx_lost(tp_db_tx *tx)
{
    if (tx->conn) {
        tx->conn->tx = NULL;
        tx->conn->parked = false;
    }
    tx->conn = NULL;
    tx->state = TX_ENDED;
    fail_queued(tx, -ECONNRESET, "the transaction's connection was lost");
    tx_maybe_free(tx);
}

/* ---- the API ------------------------------------------------------------------------------ */

tp_future *tp_db_begin(tp_db *db)
{
    struct db_op *op = db_op_new(db, db->loop, OP_BEGIN, "START TRANSACTION", NULL, 0, 1);
    op->begin_tx = tx_new(db);
    tp_future *f = tp_future_ref(op->fut);
    db_submit(op);
    return f;
}

tp_db_tx *tp_db_tx_take(tp_future *begin)
{
    tp_db_tx *tx = tp_future_state(begin) == TP_FUTURE_RESULT ? tp_future_result(begin) : NULL;
    if (tx)
        tx->refs++;
    return tx;
}

void tp_db_tx_release(tp_db_tx *tx)
{
    if (tx)
        tx_unref(tx);
}

/* An op on tx; it fails -EINVAL at once when tx is not open. */
struct db_op *tx_op_new(tp_db_tx *tx, enum op_kind kind, const char *sql, const tp_db_param *params,
                        size_t per_row, size_t nrows)
{
    struct db_op *op = db_op_new(tx->db, tx->loop, kind, sql, params, per_row, nrows);
    op->tx = tx;
    return op;
}

tp_future *tx_run(struct db_op *op)
{
    tp_future *f = tp_future_ref(op->fut);
    if (op->tx->state != TX_OPEN) {
        db_op_fail(op, -EINVAL, "the transaction is not open");
        return f;
    }
    if (op->ends_tx)
        op->tx->state = TX_ENDING;
    tx_submit(op);
    return f;
}

static tp_future *tx_end(tp_db_tx *tx, const char *sql)
{
    struct db_op *op = tx_op_new(tx, OP_TEXT, sql, NULL, 0, 1);
    op->ends_tx = true;
    return tx_run(op);
}

tp_future *tp_db_commit(tp_db_tx *tx)
{
    return tx_end(tx, "COMMIT");
}

tp_future *tp_db_rollback(tp_db_tx *tx)
{
    return tx_end(tx, "ROLLBACK");
}
