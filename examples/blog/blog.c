/* A small blog on tornado-prefork (Tornado's demos/blog, without a database): posts listed
 * newest first, an entry page per post, a compose/edit form for the logged-in user, login with
 * a signed cookie, XSRF tokens on every form, versioned static files. Built twice like
 * examples/hello.c: build/examples/blog (a program) and build/examples/blog.so (an app for
 * `tornado-prefork blog.so`). Configured from the environment: see README.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "examples/blog/blog.h"

#ifndef BLOG_STATIC_DIR
#define BLOG_STATIC_DIR "examples/blog/static"
#endif
#define DEFAULT_SECRET   "tornado-prefork blog demo secret: set BLOG_COOKIE_SECRET"
#define DEFAULT_PASSWORD "demo"
#define USER_COOKIE      "blog_user"
#define USER_COOKIE_DAYS 30

/* The app's configuration, read once in init (every prefork worker reads the same
 * environment, so all of them accept each other's cookies). Strings are owned copies. */
static struct {
    char *user, *password, *secret, *static_dir, *data;
    bool default_password;
} cfg;

static char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    v = v ? v : def;
    return tp_strndup(v, strlen(v));
}

/* ---- users -------------------------------------------------------------------------------- */

/* Compares in time that depends only on the lengths, not on where the strings differ. */
static bool secret_equal(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    unsigned char diff = na != nb;
    for (size_t i = 0; i < na; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (nb ? nb : 1)]);
    return diff == 0;
}

/* get_current_user: the signed cookie's value, if it is the configured user. */
static const char *current_user(tp_handler *h)
{
    const char *user = tp_get_signed_cookie(h, USER_COOKIE, USER_COOKIE_DAYS + 1);
    return user && !strcmp(user, cfg.user) ? user : NULL;
}

/* A "next" URL is followed only to a path of this site ("/x", not "//host" or "/\host"). */
static const char *local_url(const char *next)
{
    bool ok = next && next[0] == '/' && next[1] != '/' && next[1] != '\\' &&
              strcspn(next, " \t\r\n") == strlen(next);
    return ok ? next : "/";
}

/* ---- pages -------------------------------------------------------------------------------- */

/* The file may have been appended to by another worker since the last request. */
static int refresh(tp_handler *h)
{
    if (blog_store_refresh() == 0)
        return 0;
    return tp_send_error(h, 500), -EIO;
}

static int home_get(tp_handler *h)
{
    if (refresh(h) < 0)
        return TP_OK;
    blog_page_start(h, "Home");
    if (blog_store_count() == 0)
        tp_write_str(h, "<p class=\"empty\">No posts yet.</p>\n");
    const blog_post *p;
    for (size_t i = 0; (p = blog_store_newest(i)); i++)
        blog_write_post(h, p, true);
    blog_page_end(h);
    return TP_OK;
}

static int entry_get(tp_handler *h)
{
    if (refresh(h) < 0)
        return TP_OK;
    const blog_post *p = blog_store_find(tp_path_arg(h, 0));
    if (!p)
        return tp_send_error(h, 404), TP_OK;
    blog_page_start(h, p->title);
    blog_write_post(h, p, false);
    blog_page_end(h);
    return TP_OK;
}

static void compose_page(tp_handler *h, const blog_form *f)
{
    blog_page_start(h, f->slug ? "Edit post" : "New post");
    blog_write_compose_form(h, f);
    blog_page_end(h);
}

/* GET /compose (a new post) or /compose?id=SLUG (edit it). */
static int compose_get(tp_handler *h)
{
    if (refresh(h) < 0)
        return TP_OK;
    const char *id = tp_get_argument(h, "id", "");
    if (!id)
        return TP_OK; /* not UTF-8: 400 */
    blog_form f = {0};
    if (*id) {
        const blog_post *p = blog_store_find(tp_slice_cstr(id));
        if (!p)
            return tp_send_error(h, 404), TP_OK;
        f = (blog_form){.slug = p->slug, .title = p->title, .body = p->body};
    }
    compose_page(h, &f);
    return TP_OK;
}

/* A browser sends "\r\n" line ends: the store keeps "\n". */
static char *unix_lines(tp_handler *h, const char *s)
{
    char *out = tp_arena_strndup(tp_handler_arena(h), s, strlen(s)), *w = out;
    for (const char *r = s; *r; r++)
        if (!(r[0] == '\r' && r[1] == '\n'))
            *w++ = *r;
    *w = 0;
    return out;
}

static const char *check_form(const blog_form *f)
{
    if (!*f->title)
        return "A title is required.";
    if (strlen(f->title) > BLOG_TITLE_MAX)
        return "The title is too long.";
    if (strlen(f->body) > BLOG_BODY_MAX)
        return "The text is too long.";
    return NULL;
}

/* POST /compose: title, body and id (the slug of the post edited; empty for a new one).
 * Answers the form again with a 400 when it is not acceptable. */
static int compose_post(tp_handler *h)
{
    const char *id = tp_get_argument(h, "id", "");
    blog_form f = {.title = tp_get_argument(h, "title", ""),
                   .body = tp_get_argument(h, "body", "")};
    if (!id || !f.title || !f.body)
        return TP_OK; /* not UTF-8: 400 */
    f.slug = *id ? id : NULL;
    f.body = unix_lines(h, f.body);
    if ((f.error = check_form(&f))) {
        tp_set_status(h, 400, NULL);
        return compose_page(h, &f), TP_OK;
    }
    char slug[BLOG_SLUG_MAX + 1];
    int r = blog_store_save(f.slug, f.title, f.body, tp_current_user(h), slug);
    if (r < 0)
        return tp_send_error(h, r == -ENOENT ? 404 : 500), TP_OK;
    tp_redirect(h, tp_arena_printf(tp_handler_arena(h), "/entry/%s", slug), false);
    return TP_OK;
}

static void login_page(tp_handler *h, const char *next, const char *error)
{
    const char *hint = cfg.default_password
                           ? "Demo account: admin / demo (set BLOG_PASSWORD to change it)."
                           : NULL;
    blog_page_start(h, "Log in");
    blog_write_login_form(h, next, error, hint);
    blog_page_end(h);
}

static int login_get(tp_handler *h)
{
    const char *next = tp_get_argument(h, "next", "/");
    if (next)
        login_page(h, local_url(next), NULL);
    return TP_OK;
}

/* The name as a JSON string: newlines and other control characters sent in a form cannot
 * forge log lines. */
static void log_failed_login(tp_handler *h, const char *name)
{
    json_t *j = json_string(name);
    tp_slice quoted = tp_json_encode(tp_handler_arena(h), j);
    json_decref(j);
    tp_log_warning("blog: failed login for user %.*s", TP_SLICE_FMT(quoted));
}

/* POST /auth/login: name, password, next. A match sets the signed user cookie (30 days,
 * HttpOnly, SameSite=Lax) and redirects to next; anything else shows the form again. */
static int login_post(tp_handler *h)
{
    const char *name = tp_get_argument(h, "name", "");
    const char *password = tp_get_argument(h, "password", "");
    const char *next = tp_get_argument(h, "next", "/");
    if (!name || !password || !next)
        return TP_OK; /* not UTF-8: 400 */
    bool ok = secret_equal(password, cfg.password);
    if (!ok || strcmp(name, cfg.user)) {
        log_failed_login(h, name);
        tp_set_status(h, 403, NULL);
        return login_page(h, local_url(next), "Wrong user name or password."), TP_OK;
    }
    tp_cookie_attrs attrs = tp_cookie_attrs_default();
    attrs.expires = time(NULL) + USER_COOKIE_DAYS * 86400L;
    attrs.httponly = true;
    attrs.samesite = "Lax";
    if (tp_set_signed_cookie(h, USER_COOKIE, name, &attrs) < 0)
        return tp_send_error(h, 500), TP_OK;
    tp_redirect(h, local_url(next), false);
    return TP_OK;
}

/* GET /auth/logout: a button (logging out changes state, so it is a POST with a token). */
static int logout_get(tp_handler *h)
{
    if (!tp_current_user(h))
        return tp_redirect(h, "/", false), TP_OK;
    blog_page_start(h, "Log out");
    tp_writef(h,
              "<h1>Log out</h1>\n<form method=\"post\" action=\"/auth/logout\">%s"
              "<button type=\"submit\">Log out</button></form>\n",
              tp_xsrf_form_html(h));
    blog_page_end(h);
    return TP_OK;
}

static int logout_post(tp_handler *h)
{
    tp_clear_cookie(h, USER_COOKIE, "/", NULL);
    tp_redirect(h, "/", false);
    return TP_OK;
}

static const tp_handler_class home_handler = {
    .name = "HomeHandler", .get = home_get, .get_current_user = current_user};
static const tp_handler_class entry_handler = {
    .name = "EntryHandler", .get = entry_get, .get_current_user = current_user};
static const tp_handler_class compose_handler = {.name = "ComposeHandler",
                                                 .flags = TP_AUTHENTICATED,
                                                 .get = compose_get,
                                                 .post = compose_post,
                                                 .get_current_user = current_user};
static const tp_handler_class login_handler = {.name = "AuthLoginHandler",
                                               .get = login_get,
                                               .post = login_post,
                                               .get_current_user = current_user};
static const tp_handler_class logout_handler = {.name = "AuthLogoutHandler",
                                                .get = logout_get,
                                                .post = logout_post,
                                                .get_current_user = current_user};

/* ---- the app ------------------------------------------------------------------------------ */

static void blog_teardown(tp_app *app)
{
    (void)app;
    blog_store_close();
    tp_free(cfg.user), tp_free(cfg.password), tp_free(cfg.secret);
    tp_free(cfg.static_dir), tp_free(cfg.data);
    memset(&cfg, 0, sizeof(cfg));
}

/* BLOG_USER, BLOG_PASSWORD, BLOG_COOKIE_SECRET, BLOG_STATIC, BLOG_DATA ("none": memory). */
static int read_config(void)
{
    cfg.user = env_or("BLOG_USER", "admin");
    cfg.password = env_or("BLOG_PASSWORD", DEFAULT_PASSWORD);
    cfg.default_password = !getenv("BLOG_PASSWORD") && !getenv("BLOG_USER");
    cfg.secret = env_or("BLOG_COOKIE_SECRET", DEFAULT_SECRET);
    cfg.static_dir = env_or("BLOG_STATIC", BLOG_STATIC_DIR);
    cfg.data = env_or("BLOG_DATA", "blog-posts.jsonl");
    if (!getenv("BLOG_COOKIE_SECRET"))
        tp_log_warning("blog: BLOG_COOKIE_SECRET is not set: cookies are signed with the demo "
                       "secret, which anyone can read in the source");
    struct stat st;
    if (stat(cfg.static_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        tp_log_error("blog: static directory %s not found (set BLOG_STATIC)", cfg.static_dir);
        return -ENOENT;
    }
    bool memory = !*cfg.data || !strcmp(cfg.data, "none");
    int r = blog_store_open(memory ? NULL : cfg.data);
    if (r < 0)
        tp_log_error("blog: cannot read %s: %s", cfg.data, strerror(-r));
    return r;
}

static int add_routes(tp_app *app)
{
    static const struct {
        const char *pattern;
        const tp_handler_class *cls;
    } routes[] = {
        {"/", &home_handler},
        {"/entry/([a-z0-9-]+)", &entry_handler},
        {"/compose", &compose_handler},
        {"/auth/login", &login_handler},
        {"/auth/logout", &logout_handler},
    };
    int r = tp_app_add_static(app, cfg.static_dir, "/static/");
    for (size_t i = 0; r == 0 && i < sizeof(routes) / sizeof(routes[0]); i++)
        r = tp_app_route(app, routes[i].pattern, routes[i].cls, NULL);
    return r;
}

static int blog_init(tp_app *app)
{
    int r = read_config();
    if (r == 0)
        r = add_routes(app);
    if (r < 0)
        return blog_teardown(app), r;
    tp_app_settings *s = tp_app_settings_of(app);
    s->cookie_secret.secret = tp_slice_cstr(cfg.secret);
    s->xsrf_cookies = true;
    s->login_url = "/auth/login";
    tp_log_info("blog: user %s, posts in %s, static files in %s", cfg.user, cfg.data,
                cfg.static_dir);
    return 0;
}

TP_APP("blog", blog_init, blog_teardown);
