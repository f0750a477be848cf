/* The hello app behind a table of 200 regex routes (the issue 5 routing benchmark):
 * build/tests/routesapp. "/" is the last route, so a request for it walks past all 200;
 * /section<N>/<word>/<id> hits route N. Same command line as build/examples/hello. */
#include <stdio.h>

#include "tp.h"

#define NROUTES 200

static int hello_get(tp_handler *h)
{
    tp_write_str(h, "Hello, world");
    return TP_OK;
}

static int section_get(tp_handler *h)
{
    tp_slice word = tp_path_arg(h, 0), id = tp_path_arg(h, 1);
    tp_writef(h, "%.*s %.*s", TP_SLICE_FMT(word), TP_SLICE_FMT(id));
    return TP_OK;
}

static const tp_handler_class hello = {.name = "Hello", .get = hello_get};
static const tp_handler_class section = {.name = "Section", .get = section_get};

static int routesapp_init(tp_app *app)
{
    char pattern[96];
    for (int i = 0; i < NROUTES; i++) {
        /* a mix of shapes: a word and an id, a version prefix, an optional trailing slash */
        if (i % 4 == 0)
            snprintf(pattern, sizeof(pattern), "/section%d/(\\w+)/(\\d+)", i);
        else if (i % 4 == 1)
            snprintf(pattern, sizeof(pattern), "/api/v%d/(\\w+)/(\\d+)/?", i);
        else if (i % 4 == 2)
            snprintf(pattern, sizeof(pattern), "/static%d/([a-z]+)/(.*)", i);
        else
            snprintf(pattern, sizeof(pattern), "/users/%d/([^/]+)/(\\d+)", i);
        if (tp_app_route(app, pattern, &section, NULL) < 0)
            return -1;
    }
    return tp_app_route(app, "/", &hello, NULL);
}

TP_APP("routesapp", routesapp_init, NULL);
