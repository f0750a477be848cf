/* The blog's posts: an in-memory list per process, optionally backed by a JSON-lines file
 * that every worker appends to (O_APPEND, under flock) and re-reads when it has changed, so
 * all prefork workers show the same posts. One line per save: {"slug", "title", "body",
 * "author", "time"}; a later line with the same slug is an edit of that post. */
#ifndef BLOG_STORE_H
#define BLOG_STORE_H

#include <stddef.h>
#include <time.h>

#include "tp.h"

#define BLOG_TITLE_MAX 200    /* bytes of a title */
#define BLOG_BODY_MAX  100000 /* bytes of a body */
#define BLOG_SLUG_MAX  64     /* bytes of a slug (a-z, 0-9, '-') */

typedef struct blog_post {
    char *slug, *title, *body, *author; /* owned by the store */
    time_t published;                   /* time of the first save */
    time_t updated;                     /* time of the last save */
} blog_post;

/* Opens the store on path (NULL: memory only) and reads what it holds. 0, or -errno when
 * the file exists but cannot be read (a missing file is an empty store). */
int blog_store_open(const char *path);
/* Frees every post. */
void blog_store_close(void);
/* Re-reads the file if its inode, size or mtime changed since the last read. 0 or -errno
 * (the posts read so far stay). Posts returned before may be freed by it. */
int blog_store_refresh(void);
size_t blog_store_count(void);
/* The i-th newest post (0: newest), by first publication; NULL past the end. */
const blog_post *blog_store_newest(size_t i);
/* The post with this slug, or NULL. */
const blog_post *blog_store_find(tp_slice slug);
/* Saves a post: an edit of slug when slug is not NULL (-ENOENT if there is none), else a new
 * post whose slug is made from the title (unique: "-2", "-3"... appended). The slug saved is
 * copied to slug_out[BLOG_SLUG_MAX + 1]. 0 or -errno (file errors are logged). */
int blog_store_save(const char *slug, const char *title, const char *body, const char *author,
                    char *slug_out);
/* The slug for title: lowercase ASCII letters and digits, other runs become one '-', at most
 * BLOG_SLUG_MAX bytes, "post" when nothing is left. Into out[BLOG_SLUG_MAX + 1]. */
void blog_slugify(const char *title, char *out);

#endif
