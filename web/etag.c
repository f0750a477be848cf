/* Conditional GET (Tornado's compute_etag, set_etag_header, check_etag_header): a SHA-1 Etag
 * over the body of 200 GET/HEAD responses, and 304 when If-None-Match matches it. */
/* The one-shot SHA1() of OpenSSL 3 fetches an EVP implementation on every call (about 1,900
 * instructions for a hello body); the low-level functions hash it in about 400. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <string.h>

#include "core/hex.h"
#include "web/web_internal.h"

/* The If-None-Match tokens as re.findall(r'\*|(?:W/)?"[^"]*"') finds them: calls fn for each
 * until it returns true. */
static bool any_etag(tp_slice list, bool (*fn)(tp_slice tag, tp_slice want), tp_slice want)
{
    const char *p = list.p, *end = list.p + list.n;
    while (p < end) {
        const char *start = p;
        if (*p == '*') {
            if (fn((tp_slice){p, 1}, want))
                return true;
            p++;
            continue;
        }
        if (end - p >= 3 && p[0] == 'W' && p[1] == '/' && p[2] == '"')
            p += 2;
        const char *close = *p == '"' ? memchr(p + 1, '"', (size_t)(end - p - 1)) : NULL;
        if (!close) {
            p = start + 1;
            continue;
        }
        if (fn((tp_slice){start, (size_t)(close + 1 - start)}, want))
            return true;
        p = close + 1;
    }
    return false;
}

static tp_slice weak_stripped(tp_slice tag)
{
    if (tag.n >= 2 && tag.p[0] == 'W' && tag.p[1] == '/')
        return (tp_slice){tag.p + 2, tag.n - 2};
    return tag;
}

static bool same_etag(tp_slice tag, tp_slice want)
{
    return tp_slice_eq(weak_stripped(tag), weak_stripped(want));
}

static bool first_is_star(tp_slice inm)
{
    while (inm.n && (inm.p[0] == ' ' || inm.p[0] == '\t' || inm.p[0] == ','))
        inm.p++, inm.n--;
    /* findall's first token is "*" when the first match in the text is a star */
    const char *star = memchr(inm.p, '*', inm.n), *quote = memchr(inm.p, '"', inm.n);
    return star && (!quote || star < quote);
}

static bool etag_matches(tp_handler *h)
{
    tp_slice etag = tp_headers_get(&h->headers, TP_SLICE_LIT("Etag"));
    tp_slice inm = tp_headers_get_joined(&h->req->headers, TP_SLICE_LIT("If-None-Match"));
    if (!etag.p || !etag.n || !inm.p)
        return false;
    if (first_is_star(inm))
        return true;
    return any_etag(inm, same_etag, etag);
}

static void set_etag(tp_handler *h)
{
    unsigned char md[SHA_DIGEST_LENGTH];
    char *v = tp_arena_alloc(&h->req->arena, 2 * SHA_DIGEST_LENGTH + 3);
    SHA_CTX ctx;
    SHA1_Init(&ctx);
    SHA1_Update(&ctx, h->out ? h->out : "", h->out_len);
    SHA1_Final(md, &ctx);
    v[0] = '"';
    tp_hex_encode(md, SHA_DIGEST_LENGTH, v + 1);
    v[2 * SHA_DIGEST_LENGTH + 1] = '"';
    v[2 * SHA_DIGEST_LENGTH + 2] = '\0';
    tp_headers_add_ref(&h->headers, TP_SLICE_LIT("Etag"), (tp_slice){v, 2 * SHA_DIGEST_LENGTH + 2});
}

void tp__handler_conditional(tp_handler *h)
{
    tp_slice m = h->req->method;
    bool get = tp_slice_eq(m, TP_SLICE_LIT("GET")) || tp_slice_eq(m, TP_SLICE_LIT("HEAD"));
    /* A file body is not in memory (its handler sets its own Etag); TP_NO_ETAG is Tornado's
     * compute_etag returning None. */
    bool auto_etag = h->file_fd < 0 && !(h->cls->flags & TP_NO_ETAG);
    /* As Tornado's finish(): only an Etag computed here is checked against If-None-Match
     * (a handler that sets its own Etag does its own conditional logic). */
    if ((h->status != 200 && h->status != 304) || !get || !auto_etag ||
        tp_headers_get(&h->headers, TP_SLICE_LIT("Etag")).p)
        return;
    set_etag(h);
    if (!etag_matches(h))
        return;
    h->out_len = 0;
    tp_set_status(h, 304, NULL); /* the caller drops the representation headers of a 304 */
}
