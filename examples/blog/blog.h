/* examples/blog: Tornado's demos/blog on tornado-prefork. Shared between its files: the
 * configuration and database handle (blog.c), the pages (pages.c), sign-in (authors.c) and
 * the text helpers (text.c: Markdown, slugs, dates, password hashes). */
#ifndef BLOG_BLOG_H
#define BLOG_BLOG_H

#include <stdbool.h>

#include "tp.h"

/* The worker's state, set up in init (every prefork worker reads the same environment). */
typedef struct blog_state {
    char *dir, *db_url, *secret, *title, *github_authors;
    tp_db *db;
    tp_executor *pool; /* password hashing, off the loop */
    tp_auth_provider *github;
    tp_template_loader *loader;
    tp_future *schema; /* the CREATE TABLEs of the first requests (NULL when done and fine) */
} blog_state;

extern blog_state blog;

/* The signed session cookie holding {"id": author id, "name": ...}. */
extern const tp_auth_session_opts blog_session;

/* ---- blog.c ------------------------------------------------------------------------------ */
/* get_current_user: the author's name from the session cookie (request arena), or NULL. */
const char *blog_current_user(tp_handler *h);
/* The signed-in author's id, or 0. */
long long blog_current_author_id(tp_handler *h);
/* Starts h's work once the tables exist: cb(h, NULL-result future, arg) then, or at once
 * when they do. Returns what a method returns (TP_AGAIN while waiting). */
int blog_when_ready(tp_handler *h, tp_await_fn cb, void *arg);
/* Awaits a database future: cb runs with its result; a failure is a 500 with a log line. */
int blog_await(tp_handler *h, tp_future *f, tp_await_fn cb, void *arg);
/* Renders name with kwargs (stolen: json_decref'd here). TP_OK or TP_ERROR. */
int blog_render(tp_handler *h, const char *name, json_t *kwargs);
/* A "next" argument is followed only to a path of this site: else NULL (the demo's 400). */
const char *blog_local_next(const char *next);
/* Signs in author (id, name): the session cookie. 0 or -errno. */
int blog_sign_in(tp_handler *h, long long id, const char *name);

/* ---- pages.c / authors.c: route tables ----------------------------------------------- */
extern const tp_handler_class blog_home_handler, blog_archive_handler, blog_feed_handler,
    blog_entry_handler, blog_compose_handler;
extern const tp_handler_class blog_create_handler, blog_login_handler, blog_logout_handler,
    blog_github_handler;
/* The UI methods (format_date, atom_date) and the Entry module. */
extern const tp_ui_method blog_ui_methods[];
extern const size_t blog_n_ui_methods;
extern const tp_ui_module *const blog_ui_modules[];

/* ---- text.c ------------------------------------------------------------------------------ */
/* CommonMark to HTML with libcmark in safe mode (raw HTML and javascript:/vbscript:/file:/
 * data: links left out). malloc'd: free(). NULL on out of memory. */
char *blog_markdown(const char *text, size_t len);
/* The demo's slug: NFKD, runs of non-word characters one "-", lower case, ASCII only,
 * "entry" when nothing is left; at most max bytes (cut at a "-" boundary when it can).
 * Written into the arena. */
char *blog_slugify(tp_arena *a, const char *title, size_t max);
/* "YYYY-MM-DD HH:MM:SS" (UTC, as MariaDB prints a DATETIME) to Unix time; -1 if not one. */
double blog_parse_datetime(const char *s);

/* authors.email and authors.name are VARCHAR(100). */
#define NAME_MAX_CHARS 100
/* Whether s (UTF-8) has at most max characters, as a VARCHAR(max) column counts them. */
bool blog_fits(const char *s, size_t max);

/* ---- password.c -------------------------------------------------------------------------- */
/* A future whose result is the scrypt hash string of password (owned by the future: valid
 * while the awaiting callback runs), computed on blog.pool. */
tp_future *blog_password_hash(const char *password);
/* A future whose result is non-NULL when password matches the stored hash string. */
tp_future *blog_password_check(const char *password, const char *stored);

#endif
