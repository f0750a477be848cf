/* @NAME@: a tornado-prefork app (made by `tornado-prefork new`).
 *
 *   make && tornado-prefork --port=8888 app.so     then   curl http://127.0.0.1:8888/
 *
 * The templates are read from $APP_DIR/templates, else from the directory the Makefile
 * compiled in (APP_DIR), else from ./templates. */
#include <stdio.h>
#include <stdlib.h>
#include <tp.h>

#ifndef APP_DIR
#define APP_DIR "."
#endif

static char template_dir[4096];

/* GET /: templates/index.html with a title and a list. */
static int main_get(tp_handler *h)
{
    json_t *kw = json_pack("{s:s, s:[s,s,s]}", "title", "@NAME@", "items", "one app.so",
                           "one process per CPU", "Tornado's API in C");
    if (!kw)
        return TP_ERROR;
    tp_render(h, "index.html", kw); /* a template error answers 500 (and is logged) */
    json_decref(kw);
    return TP_OK;
}

static const tp_handler_class main_handler = {.name = "MainHandler", .get = main_get};

static int app_init(tp_app *app)
{
    const char *dir = getenv("APP_DIR");
    snprintf(template_dir, sizeof(template_dir), "%s/templates", dir && *dir ? dir : APP_DIR);
    tp_app_settings_of(app)->template_path = template_dir;
    return tp_app_route(app, "/", &main_handler, NULL);
}

TP_APP("@NAME@", app_init, NULL);
