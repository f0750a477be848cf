/* Result rows as json objects, parameters as typed binds. A result column is bound by its
 * type: integers as long long, FLOAT/DOUBLE as double, everything else (text, blobs, DECIMAL,
 * dates) as bytes in a buffer that grows when a value did not fit (the connector reports the
 * row truncated and the column is fetched again whole). */
#include <limits.h>
#include <string.h>

#include "core/alloc.h"
#include "web/database/db_internal.h"

enum { COL_INITIAL_CAP = 256 };

static void bind_col(MYSQL_BIND *b, struct db_col *col, const MYSQL_FIELD *f)
{
    memset(b, 0, sizeof(*b));
    b->is_null = &col->is_null;
    b->error = &col->error;
    b->length = &col->len;
    switch (f->type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_YEAR:
        col->as = (f->flags & UNSIGNED_FLAG) ? COL_UINT : COL_INT;
        b->buffer_type = MYSQL_TYPE_LONGLONG;
        b->buffer = &col->i;
        b->is_unsigned = col->as == COL_UINT;
        return;
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE:
        col->as = COL_REAL;
        b->buffer_type = MYSQL_TYPE_DOUBLE;
        b->buffer = &col->d;
        return;
    default:
        col->as = COL_BYTES;
        if (!col->buf) {
            col->cap = COL_INITIAL_CAP;
            col->buf = tp_malloc(col->cap);
        }
        b->buffer_type = MYSQL_TYPE_STRING;
        b->buffer = col->buf;
        b->buffer_length = col->cap;
        return;
    }
}

int rows_bind(struct db_conn *c)
{
    c->ncols = mysql_num_fields(c->meta);
    c->rbind = tp_calloc(c->ncols ? c->ncols : 1, sizeof(MYSQL_BIND));
    c->cols = tp_calloc(c->ncols ? c->ncols : 1, sizeof(struct db_col));
    MYSQL_FIELD *f = mysql_fetch_fields(c->meta);
    for (unsigned i = 0; i < c->ncols; i++)
        bind_col(&c->rbind[i], &c->cols[i], &f[i]);
    return mysql_stmt_bind_result(c->stmt, c->rbind) ? -1 : 0;
}

/* Fetches the columns that did not fit again, into buffers grown to their length. */
static int refetch_truncated(struct db_conn *c)
{
    for (unsigned i = 0; i < c->ncols; i++) {
        struct db_col *col = &c->cols[i];
        if (col->as != COL_BYTES || col->is_null || col->len <= col->cap)
            continue;
        col->cap = col->len;
        col->buf = tp_realloc(col->buf, col->cap);
        c->rbind[i].buffer = col->buf;
        c->rbind[i].buffer_length = col->cap;
        if (mysql_stmt_fetch_column(c->stmt, &c->rbind[i], i, 0))
            return -1;
    }
    /* the grown buffers serve the next rows too */
    return mysql_stmt_bind_result(c->stmt, c->rbind) ? -1 : 0;
}

static json_t *col_value(const struct db_col *col)
{
    if (col->is_null)
        return json_null();
    switch (col->as) {
    case COL_INT: return json_integer(col->i);
    case COL_UINT:
        if ((unsigned long long)col->i > LLONG_MAX)
            return json_real((double)(unsigned long long)col->i);
        return json_integer(col->i);
    case COL_REAL: return json_real(col->d);
    case COL_BYTES: break;
    }
    size_t n = col->len < col->cap ? col->len : col->cap;
    return json_stringn_nocheck(col->buf, n);
}

json_t *rows_row(struct db_conn *c, bool truncated)
{
    if (truncated && refetch_truncated(c) != 0)
        return NULL;
    MYSQL_FIELD *f = mysql_fetch_fields(c->meta);
    json_t *row = json_object();
    for (unsigned i = 0; i < c->ncols; i++)
        json_object_set_new_nocheck(row, f[i].name, col_value(&c->cols[i]));
    return row;
}

void rows_free(struct db_conn *c)
{
    if (c->meta)
        mysql_free_result(c->meta);
    c->meta = NULL;
    for (unsigned i = 0; c->cols && i < c->ncols; i++)
        tp_free(c->cols[i].buf);
    tp_free(c->cols);
    tp_free(c->rbind);
    c->cols = NULL;
    c->rbind = NULL;
    c->ncols = 0;
}

void db_params_bind(MYSQL_BIND *b, const tp_db_param *p, size_t n)
{
    memset(b, 0, n * sizeof(*b));
    for (size_t i = 0; i < n; i++) {
        switch (p[i].type) {
        case TP_DB_NULL: b[i].buffer_type = MYSQL_TYPE_NULL; break;
        case TP_DB_INT:
            b[i].buffer_type = MYSQL_TYPE_LONGLONG;
            b[i].buffer = (void *)&p[i].i;
            break;
        case TP_DB_DOUBLE:
            b[i].buffer_type = MYSQL_TYPE_DOUBLE;
            b[i].buffer = (void *)&p[i].d;
            break;
        case TP_DB_TEXT:
        case TP_DB_BLOB:
            b[i].buffer_type = p[i].type == TP_DB_TEXT ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
            b[i].buffer = (void *)p[i].p;
            b[i].buffer_length = p[i].len;
            break;
        }
    }
}
