/* The string map of the translation tables: open addressing with linear probing, FNV-1a,
 * grown at 3/4 load. A context lookup hashes "ctx \x04 key" without building it. */
#include <stdint.h>
#include <string.h>

#include "web/locale/internal.h"

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull

static uint64_t fnv(uint64_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * FNV_PRIME;
    return h;
}

static uint64_t key_hash(tp_slice ctx, tp_slice key, int tag)
{
    uint64_t h = FNV_OFFSET;
    if (ctx.p) {
        static const char sep = TP_LOCALE_CTX_SEP;
        h = fnv(h, ctx.p, ctx.n);
        h = fnv(h, &sep, 1);
    }
    h = fnv(h, key.p, key.n);
    return h ^ (uint64_t)tag * 0x9e3779b97f4a7c15ull;
}

/* True if the stored key equals ctx "\x04" key (or key alone without ctx). */
static bool key_eq(tp_slice stored, tp_slice ctx, tp_slice key)
{
    if (!ctx.p)
        return tp_slice_eq(stored, key);
    if (stored.n != ctx.n + 1 + key.n)
        return false;
    return (ctx.n == 0 || memcmp(stored.p, ctx.p, ctx.n) == 0) &&
           stored.p[ctx.n] == TP_LOCALE_CTX_SEP &&
           (key.n == 0 || memcmp(stored.p + ctx.n + 1, key.p, key.n) == 0);
}

static tp_lmap_entry *probe(tp_lmap_entry *v, size_t cap, tp_slice ctx, tp_slice key, int tag)
{
    size_t i = (size_t)key_hash(ctx, key, tag) & (cap - 1);
    for (;; i = (i + 1) & (cap - 1))
        if (!v[i].key.p || (v[i].tag == tag && key_eq(v[i].key, ctx, key)))
            return &v[i];
}

static void grow(tp_lmap *m, tp_arena *a)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    tp_lmap_entry *v = tp_arena_calloc(a, cap * sizeof(*v));
    for (size_t i = 0; i < m->cap; i++)
        if (m->v[i].key.p)
            *probe(v, cap, TP_SLICE_NULL, m->v[i].key, m->v[i].tag) = m->v[i];
    m->v = v; /* the old array stays in the arena until it is destroyed */
    m->cap = cap;
}

void **tp_lmap_put(tp_lmap *m, tp_arena *a, tp_slice key, int tag)
{
    if ((m->n + 1) * 4 > m->cap * 3)
        grow(m, a);
    if (!key.p)
        key.p = ""; /* a NULL pointer marks a free slot */
    tp_lmap_entry *e = probe(m->v, m->cap, TP_SLICE_NULL, key, tag);
    if (!e->key.p) {
        e->key = key;
        e->tag = tag;
        e->val = NULL;
        m->n++;
    }
    return &e->val;
}

void *tp_lmap_get(const tp_lmap *m, tp_slice ctx, tp_slice key, int tag)
{
    if (!m || m->n == 0)
        return NULL;
    if (!key.p)
        key.p = "";
    tp_lmap_entry *e = probe(m->v, m->cap, ctx, key, tag);
    return e->key.p ? e->val : NULL;
}
