/* One MariaDB connection on the loop: made lazily by the pool, driven through the connector's
 * non-blocking calls (stmt.c does the steps), watched while idle (a server that goes away is
 * noticed at once), dropped on a lost connection or a timeout. A query that timed out is
 * killed through a side connection (KILL thread_id). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/alloc.h"
#include "core/log.h"
#include "web/database/db_internal.h"

static void on_deadline(tp_loop *loop, void *arg);
static void on_io_timer(tp_loop *loop, void *arg);

struct db_conn *conn_new(tp_db *db)
{
    struct db_conn *c = tp_calloc(1, sizeof(*c));
    c->db = db;
    c->fd = -1;
    c->stmt_slot = -1;
    c->state = C_NEW;
    tp_timer_init(&c->io_timer, on_io_timer, c);
    tp_timer_init(&c->deadline_timer, on_deadline, c);
    c->next = db->conns;
    if (db->conns)
        db->conns->prev = c;
    db->conns = c;
    return c;
}

static void conn_setup(struct db_conn *c)
{
    const struct tp_db_options *o = &c->db->o;
    c->m = mysql_init(NULL);
    if (!c->m)
        abort(); /* the connector is out of memory */
    mysql_options(c->m, MYSQL_OPT_NONBLOCK, 0);
    mysql_options(c->m, MYSQL_SET_CHARSET_NAME, o->charset);
    /* Tornado's Connection: UTC and a strict sql_mode on every connection. */
    mysql_options(c->m, MYSQL_INIT_COMMAND, "SET time_zone='+0:00', sql_mode='TRADITIONAL'");
    unsigned secs = o->connect_timeout >= 1 ? (unsigned)o->connect_timeout : 1;
    mysql_options(c->m, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
}

void conn_run(struct db_conn *c, struct db_op *op)
{
    tp_db *db = c->db;
    c->op = op;
    if (c->state == C_IDLE || c->state == C_NEW) {
        if (!c->killer)
            db->nbusy++;
    }
    c->pending = false;
    c->row_i = 0;
    if (c->state == C_NEW) {
        conn_setup(c);
        c->state = C_CONNECTING;
        c->phase = PH_CONNECT;
        tp_timer_start_at(db->loop, &c->deadline_timer,
                          tp_loop_time(db->loop) + db->o.connect_timeout);
    } else {
        c->state = C_BUSY;
        c->phase = (op->kind == OP_TEXT || op->kind == OP_BEGIN) ? PH_TEXT : PH_PREPARE;
        if (db->o.query_timeout > 0 && !c->killer)
            tp_timer_start_at(db->loop, &c->deadline_timer,
                              tp_loop_time(db->loop) + db->o.query_timeout);
        if (c->fd_added)
            tp_loop_update_fd(db->loop, c->fd, 0);
    }
    stmt_step(c, 0);
}

/* ---- waiting for the connector ---------------------------------------------------------- */

static void idle_lost(struct db_conn *c);

static void on_fd(tp_loop *loop, int fd, unsigned events, void *arg)
{
    TP_UNUSED(loop);
    TP_UNUSED(fd);
    struct db_conn *c = arg;
    if (!c->pending) { /* idle, or held by a transaction between statements */
        idle_lost(c);
        return;
    }
    int ready = 0;
    if (events & (TP_READ | TP_ERROR_EVENTS))
        ready |= MYSQL_WAIT_READ;
    if (events & TP_WRITE)
        ready |= MYSQL_WAIT_WRITE;
    tp_timer_stop(c->db->loop, &c->io_timer);
    stmt_step(c, ready);
}

static void on_io_timer(tp_loop *loop, void *arg)
{
    TP_UNUSED(loop);
    struct db_conn *c = arg;
    if (c->pending)
        stmt_step(c, MYSQL_WAIT_TIMEOUT);
}

void conn_wait(struct db_conn *c, int st)
{
    tp_loop *loop = c->db->loop;
    c->pending = true;
    int fd = (int)mysql_get_socket(c->m);
    if (fd != c->fd && c->fd_added) { /* the connector tried another address */
        tp_loop_remove_fd(loop, c->fd);
        c->fd_added = false;
    }
    c->fd = fd;
    unsigned ev = 0;
    if (st & (MYSQL_WAIT_READ | MYSQL_WAIT_EXCEPT))
        ev |= TP_READ;
    if (st & MYSQL_WAIT_WRITE)
        ev |= TP_WRITE;
    if (c->fd >= 0) {
        if (!c->fd_added) {
            if (tp_loop_add_fd(loop, c->fd, ev, on_fd, c) == 0)
                c->fd_added = true;
        } else {
            tp_loop_update_fd(loop, c->fd, ev);
        }
    }
    if (st & MYSQL_WAIT_TIMEOUT)
        tp_timer_start_at(loop, &c->io_timer,
                          tp_loop_time(loop) + mysql_get_timeout_value_ms(c->m) / 1000.0);
}

/* An idle connection is watched for reading: anything readable is the server closing it. */
void conn_idle_watch(struct db_conn *c)
{
    if (c->fd >= 0 && c->fd_added)
        tp_loop_update_fd(c->db->loop, c->fd, TP_READ);
}

static void unlink_idle(struct db_conn *c)
{
    for (struct db_conn **p = &c->db->idle; *p; p = &(*p)->idle_next)
        if (*p == c) {
            *p = c->idle_next;
            break;
        }
    c->idle_next = NULL;
}

static void idle_lost(struct db_conn *c)
{
    if (c->state == C_IDLE)
        unlink_idle(c);
    else if (c->tx)
        tx_lost(c->tx);
    conn_drop(c);
    conn_free(c);
}

/* ---- dropping and freeing ------------------------------------------------------------------ */

void conn_drop(struct db_conn *c)
{
    tp_db *db = c->db;
    if (c->state == C_CLOSED)
        return;
    if (c->state == C_BUSY || c->state == C_CONNECTING) {
        if (!c->killer)
            db->nbusy--;
    }
    if (!c->killer)
        db->nlost++;
    tp_timer_stop(db->loop, &c->io_timer);
    tp_timer_stop(db->loop, &c->deadline_timer);
    if (c->fd_added)
        tp_loop_remove_fd(db->loop, c->fd);
    c->fd_added = false;
    if (c->fd >= 0)
        shutdown(c->fd, SHUT_RDWR); /* the COM_QUIT of mysql_close then fails at once */
    rows_free(c);
    if (c->m)
        mysql_close(c->m); /* invalidates the statements, which then free without I/O */
    if (c->stmt && c->stmt_slot < 0)
        mysql_stmt_close(c->stmt);
    stmt_cache_free(c);
    c->stmt = NULL;
    c->stmt_slot = -1;
    c->m = NULL;
    c->fd = -1;
    c->pending = false;
    c->state = C_CLOSED;
}

void conn_free(struct db_conn *c)
{
    tp_db *db = c->db;
    if (c->prev)
        c->prev->next = c->next;
    else
        db->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    bool killer = c->killer;
    tp_free(c->kill_sql);
    tp_free(c);
    if (!killer)
        db->nopen--;
    db_conn_gone(db);
}

/* ---- deadlines ------------------------------------------------------------------------------- */

static void on_deadline(tp_loop *loop, void *arg)
{
    TP_UNUSED(loop);
    struct db_conn *c = arg;
    tp_db *db = c->db;
    struct db_op *op = c->op;
    unsigned long tid = c->thread_id;
    bool connecting = c->state == C_CONNECTING;
    if (c->tx)
        tx_lost(c->tx);
    conn_drop(c);
    if (op) {
        c->op = NULL;
        if (connecting)
            db_op_fail(op, -ETIMEDOUT, "MariaDB connect timeout (%g s)", db->o.connect_timeout);
        else
            db_op_fail(op, -ETIMEDOUT,
                       "MariaDB query timeout (%g s): the statement was killed "
                       "(thread %lu) and its connection dropped",
                       db->o.query_timeout, tid);
    }
    if (!connecting && tid && !c->killer)
        conn_kill_thread(db, tid);
    conn_free(c);
}

/* ---- errors ---------------------------------------------------------------------------------- */

static bool errno_lost(unsigned e)
{
    return e >= 2000 && e < 3000; /* the connector's own errors: the connection is unusable */
}

bool conn_fail(struct db_conn *c)
{
    struct db_op *op = c->op;
    unsigned e = c->stmt ? mysql_stmt_errno(c->stmt) : 0;
    const char *msg = c->stmt ? mysql_stmt_error(c->stmt) : "";
    const char *state = c->stmt ? mysql_stmt_sqlstate(c->stmt) : "";
    if (!e) {
        e = mysql_errno(c->m);
        msg = mysql_error(c->m);
        state = mysql_sqlstate(c->m);
    }
    bool lost = errno_lost(e) || e == 0;
    bool connecting = c->state == C_CONNECTING;
    /* Nothing was executed yet on a connection that was reused: safe to retry once. */
    bool retry = lost && !connecting && !op->retried && !op->tx &&
                 (c->phase == PH_PREPARE || (c->phase == PH_TEXT && op->kind == OP_BEGIN));
    int code = connecting ? -ECONNREFUSED : lost ? -ECONNRESET : TP_ERROR;
    if (!lost && !connecting) { /* a refused connect (access denied) has no connection to keep */
        op->failed = true;
        tp_future_set_error(op->fut, code, "MariaDB error %u (%s): %s", e, state, msg);
        if (!(c->phase == PH_TEXT && op->ends_tx)) {
            stmt_cache_forget(c); /* closed after an error, prepared again when needed */
            c->phase = c->stmt ? PH_STMT_CLOSE : PH_NONE;
            return true; /* stmt.c closes the statement, then conn_op_done */
        }
        /* a failed COMMIT/ROLLBACK: the connection's state is unknown, drop it */
    } else if (!retry) {
        op->failed = true;
        tp_future_set_error(op->fut, code, "MariaDB error %u (%s): %s", e ? e : 2013, state,
                            e ? msg : "Lost connection to server");
    }
    c->op = NULL;
    if (c->tx)
        tx_lost(c->tx);
    conn_drop(c);
    if (retry) {
        op->retried = true;
        db_submit(op);
    } else {
        db_op_free(op);
    }
    conn_free(c);
    return false;
}

/* ---- the side connection that kills a timed-out statement ------------------------------------ */

void conn_kill_thread(tp_db *db, unsigned long thread_id)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "KILL %lu", thread_id);
    struct db_op *op = db_op_new(db, db->loop, OP_TEXT, sql, NULL, 0, 1);
    struct db_conn *c = conn_new(db);
    c->killer = true;
    conn_run(c, op);
}
