/* Options from a URL-ish string, as apps read it from the environment:
 *   mysql://user:pass@host:port/db?unix_socket=/path&pool_size=8&query_timeout=5
 * (mariadb:// too). Every part but the scheme is optional; %XX escapes are decoded. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/hex.h"
#include "web/database/db_internal.h"

/* Decodes %XX in place; -1 for a bad escape. */
static int unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r != '%') {
            *w++ = *r;
            continue;
        }
        int hi = tp_hex_value((unsigned char)r[1]),
            lo = hi < 0 ? -1 : tp_hex_value((unsigned char)r[2]);
        if (lo < 0)
            return -1;
        *w++ = (char)(hi * 16 + lo);
        r += 2;
    }
    *w = '\0';
    return 0;
}

static int number(const char *v, double *out)
{
    char *end;
    double d = strtod(v, &end);
    if (!*v || *end || d < 0)
        return -1;
    *out = d;
    return 0;
}

static int query_param(struct tp_db_options *o, char *key, char *val)
{
    double d;
    if (unescape(key) || unescape(val))
        return -1;
    if (!strcmp(key, "unix_socket") || !strcmp(key, "socket")) {
        o->unix_socket = val;
        return 0;
    }
    if (!strcmp(key, "charset")) {
        o->charset = val;
        return 0;
    }
    if (number(val, &d))
        return -1;
    if (!strcmp(key, "pool_size"))
        o->pool_size = (unsigned)d;
    else if (!strcmp(key, "queue_size"))
        o->queue_size = (unsigned)d;
    else if (!strcmp(key, "connect_timeout"))
        o->connect_timeout = d;
    else if (!strcmp(key, "query_timeout"))
        o->query_timeout = d;
    else if (!strcmp(key, "wait_timeout"))
        o->wait_timeout = d;
    else if (!strcmp(key, "max_idle_time"))
        o->max_idle_time = d;
    else
        return -1;
    return 0;
}

static int parse_query(struct tp_db_options *o, char *q)
{
    while (q && *q) {
        char *amp = strchr(q, '&');
        if (amp)
            *amp = '\0';
        char *eq = strchr(q, '=');
        if (!eq)
            return -1;
        *eq = '\0';
        if (query_param(o, q, eq + 1))
            return -1;
        q = amp ? amp + 1 : NULL;
    }
    return 0;
}

/* user:pass@host:port, all optional; s is modified. */
static int parse_authority(struct tp_db_options *o, char *s)
{
    char *at = strrchr(s, '@');
    if (at) {
        *at = '\0';
        char *colon = strchr(s, ':');
        if (colon) {
            *colon = '\0';
            if (unescape(colon + 1))
                return -1;
            o->password = colon + 1;
        }
        if (unescape(s))
            return -1;
        if (*s)
            o->user = s;
        s = at + 1;
    }
    char *colon = strrchr(s, ':');
    if (colon && !strchr(colon, ']')) {
        *colon = '\0';
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (*end || port <= 0 || port > 65535)
            return -1;
        o->port = (unsigned)port;
    }
    if (*s == '[') { /* [::1] */
        size_t n = strlen(s);
        if (n < 2 || s[n - 1] != ']')
            return -1;
        s[n - 1] = '\0';
        s++;
    }
    if (unescape(s))
        return -1;
    if (*s)
        o->host = s;
    return 0;
}

int tp_db_options_from_url(struct tp_db_options *o, const char *url, char **storage)
{
    *storage = NULL;
    const char *rest = NULL;
    if (!strncmp(url, "mysql://", 8))
        rest = url + 8;
    else if (!strncmp(url, "mariadb://", 10))
        rest = url + 10;
    if (!rest)
        return -EINVAL;
    char *s = strdup(rest);
    if (!s)
        return -ENOMEM;
    struct tp_db_options n = *o;
    char *q = strchr(s, '?');
    if (q)
        *q++ = '\0';
    char *slash = strchr(s, '/');
    if (slash) {
        *slash = '\0';
        if (unescape(slash + 1)) {
            free(s);
            return -EINVAL;
        }
        if (slash[1])
            n.database = slash + 1;
    }
    if (parse_authority(&n, s) || parse_query(&n, q)) {
        free(s);
        return -EINVAL;
    }
    *o = n;
    *storage = s;
    return 0;
}

tp_db *tp_db_new_url(tp_loop *loop, const char *url, const struct tp_db_options *opts)
{
    struct tp_db_options o = opts ? *opts : (struct tp_db_options){0};
    char *storage;
    if (tp_db_options_from_url(&o, url, &storage) != 0)
        return NULL;
    tp_db *db = tp_db_new(loop, &o);
    free(storage);
    return db;
}
