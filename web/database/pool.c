/* tp_db: the pool of connections of one loop (one per worker) and its bounded wait queue, and
 * the operations' life: made with a copy of their parameters, run on a connection, completed
 * and freed in op_complete / db_op_free. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "web/database/db_internal.h"

static char *dup_or_null(const char *s)
{
    return s ? tp_strndup(s, strlen(s)) : NULL;
}

tp_db *tp_db_new(tp_loop *loop, const struct tp_db_options *opts)
{
    tp_db *db = tp_calloc(1, sizeof(*db));
    struct tp_db_options o = opts ? *opts : (struct tp_db_options){0};
    db->loop = loop;
    db->o.host = dup_or_null(o.host ? o.host : "127.0.0.1");
    db->o.port = o.port ? o.port : 3306;
    db->o.unix_socket = dup_or_null(o.unix_socket && *o.unix_socket ? o.unix_socket : NULL);
    db->o.user = dup_or_null(o.user);
    db->o.password = dup_or_null(o.password);
    db->o.database = dup_or_null(o.database);
    db->o.charset = dup_or_null(o.charset ? o.charset : "utf8mb4");
    db->o.pool_size = o.pool_size ? o.pool_size : 4;
    db->o.queue_size = o.queue_size ? o.queue_size : 128;
    db->o.connect_timeout = o.connect_timeout > 0 ? o.connect_timeout : 10;
    db->o.query_timeout = o.query_timeout > 0 ? o.query_timeout : 0;
    db->o.wait_timeout = o.wait_timeout > 0 ? o.wait_timeout : 10;
    db->o.max_idle_time = o.max_idle_time > 0 ? o.max_idle_time : 7 * 3600;
    return db;
}

static void db_free(tp_db *db)
{
    const char *s[] = {db->o.host,     db->o.unix_socket, db->o.user,
                       db->o.password, db->o.database,    db->o.charset};
    for (size_t i = 0; i < TP_ARRAY_LEN(s); i++)
        tp_free((char *)s[i]);
    tp_free(db);
}

/* A closing db goes with its last connection and its last deferred submission. */
static void db_maybe_free(tp_db *db)
{
    if (db->state == DB_CLOSING && !db->conns && !db->ndeferred)
        db_free(db);
}

static void deferred_submit(tp_loop *loop, void *arg)
{
    TP_UNUSED(loop);
    struct db_op *op = arg;
    tp_db *db = op->db;
    db->ndeferred--;
    db_submit(op);
    db_maybe_free(db);
}

void db_submit_later(struct db_op *op)
{
    op->db->ndeferred++;
    tp_loop_add_callback(op->db->loop, deferred_submit, op);
}

/* ---- operations --------------------------------------------------------------------------- */

static void on_wait_timeout(tp_loop *loop, void *arg);

struct db_op *db_op_new(tp_db *db, tp_loop *loop, enum op_kind kind, const char *sql,
                        const tp_db_param *params, size_t per_row, size_t nrows)
{
    struct db_op *op = tp_calloc(1, sizeof(*op));
    op->db = db;
    op->kind = kind;
    op->fut = tp_future_new(loop);
    op->sql = tp_strndup(sql, strlen(sql));
    op->per_row = per_row;
    op->nrows = nrows;
    size_t n = per_row * nrows, bytes = 0;
    for (size_t i = 0; i < n; i++)
        if (params[i].type == TP_DB_TEXT || params[i].type == TP_DB_BLOB)
            bytes += params[i].len;
    if (n) { /* one block: the params, then their bytes */
        op->params = tp_malloc(n * sizeof(tp_db_param) + bytes + 1);
        char *data = (char *)(op->params + n);
        for (size_t i = 0; i < n; i++) {
            op->params[i] = params[i];
            if (params[i].type != TP_DB_TEXT && params[i].type != TP_DB_BLOB)
                continue;
            if (params[i].len)
                memcpy(data, params[i].p, params[i].len);
            op->params[i].p = data;
            data += params[i].len;
        }
    }
    tp_timer_init(&op->wait_timer, on_wait_timeout, op);
    if (kind == OP_QUERY || kind == OP_GET)
        op->rows = json_array();
    return op;
}

void db_op_free(struct db_op *op)
{
    if (op->db)
        tp_timer_stop(tp_future_loop(op->fut), &op->wait_timer);
    if (op->begin_tx)
        tx_begin_failed(op->begin_tx);
    tp_future_unref(op->fut);
    json_decref(op->rows);
    tp_free(op->params);
    tp_free(op->sql);
    tp_free(op);
}

void db_op_fail(struct db_op *op, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!op->failed)
        tp_future_set_error(op->fut, code, "%s", msg);
    op->failed = true;
    db_op_free(op);
}

static void free_json(void *v)
{
    json_decref(v);
}

/* The op ran to its end without an error: its result. */
static void op_result(struct db_op *op)
{
    json_t *v = NULL;
    switch (op->kind) {
    case OP_QUERY:
        v = op->rows;
        op->rows = NULL;
        break;
    case OP_GET:
        if (json_array_size(op->rows) > 1) {
            tp_future_set_error(op->fut, TP_ERROR,
                                "Multiple rows returned for Database.get() query");
            return;
        }
        v = json_incref(json_array_get(op->rows, 0));
        break;
    case OP_EXEC: v = json_integer(op->last_id); break;
    case OP_ROWCOUNT: v = json_integer(op->count); break;
    case OP_STREAM:
        if (op->stop_code) {
            tp_future_set_error(op->fut, op->stop_code, "row callback stopped the query (%d)",
                                op->stop_code);
            return;
        }
        v = json_integer(op->count);
        break;
    case OP_TEXT:
    case OP_BEGIN: break;
    }
    tp_future_set_result(op->fut, v, v ? free_json : NULL);
}

void conn_op_done(struct db_conn *c)
{
    struct db_op *op = c->op;
    c->op = NULL;
    tp_timer_stop(c->db->loop, &c->deadline_timer);
    if (op->kind == OP_BEGIN && !op->failed) {
        tx_begin_done(op, c); /* also when cancelled meanwhile: the tx then rolls back */
        op->begin_tx = NULL;
    } else if (!op->failed) {
        op_result(op);
    }
    bool ends = op->ends_tx && c->tx;
    db_op_free(op);
    if (ends)
        tx_conn_done(c->tx, c);
    db_conn_ready(c);
}

/* ---- the pool ------------------------------------------------------------------------------- */

static struct db_op *queue_pop(tp_db *db)
{
    while (db->qhead) {
        struct db_op *op = db->qhead;
        db->qhead = op->next;
        if (!db->qhead)
            db->qtail = NULL;
        op->next = NULL;
        db->nwaiting--;
        tp_timer_stop(db->loop, &op->wait_timer);
        if (!tp_future_done(op->fut))
            return op;
        db_op_free(op); /* cancelled while it waited */
    }
    return NULL;
}

static void on_wait_timeout(tp_loop *loop, void *arg)
{
    TP_UNUSED(loop);
    struct db_op *op = arg;
    tp_db *db = op->db;
    for (struct db_op **p = &db->qhead, *prev = NULL; *p; prev = *p, p = &(*p)->next) {
        if (*p != op)
            continue;
        *p = op->next;
        if (db->qtail == op)
            db->qtail = prev;
        db->nwaiting--;
        break;
    }
    db_op_fail(op, -ETIMEDOUT, "waited %g s for a database connection (pool of %u busy)",
               db->o.wait_timeout, db->o.pool_size);
}

static struct db_conn *pop_idle(tp_db *db)
{
    while (db->idle) {
        struct db_conn *c = db->idle;
        db->idle = c->idle_next;
        c->idle_next = NULL;
        if (tp_loop_time(db->loop) - c->idle_since <= db->o.max_idle_time)
            return c;
        conn_drop(c); /* idle too long: the server may have closed it (Tornado reconnects) */
        conn_free(c);
    }
    return NULL;
}

void db_submit(struct db_op *op)
{
    tp_db *db = op->db;
    if (op->tx) {
        tx_submit(op);
        return;
    }
    if (db->state != DB_OPEN) {
        db_op_fail(op, -ECANCELED, "the database handle is closed");
        return;
    }
    struct db_conn *c = pop_idle(db);
    if (!c && db->nopen < db->o.pool_size) {
        c = conn_new(db);
        db->nopen++;
    }
    if (c) {
        conn_run(c, op);
        return;
    }
    if (db->nwaiting >= db->o.queue_size) {
        db_op_fail(op, -EBUSY, "database pool queue full (%u waiting for %u connections)",
                   db->nwaiting, db->o.pool_size);
        return;
    }
    if (db->qtail)
        db->qtail->next = op;
    else
        db->qhead = op;
    db->qtail = op;
    db->nwaiting++;
    tp_timer_start_at(db->loop, &op->wait_timer, tp_loop_time(db->loop) + db->o.wait_timeout);
}

void db_conn_ready(struct db_conn *c)
{
    tp_db *db = c->db;
    if (c->tx) { /* between the statements of a transaction: its own queue */
        struct db_op *op = tx_next(c->tx);
        if (op)
            conn_run(c, op);
        else {
            c->parked = true;
            conn_idle_watch(c); /* only the server closing it wakes a parked connection */
        }
        return;
    }
    if (c->killer || db->state != DB_OPEN) {
        conn_drop(c);
        conn_free(c);
        return;
    }
    struct db_op *op = queue_pop(db);
    if (op) {
        conn_run(c, op);
        return;
    }
    db->nbusy--;
    c->state = C_IDLE;
    c->idle_since = tp_loop_time(db->loop);
    c->idle_next = db->idle;
    db->idle = c;
    conn_idle_watch(c);
}

void db_conn_gone(tp_db *db)
{
    if (db->state == DB_CLOSING) {
        db_maybe_free(db);
        return;
    }
    while (db->qhead && db->nopen < db->o.pool_size) {
        struct db_op *op = queue_pop(db);
        if (!op)
            break;
        struct db_conn *c = conn_new(db);
        db->nopen++;
        conn_run(c, op);
    }
}

void tp_db_close(tp_db *db)
{
    if (!db || db->state != DB_OPEN)
        return;
    struct db_op *op;
    while ((op = db->qhead)) {
        db->qhead = op->next;
        db->nwaiting--;
        db_op_fail(op, -ECANCELED, "the database handle was closed");
    }
    db->qtail = NULL;
    while (db->idle) {
        struct db_conn *c = db->idle;
        db->idle = c->idle_next;
        conn_drop(c);
        conn_free(c);
    }
    db->state = DB_CLOSING; /* busy connections close when their statement is done */
    db_maybe_free(db);
}

void tp_db_get_stats(const tp_db *db, struct tp_db_stats *out)
{
    *out = (struct tp_db_stats){.open = db->nopen,
                                .busy = db->nbusy,
                                .waiting = db->nwaiting,
                                .connects = db->nconnects,
                                .lost = db->nlost,
                                .prepares = db->nprepares};
}
