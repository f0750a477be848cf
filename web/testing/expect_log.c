/* ExpectLog: a capture hook on the log (core/log.h) that swallows the expected lines and
 * counts them; the others go on to the previous hook, then to the log. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "web/testing/testing.h"

#include <errno.h>
#include <pcre2.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"

struct tp_expect_log {
    pcre2_code *re;
    pcre2_match_data *md;
    int level; /* 0: any */
    bool required;
    int matched;
    int saved_level; /* the log level before the block */
    tp_log_capture_fn prev;
    void *prev_arg;
};

static bool capture(int level, const char *msg, size_t len, void *arg)
{
    tp_expect_log *e = arg;
    int rc = pcre2_match(e->re, (PCRE2_SPTR)msg, len, 0, PCRE2_ANCHORED, e->md, NULL);
    if (rc >= 0 && (e->level == 0 || level == e->level)) {
        e->matched++;
        return true;
    }
    return e->prev ? e->prev(level, msg, len, e->prev_arg) : false;
}

tp_expect_log *tp_expect_log_begin(const char *regex, int level, bool required)
{
    int err;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
    if (!re) {
        PCRE2_UCHAR why[120];
        pcre2_get_error_message(err, why, sizeof(why));
        tp_log_error("ExpectLog: bad regex at offset %zu: %s", (size_t)off, (char *)why);
        return NULL;
    }
    tp_expect_log *e = tp_calloc(1, sizeof(*e));
    e->re = re;
    e->md = pcre2_match_data_create_from_pattern(re, NULL);
    e->level = level;
    e->required = required;
    e->saved_level = tp_log_level();
    if (level > 0 && level < e->saved_level)
        tp_log_set_level(level);
    e->prev = tp_log_set_capture(capture, e, &e->prev_arg);
    return e;
}

int tp_expect_log_matched(const tp_expect_log *e)
{
    return e->matched;
}

int tp_expect_log_end(tp_expect_log *e)
{
    tp_log_set_capture(e->prev, e->prev_arg, NULL);
    tp_log_set_level(e->saved_level);
    int r = e->required && e->matched == 0 ? -ENOENT : 0;
    pcre2_match_data_free(e->md);
    pcre2_code_free(e->re);
    tp_free(e);
    return r;
}
