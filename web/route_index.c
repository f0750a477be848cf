/* The route index: a byte trie over each route's literal prefix (the text before its first
 * regex syntax), so that a request is matched with PCRE2 only against the routes whose
 * prefix it starts with, in table order. With 200 routes a request costs a walk down its
 * own path instead of 200 pcre2_match calls. */
#include <ctype.h>
#include <string.h>

#include "core/alloc.h"
#include "web/web_internal.h"

typedef struct trie_node {
    unsigned char *keys; /* child bytes, sorted */
    uint32_t *kids;      /* child node indexes */
    uint32_t nkids;
    uint32_t *routes; /* routes whose literal prefix ends here */
    uint32_t nroutes;
} trie_node;

struct tp_route_index {
    trie_node *nodes;
    uint32_t nnodes, cap;
    size_t indexed; /* app->nroutes when built */
    uint32_t *cand; /* scratch for candidates: nroutes entries */
};

static bool is_meta(char c)
{
    return strchr("\\^$.|?*+()[]{}", c) != NULL;
}

/* Bytes of pattern that every match must start with. A quantifier takes back the byte
 * before it; a top-level '|' anywhere means no prefix at all. */
static size_t literal_prefix(const char *p, char *out, size_t cap)
{
    int depth = 0;
    for (const char *q = p; *q; q++) {
        if (*q == '\\' && q[1])
            q++;
        else if (*q == '(')
            depth++;
        else if (*q == ')')
            depth--;
        else if (*q == '|' && depth == 0)
            return 0;
    }
    size_t n = 0;
    if (*p == '^')
        p++;
    while (*p && n < cap) {
        char c;
        if (*p == '\\') {
            if (!p[1] || isalnum((unsigned char)p[1]) || (unsigned char)p[1] >= 0x80)
                break; /* \d, \w, \1, \Q...: a class or reference, not a literal */
            c = p[1];
            p += 2;
        } else if (is_meta(*p)) {
            break;
        } else {
            c = *p++;
        }
        if (*p == '?' || *p == '*' || *p == '{')
            break; /* c is optional or repeated: the prefix ends before it */
        out[n++] = c;
    }
    return n;
}

static uint32_t new_node(tp_route_index *ix)
{
    if (ix->nnodes == ix->cap) {
        ix->cap = ix->cap ? ix->cap * 2 : 64;
        ix->nodes = tp_realloc(ix->nodes, ix->cap * sizeof(*ix->nodes));
    }
    ix->nodes[ix->nnodes] = (trie_node){0};
    return ix->nnodes++;
}

static uint32_t child(tp_route_index *ix, uint32_t at, unsigned char c)
{
    trie_node *nd = &ix->nodes[at];
    uint32_t i = 0;
    while (i < nd->nkids && nd->keys[i] < c)
        i++;
    if (i < nd->nkids && nd->keys[i] == c)
        return nd->kids[i];
    uint32_t k = new_node(ix);
    nd = &ix->nodes[at]; /* new_node may have moved the array */
    nd->keys = tp_realloc(nd->keys, nd->nkids + 1);
    nd->kids = tp_realloc(nd->kids, (nd->nkids + 1) * sizeof(*nd->kids));
    memmove(nd->keys + i + 1, nd->keys + i, nd->nkids - i);
    memmove(nd->kids + i + 1, nd->kids + i, (nd->nkids - i) * sizeof(*nd->kids));
    nd->keys[i] = c;
    nd->kids[i] = k;
    nd->nkids++;
    return k;
}

void tp__route_index_free(tp_route_index *ix)
{
    if (!ix)
        return;
    for (uint32_t i = 0; i < ix->nnodes; i++) {
        tp_free(ix->nodes[i].keys);
        tp_free(ix->nodes[i].kids);
        tp_free(ix->nodes[i].routes);
    }
    tp_free(ix->nodes);
    tp_free(ix->cand);
    tp_free(ix);
}

static tp_route_index *build(const tp_app *app)
{
    tp_route_index *ix = tp_calloc(1, sizeof(*ix));
    new_node(ix);
    for (size_t r = 0; r < app->nroutes; r++) {
        char prefix[256];
        size_t n = literal_prefix(app->routes[r].pattern, prefix, sizeof(prefix));
        uint32_t at = 0;
        for (size_t i = 0; i < n; i++)
            at = child(ix, at, (unsigned char)prefix[i]);
        trie_node *nd = &ix->nodes[at];
        nd->routes = tp_realloc(nd->routes, (nd->nroutes + 1) * sizeof(*nd->routes));
        nd->routes[nd->nroutes++] = (uint32_t)r;
    }
    ix->indexed = app->nroutes;
    ix->cand = tp_malloc((app->nroutes + 1) * sizeof(*ix->cand));
    return ix;
}

static void insert_sorted(uint32_t *v, size_t *n, uint32_t x)
{
    size_t i = *n;
    while (i > 0 && v[i - 1] > x) {
        v[i] = v[i - 1];
        i--;
    }
    v[i] = x;
    (*n)++;
}

size_t tp__route_candidates(tp_app *app, tp_slice path, const uint32_t **out)
{
    if (!app->index || app->index->indexed != app->nroutes) {
        tp__route_index_free(app->index);
        app->index = build(app);
    }
    tp_route_index *ix = app->index;
    size_t n = 0;
    uint32_t at = 0;
    for (size_t i = 0;; i++) {
        const trie_node *nd = &ix->nodes[at];
        for (uint32_t k = 0; k < nd->nroutes; k++)
            insert_sorted(ix->cand, &n, nd->routes[k]);
        if (i == path.n)
            break;
        unsigned char c = (unsigned char)path.p[i];
        uint32_t lo = 0, hi = nd->nkids;
        while (lo < hi) { /* binary search of the sorted child bytes */
            uint32_t mid = (lo + hi) / 2;
            if (nd->keys[mid] < c)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == nd->nkids || nd->keys[lo] != c)
            break;
        at = nd->kids[lo];
    }
    *out = ix->cand;
    return n;
}
