/* Tornado's hello world, in C. Built twice: build/examples/hello (a program: --port=8888)
 * and build/examples/hello.so (an app for `tornado-prefork hello.so`). */
#include "tp.h"

static int main_get(tp_handler *h)
{
    tp_write_str(h, "Hello, world");
    return TP_OK;
}

static const tp_handler_class main_handler = {.name = "MainHandler", .get = main_get};

static int hello_init(tp_app *app)
{
    return tp_app_route(app, "/", &main_handler, NULL);
}

TP_APP("hello", hello_init, NULL);
