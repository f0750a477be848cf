/* The app the reverse proxy black-box tests run against (build/tests/proxyapp): proxy routes
 * to the upstreams the test started, named in the environment (host:port each):
 *
 *   /nginx/...    -> PROXY_NGINX (nginx), prefix stripped
 *   /tornado/...  -> PROXY_TORNADO (a Tornado app), prefix stripped, read timeout 10 s
 *   /slow/...     -> PROXY_TORNADO with a read timeout of 1 s (504 on its /slow)
 *   /host/...     -> PROXY_TORNADO passing the client's Host
 *   /dead/...     -> PROXY_DEAD (a port nobody listens on): 502
 *   /blackhole/...-> PROXY_BLACKHOLE (a listener whose backlog is full: connects hang), connect
 *                    timeout 1 s: 504
 *   /raw/...      -> PROXY_RAW (a scripted raw-socket upstream in the test), prefix stripped
 *   /stats        -> "connects reuses" of the /tornado/ route's upstream
 *   /local        -> a plain handler, so other routes keep working beside the proxy */
#include <stdio.h>
#include <stdlib.h>

#include "tp.h"

#define TORNADO_ROUTE "/tornado/.*"

static int stats_get(tp_handler *h)
{
    unsigned long connects = 0, reuses = 0;
    tp_proxy_stats(tp_handler_app(h), TORNADO_ROUTE, &connects, &reuses);
    tp_writef(h, "%lu %lu", connects, reuses);
    return TP_OK;
}

static int local_get(tp_handler *h)
{
    tp_write_str(h, "local");
    return TP_OK;
}

static const tp_handler_class stats_cls = {.name = "Stats", .get = stats_get};
static const tp_handler_class local_cls = {.name = "Local", .get = local_get};

/* One proxy route to the upstream named by env (skipped when it is not set). */
static int route(tp_app *app, const char *pattern, const char *env, const tp_proxy_opts *o)
{
    const char *hp = getenv(env);
    if (!hp)
        return 0;
    char url[300];
    snprintf(url, sizeof url, "http://%s", hp);
    return tp_proxy_route(app, pattern, url, o);
}

static int proxyapp_init(tp_app *app)
{
    tp_proxy_opts nginx = {.strip_prefix = "/nginx"};
    tp_proxy_opts tornado = {.strip_prefix = "/tornado", .read_timeout = 10, .max_idle = 4};
    tp_proxy_opts slow = {.strip_prefix = "/slow",
                          .read_timeout = 3}; /* a fast answer beats it on a loaded machine */
    tp_proxy_opts host = {.strip_prefix = "/host", .pass_host = true};
    tp_proxy_opts dead = {.strip_prefix = "/dead", .connect_timeout = 5};
    tp_proxy_opts raw = {.strip_prefix = "/raw", .read_timeout = 10};
    tp_proxy_opts hole = {.connect_timeout = 1};
    if (route(app, "/nginx/.*", "PROXY_NGINX", &nginx) < 0 ||
        route(app, TORNADO_ROUTE, "PROXY_TORNADO", &tornado) < 0 ||
        route(app, "/slow/.*", "PROXY_TORNADO", &slow) < 0 ||
        route(app, "/host/.*", "PROXY_TORNADO", &host) < 0 ||
        route(app, "/dead/.*", "PROXY_DEAD", &dead) < 0 ||
        route(app, "/raw/.*", "PROXY_RAW", &raw) < 0 ||
        route(app, "/blackhole/.*", "PROXY_BLACKHOLE", &hole) < 0)
        return -1;
    if (tp_app_route(app, "/stats", &stats_cls, NULL) < 0 ||
        tp_app_route(app, "/local", &local_cls, NULL) < 0)
        return -1;
    return 0;
}

TP_APP("proxyapp", proxyapp_init, NULL);
