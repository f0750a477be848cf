/* Authors (the demo's AuthCreateHandler, AuthLoginHandler, AuthLogoutHandler) and GitHub
 * sign-in through web/auth. The first author is created with a local account, as in the
 * demo; GitHub users listed in BLOG_GITHUB_AUTHORS become authors on their first sign-in.
 * The session is a signed cookie holding the author's id and name. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "examples/blog/blog.h"

#define NEXT_COOKIE "blog_next" /* where a GitHub sign-in goes back to */

/* The demo's redirect_to_next: a local path, else 400 (no open redirect). */
static int redirect_to_next(tp_handler *h, const char *next)
{
    next = blog_local_next(next);
    if (!next)
        return tp_send_error(h, 400), TP_OK;
    tp_redirect(h, next, false);
    return TP_OK;
}

static const char *next_arg(tp_handler *h)
{
    const char *next = tp_get_argument(h, "next", "/");
    return next ? next : "/";
}

/* The form's argument, "" when missing or not UTF-8. */
static const char *form_arg(tp_handler *h, const char *name)
{
    const char *v = tp_get_argument(h, name, "");
    return v ? v : "";
}

static int page(tp_handler *h, const char *name, int status, const char *error)
{
    if (status != 200)
        tp_set_status(h, status, NULL);
    return blog_render(
        h, name,
        json_pack("{ss?sssb}", "error", error, "next", next_arg(h), "github", blog.github != NULL));
}

/* ---- /auth/create: the first author ---------------------------------------------------------- */

static int created(tp_handler *h, tp_future *f, void *arg)
{
    (void)arg;
    long long id = tp_db_result_int(f);
    if (id <= 0) /* another request created the first author meanwhile */
        return tp_http_error(h, 400, NULL, "author already created"), TP_OK;
    if (blog_sign_in(h, id, form_arg(h, "name")) < 0)
        return TP_ERROR;
    return redirect_to_next(h, next_arg(h));
}

/* The hash is ready: the author is inserted only while there is none. */
static int hashed(tp_handler *h, tp_future *f, void *unused)
{
    (void)unused;
    char *hash = tp_future_result(f);
    tp_future *ins =
        tp_db_execute(blog.db,
                      "INSERT INTO authors (email, name, hashed_password) SELECT ?, ?, ? FROM DUAL "
                      "WHERE NOT EXISTS (SELECT 1 FROM authors)",
                      TP_DB_PARAMS(tp_db_str(form_arg(h, "email")), tp_db_str(form_arg(h, "name")),
                                   tp_db_str(hash))); /* the parameters are copied */
    return blog_await(h, ins, created, NULL);
}

static int create_check(tp_handler *h, tp_future *f, void *unused)
{
    (void)unused;
    if (json_array_size(tp_future_result(f)) > 0)
        return tp_http_error(h, 400, NULL, "author already created"), TP_OK;
    if (!*form_arg(h, "email") || !*form_arg(h, "name") || !*form_arg(h, "password"))
        return page(h, "create_author.html", 400, "email, name and password are required");
    if (!blog_fits(form_arg(h, "email"), NAME_MAX_CHARS) ||
        !blog_fits(form_arg(h, "name"), NAME_MAX_CHARS))
        return page(h, "create_author.html", 400, "email and name take 100 characters at most");
    return blog_await(h, blog_password_hash(form_arg(h, "password")), hashed, NULL);
}

static int create_ready(tp_handler *h, tp_future *f, void *unused)
{
    (void)f, (void)unused;
    return blog_await(h, tp_db_query(blog.db, "SELECT id FROM authors LIMIT 1", NULL, 0),
                      create_check, NULL);
}

static int create_get(tp_handler *h)
{
    return page(h, "create_author.html", 200, NULL);
}

static int create_post(tp_handler *h)
{
    return blog_when_ready(h, create_ready, NULL);
}

/* ---- /auth/login ------------------------------------------------------------------------------
 */

static int login_form(tp_handler *h, tp_future *f, void *unused)
{
    (void)unused;
    if (json_array_size(tp_future_result(f)) == 0) {
        tp_slice next = tp_url_escape(tp_handler_arena(h), tp_slice_cstr(next_arg(h)), true);
        const char *url =
            tp_arena_printf(tp_handler_arena(h), "/auth/create?next=%.*s", TP_SLICE_FMT(next));
        return tp_redirect(h, url, false), TP_OK;
    }
    return page(h, "login.html", 200, NULL);
}

static int login_get_ready(tp_handler *h, tp_future *f, void *unused)
{
    (void)f, (void)unused;
    return blog_await(h, tp_db_query(blog.db, "SELECT id FROM authors LIMIT 1", NULL, 0),
                      login_form, NULL);
}

static int login_get(tp_handler *h)
{
    return blog_when_ready(h, login_get_ready, NULL);
}

static int checked(tp_handler *h, tp_future *f, void *arg)
{
    json_t *author = arg;
    if (!tp_future_result(f))
        return page(h, "login.html", 403, "incorrect password");
    long long id = json_integer_value(json_object_get(author, "id"));
    if (blog_sign_in(h, id, json_string_value(json_object_get(author, "name"))) < 0)
        return TP_ERROR;
    return redirect_to_next(h, next_arg(h));
}

static void drop_author(tp_future *f, void *author)
{
    (void)f;
    json_decref(author);
}

static int login_author(tp_handler *h, tp_future *f, void *unused)
{
    (void)unused;
    json_t *author = tp_future_result(f);
    if (!author)
        return page(h, "login.html", 403, "email not found");
    const char *stored = json_string_value(json_object_get(author, "hashed_password"));
    /* checked reads author: kept until the check is done (a done callback always runs). */
    tp_future *check = blog_password_check(form_arg(h, "password"), stored);
    tp_future_ref(check);
    int r = blog_await(h, check, checked, author);
    /* Added after the await's callback, so it runs after checked (callbacks run in order). */
    tp_future_add_done_callback(check, drop_author, json_incref(author));
    tp_future_unref(check);
    return r;
}

static int login_post_ready(tp_handler *h, tp_future *f, void *unused)
{
    (void)f, (void)unused;
    return blog_await(h,
                      tp_db_get(blog.db, "SELECT * FROM authors WHERE email = ?",
                                TP_DB_PARAMS(tp_db_str(form_arg(h, "email")))),
                      login_author, NULL);
}

static int login_post(tp_handler *h)
{
    return blog_when_ready(h, login_post_ready, NULL);
}

/* ---- /auth/logout -----------------------------------------------------------------------------
 */

static int logout_get(tp_handler *h)
{
    tp_auth_session_clear(h, &blog_session);
    return redirect_to_next(h, next_arg(h));
}

/* ---- /auth/github -----------------------------------------------------------------------------
 */

/* Whether BLOG_GITHUB_AUTHORS ("alice,bob", or "*") lists login. */
static bool github_author(const char *login)
{
    const char *list = blog.github_authors;
    size_t n = strlen(login);
    if (!strcmp(list, "*"))
        return n > 0;
    for (const char *p = list; n && *p;) {
        size_t len = strcspn(p, ", ");
        if (len == n && !strncasecmp(p, login, n))
            return true;
        p += len;
        p += strspn(p, ", ");
    }
    return false;
}

static int github_signed_in(tp_handler *h, tp_future *f, void *arg)
{
    if (blog_sign_in(h, tp_db_result_int(f), arg) < 0)
        return TP_ERROR;
    const char *next = blog_local_next(tp_get_cookie(h, NEXT_COOKIE, "/"));
    tp_clear_cookie(h, NEXT_COOKIE, "/", NULL);
    return redirect_to_next(h, next ? next : "/");
}

/* The GitHub user is known: an author (made on the first sign-in) or refused. */
static int github_user(tp_handler *h, tp_future *f, void *unused)
{
    (void)unused;
    if (tp_future_error(f))
        return tp_auth_fail(h, f);
    json_t *user = tp_future_result(f);
    const char *login = json_string_value(json_object_get(user, "login"));
    json_int_t gid = json_integer_value(json_object_get(user, "id"));
    if (!login || gid <= 0)
        return tp_http_error(h, 502, NULL, "GitHub sent no login and id"), TP_OK;
    if (!github_author(login))
        return tp_http_error(h, 403, NULL, "GitHub user %s is not an author", login), TP_OK;
    const char *name = json_string_value(json_object_get(user, "name"));
    name = name && *name ? name : login;
    /* authors.name is VARCHAR(100): a longer GitHub display name is cut (at a character) */
    name = tp_arena_strndup(tp_handler_arena(h), name,
                            tp_utf8_prefix(name, strlen(name), NAME_MAX_CHARS));
    char *email = tp_arena_printf(tp_handler_arena(h), "%lld+%s@users.noreply.github.com",
                                  (long long)gid, login);
    tp_future *up = tp_db_execute(
        blog.db,
        "INSERT INTO authors (email, name, hashed_password, github_id) VALUES (?, ?, '', ?) "
        "ON DUPLICATE KEY UPDATE name = VALUES(name), id = LAST_INSERT_ID(id)",
        TP_DB_PARAMS(tp_db_str(email), tp_db_str(name), tp_db_int(gid)));
    return blog_await(h, up, github_signed_in, (void *)name);
}

static int github_ready(tp_handler *h, tp_future *f, void *unused)
{
    (void)f, (void)unused;
    tp_future *user = tp_auth_get_authenticated_user(h, blog.github);
    int r = tp_handler_await(h, user, github_user, NULL);
    tp_future_unref(user);
    return r < 0 ? TP_ERROR : TP_AGAIN;
}

/* GET /auth/github: to GitHub (next kept in a cookie), or back from it with ?code=. */
static int github_get(tp_handler *h)
{
    if (!blog.github)
        return tp_send_error(h, 404), TP_OK;
    const char *code = tp_get_argument(h, "code", "");
    if (code && *code)
        return blog_when_ready(h, github_ready, NULL);
    const char *next = blog_local_next(next_arg(h));
    tp_set_cookie(h, NEXT_COOKIE, next ? next : "/", NULL);
    return tp_auth_authorize_redirect(h, blog.github, NULL, 0);
}

const tp_handler_class blog_create_handler = {.name = "AuthCreateHandler",
                                              .get = create_get,
                                              .post = create_post,
                                              .get_current_user = blog_current_user};
const tp_handler_class blog_login_handler = {.name = "AuthLoginHandler",
                                             .get = login_get,
                                             .post = login_post,
                                             .get_current_user = blog_current_user};
const tp_handler_class blog_logout_handler = {
    .name = "AuthLogoutHandler", .get = logout_get, .get_current_user = blog_current_user};
const tp_handler_class blog_github_handler = {
    .name = "GitHubLoginHandler", .get = github_get, .get_current_user = blog_current_user};
