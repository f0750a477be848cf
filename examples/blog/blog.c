/* Tornado's blog demo (demos/blog) on tornado-prefork: entries in MariaDB through
 * web/database, pages from templates/ with an Entry UI module, Markdown through libcmark in
 * safe mode, authors signing in with a local account (scrypt) or with GitHub (web/auth), XSRF
 * on every form. Built as build/examples/blog (a program) and build/examples/blog.so
 * (`tornado-prefork --procs=N blog.so`: every worker has its own connection pool on the same
 * database). Configured from the environment: see README.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "examples/blog/blog.h"

#ifndef BLOG_DIR
#define BLOG_DIR "examples/blog"
#endif
#define DEFAULT_SECRET "__TODO:_GENERATE_YOUR_OWN_RANDOM_VALUE_HERE__"
#define DEFAULT_DB     "mysql://blog:blog@/blog?unix_socket=/run/mysqld/mysqld.sock"

blog_state blog;

const tp_auth_session_opts blog_session = {.cookie_name = "blogdemo_user", .max_age_days = 31};

/* ---- the signed-in author ----------------------------------------------------------------- */

/* The session's {"id", "name"}: a new reference, or NULL. */
static json_t *session(tp_handler *h)
{
    json_t *s = tp_auth_session_get(h, &blog_session);
    if (s &&
        (!json_is_integer(json_object_get(s, "id")) || !json_is_string(json_object_get(s, "name"))))
        json_decref(s), s = NULL;
    return s;
}

const char *blog_current_user(tp_handler *h)
{
    json_t *s = session(h);
    if (!s)
        return NULL;
    const char *name = json_string_value(json_object_get(s, "name"));
    char *copy = tp_arena_strndup(tp_handler_arena(h), name, strlen(name));
    json_decref(s);
    return copy;
}

long long blog_current_author_id(tp_handler *h)
{
    json_t *s = session(h);
    long long id = s ? json_integer_value(json_object_get(s, "id")) : 0;
    json_decref(s);
    return id;
}

int blog_sign_in(tp_handler *h, long long id, const char *name)
{
    json_t *s = json_pack("{sIss}", "id", (json_int_t)id, "name", name);
    int r = s ? tp_auth_session_set(h, s, &blog_session) : -ENOMEM;
    json_decref(s);
    return r;
}

bool blog_fits(const char *s, size_t max)
{
    return tp_utf8_len(s, strlen(s)) <= max;
}

const char *blog_local_next(const char *next)
{
    if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\')
        return NULL;
    /* Browsers drop tabs and newlines from a URL: "/\t/evil" would become "//evil". */
    for (const unsigned char *p = (const unsigned char *)next; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return NULL;
    return next;
}

/* ---- awaiting the database ----------------------------------------------------------------- */

/* What blog_await calls back, in the request arena. */
typedef struct await_cb {
    tp_await_fn cb;
    void *arg;
} await_cb;

/* A failed statement is a 500 with the error in the log (the await's TP_ERROR). */
static int await_ok(tp_handler *h, tp_future *f, void *arg)
{
    await_cb *a = arg;
    return tp_future_error(f) ? TP_ERROR : a->cb(h, f, a->arg);
}

int blog_await(tp_handler *h, tp_future *f, tp_await_fn cb, void *arg)
{
    await_cb *a = tp_arena_alloc(tp_handler_arena(h), sizeof(*a));
    *a = (await_cb){cb, arg};
    int r = tp_handler_await(h, f, await_ok, a);
    tp_future_unref(f);
    return r < 0 ? TP_ERROR : TP_AGAIN;
}

/* Runs the statements of schema.sql (";" at a line end separates them), in order, on one
 * future chain; blog.schema is done when they all ran. */
typedef struct schema_run {
    char *text, *next;
    tp_future *done;
} schema_run;

static void schema_step(tp_future *prev, void *arg);

static char *next_statement(schema_run *s)
{
    while (s->next && *s->next) {
        char *start = s->next, *end = strstr(start, ";\n");
        if (end)
            *end = 0, s->next = end + 2;
        else
            s->next = NULL;
        char *p = start; /* skip blank lines and "--" comment lines */
        while (*p == ' ' || *p == '\n' || (p[0] == '-' && p[1] == '-'))
            p = *p == '-' ? (strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) : p + 1;
        if (*p)
            return p;
    }
    return NULL;
}

static void schema_step(tp_future *prev, void *arg)
{
    schema_run *s = arg;
    if (prev && tp_future_error(prev)) {
        tp_log_error("blog: creating the tables: %s", tp_future_error_message(prev));
        tp_future_copy_outcome(prev, s->done);
    } else {
        char *sql = next_statement(s);
        if (sql) {
            tp_future *f = tp_db_execute(blog.db, sql, NULL, 0);
            tp_future_add_done_callback(f, schema_step, s);
            tp_future_unref(f);
            return;
        }
        tp_future_set_result(s->done, NULL, NULL);
    }
    tp_future_unref(s->done);
    tp_free(s->text), tp_free(s);
}

/* maybe_create_tables: reads schema.sql and starts running it. */
static int create_tables(void)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/schema.sql", blog.dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return tp_log_error("blog: cannot read %s: %s", path, strerror(errno)), -errno;
    schema_run *s = tp_calloc(1, sizeof(*s));
    tp_buf text = {0};
    for (size_t got = 1; got;)
        tp_buf_commit(&text, got = fread(tp_buf_reserve(&text, 4096), 1, 4096, f));
    fclose(f);
    s->text = tp_strndup(tp_buf_data(&text), text.len);
    tp_buf_free(&text);
    s->next = s->text;
    blog.schema = tp_future_new(tp_loop_current());
    s->done = tp_future_ref(blog.schema);
    schema_step(NULL, s);
    return 0;
}

int blog_when_ready(tp_handler *h, tp_await_fn cb, void *arg)
{
    if (blog.schema && tp_future_done(blog.schema) && !tp_future_error(blog.schema)) {
        tp_future_unref(blog.schema);
        blog.schema = NULL;
    }
    if (!blog.schema)
        return cb(h, NULL, arg);
    if (tp_future_done(blog.schema)) { /* failed (logged): this request tries again */
        tp_future_unref(blog.schema);
        blog.schema = NULL;
        if (create_tables() < 0)
            return TP_ERROR;
    }
    /* A future of its own: a client leaving cancels what it awaits, not the shared one. */
    tp_future *mine = tp_future_new(tp_loop_current());
    tp_future_chain(blog.schema, mine);
    return blog_await(h, mine, cb, arg);
}

int blog_render(tp_handler *h, const char *name, json_t *kwargs)
{
    if (!kwargs)
        return TP_ERROR;
    int r = tp_render(h, name, kwargs);
    json_decref(kwargs);
    return r < 0 ? TP_ERROR : TP_OK;
}

/* ---- the app ------------------------------------------------------------------------------ */

static char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    v = v && *v ? v : def;
    return v ? tp_strndup(v, strlen(v)) : NULL;
}

static void blog_teardown(tp_app *app)
{
    (void)app;
    if (blog.db)
        tp_db_close(blog.db);
    if (blog.schema)
        tp_future_unref(blog.schema);
    tp_executor_free(blog.pool);
    tp_auth_provider_free(blog.github);
    if (blog.loader)
        tp_template_loader_free(blog.loader);
    tp_free(blog.dir), tp_free(blog.db_url), tp_free(blog.secret), tp_free(blog.title);
    tp_free(blog.github_authors);
    memset(&blog, 0, sizeof(blog));
}

/* GitHub sign-in, when BLOG_GITHUB_CLIENT_ID is set (endpoints overridable for tests). */
static int setup_github(void)
{
    const char *id = getenv("BLOG_GITHUB_CLIENT_ID");
    if (!id || !*id)
        return 0;
    tp_oauth2_opts o = {.client_id = id,
                        .client_secret = getenv("BLOG_GITHUB_CLIENT_SECRET"),
                        .redirect_uri = "/auth/github",
                        .authorize_url = getenv("BLOG_GITHUB_AUTHORIZE_URL"),
                        .token_url = getenv("BLOG_GITHUB_TOKEN_URL"),
                        .userinfo_url = getenv("BLOG_GITHUB_USER_URL")};
    blog.github = tp_auth_github_new(&o);
    blog.github_authors = env_or("BLOG_GITHUB_AUTHORS", "");
    return blog.github ? 0 : -EINVAL;
}

static int read_config(void)
{
    blog.dir = env_or("BLOG_DIR", BLOG_DIR);
    blog.db_url = env_or("BLOG_DB", DEFAULT_DB);
    blog.secret = env_or("BLOG_COOKIE_SECRET", DEFAULT_SECRET);
    blog.title = env_or("BLOG_TITLE", "Tornado Blog");
    if (!getenv("BLOG_COOKIE_SECRET"))
        tp_log_warning("blog: BLOG_COOKIE_SECRET is not set: cookies are signed with the "
                       "demo's placeholder secret");
    blog.db = tp_db_new_url(tp_loop_current(), blog.db_url, NULL);
    if (!blog.db)
        return tp_log_error("blog: BLOG_DB is not a database URL"), -EINVAL;
    return setup_github();
}

/* The template loader over BLOG_DIR/templates with blog_title in its namespace. */
static int setup_templates(tp_app *app)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/templates", blog.dir);
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return tp_log_error("blog: no templates in %s (set BLOG_DIR)", blog.dir), -ENOENT;
    tp_app_settings *s = tp_app_settings_of(app);
    blog.loader = tp_template_loader_new_dir(path, &s->template_opts);
    json_t *title = json_string(blog.title);
    int r = blog.loader && title ? tp_template_loader_set_value(blog.loader, "blog_title", title)
                                 : -ENOMEM;
    json_decref(title);
    s->template_loader = blog.loader;
    s->ui_methods = blog_ui_methods, s->n_ui_methods = blog_n_ui_methods;
    s->ui_modules = blog_ui_modules, s->n_ui_modules = 1;
    return r;
}

static int add_routes(tp_app *app)
{
    static const struct {
        const char *pattern;
        const tp_handler_class *cls;
    } routes[] = {
        {"/", &blog_home_handler},
        {"/archive", &blog_archive_handler},
        {"/feed", &blog_feed_handler},
        {"/entry/([^/]+)", &blog_entry_handler},
        {"/compose", &blog_compose_handler},
        {"/auth/create", &blog_create_handler},
        {"/auth/login", &blog_login_handler},
        {"/auth/logout", &blog_logout_handler},
        {"/auth/github", &blog_github_handler},
    };
    char path[4096];
    snprintf(path, sizeof(path), "%s/static", blog.dir);
    int r = tp_app_add_static(app, path, "/static/");
    for (size_t i = 0; r == 0 && i < sizeof(routes) / sizeof(routes[0]); i++)
        r = tp_app_route(app, routes[i].pattern, routes[i].cls, NULL);
    return r;
}

static int blog_init(tp_app *app)
{
    int r = read_config();
    if (r == 0)
        r = setup_templates(app);
    if (r == 0)
        r = add_routes(app);
    if (r == 0)
        r = create_tables();
    if (r < 0)
        return blog_teardown(app), r;
    tp_app_settings *s = tp_app_settings_of(app);
    s->cookie_secret.secret = tp_slice_cstr(blog.secret);
    s->xsrf_cookies = true;
    s->login_url = "/auth/login";
    tp_log_info("blog: files in %s%s", blog.dir, blog.github ? ", GitHub sign-in on" : "");
    return 0;
}

TP_APP("blog", blog_init, blog_teardown);
