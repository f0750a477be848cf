/* The blog's pages: home, archive, feed, entry and compose (the demo's HomeHandler,
 * ArchiveHandler, FeedHandler, EntryHandler, ComposeHandler), each one or two parameterised
 * statements on the worker's pool; the Entry UI module and the date UI methods. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "examples/blog/blog.h"

#define TITLE_MAX    512 /* entries.title is VARCHAR(512): characters, not bytes */
#define SLUG_MAX     80  /* entries.slug is VARCHAR(100): room for "-2" suffixes */
#define SLUG_RETRIES 10
#define ER_DUP_ENTRY 1062

/* ---- UI methods and the Entry module ------------------------------------------------------ */

static json_t *ui_fail(tp_template_call *call, const char *msg)
{
    snprintf(call->error, call->error_size, "%s", msg);
    return NULL;
}

/* format_date(entry.published): locale.format_date(d, full_format=True, shorter=True). */
static json_t *ui_format_date(tp_handler *h, tp_template_call *call)
{
    double d = blog_parse_datetime(json_string_value(json_array_get(call->args, 0)));
    tp_slice out;
    if (d < 0 || tp_locale_format_date(tp_handler_locale(h), tp_handler_arena(h), d,
                                       (double)time(NULL), 0, false, true, true, &out) < 0)
        return ui_fail(call, "format_date() takes a DATETIME string");
    return json_stringn(out.p, out.n);
}

/* atom_date(entry.updated): "%Y-%m-%dT%H:%M:%SZ"; atom_date(None) is now. */
static json_t *ui_atom_date(tp_handler *h, tp_template_call *call)
{
    (void)h;
    json_t *v = json_array_get(call->args, 0);
    double d = json_is_null(v) ? (double)time(NULL) : blog_parse_datetime(json_string_value(v));
    if (d < 0)
        return ui_fail(call, "atom_date() takes a DATETIME string or None");
    time_t t = (time_t)d;
    struct tm tm;
    char buf[32];
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    return json_string(buf);
}

const tp_ui_method blog_ui_methods[] = {{"format_date", ui_format_date},
                                        {"atom_date", ui_atom_date}};
const size_t blog_n_ui_methods = sizeof(blog_ui_methods) / sizeof(blog_ui_methods[0]);

/* EntryModule.render(entry): modules/entry.html in the handler namespace. */
static json_t *entry_module(tp_handler *h, tp_template_call *call)
{
    json_t *kw = json_pack("{sO}", "entry", json_array_get(call->args, 0));
    tp_buf out = {0};
    int r = kw ? tp_render_string(h, "modules/entry.html", kw, &out) : -1;
    json_decref(kw);
    json_t *v = r < 0 ? NULL : json_stringn(tp_buf_data(&out), out.len);
    tp_buf_free(&out);
    return v ? v : ui_fail(call, "the Entry module's template failed (logged)");
}

static const tp_ui_module entry_ui_module = {.name = "Entry", .render = entry_module};
const tp_ui_module *const blog_ui_modules[] = {&entry_ui_module};

/* ---- lists: home, archive, feed ----------------------------------------------------------- */

/* A page listing entries: its statement, its template and what it sends. */
typedef struct list_page {
    const char *sql, *template, *content_type;
    bool compose_when_empty; /* the home page of an empty blog redirects to /compose */
} list_page;

static const list_page home_page = {
    "SELECT * FROM entries ORDER BY published DESC, id DESC LIMIT 5", "home.html", NULL, true};
static const list_page archive_page = {"SELECT * FROM entries ORDER BY published DESC, id DESC",
                                       "archive.html", NULL, false};
static const list_page feed_page = {
    "SELECT * FROM entries ORDER BY published DESC, id DESC LIMIT 10", "feed.xml",
    "application/atom+xml", false};

static int list_rows(tp_handler *h, tp_future *f, void *arg)
{
    const list_page *p = arg;
    json_t *rows = tp_future_result(f);
    if (p->compose_when_empty && json_array_size(rows) == 0)
        return tp_redirect(h, "/compose", false), TP_OK;
    if (p->content_type)
        tp_set_header(h, "Content-Type", p->content_type);
    return blog_render(h, p->template, json_pack("{sO}", "entries", rows));
}

static int list_ready(tp_handler *h, tp_future *f, void *arg)
{
    (void)f;
    const list_page *p = arg;
    return blog_await(h, tp_db_query(blog.db, p->sql, NULL, 0), list_rows, arg);
}

static int home_get(tp_handler *h)
{
    return blog_when_ready(h, list_ready, (void *)&home_page);
}

static int archive_get(tp_handler *h)
{
    return blog_when_ready(h, list_ready, (void *)&archive_page);
}

static int feed_get(tp_handler *h)
{
    return blog_when_ready(h, list_ready, (void *)&feed_page);
}

/* ---- one entry ------------------------------------------------------------------------------ */

static int entry_row(tp_handler *h, tp_future *f, void *arg)
{
    (void)arg;
    json_t *row = tp_future_result(f);
    if (!row)
        return tp_send_error(h, 404), TP_OK;
    return blog_render(h, "entry.html", json_pack("{sO}", "entry", row));
}

static int entry_ready(tp_handler *h, tp_future *f, void *arg)
{
    (void)f, (void)arg;
    tp_slice slug = tp_path_arg(h, 0);
    return blog_await(h,
                      tp_db_get(blog.db, "SELECT * FROM entries WHERE slug = ?",
                                TP_DB_PARAMS(tp_db_text(slug.p, slug.n))),
                      entry_row, NULL);
}

static int entry_get(tp_handler *h)
{
    return blog_when_ready(h, entry_ready, NULL);
}

const tp_handler_class blog_home_handler = {
    .name = "HomeHandler", .get = home_get, .get_current_user = blog_current_user};
const tp_handler_class blog_archive_handler = {
    .name = "ArchiveHandler", .get = archive_get, .get_current_user = blog_current_user};
const tp_handler_class blog_feed_handler = {
    .name = "FeedHandler", .get = feed_get, .get_current_user = blog_current_user};
const tp_handler_class blog_entry_handler = {
    .name = "EntryHandler", .get = entry_get, .get_current_user = blog_current_user};

/* ---- compose -------------------------------------------------------------------------------- */

/* A compose request across its callbacks (the handler's state). */
typedef struct compose {
    long long id; /* the entry edited, 0 for a new one */
    const char *title, *text, *html, *slug;
    int tries;
} compose;

/* The "id" argument: 0 for none, -1 for one that is not a positive number. */
static long long entry_id(tp_handler *h)
{
    const char *s = tp_get_argument(h, "id", "");
    if (!s || !*s)
        return s ? 0 : -1;
    char *end;
    long long id = strtoll(s, &end, 10);
    return *end || id <= 0 ? -1 : id;
}

static int compose_page(tp_handler *h, json_t *entry, const char *error)
{
    return blog_render(h, "compose.html",
                       json_pack("{sOss?}", "entry", entry ? entry : json_null(), "error", error));
}

static int compose_row(tp_handler *h, tp_future *f, void *arg)
{
    (void)arg;
    json_t *row = tp_future_result(f);
    if (!row)
        return tp_send_error(h, 404), TP_OK;
    return compose_page(h, row, NULL);
}

static int compose_get_ready(tp_handler *h, tp_future *f, void *arg)
{
    (void)f, (void)arg;
    long long id = entry_id(h);
    if (id < 0)
        return tp_send_error(h, 404), TP_OK;
    if (id == 0)
        return compose_page(h, NULL, NULL);
    return blog_await(
        h, tp_db_get(blog.db, "SELECT * FROM entries WHERE id = ?", TP_DB_PARAMS(tp_db_int(id))),
        compose_row, NULL);
}

static int compose_get(tp_handler *h)
{
    return blog_when_ready(h, compose_get_ready, NULL);
}

static int redirect_to_entry(tp_handler *h, const char *slug)
{
    tp_redirect(h, tp_arena_printf(tp_handler_arena(h), "/entry/%s", slug), false);
    return TP_OK;
}

static int insert_entry(tp_handler *h);

static int inserted(tp_handler *h, tp_future *f, void *arg)
{
    (void)arg;
    compose *c = tp_handler_state(h);
    if (!tp_future_error(f))
        return redirect_to_entry(h, c->slug);
    if (tp_db_error_number(f) != ER_DUP_ENTRY || ++c->tries > SLUG_RETRIES)
        return tp_log_error("blog: new entry: %s", tp_future_error_message(f)), TP_ERROR;
    /* The slug is taken (by an entry made in the meantime too): the demo's slug += "-2". */
    c->slug = tp_arena_printf(tp_handler_arena(h), "%s-2", c->slug);
    return insert_entry(h);
}

/* INSERT with the slug; the UNIQUE index decides, so two workers cannot both take it. */
static int insert_entry(tp_handler *h)
{
    compose *c = tp_handler_state(h);
    tp_future *f = tp_db_execute(
        blog.db,
        "INSERT INTO entries (author_id, title, slug, markdown, html, published, updated) "
        "VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP())",
        TP_DB_PARAMS(tp_db_int(blog_current_author_id(h)), tp_db_str(c->title), tp_db_str(c->slug),
                     tp_db_str(c->text), tp_db_str(c->html)));
    int r = tp_handler_await(h, f, inserted, NULL);
    tp_future_unref(f);
    return r < 0 ? TP_ERROR : TP_AGAIN;
}

static int updated(tp_handler *h, tp_future *f, void *arg)
{
    (void)f;
    return redirect_to_entry(h, arg);
}

static int update_row(tp_handler *h, tp_future *f, void *arg)
{
    (void)arg;
    compose *c = tp_handler_state(h);
    json_t *row = tp_future_result(f);
    if (!row)
        return tp_send_error(h, 404), TP_OK;
    const char *slug = json_string_value(json_object_get(row, "slug"));
    char *keep = tp_arena_strndup(tp_handler_arena(h), slug, strlen(slug));
    return blog_await(h,
                      tp_db_execute(blog.db,
                                    "UPDATE entries SET title = ?, markdown = ?, html = ?, "
                                    "updated = UTC_TIMESTAMP() WHERE id = ?",
                                    TP_DB_PARAMS(tp_db_str(c->title), tp_db_str(c->text),
                                                 tp_db_str(c->html), tp_db_int(c->id))),
                      updated, keep);
}

/* The form's values into c; a message for a form that cannot be saved, else NULL. */
static const char *read_form(tp_handler *h, compose *c)
{
    c->title = tp_get_argument(h, "title", "");
    c->text = tp_get_argument(h, "markdown", "");
    if (!c->title || !c->text)
        return "";
    if (!*c->title)
        return "A title is required.";
    if (!blog_fits(c->title, TITLE_MAX))
        return "The title is too long.";
    char *html = blog_markdown(c->text, strlen(c->text));
    if (!html)
        return "";
    c->html = tp_arena_strndup(tp_handler_arena(h), html, strlen(html));
    free(html);
    return NULL;
}

static int compose_post_ready(tp_handler *h, tp_future *f, void *arg)
{
    (void)f, (void)arg;
    compose *c = tp_handler_state(h);
    c->id = entry_id(h);
    const char *error = c->id < 0 ? "" : read_form(h, c);
    if (error && !*error)
        return tp_send_error(h, 400), TP_OK;
    if (error) {
        tp_set_status(h, 400, NULL);
        json_t *form = json_pack("{sIssssss}", "id", (json_int_t)c->id, "title", c->title,
                                 "markdown", c->text, "slug", "");
        int r = compose_page(h, form, error);
        json_decref(form);
        return r;
    }
    if (c->id)
        return blog_await(h,
                          tp_db_get(blog.db, "SELECT * FROM entries WHERE id = ?",
                                    TP_DB_PARAMS(tp_db_int(c->id))),
                          update_row, NULL);
    c->slug = blog_slugify(tp_handler_arena(h), c->title, SLUG_MAX);
    return insert_entry(h);
}

static int compose_post(tp_handler *h)
{
    return blog_when_ready(h, compose_post_ready, NULL);
}

const tp_handler_class blog_compose_handler = {.name = "ComposeHandler",
                                               .state_size = sizeof(compose),
                                               .flags = TP_AUTHENTICATED,
                                               .get = compose_get,
                                               .post = compose_post,
                                               .get_current_user = blog_current_user};
