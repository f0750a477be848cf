/* The blog's HTML: what Tornado's blog demo does with templates, written out by hand. Every
 * piece of text that came from a user goes through tp_xhtml_escape. */
#include "examples/blog/blog.h"

#include <string.h>
#include <time.h>

static void put_esc(tp_handler *h, const char *s)
{
    tp_slice e = tp_xhtml_escape(tp_handler_arena(h), tp_slice_cstr(s));
    tp_write(h, e.p, e.n);
}

static void put_esc_n(tp_handler *h, const char *s, size_t n)
{
    tp_slice e = tp_xhtml_escape(tp_handler_arena(h), tp_slice_make(s, n));
    tp_write(h, e.p, e.n);
}

/* static_url(path) with the ?v= content hash: cached for ten years, changed with the file. */
static const char *static_url(tp_handler *h, const char *path)
{
    const char *url = tp_static_url(tp_handler_app(h), tp_handler_arena(h), path, true);
    return url ? url : "";
}

static void write_nav(tp_handler *h)
{
    const char *user = tp_current_user(h);
    tp_write_str(h, "<nav>");
    if (!user) {
        tp_write_str(h, "<a href=\"/auth/login\">Log in</a></nav>");
        return;
    }
    tp_write_str(h, "<a href=\"/compose\">New post</a> <span class=\"user\">");
    put_esc(h, user);
    tp_writef(h,
              "</span> <form class=\"inline\" method=\"post\" action=\"/auth/logout\">%s"
              "<button type=\"submit\">Log out</button></form></nav>",
              tp_xsrf_form_html(h));
}

void blog_page_start(tp_handler *h, const char *title)
{
    tp_write_str(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                    "<title>");
    put_esc(h, title);
    tp_writef(h,
              " - Tornado blog</title>\n<link rel=\"stylesheet\" href=\"%s\">\n</head>\n<body>\n"
              "<header><a class=\"brand\" href=\"/\">Tornado blog</a>",
              static_url(h, "blog.css"));
    write_nav(h);
    tp_write_str(h, "</header>\n<main>\n");
}

void blog_page_end(tp_handler *h)
{
    tp_writef(h,
              "</main>\n<footer>Served by tornado-prefork.</footer>\n"
              "<script src=\"%s\"></script>\n</body>\n</html>\n",
              static_url(h, "blog.js"));
}

static void write_time(tp_handler *h, time_t t)
{
    struct tm tm;
    char buf[64];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm);
    tp_writef(h, "<time datetime=\"%lld\">%s</time>", (long long)t, buf);
}

/* One paragraph: its lines joined by <br>. */
static void write_paragraph(tp_handler *h, const char *p, size_t n)
{
    tp_write_str(h, "<p>");
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t len = nl ? (size_t)(nl - p) : n;
        size_t shown = len && p[len - 1] == '\r' ? len - 1 : len;
        put_esc_n(h, p, shown);
        if (!nl)
            break;
        tp_write_str(h, "<br>\n");
        n -= len + 1, p += len + 1;
    }
    tp_write_str(h, "</p>\n");
}

/* Plain text: blank lines separate paragraphs, other line breaks are kept (bodies are saved
 * with "\n" line ends). */
static void write_body(tp_handler *h, const char *body)
{
    const char *p = body;
    while (*p) {
        const char *end = strstr(p, "\n\n");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (strspn(p, " \t\r\n") < n)
            write_paragraph(h, p, n);
        if (!end)
            break;
        p = end + 2;
    }
}

void blog_write_post(tp_handler *h, const blog_post *p, bool link)
{
    tp_write_str(h, "<article class=\"post\">\n<h2>");
    if (link)
        tp_writef(h, "<a href=\"/entry/%s\">", p->slug); /* slugs are [a-z0-9-] */
    put_esc(h, p->title);
    tp_write_str(h, link ? "</a></h2>\n<p class=\"meta\">by " : "</h2>\n<p class=\"meta\">by ");
    put_esc(h, p->author);
    tp_write_str(h, ", ");
    write_time(h, p->published);
    if (p->updated != p->published) {
        tp_write_str(h, ", updated ");
        write_time(h, p->updated);
    }
    if (tp_current_user(h))
        tp_writef(h, " &middot; <a href=\"/compose?id=%s\">Edit</a>", p->slug);
    tp_write_str(h, "</p>\n<div class=\"body\">\n");
    write_body(h, p->body);
    tp_write_str(h, "</div>\n</article>\n");
}

static void write_error(tp_handler *h, const char *error)
{
    if (!error)
        return;
    tp_write_str(h, "<p class=\"error\">");
    put_esc(h, error);
    tp_write_str(h, "</p>\n");
}

void blog_write_compose_form(tp_handler *h, const blog_form *f)
{
    tp_write_str(h, f->slug ? "<h1>Edit post</h1>\n" : "<h1>New post</h1>\n");
    write_error(h, f->error);
    tp_writef(h, "<form class=\"compose\" method=\"post\" action=\"/compose\">\n%s\n",
              tp_xsrf_form_html(h));
    if (f->slug)
        tp_writef(h, "<input type=\"hidden\" name=\"id\" value=\"%s\">\n", f->slug);
    tp_writef(h, "<label>Title <input name=\"title\" maxlength=\"%d\" required value=\"",
              BLOG_TITLE_MAX);
    put_esc(h, f->title ? f->title : "");
    tp_write_str(h, "\"></label>\n<label>Text <textarea name=\"body\" rows=\"16\">");
    put_esc(h, f->body ? f->body : "");
    tp_writef(h,
              "</textarea></label>\n<p class=\"count\" data-max=\"%d\"></p>\n"
              "<button type=\"submit\">%s</button>\n</form>\n",
              BLOG_BODY_MAX, f->slug ? "Save" : "Publish");
}

void blog_write_login_form(tp_handler *h, const char *next, const char *error, const char *hint)
{
    tp_write_str(h, "<h1>Log in</h1>\n");
    write_error(h, error);
    tp_writef(h,
              "<form class=\"login\" method=\"post\" action=\"/auth/login\">\n%s\n"
              "<input type=\"hidden\" name=\"next\" value=\"",
              tp_xsrf_form_html(h));
    put_esc(h, next);
    tp_write_str(h, "\">\n<label>User name <input name=\"name\" autocomplete=\"username\" "
                    "required></label>\n<label>Password <input type=\"password\" "
                    "name=\"password\" autocomplete=\"current-password\"></label>\n"
                    "<button type=\"submit\">Log in</button>\n</form>\n");
    if (hint) {
        tp_write_str(h, "<p class=\"hint\">");
        put_esc(h, hint);
        tp_write_str(h, "</p>\n");
    }
}
