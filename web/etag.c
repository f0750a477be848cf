/* Conditional GET (Tornado's compute_etag, set_etag_header, check_etag_header): a SHA-1 Etag
 * over the body of 200 GET/HEAD responses, and 304 when If-None-Match matches it. The one
 * If-None-Match matcher: StaticFileHandler (web/static/handler.c) and apps use it too. */
/* The one-shot SHA1() of OpenSSL 3 fetches an EVP implementation on every call (about 1,900
 * instructions for a hello body); the low-level functions hash it in about 400. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <errno.h>
#include <openssl/sha.h>
#include <string.h>

#include "core/hex.h"
#include "web/web_internal.h"

/* The next match of re.findall(r'\*|(?:W/)?"[^"]*"', s) from *i: a star, or an entity tag
 * with its W/ and its quotes. */
static bool next_etag(tp_slice s, size_t *i, tp_slice *tok)
{
    for (; *i < s.n; (*i)++) {
        size_t k = *i;
        if (s.p[k] == '*') {
            *tok = (tp_slice){s.p + k, 1};
            *i = k + 1;
            return true;
        }
        if (s.n - k >= 2 && s.p[k] == 'W' && s.p[k + 1] == '/')
            k += 2;
        if (k < s.n && s.p[k] == '"') {
            const char *q = memchr(s.p + k + 1, '"', s.n - k - 1);
            if (q) {
                *tok = (tp_slice){s.p + *i, (size_t)(q + 1 - (s.p + *i))};
                *i = (size_t)(q + 1 - s.p);
                return true;
            }
        }
    }
    return false;
}

static tp_slice strip_weak(tp_slice t)
{
    if (t.n >= 2 && t.p[0] == 'W' && t.p[1] == '/')
        t.p += 2, t.n -= 2;
    return t;
}

bool tp__etag_matches(tp_slice if_none_match, tp_slice etag)
{
    size_t i = 0;
    tp_slice tok;
    if (!etag.n || !next_etag(if_none_match, &i, &tok))
        return false;
    if (tok.n == 1 && tok.p[0] == '*')
        return true;
    tp_slice want = strip_weak(etag);
    do {
        if (tp_slice_eq(strip_weak(tok), want))
            return true;
    } while (next_etag(if_none_match, &i, &tok));
    return false;
}

bool tp_check_etag_header(tp_handler *h)
{
    tp_slice inm = tp_headers_get_joined(&h->req->headers, TP_SLICE_LIT("If-None-Match"));
    if (!inm.p)
        return false;
    return tp__etag_matches(inm, tp_headers_get(&h->headers, TP_SLICE_LIT("Etag")));
}

/* The default compute_etag: the quoted SHA-1 of the body written so far. */
static const char *body_etag(tp_handler *h)
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
    return v;
}

int tp_set_etag_header(tp_handler *h)
{
    const char *v = h->cls->compute_etag ? h->cls->compute_etag(h) : body_etag(h);
    return v ? tp_set_header(h, "Etag", v) : -ENOENT;
}

void tp__handler_conditional(tp_handler *h)
{
    tp_slice m = h->req->method;
    bool get = tp_slice_eq(m, TP_SLICE_LIT("GET")) || tp_slice_eq(m, TP_SLICE_LIT("HEAD"));
    /* A file body is not in memory (its handler sets its own Etag); TP_NO_ETAG is Tornado's
     * compute_etag returning None. */
    bool auto_etag = h->file_fd < 0 && !(h->cls->flags & TP_NO_ETAG);
    /* As Tornado's finish(): a 200 only (a handler's own 304, a 201 or a 404 get none), and
     * only an Etag computed here is checked against If-None-Match (a handler that sets its
     * own Etag does its own conditional logic). */
    if (h->status != 200 || !get || !auto_etag ||
        tp_headers_get(&h->headers, TP_SLICE_LIT("Etag")).p)
        return;
    if (h->cls->compute_etag) {
        if (tp_set_etag_header(h) < 0)
            return;
    } else { /* the caller saw no Etag: appended without a search, hello's path */
        const char *v = body_etag(h);
        tp_headers_append_ref(&h->headers, TP_SLICE_LIT("Etag"),
                              tp_slice_make(v, 2 * SHA_DIGEST_LENGTH + 2));
    }
    if (!tp_check_etag_header(h))
        return;
    h->out_len = 0;
    tp_set_status(h, 304, NULL); /* the caller drops the representation headers of a 304 */
}
