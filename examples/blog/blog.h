/* The blog's HTML (page.c), used by its handlers (blog.c). Every write_* function escapes
 * what it writes with tp_xhtml_escape unless the name says otherwise. */
#ifndef BLOG_BLOG_H
#define BLOG_BLOG_H

#include <stdbool.h>

#include "examples/blog/store.h"
#include "tp.h"

/* The form values of the compose page: a new post (slug NULL) or an edit. */
typedef struct blog_form {
    const char *slug, *title, *body;
    const char *error; /* shown above the form, or NULL */
} blog_form;

/* Doctype, head (versioned stylesheet URL), header with the user's links, <main>. */
void blog_page_start(tp_handler *h, const char *title);
/* </main>, footer, versioned script URL, </html>. */
void blog_page_end(tp_handler *h);
/* One post; with link, its title links to its entry page. */
void blog_write_post(tp_handler *h, const blog_post *p, bool link);
void blog_write_compose_form(tp_handler *h, const blog_form *f);
/* The login form; next is where a successful login goes; hint shows the demo account. */
void blog_write_login_form(tp_handler *h, const char *next, const char *error, const char *hint);

#endif
