/* --metrics-port: the master serves GET /metrics (Prometheus' text format) from the
 * scoreboard, on its own loop, next to the workers' listeners. It never runs app code. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/status.h"
#include "http/server.h"
#include "process/master_internal.h"
#include "process/metrics.h"

static void respond(tp_request *req, int status, const char *type, tp_buf *body)
{
    tp_headers h;
    tp_headers_init(&h, &req->arena);
    tp_headers_add(&h, TP_SLICE_LIT("Content-Type"), tp_slice_cstr(type));
    tp_headers_add(&h, TP_SLICE_LIT("Content-Length"),
                   tp_slice_cstr(tp_arena_printf(&req->arena, "%zu", body->len)));
    if (tp_http_write_head(req, status, TP_SLICE_NULL, &h) == 0 && body->len)
        tp_http_write_body(req, tp_buf_data(body), body->len);
    tp_http_finish(req);
}

static int headers_received(tp_request *req, void *ctx)
{
    (void)req, (void)ctx;
    return TP_OK;
}

static int data_received(tp_request *req, tp_slice chunk, void *ctx)
{
    (void)req, (void)chunk, (void)ctx;
    return TP_OK;
}

static void request_complete(tp_request *req, void *ctx)
{
    tp_master *m = ctx;
    tp_buf body = {0};
    bool get = tp_slice_eq(req->method, TP_SLICE_LIT("GET")) ||
               tp_slice_eq(req->method, TP_SLICE_LIT("HEAD"));
    if (!tp_slice_eq(req->path, TP_SLICE_LIT("/metrics"))) {
        tp_buf_append_str(&body, "Not Found: the metrics are at /metrics\n");
        respond(req, 404, "text/plain; charset=utf-8", &body);
    } else if (!get) {
        tp_buf_append_str(&body, "Method Not Allowed\n");
        respond(req, 405, "text/plain; charset=utf-8", &body);
    } else {
        tp_metrics_render(m->sb, (double)time(NULL), &body);
        respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", &body);
    }
    tp_buf_free(&body);
}

static void connection_closed(tp_request *req, void *ctx)
{
    (void)req, (void)ctx;
}

static const tp_http_delegate metrics_delegate = {
    .headers_received = headers_received,
    .data_received = data_received,
    .request_complete = request_complete,
    .connection_closed = connection_closed,
};

int tp__metrics_listen(tp_master *m, char *err, size_t errlen)
{
    if (!m->o->metrics_port)
        return 0;
    if (!m->sb) {
        snprintf(err, errlen, "--metrics-port: the scoreboard could not be made");
        return -1;
    }
    tp_http_server_opts o;
    tp_http_server_opts_default(&o);
    o.idle_connection_timeout = 60;
    o.max_body_size = 0;
    m->metrics = tp_http_server_new(m->loop, &metrics_delegate, m, &o);
    const char *addr = m->o->metrics_address ? m->o->metrics_address : "127.0.0.1";
    int port = tp_http_server_listen(m->metrics, addr, m->o->metrics_port);
    if (port < 0) {
        snprintf(err, errlen, "--metrics-port=%d on %s: %s", m->o->metrics_port, addr,
                 strerror(-port));
        return -1;
    }
    tp_log_info("metrics on http://%s:%d/metrics", addr, port);
    return 0;
}

void tp__metrics_close(tp_master *m)
{
    tp_http_server_free(m->metrics);
    m->metrics = NULL;
}
