/* The steps of one operation on a connection, each a connector _start call resumed by its
 * _cont once the socket is ready: connect, then PREPARE, EXECUTE (once per row for
 * executemany), FETCH row by row (an unbuffered result: rows are read as they are consumed),
 * and the statement's close; or one text statement (transactions, KILL). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "web/database/db_internal.h"

/* Runs a connector call: its _start the first time, its _cont when resumed. A wait status
 * parks the connection until the socket is ready (stmt_step is called again). */
#define STEP(c, start_call, cont_call)                                                             \
    do {                                                                                           \
        int st_ = (c)->pending ? (cont_call) : (start_call);                                       \
        if (st_) {                                                                                 \
            conn_wait((c), st_);                                                                   \
            return false;                                                                          \
        }                                                                                          \
        (c)->pending = false;                                                                      \
        ready = 0;                                                                                 \
    } while (0)

static bool step_connect(struct db_conn *c, int ready)
{
    const struct tp_db_options *o = &c->db->o;
    MYSQL *ret = NULL;
    const char *host = o->unix_socket ? "localhost" : o->host;
    STEP(c,
         mysql_real_connect_start(&ret, c->m, host, o->user, o->password, o->database, o->port,
                                  o->unix_socket, 0),
         mysql_real_connect_cont(&ret, c->m, ready));
    if (!ret)
        return conn_fail(c);
    tp_db *db = c->db;
    db->nconnects++;
    c->thread_id = mysql_thread_id(c->m);
    c->fd = (int)mysql_get_socket(c->m);
    c->state = C_BUSY;
    tp_timer_stop(db->loop, &c->deadline_timer);
    if (db->o.query_timeout > 0 && !c->killer)
        tp_timer_start_at(db->loop, &c->deadline_timer,
                          tp_loop_time(db->loop) + db->o.query_timeout);
    bool text = c->op->kind == OP_TEXT || c->op->kind == OP_BEGIN;
    c->phase = text ? PH_TEXT : PH_PREPARE;
    return true;
}

static bool step_text(struct db_conn *c, int ready)
{
    int ret = 0;
    const char *sql = c->op->sql;
    STEP(c, mysql_real_query_start(&ret, c->m, sql, strlen(sql)),
         mysql_real_query_cont(&ret, c->m, ready));
    if (ret)
        return conn_fail(c);
    c->phase = PH_NONE;
    return true;
}

static int cache_find(const struct db_conn *c, const char *sql)
{
    for (unsigned i = 0; i < c->ncache; i++)
        if (!strcmp(c->cache[i].sql, sql))
            return (int)i;
    return -1;
}

void stmt_cache_forget(struct db_conn *c)
{
    int i = c->stmt_slot;
    if (i < 0)
        return;
    tp_free(c->cache[i].sql);
    c->cache[i] = c->cache[--c->ncache];
    c->stmt_slot = -1;
}

void stmt_cache_free(struct db_conn *c)
{
    for (unsigned i = 0; i < c->ncache; i++) {
        mysql_stmt_close(c->cache[i].stmt);
        tp_free(c->cache[i].sql);
    }
    c->ncache = 0;
}

/* The statement is prepared: check its placeholders, then execute. */
static bool prepared(struct db_conn *c)
{
    struct db_op *op = c->op;
    unsigned want = mysql_stmt_param_count(c->stmt);
    if (want != op->per_row) {
        op->failed = true;
        tp_future_set_error(op->fut, -EINVAL,
                            "the statement has %u placeholders, %zu parameters given", want,
                            op->per_row);
        c->phase = PH_STMT_CLOSE;
        return true;
    }
    c->row_i = 0;
    c->phase = PH_EXECUTE;
    return true;
}

static bool step_prepare(struct db_conn *c, int ready)
{
    struct db_op *op = c->op;
    int ret = 0;
    if (!c->pending) {
        int slot = cache_find(c, op->sql);
        if (slot >= 0) {
            c->stmt = c->cache[slot].stmt;
            c->stmt_slot = slot;
            return prepared(c);
        }
        c->stmt = mysql_stmt_init(c->m);
        c->stmt_slot = -1;
        if (!c->stmt)
            abort(); /* the connector is out of memory */
    }
    STEP(c, mysql_stmt_prepare_start(&ret, c->stmt, op->sql, strlen(op->sql)),
         mysql_stmt_prepare_cont(&ret, c->stmt, ready));
    if (ret)
        return conn_fail(c);
    c->db->nprepares++;
    if (c->ncache < STMT_CACHE) {
        c->stmt_slot = (int)c->ncache;
        c->cache[c->ncache++] = (struct db_cached){tp_strndup(op->sql, strlen(op->sql)), c->stmt};
    }
    return prepared(c);
}

static bool step_execute(struct db_conn *c, int ready)
{
    struct db_op *op = c->op;
    int ret = 0;
    if (!c->pending && op->per_row) {
        MYSQL_BIND *b = tp_calloc(op->per_row, sizeof(*b)); /* up to 65535 of them */
        db_params_bind(b, op->params + c->row_i * op->per_row, op->per_row);
        bool bad = mysql_stmt_bind_param(c->stmt, b); /* copies the binds */
        tp_free(b);
        if (bad)
            return conn_fail(c);
    }
    STEP(c, mysql_stmt_execute_start(&ret, c->stmt), mysql_stmt_execute_cont(&ret, c->stmt, ready));
    if (ret)
        return conn_fail(c);
    /* the result's columns as the execution gives them (a `?` in the select list has its
     * type only now) */
    if (mysql_stmt_field_count(c->stmt) > 0) {
        if (!c->meta) {
            c->meta = mysql_stmt_result_metadata(c->stmt);
            if (!c->meta || rows_bind(c) != 0)
                return conn_fail(c);
        }
        c->phase = PH_FETCH;
        return true;
    }
    my_ulonglong n = mysql_stmt_affected_rows(c->stmt);
    if (n != (my_ulonglong)-1)
        op->count += (long long)n;
    op->last_id = (long long)mysql_stmt_insert_id(c->stmt);
    if (op->many && ++c->row_i < op->nrows)
        return true; /* the next row: bound on the next pass */
    c->phase = PH_STMT_CLOSE;
    return true;
}

static void take_row(struct db_op *op, json_t *row)
{
    if (op->kind == OP_STREAM) {
        if (!op->stop_code && !tp_future_done(op->fut)) { /* not once cancelled */
            int r = op->row_fn(row, op->row_arg);
            if (r)
                op->stop_code = r < 0 ? r : TP_ERROR;
        }
        op->count++;
        json_decref(row);
        return;
    }
    if (op->kind == OP_GET && json_array_size(op->rows) >= 2)
        json_decref(row); /* Multiple rows: the rest are read and dropped */
    else
        json_array_append_new(op->rows, row);
}

static bool step_fetch(struct db_conn *c, int ready)
{
    int ret = 0;
    STEP(c, mysql_stmt_fetch_start(&ret, c->stmt), mysql_stmt_fetch_cont(&ret, c->stmt, ready));
    if (ret == MYSQL_NO_DATA) {
        c->phase = PH_STMT_CLOSE;
        return true;
    }
    if (ret != 0 && ret != MYSQL_DATA_TRUNCATED)
        return conn_fail(c);
    json_t *row = rows_row(c, ret == MYSQL_DATA_TRUNCATED);
    if (!row)
        return conn_fail(c);
    take_row(c->op, row);
    return true;
}

static bool step_close(struct db_conn *c, int ready)
{
    my_bool ret = 0;
    if (c->stmt_slot >= 0) { /* kept prepared for the next time */
        c->stmt = NULL;
        c->stmt_slot = -1;
        rows_free(c);
        c->phase = PH_NONE;
        return true;
    }
    STEP(c, mysql_stmt_close_start(&ret, c->stmt), mysql_stmt_close_cont(&ret, c->stmt, ready));
    c->stmt = NULL;
    rows_free(c);
    c->phase = PH_NONE;
    return true;
}

void stmt_step(struct db_conn *c, int ready)
{
    bool go = true;
    while (go) {
        switch (c->phase) {
        case PH_CONNECT: go = step_connect(c, ready); break;
        case PH_TEXT: go = step_text(c, ready); break;
        case PH_PREPARE: go = step_prepare(c, ready); break;
        case PH_EXECUTE: go = step_execute(c, ready); break;
        case PH_FETCH: go = step_fetch(c, ready); break;
        case PH_STMT_CLOSE: go = step_close(c, ready); break;
        case PH_NONE: conn_op_done(c); return;
        }
        ready = 0;
    }
}
