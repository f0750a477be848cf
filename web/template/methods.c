/* Built-in methods of str, dict, list and tuple values (the common ones; see
 * docs/templates.md); `str % args` is pyfmt.c. Case mapping is Unicode's simple one. */
#include <ctype.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "web/template/internal.h"
#include "web/template/pynum.h"

static tpl_val sval(tp_slice s)
{
    return (tpl_val){.t = TV_STR, .s = s};
}

static int need(tpl_render *r, const tpl_args *a, const char *m, int min, int max)
{
    if (a->nkw)
        return tpl_raise(r, EX_TYPE, "%s() takes no keyword arguments here", m);
    if (a->n < min || a->n > max)
        return tpl_raise(r, EX_TYPE, "%s() takes %d to %d arguments (%d given)", m, min, max, a->n);
    return 0;
}

static int need_str(tpl_render *r, const tpl_val *v, const char *m)
{
    if (v->t == TV_STR)
        return 0;
    return tpl_raise(r, EX_TYPE, "%s arg must be str, not %s", m, tpl_type_name(v));
}

static bool ws(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static bool in_chars(const tpl_val *chars, char c)
{
    return chars ? memchr(chars->s.p, c, chars->s.n) != NULL : ws(c);
}

static int m_strip(tpl_render *r, tp_slice s, const tpl_args *a, int which, tpl_val *out)
{
    const tpl_val *chars = a->n && a->v[0].t != TV_NONE ? &a->v[0] : NULL;
    if (need(r, a, "strip", 0, 1) < 0 || (chars && need_str(r, chars, "strip") < 0))
        return -1;
    while ((which & 1) && s.n && in_chars(chars, s.p[0]))
        s.p++, s.n--;
    while ((which & 2) && s.n && in_chars(chars, s.p[s.n - 1]))
        s.n--;
    *out = sval(s);
    return 0;
}

/* C.UTF-8's towupper/towlower: Unicode simple case mapping (Python also applies the special
 * casings, e.g. "\u00df".upper() == "SS"); ASCII only if that locale is missing. */
static locale_t utf8_locale(void)
{
    static locale_t loc;
    static bool tried;
    if (!tried) {
        tried = true;
        loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    }
    return loc;
}

/* mode 0 upper, 1 lower, 2 title, 3 capitalize. */
static int m_case(tpl_render *r, tp_slice s, int mode, tpl_val *out)
{
    locale_t loc = utf8_locale();
    char *w = tp_arena_alloc(&r->arena, s.n * 2 + 4);
    size_t k = 0;
    bool start = true, first = true;
    for (size_t i = 0; i < s.n;) {
        uint32_t c;
        i += tpl_cp_decode(s.p + i, s.n - i, &c);
        bool up = mode == 0 || (mode == 2 && start) || (mode == 3 && first);
        wint_t m = loc ? (up ? towupper_l((wint_t)c, loc) : towlower_l((wint_t)c, loc))
                       : (c < 0x80 ? (wint_t)(up ? toupper((int)c) : tolower((int)c)) : c);
        bool alpha = loc ? iswalpha_l((wint_t)c, loc) : isalpha((int)(c & 0x7f));
        k += tp_utf8_encode(w + k, (uint32_t)m);
        start = !alpha;
        first = false;
    }
    w[k] = '\0';
    *out = sval(tp_slice_make(w, k));
    return 0;
}

static int m_affix(tpl_render *r, tp_slice s, const tpl_args *a, bool end, tpl_val *out)
{
    if (need(r, a, end ? "endswith" : "startswith", 1, 1) < 0)
        return -1;
    const tpl_val *x = &a->v[0];
    size_t n = x->t == TV_TUPLE ? x->tup->n : 1;
    for (size_t i = 0; i < n; i++) {
        const tpl_val *p = x->t == TV_TUPLE ? &x->tup->v[i] : x;
        if (p->t != TV_STR)
            return tpl_raise(r, EX_TYPE, "%s first arg must be str or a tuple of str, not %s",
                             end ? "endswith" : "startswith", tpl_type_name(p));
        if (p->s.n <= s.n && !memcmp(end ? s.p + s.n - p->s.n : s.p, p->s.p, p->s.n)) {
            *out = TPL_BOOL(true);
            return 0;
        }
    }
    *out = TPL_BOOL(false);
    return 0;
}

static int m_join(tpl_render *r, tp_slice sep, const tpl_args *a, tpl_val *out)
{
    tpl_iter it;
    tpl_val x;
    int rc, i = 0;
    tp_buf b = {0};
    if (need(r, a, "join", 1, 1) < 0 || tpl_iter_init(r, &a->v[0], &it) < 0)
        return -1;
    while ((rc = tpl_iter_next(r, &it, &x)) > 0) {
        if (x.t != TV_STR) {
            tp_buf_free(&b);
            return tpl_raise(r, EX_TYPE, "sequence item %d: expected str instance, %s found", i,
                             tpl_type_name(&x));
        }
        if (i++)
            tp_buf_append(&b, sep.p, sep.n);
        tp_buf_append(&b, x.s.p, x.s.n);
    }
    if (rc == 0)
        *out = tpl_str_val(r, tpl_buf_str(&b), b.len);
    tp_buf_free(&b);
    return rc;
}

static int m_split(tpl_render *r, tp_slice s, const tpl_args *a, tpl_val *out)
{
    const tpl_val *sep = a->n && a->v[0].t != TV_NONE ? &a->v[0] : NULL;
    int64_t max = a->n > 1 && a->v[1].t == TV_INT ? a->v[1].i : -1;
    if (need(r, a, "split", 0, 2) < 0 || (sep && need_str(r, sep, "split") < 0))
        return -1;
    if (sep && sep->s.n == 0)
        return tpl_raise(r, EX_VALUE, "empty separator");
    json_t *l = tpl_keep(r, json_array());
    const char *p = s.p, *end = s.p + s.n;
    for (;;) {
        if (!sep)
            while (p < end && ws(*p))
                p++;
        if (!sep && p == end)
            break;
        const char *q = NULL;
        if (max != 0) {
            if (sep)
                q = memmem(p, (size_t)(end - p), sep->s.p, sep->s.n);
            else
                for (q = p; q < end && !ws(*q); q++)
                    ;
        }
        if (!q || q == end || max == 0) {
            const char *e2 = end;
            while (!sep && e2 > p && ws(e2[-1]))
                e2--;
            json_array_append_new(l, json_stringn_nocheck(p, (size_t)(e2 - p)));
            break;
        }
        json_array_append_new(l, json_stringn_nocheck(p, (size_t)(q - p)));
        p = q + (sep ? sep->s.n : 1);
        max--;
    }
    *out = (tpl_val){.t = TV_LIST, .j = l};
    return 0;
}

static int m_replace(tpl_render *r, tp_slice s, const tpl_args *a, tpl_val *out)
{
    if (need(r, a, "replace", 2, 3) < 0 || need_str(r, &a->v[0], "replace") < 0 ||
        need_str(r, &a->v[1], "replace") < 0)
        return -1;
    tp_slice old = a->v[0].s, new = a->v[1].s;
    int64_t count = a->n > 2 && a->v[2].t == TV_INT ? a->v[2].i : -1;
    tp_buf b = {0};
    const char *p = s.p, *end = s.p + s.n;
    while (p <= end && count != 0) {
        const char *q =
            old.n ? memmem(p, (size_t)(end - p), old.p, old.n) : (p < end || p == end ? p : NULL);
        if (!q)
            break;
        tp_buf_append(&b, p, (size_t)(q - p));
        tp_buf_append(&b, new.p, new.n);
        if (old.n) {
            p = q + old.n;
        } else {
            if (q == end) {
                p = end + 1;
                break;
            }
            size_t k = 1;
            while (q + k < end && ((unsigned char)q[k] & 0xc0) == 0x80)
                k++;
            tp_buf_append(&b, q, k);
            p = q + k;
        }
        count--;
    }
    if (p < end)
        tp_buf_append(&b, p, (size_t)(end - p));
    *out = tpl_str_val(r, tpl_buf_str(&b), b.len);
    tp_buf_free(&b);
    return 0;
}

static int m_find_count(tpl_render *r, tp_slice s, const tpl_args *a, bool count, tpl_val *out)
{
    if (need(r, a, count ? "count" : "find", 1, 1) < 0 ||
        need_str(r, &a->v[0], count ? "count" : "find") < 0)
        return -1;
    tp_slice x = a->v[0].s;
    if (!count) {
        const char *q = x.n ? memmem(s.p, s.n, x.p, x.n) : s.p;
        *out = TPL_INT(q ? (int64_t)tpl_utf8_count(s.p, (size_t)(q - s.p)) : -1);
        return 0;
    }
    int64_t n = 0;
    if (!x.n) {
        *out = TPL_INT((int64_t)tpl_utf8_count(s.p, s.n) + 1);
        return 0;
    }
    for (const char *p = s.p; (p = memmem(p, (size_t)(s.p + s.n - p), x.p, x.n)); p += x.n)
        n++;
    *out = TPL_INT(n);
    return 0;
}

static int str_method(tpl_render *r, tp_slice s, tp_slice m, const tpl_args *a, tpl_val *out)
{
#define IS(name) tp_slice_eq(m, TP_SLICE_LIT(name))
    if (IS("strip") || IS("lstrip") || IS("rstrip"))
        return m_strip(r, s, a, IS("strip") ? 3 : IS("lstrip") ? 1 : 2, out);
    if (IS("upper") || IS("lower") || IS("title") || IS("capitalize"))
        return need(r, a, "upper", 0, 0) < 0 ? -1
                                             : m_case(r, s,
                                                      IS("upper")   ? 0
                                                      : IS("lower") ? 1
                                                      : IS("title") ? 2
                                                                    : 3,
                                                      out);
    if (IS("startswith") || IS("endswith"))
        return m_affix(r, s, a, IS("endswith"), out);
    if (IS("join"))
        return m_join(r, s, a, out);
    if (IS("split"))
        return m_split(r, s, a, out);
    if (IS("replace"))
        return m_replace(r, s, a, out);
    if (IS("find") || IS("count"))
        return m_find_count(r, s, a, IS("count"), out);
    if (IS("isdigit")) {
        bool all = s.n > 0;
        for (size_t i = 0; i < s.n; i++)
            all &= s.p[i] >= '0' && s.p[i] <= '9';
        *out = TPL_BOOL(all);
        return need(r, a, "isdigit", 0, 0);
    }
    return 1;
#undef IS
}

static int dict_method(tpl_render *r, json_t *d, tp_slice m, const tpl_args *a, tpl_val *out)
{
    static const char *const views[] = {"items", "keys", "values"};
    static const int kinds[] = {IT_ITEMS, IT_KEYS, IT_VALUES};
    for (int i = 0; i < 3; i++) {
        if (tp_slice_eq(m, tp_slice_cstr(views[i]))) {
            if (need(r, a, views[i], 0, 0) < 0)
                return -1;
            tpl_iterobj *io = tp_arena_calloc(&r->arena, sizeof *io);
            io->kind = (uint8_t)kinds[i];
            io->a = (tpl_val){.t = TV_DICT, .j = d};
            *out = (tpl_val){.t = TV_ITER, .it = io};
            return 0;
        }
    }
    if (tp_slice_eq(m, TP_SLICE_LIT("get"))) {
        if (need(r, a, "get", 1, 2) < 0)
            return -1;
        json_t *j = a->v[0].t == TV_STR ? json_object_getn(d, a->v[0].s.p, a->v[0].s.n) : NULL;
        if (j)
            tpl_from_json(j, out);
        else
            *out = a->n > 1 ? a->v[1] : TPL_NONE;
        return 0;
    }
    return 1;
}

static int seq_method(tpl_render *r, const tpl_val *obj, tp_slice m, const tpl_args *a,
                      tpl_val *out)
{
    if (obj->t == TV_LIST && tp_slice_eq(m, TP_SLICE_LIT("append"))) {
        json_t *j;
        if (need(r, a, "append", 1, 1) < 0 || !(j = tpl_to_json(r, &a->v[0])))
            return -1;
        json_array_append_new(obj->j, j);
        *out = TPL_NONE;
        return 0;
    }
    bool idx = tp_slice_eq(m, TP_SLICE_LIT("index"));
    if (!idx && !tp_slice_eq(m, TP_SLICE_LIT("count")))
        return 1;
    if (need(r, a, idx ? "index" : "count", 1, 1) < 0)
        return -1;
    tpl_iter it;
    tpl_val x;
    int64_t i = 0, n = 0;
    if (tpl_iter_init(r, obj, &it) < 0)
        return -1;
    for (; tpl_iter_next(r, &it, &x) > 0; i++) {
        if (tpl_equal(&x, &a->v[0])) {
            if (idx) {
                *out = TPL_INT(i);
                return 0;
            }
            n++;
        }
    }
    if (idx)
        return tpl_raise(r, EX_VALUE, "%s.index(x): x not in %s", tpl_type_name(obj),
                         tpl_type_name(obj));
    *out = TPL_INT(n);
    return 0;
}

int tpl_call_method(tpl_render *r, const tpl_val *obj, tp_slice name, const tpl_args *a,
                    tpl_val *out)
{
    switch (obj->t) {
    case TV_STR: return str_method(r, obj->s, name, a, out);
    case TV_DICT: return dict_method(r, obj->j, name, a, out);
    case TV_LIST:
    case TV_TUPLE: return seq_method(r, obj, name, a, out);
    default: return 1;
    }
}
