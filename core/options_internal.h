/* Shared by core/options*.c: one parsed item of any option type, the pool that owns the
 * strings and lists the parsers make, and storing values with bounds and callbacks. */
#ifndef TP_CORE_OPTIONS_INTERNAL_H
#define TP_CORE_OPTIONS_INTERNAL_H

#include "core/options.h"

#include <stdint.h>

typedef union tp__opt_item {
    bool b;
    int i;
    size_t z;
    double d;
    const char *s;
    struct tm tm;
} tp__opt_item;

/* A growing list of items of one type (the value of a `multiple` option being built). */
typedef struct tp__opt_items {
    size_t n, cap;
    tp__opt_item *v;
} tp__opt_items;

/* Size of one item of type t in a tp_opt_list. */
size_t tp__opt_item_size(tp_opt_type t);
/* Copies s[0..n) into the pool (NUL-terminated); lives until tp_options_pool_free. */
char *tp__opt_strdup(const char *s, size_t n);
/* Zeroed pool memory. */
void *tp__opt_alloc(size_t n);

/* Parses text[0..n) as one item of o's type (command-line syntax). Strings are copied into
 * the pool unless borrow is set and text is NUL-terminated at n. 0 or -EINVAL with err. */
int tp__opt_parse_item(const tp_option *o, const char *text, size_t n, bool borrow,
                       tp__opt_item *out, char *err, size_t errlen);
/* Appends the items of "a,b,c" (int ranges "lo:hi") to items. 0 or -EINVAL. */
int tp__opt_parse_list(const tp_option *o, const char *text, tp__opt_items *items, char *err,
                       size_t errlen);
/* Checks an item against o's bounds (numbers and durations); 0 or -EINVAL. */
int tp__opt_check(const tp_option *o, const tp__opt_item *it, char *err, size_t errlen);
void tp__opt_items_push(tp__opt_items *items, const tp__opt_item *it);
void tp__opt_items_free(tp__opt_items *items);
/* Stores a scalar (items->n == 1) or list into the field, then runs the callback. */
int tp__opt_store(const tp_option *o, void *base, const tp__opt_items *items, char *err,
                  size_t errlen);
/* Sets the option from command-line text (NULL: a flag without value). */
int tp__opt_set_text(const tp_option *o, void *base, const char *v, char *err, size_t errlen);
/* Appends one item as Python's str()/repr() shows it (repr quotes strings, in lists). */
void tp__opt_format_item(tp_opt_type t, const void *item, bool repr, tp_buf *out);

#endif
