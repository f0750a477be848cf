/* Memory helpers: tp_buf (core/buf.h), tp_arena (core/arena.h) and output chains
 * (core/chain.h), including sendfile of file segments to a socket. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/chain.h"
#include "tests/unit/suites.h"

static int fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

static unsigned char pattern_byte(size_t i)
{
    return (unsigned char)((i * 7 + i / 251) % 253);
}

static void fill_pattern(unsigned char *p, size_t n, size_t from)
{
    for (size_t i = 0; i < n; i++)
        p[i] = pattern_byte(from + i);
}

/* A temp file holding n pattern bytes, already unlinked. */
static int pattern_file(size_t n)
{
    char path[] = "/tmp/tp-unit-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    unsigned char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    fill_pattern(p, n, 0);
    ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
    free(p);
    return fd;
}

/* ---- tp_buf ------------------------------------------------------------------------------ */

/* tp_arena_grow: first capacity, doubling, a jump past double, contents kept, no copy when
 * there is room. */
START_TEST(arena_grow_array)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    int *v = NULL;
    size_t n = 0, cap = 0;
    for (int i = 0; i < 100; i++) {
        v = tp_arena_grow(&a, v, n, &cap, n + 1, sizeof(*v), 4);
        v[n++] = i;
        ck_assert_uint_ge(cap, n);
    }
    ck_assert_uint_eq(cap, 128); /* 4, 8, ... 128 */
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(v[i], i);
    ck_assert_ptr_eq(tp_arena_grow(&a, v, n, &cap, 120, sizeof(*v), 4), v);
    int *w = tp_arena_grow(&a, v, n, &cap, 1000, sizeof(*v), 4);
    ck_assert_uint_eq(cap, 1024);
    ck_assert_ptr_ne(w, v);
    ck_assert_mem_eq(w, v, n * sizeof(*v));
    tp_arena_destroy(&a);
}
END_TEST

START_TEST(buf_append_consume)
{
    tp_buf b = {0};
    ck_assert_uint_eq(b.len, 0);
    tp_buf_append(&b, "hello", 5);
    tp_buf_append_str(&b, " world");
    tp_buf_append(&b, "ignored", 0);
    ck_assert_uint_eq(b.len, 11);
    ck_assert_mem_eq(tp_buf_data(&b), "hello world", 11);
    ck_assert_uint_ge(b.cap, 11);
    tp_buf_consume(&b, 6);
    ck_assert_uint_eq(b.len, 5);
    ck_assert_mem_eq(tp_buf_data(&b), "world", 5);
    tp_slice s = tp_buf_slice(&b);
    ck_assert_uint_eq(s.n, 5);
    ck_assert_ptr_eq(s.p, tp_buf_data(&b));
    tp_buf_consume(&b, 5);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.off, 0); /* an emptied buffer restarts at offset 0 */
    char *base = b.base;
    tp_buf_append(&b, "x", 1);
    tp_buf_clear(&b);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_ptr_eq(b.base, base); /* clear keeps the memory */
    tp_buf_free(&b);
    ck_assert_ptr_null(b.base);
    ck_assert_uint_eq(b.cap, 0);
    ck_assert_uint_eq(b.len, 0);
    tp_buf_append(&b, "again", 5); /* reusable after free */
    ck_assert_mem_eq(tp_buf_data(&b), "again", 5);
    tp_buf_free(&b);
}
END_TEST

START_TEST(buf_appendf)
{
    tp_buf b = {0};
    tp_buf_appendf(&b, "%d-%s-%c", 42, "abc", 'z');
    ck_assert_uint_eq(b.len, 8);
    ck_assert_mem_eq(tp_buf_data(&b), "42-abc-z", 8);
    tp_buf_appendf(&b, "%s", "");
    ck_assert_uint_eq(b.len, 8);

    /* Output far longer than the first attempt's room, twice, then after a consume. */
    char big[3001];
    memset(big, 'q', 3000);
    big[3000] = '\0';
    tp_buf_appendf(&b, "[%s]", big);
    ck_assert_uint_eq(b.len, 8 + 3002);
    ck_assert_mem_eq(tp_buf_data(&b), "42-abc-z[", 9);
    ck_assert_mem_eq(tp_buf_data(&b) + 9, big, 3000);
    ck_assert_int_eq(tp_buf_data(&b)[3009], ']');
    tp_buf_consume(&b, 3000);
    tp_buf_appendf(&b, "%s%s", big, big);
    ck_assert_uint_eq(b.len, 10 + 6000);
    ck_assert_mem_eq(tp_buf_data(&b), big, 9);
    ck_assert_mem_eq(tp_buf_data(&b) + 8, "q]", 2);
    ck_assert_mem_eq(tp_buf_data(&b) + 10, big, 3000);
    ck_assert_mem_eq(tp_buf_data(&b) + 3010, big, 3000);
    tp_buf_free(&b);

    /* Exactly at the edge of the room left. */
    for (size_t pre = 0; pre < 300; pre += 7) {
        tp_buf e = {0};
        char fill[300];
        memset(fill, 'f', pre);
        tp_buf_append(&e, fill, pre);
        tp_buf_appendf(&e, "%0*d", 200, 7);
        ck_assert_uint_eq(e.len, pre + 200);
        ck_assert_int_eq(tp_buf_data(&e)[pre + 199], '7');
        ck_assert_int_eq(tp_buf_data(&e)[pre], '0');
        tp_buf_free(&e);
    }
}
END_TEST

START_TEST(buf_reserve_compacts)
{
    tp_buf b = {0};
    unsigned char data[256];
    fill_pattern(data, sizeof(data), 0);
    tp_buf_append(&b, data, 256);
    size_t cap = b.cap;
    ck_assert_uint_eq(cap, 256);
    char *base = b.base;
    tp_buf_consume(&b, 200);
    ck_assert_uint_eq(b.off, 200);
    /* 56 bytes left at offset 200: sliding them to the front makes room without growing. */
    char *w = tp_buf_reserve(&b, 100);
    ck_assert_uint_eq(b.off, 0);
    ck_assert_uint_eq(b.cap, cap);
    ck_assert_ptr_eq(b.base, base);
    ck_assert_ptr_eq(w, b.base + 56);
    ck_assert_mem_eq(tp_buf_data(&b), data + 200, 56);
    memset(w, 'z', 100);
    tp_buf_commit(&b, 100);
    ck_assert_uint_eq(b.len, 156);
    ck_assert_int_eq(tp_buf_data(&b)[155], 'z');

    /* Growing keeps the data and returns room after it. */
    w = tp_buf_reserve(&b, 5000);
    ck_assert_uint_ge(b.cap - b.off - b.len, 5000);
    ck_assert_ptr_eq(w, tp_buf_data(&b) + b.len);
    ck_assert_mem_eq(tp_buf_data(&b), data + 200, 56);
    /* Reserving what is already there changes nothing. */
    char *again = tp_buf_reserve(&b, 10);
    ck_assert_ptr_eq(again, w);

    /* Growing with data consumed at the front keeps the unconsumed bytes only. */
    tp_buf_consume(&b, 50);
    size_t len = b.len;
    w = tp_buf_reserve(&b, 100000);
    ck_assert_ptr_eq(w, tp_buf_data(&b) + len);
    ck_assert_mem_eq(tp_buf_data(&b), data + 250, 6);
    ck_assert_int_eq(tp_buf_data(&b)[6], 'z');
    tp_buf_free(&b);
}
END_TEST

/* ---- tp_arena ---------------------------------------------------------------------------- */

START_TEST(arena_alloc_alignment)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    ck_assert_uint_eq(a.block_size, 4096);
    unsigned char *ptrs[200];
    size_t sizes[200];
    for (int i = 0; i < 200; i++) {
        sizes[i] = (size_t)(i * 37 % 301) + 1;
        ptrs[i] = tp_arena_alloc(&a, sizes[i]);
        ck_assert_ptr_nonnull(ptrs[i]);
        ck_assert_uint_eq((uintptr_t)ptrs[i] % 16, 0);
        memset(ptrs[i], i, sizes[i]);
    }
    /* No allocation overlaps another: every byte still holds its owner's mark. */
    for (int i = 0; i < 200; i++)
        for (size_t k = 0; k < sizes[i]; k++)
            ck_assert_int_eq(ptrs[i][k], (unsigned char)i);
    ck_assert_uint_ge(a.allocated, 200);
    tp_arena_destroy(&a);
    ck_assert_ptr_null(a.head);
    ck_assert_uint_eq(a.allocated, 0);
}
END_TEST

START_TEST(arena_big_allocations)
{
    tp_arena a;
    tp_arena_init(&a, 1024);
    char *small = tp_arena_alloc(&a, 10);
    memset(small, 's', 10);
    char *big = tp_arena_alloc(&a, 100000);
    ck_assert_uint_eq((uintptr_t)big % 16, 0);
    memset(big, 'b', 100000);
    char *big2 = tp_arena_alloc(&a, 5000);
    ck_assert_uint_eq((uintptr_t)big2 % 16, 0);
    memset(big2, 'c', 5000);
    char *small2 = tp_arena_alloc(&a, 20);
    memset(small2, 't', 20);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(small[i], 's');
    for (int i = 0; i < 100000; i++)
        ck_assert_int_eq(big[i], 'b');
    for (int i = 0; i < 5000; i++)
        ck_assert_int_eq(big2[i], 'c');
    ck_assert_uint_ge(a.allocated, 10 + 100000 + 5000 + 20);
    /* A big first allocation in an empty arena. */
    tp_arena b;
    tp_arena_init(&b, 1024);
    char *p = tp_arena_alloc(&b, 1 << 20);
    memset(p, 1, 1 << 20);
    ck_assert_uint_eq((uintptr_t)p % 16, 0);
    char *q = tp_arena_calloc(&b, 64);
    for (int i = 0; i < 64; i++)
        ck_assert_int_eq(q[i], 0);
    tp_arena_destroy(&b);
    tp_arena_destroy(&a);
}
END_TEST

START_TEST(arena_strings)
{
    tp_arena a;
    tp_arena_init(&a, 256);
    char *s = tp_arena_strndup(&a, "hello world", 5);
    ck_assert_str_eq(s, "hello");
    ck_assert_str_eq(tp_arena_strndup(&a, "xyz", 0), "");
    tp_slice d = tp_arena_slice_dup(&a, TP_SLICE_LIT("a\0b"));
    ck_assert_uint_eq(d.n, 3);
    ck_assert_mem_eq(d.p, "a\0b\0", 4);
    ck_assert_str_eq(tp_arena_printf(&a, "%d:%s", 7, "seven"), "7:seven");
    ck_assert_str_eq(tp_arena_printf(&a, "%s", ""), "");
    char big[2001];
    memset(big, 'k', 2000);
    big[2000] = '\0';
    char *p = tp_arena_printf(&a, "<%s>", big); /* bigger than a block */
    ck_assert_uint_eq(strlen(p), 2002);
    ck_assert_int_eq(p[0], '<');
    ck_assert_int_eq(p[2001], '>');
    ck_assert_int_eq(memcmp(p + 1, big, 2000), 0);
    ck_assert_str_eq(s, "hello"); /* earlier allocations untouched */
    tp_arena_destroy(&a);
}
END_TEST

static char cleanup_log[64];

static void log_cleanup(void *arg)
{
    size_t n = strlen(cleanup_log);
    ck_assert_uint_lt(n, sizeof(cleanup_log) - 1);
    cleanup_log[n] = *(const char *)arg;
    cleanup_log[n + 1] = '\0';
}

static tp_arena *cleanup_arena;

/* A cleanup that allocates in the arena it is cleaning up. */
static void allocating_cleanup(void *arg)
{
    char *p = tp_arena_alloc(cleanup_arena, 64);
    memset(p, 0, 64);
    log_cleanup(arg);
}

START_TEST(arena_cleanups)
{
    tp_arena a;
    tp_arena_init(&a, 512);
    cleanup_arena = &a;
    cleanup_log[0] = '\0';
    tp_arena_on_cleanup(&a, log_cleanup, "1");
    tp_arena_alloc(&a, 100);
    tp_arena_on_cleanup(&a, log_cleanup, "2");
    tp_arena_alloc(&a, 5000);
    tp_arena_on_cleanup(&a, allocating_cleanup, "3");
    ck_assert_str_eq(cleanup_log, "");
    tp_arena_reset(&a);
    ck_assert_str_eq(cleanup_log, "321");
    ck_assert_uint_eq(a.allocated, 0);
    /* Run once only. */
    tp_arena_reset(&a);
    ck_assert_str_eq(cleanup_log, "321");

    /* Reset keeps working: new allocations and new cleanups. */
    char *p = tp_arena_alloc(&a, 32);
    memset(p, 'x', 32);
    ck_assert_uint_eq((uintptr_t)p % 16, 0);
    tp_arena_on_cleanup(&a, log_cleanup, "a");
    tp_arena_on_cleanup(&a, log_cleanup, "b");
    tp_arena_on_cleanup(&a, log_cleanup, "c");
    tp_arena_destroy(&a);
    ck_assert_str_eq(cleanup_log, "321cba");
    ck_assert_ptr_null(a.head);

    /* Reusable after destroy. */
    tp_arena_on_cleanup(&a, log_cleanup, "z");
    ck_assert_str_eq(tp_arena_strndup(&a, "ok", 2), "ok");
    tp_arena_destroy(&a);
    ck_assert_str_eq(cleanup_log, "321cbaz");
}
END_TEST

START_TEST(arena_reset_reuses_first_block)
{
    tp_arena a;
    tp_arena_init(&a, 1024);
    char *first = tp_arena_alloc(&a, 16);
    for (int i = 0; i < 100; i++)
        tp_arena_alloc(&a, 100); /* several more ordinary blocks */
    tp_arena_reset(&a);
    ck_assert_ptr_nonnull(a.head);
    ck_assert_ptr_eq(tp_arena_alloc(&a, 16), first);
    char *c = tp_arena_calloc(&a, 100);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(c[i], 0);
    tp_arena_destroy(&a);
}
END_TEST

static _Alignas(16) char ext_mem[512];

static int in_ext(const void *p, size_t n)
{
    return (const char *)p >= ext_mem && (const char *)p + n <= ext_mem + sizeof(ext_mem);
}

START_TEST(arena_init_in)
{
    tp_arena a;
    tp_arena_init_in(&a, ext_mem, sizeof(ext_mem), 1024);
    char *p = tp_arena_alloc(&a, 32);
    ck_assert(in_ext(p, 32));
    ck_assert_uint_eq((uintptr_t)p % 16, 0);
    char *big = tp_arena_alloc(&a, 4000);
    ck_assert(!in_ext(big, 1));
    memset(big, 'b', 4000);
    char *more[40];
    for (int i = 0; i < 40; i++) { /* past the caller's block into arena blocks */
        more[i] = tp_arena_alloc(&a, 48);
        memset(more[i], i, 48);
    }
    ck_assert(!in_ext(more[39], 48));
    for (int i = 0; i < 40; i++)
        ck_assert_int_eq(more[i][47], i);
    cleanup_log[0] = '\0';
    tp_arena_on_cleanup(&a, log_cleanup, "e");
    /* The caller's block is never freed (ASan would report a bad free). */
    tp_arena_destroy(&a);
    ck_assert_str_eq(cleanup_log, "e");
    ck_assert_ptr_null(a.head);
    /* Reset with only the caller's block: it is reused. */
    tp_arena_init_in(&a, ext_mem, sizeof(ext_mem), 0);
    char *q = tp_arena_alloc(&a, 16);
    tp_arena_reset(&a);
    ck_assert_ptr_eq(tp_arena_alloc(&a, 16), q);
    tp_arena_destroy(&a);
}
END_TEST

/* The header promises the first block is kept on reset: also when a big allocation was made
 * while that block was the only one (it then sits behind a block of its own). */
START_TEST(arena_reset_keeps_first_block_after_big_alloc)
{
    tp_arena a;
    tp_arena_init(&a, 1024);
    char *first = tp_arena_alloc(&a, 16);
    tp_arena_alloc(&a, 10000);
    tp_arena_reset(&a);
    bool heap_kept = a.head != NULL && tp_arena_alloc(&a, 16) == first;
    tp_arena_destroy(&a);

    /* The same with the caller's block of tp_arena_init_in (a request's embedded block). */
    tp_arena_init_in(&a, ext_mem, sizeof(ext_mem), 0);
    char *p = tp_arena_alloc(&a, 16);
    ck_assert(in_ext(p, 16));
    tp_arena_alloc(&a, 10000);
    tp_arena_reset(&a);
    char *again = tp_arena_alloc(&a, 16);
    bool ext_kept = in_ext(again, 16);
    tp_arena_destroy(&a);
    ck_assert_msg(heap_kept && ext_kept,
                  "after one big allocation, tp_arena_reset dropped the first block (heap arena: "
                  "%s; tp_arena_init_in arena: %s)",
                  heap_kept ? "kept" : "dropped", ext_kept ? "kept" : "dropped");
}
END_TEST

/* ---- tp_chain ---------------------------------------------------------------------------- */

static int free_calls[8];

static void count_free(void *arg)
{
    free_calls[(intptr_t)arg]++;
}

/* Moves everything queued in c to the peer of a non-blocking socketpair, reading the peer as
 * it goes; returns the bytes received (caller frees). */
static unsigned char *drain_chain(tp_chain *c, int fd, int peer, size_t *got)
{
    size_t cap = tp_chain_bytes(c) + 1, n = 0;
    unsigned char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    int spins = 0;
    while (tp_chain_bytes(c)) {
        ssize_t r = tp_chain_write(c, fd);
        if (r > 0) {
            tp_chain_consume(c, (size_t)r);
        } else {
            ck_assert_msg(r == -EAGAIN || r == 0, "tp_chain_write: %zd", r);
            ck_assert_int_lt(++spins, 100000);
        }
        for (;;) {
            ssize_t k = read(peer, out + n, cap - n);
            if (k <= 0)
                break;
            n += (size_t)k;
        }
    }
    ssize_t k;
    while (n < cap && (k = read(peer, out + n, cap - n)) > 0)
        n += (size_t)k;
    *got = n;
    return out;
}

static void nb_socketpair(int sv[2])
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

START_TEST(chain_append_coalesces)
{
    tp_chain c = {0};
    ck_assert_int_eq(tp_chain_write(&c, -1), 0); /* nothing queued: nothing written */
    tp_chain_append(&c, "HTTP/1.1 200 OK\r\n", 17);
    tp_chain_append(&c, "Content-Length: 5\r\n\r\n", 21);
    tp_chain_append(&c, "hello", 5);
    tp_chain_append(&c, "", 0);
    ck_assert_uint_eq(tp_chain_segments(&c), 1);
    ck_assert_uint_eq(tp_chain_bytes(&c), 43);
    int sv[2];
    nb_socketpair(sv);
    ssize_t r = tp_chain_write(&c, sv[0]);
    ck_assert_int_eq(r, 43); /* one write */
    tp_chain_consume(&c, (size_t)r);
    ck_assert_uint_eq(tp_chain_bytes(&c), 0);
    ck_assert_uint_eq(tp_chain_segments(&c), 0);
    char buf[64];
    ck_assert_int_eq(read(sv[1], buf, sizeof(buf)), 43);
    ck_assert_mem_eq(buf, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 43);
    tp_chain_free(&c);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(chain_append_ref_freed_once_when_sent)
{
    static const char body[] = "0123456789abcdefghij";
    tp_chain c = {0};
    memset(free_calls, 0, sizeof(free_calls));
    tp_chain_append(&c, "HDR", 3);
    tp_chain_append_ref(&c, body, 20, count_free, (void *)1);
    tp_chain_append(&c, "TRL", 3);
    ck_assert_uint_eq(tp_chain_segments(&c), 3);
    ck_assert_uint_eq(tp_chain_bytes(&c), 26);
    /* Consume across the first segment boundary into the middle of the borrowed one. */
    tp_chain_consume(&c, 8);
    ck_assert_uint_eq(tp_chain_bytes(&c), 18);
    ck_assert_int_eq(free_calls[1], 0);
    int sv[2];
    nb_socketpair(sv);
    size_t got;
    unsigned char *out = drain_chain(&c, sv[0], sv[1], &got);
    ck_assert_uint_eq(got, 18);
    ck_assert_mem_eq(out, "56789abcdefghijTRL", 18);
    free(out);
    ck_assert_int_eq(free_calls[1], 1);
    tp_chain_free(&c);
    ck_assert_int_eq(free_calls[1], 1);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(chain_append_ref_freed_once_when_dropped)
{
    tp_chain c = {0};
    memset(free_calls, 0, sizeof(free_calls));
    tp_chain_append_ref(&c, "abc", 3, count_free, (void *)2);
    tp_chain_append(&c, "def", 3);
    tp_chain_append_ref(&c, "ghi", 3, count_free, (void *)3);
    tp_chain_consume(&c, 1);
    ck_assert_int_eq(free_calls[2], 0);
    tp_chain_free(&c);
    ck_assert_int_eq(free_calls[2], 1);
    ck_assert_int_eq(free_calls[3], 1);
    ck_assert_uint_eq(tp_chain_segments(&c), 0);
    ck_assert_uint_eq(tp_chain_bytes(&c), 0);
    ck_assert_ptr_null(c.b);
    tp_chain_free(&c); /* freeing an empty chain is harmless */
    ck_assert_int_eq(free_calls[2], 1);
    ck_assert_int_eq(free_calls[3], 1);
    /* Reusable after free. */
    tp_chain_append(&c, "x", 1);
    ck_assert_uint_eq(tp_chain_bytes(&c), 1);
    tp_chain_free(&c);
}
END_TEST

START_TEST(chain_sendfile)
{
    const size_t fsize = 600000, off = 1000, n = 500000;
    int file = pattern_file(fsize);
    tp_chain c = {0};
    tp_chain_append(&c, "HDR", 3);
    tp_chain_append_file(&c, file, (off_t)off, n, true);
    tp_chain_append(&c, "TRL", 3);
    ck_assert_uint_eq(tp_chain_bytes(&c), n + 6);
    int sv[2];
    nb_socketpair(sv);
    /* The memory before a file segment goes out on its own; the file goes with sendfile. */
    ck_assert_int_eq(tp_chain_write(&c, sv[0]), 3);
    tp_chain_consume(&c, 3);
    char hdr[8];
    ck_assert_int_eq(read(sv[1], hdr, sizeof(hdr)), 3);
    ck_assert_mem_eq(hdr, "HDR", 3);
    ck_assert(fd_is_open(file));
    size_t got;
    unsigned char *out = drain_chain(&c, sv[0], sv[1], &got);
    ck_assert_uint_eq(got, n + 3);
    unsigned char *want = malloc(n);
    fill_pattern(want, n, off);
    ck_assert_int_eq(memcmp(out, want, n), 0);
    ck_assert_mem_eq(out + n, "TRL", 3);
    ck_assert(!fd_is_open(file)); /* close_fd: closed once sent */
    free(want);
    free(out);
    tp_chain_free(&c);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(chain_sendfile_keeps_fd_and_file_offset)
{
    int file = pattern_file(5000);
    ck_assert_int_eq(lseek(file, 10, SEEK_SET), 10);
    tp_chain c = {0};
    tp_chain_append_file(&c, file, 100, 200, false);
    int sv[2];
    nb_socketpair(sv);
    size_t got;
    unsigned char *out = drain_chain(&c, sv[0], sv[1], &got);
    ck_assert_uint_eq(got, 200);
    unsigned char want[200];
    fill_pattern(want, 200, 100);
    ck_assert_mem_eq(out, want, 200);
    free(out);
    ck_assert(fd_is_open(file));
    ck_assert_int_eq(lseek(file, 0, SEEK_CUR), 10);
    tp_chain_free(&c);
    ck_assert(fd_is_open(file));
    close(file);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(chain_file_shrank)
{
    int file = pattern_file(100);
    tp_chain c = {0};
    tp_chain_append_file(&c, file, 0, 150, true);
    int sv[2];
    nb_socketpair(sv);
    ssize_t r = tp_chain_write(&c, sv[0]);
    ck_assert_int_eq(r, 100);
    tp_chain_consume(&c, 100);
    ck_assert_int_eq(tp_chain_write(&c, sv[0]), -EIO);
    tp_chain_free(&c);
    ck_assert(!fd_is_open(file));
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(chain_free_releases_everything)
{
    int keep = pattern_file(100), owned = pattern_file(100);
    memset(free_calls, 0, sizeof(free_calls));
    tp_chain c = {0};
    for (int i = 0; i < 20; i++) {
        char big[5000];
        memset(big, 'a' + i, sizeof(big));
        tp_chain_append(&c, big, (size_t)(i * 250));
        tp_chain_append_ref(&c, "ref", 3, count_free, (void *)(intptr_t)(i % 4));
    }
    tp_chain_append_file(&c, keep, 0, 100, false);
    tp_chain_append_file(&c, owned, 0, 100, true);
    tp_chain_append(&c, "tail", 4);
    tp_chain_consume(&c, 1000);
    tp_chain_free(&c);
    ck_assert_int_eq(free_calls[0] + free_calls[1] + free_calls[2] + free_calls[3], 20);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(free_calls[i], 5);
    ck_assert(fd_is_open(keep));
    ck_assert(!fd_is_open(owned));
    ck_assert_uint_eq(tp_chain_bytes(&c), 0);
    ck_assert_uint_eq(tp_chain_segments(&c), 0);
    close(keep);
}
END_TEST

/* Random appends, borrowed segments and partial consumes against a flat model. */
START_TEST(chain_random_model)
{
    srand(12345);
    static unsigned char model[1 << 20];
    static unsigned char refs[64][300];
    size_t head = 0, tail = 0;
    memset(free_calls, 0, sizeof(free_calls));
    int refs_added = 0;
    tp_chain c = {0};
    int sv[2];
    nb_socketpair(sv);
    for (int round = 0; round < 2000; round++) {
        int op = rand() % 4;
        if (op == 0 || op == 1) {
            unsigned char tmp[300];
            size_t n = (size_t)(rand() % 300);
            for (size_t i = 0; i < n; i++)
                tmp[i] = (unsigned char)rand();
            tp_chain_append(&c, tmp, n);
            memcpy(model + tail, tmp, n);
            tail += n;
        } else if (op == 2 && refs_added < 64) {
            size_t n = (size_t)(rand() % 300) + 1;
            for (size_t i = 0; i < n; i++)
                refs[refs_added][i] = (unsigned char)rand();
            tp_chain_append_ref(&c, refs[refs_added], n, count_free, (void *)0);
            memcpy(model + tail, refs[refs_added], n);
            tail += n;
            refs_added++;
        } else {
            size_t n = tp_chain_bytes(&c) ? (size_t)rand() % (tp_chain_bytes(&c) + 1) : 0;
            if (rand() % 2) {
                tp_chain_consume(&c, n);
                head += n;
            } else if (tp_chain_bytes(&c)) {
                ssize_t r = tp_chain_write(&c, sv[0]);
                ck_assert_int_gt(r, 0);
                tp_chain_consume(&c, (size_t)r);
                static unsigned char got[1 << 20];
                size_t k = 0;
                while (k < (size_t)r) {
                    ssize_t m = read(sv[1], got + k, (size_t)r - k);
                    ck_assert_int_gt(m, 0);
                    k += (size_t)m;
                }
                ck_assert_int_eq(memcmp(got, model + head, k), 0);
                head += k;
            }
        }
        ck_assert_uint_eq(tp_chain_bytes(&c), tail - head);
        ck_assert_uint_lt(tail, sizeof(model) - 1000);
    }
    size_t got_n;
    unsigned char *out = drain_chain(&c, sv[0], sv[1], &got_n);
    ck_assert_uint_eq(got_n, tail - head);
    ck_assert_int_eq(memcmp(out, model + head, got_n), 0);
    free(out);
    tp_chain_free(&c);
    ck_assert_int_eq(free_calls[0], refs_added);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

Suite *memory_suite(void)
{
    Suite *s = suite_create("memory");
    TCase *tc = tcase_create("buf");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, arena_grow_array);
    tcase_add_test(tc, buf_append_consume);
    tcase_add_test(tc, buf_appendf);
    tcase_add_test(tc, buf_reserve_compacts);
    suite_add_tcase(s, tc);

    tc = tcase_create("arena");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, arena_alloc_alignment);
    tcase_add_test(tc, arena_big_allocations);
    tcase_add_test(tc, arena_strings);
    tcase_add_test(tc, arena_cleanups);
    tcase_add_test(tc, arena_reset_reuses_first_block);
    tcase_add_test(tc, arena_init_in);
    tcase_add_test(tc, arena_reset_keeps_first_block_after_big_alloc);
    suite_add_tcase(s, tc);

    tc = tcase_create("chain");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, chain_append_coalesces);
    tcase_add_test(tc, chain_append_ref_freed_once_when_sent);
    tcase_add_test(tc, chain_append_ref_freed_once_when_dropped);
    tcase_add_test(tc, chain_sendfile);
    tcase_add_test(tc, chain_sendfile_keeps_fd_and_file_offset);
    tcase_add_test(tc, chain_file_shrank);
    tcase_add_test(tc, chain_free_releases_everything);
    tcase_add_test(tc, chain_random_model);
    suite_add_tcase(s, tc);
    return s;
}
