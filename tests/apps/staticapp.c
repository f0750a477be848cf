/* The app tests/blackbox/test_static.py runs (build/tests/staticapp): StaticFileHandler over
 * the directory $TP_STATIC_ROOT (default tests/blackbox/static_root) three ways, as the
 * Tornado app of that test does:
 *   static_path        /static/(.*), /favicon.ico, /robots.txt (tp_app_add_static)
 *   /url?path=P&v=0|1  the text of tp_static_url(P, include_version)
 *   /index/(.*)        default_filename "index.html"
 *   /(.*)              default_filename "index.html" (the "//" open-redirect case) */
#include <stdlib.h>

#include "tp.h"

static tp_static_opts index_opts = {.default_filename = "index.html"};

static int url_get(tp_handler *h)
{
    const char *path = tp_get_argument(h, "path", "");
    bool version = tp_get_argument(h, "v", "1")[0] == '1';
    char *url = tp_static_url(tp_handler_app(h), tp_handler_arena(h), path, version);
    return url ? tp_write_str(h, url) : tp_send_error(h, 500), TP_OK;
}

static const tp_handler_class url_class = {.name = "StaticUrl", .get = url_get};

static int staticapp_init(tp_app *app)
{
    const char *root = getenv("TP_STATIC_ROOT");
    if (!root || !*root)
        root = "tests/blackbox/static_root";
    index_opts.path = root;
    if (tp_app_route(app, "/url", &url_class, NULL) < 0 ||
        tp_app_route(app, "/index/(.*)", &tp_static_file_handler, &index_opts) < 0 ||
        tp_app_route(app, "/(.*)", &tp_static_file_handler, &index_opts) < 0)
        return -1;
    /* After the others on purpose: the static routes still go in front of them. */
    return tp_app_add_static(app, root, NULL);
}

TP_APP("staticapp", staticapp_init, NULL);
