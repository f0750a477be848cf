/* core/async/executor.h and core/netutil/netutil.h: the thread pool (futures completed on the
 * loop's thread, cancellation, shutdown), the resolver (tornado/test/netutil_test.py's
 * resolver cases, without network: "localhost" and a name under ".invalid"), is_valid_ip's
 * table (netutil_test.py IsValidIPTest.test_is_valid_ip) and add_accept_handler. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/async/executor.h"
#include "core/netutil/netutil.h"
#include "platform/socket.h"
#include "tests/unit/async_fixture.h"

static pthread_t loop_thread;
static atomic_int ran;

static int square(void *arg, void **result)
{
    int *v = tp_malloc(sizeof(int));
    *v = (int)(intptr_t)arg * (int)(intptr_t)arg;
    *result = v;
    ran++;
    return 0;
}

static int failing(void *arg, void **result)
{
    (void)arg;
    *result = tp_strndup("no luck", 7);
    return -EIO;
}

static void on_loop_thread(tp_future *f, void *arg)
{
    (void)f, (void)arg;
    ck_assert(pthread_equal(pthread_self(), loop_thread));
    note("cb");
}

/* run_in_executor: the result, the error with the job's message, callbacks on the loop. */
START_TEST(run_in_executor)
{
    loop_thread = pthread_self();
    tp_executor *pool = tp_executor_new(2);
    tp_future *fs[8];
    for (int i = 0; i < 8; i++) {
        fs[i] = tp_run_in_executor(pool, L, square, (void *)(intptr_t)i);
        tp_future_add_done_callback(fs[i], on_loop_thread, NULL);
    }
    tp_future *m = tp_multi(L, fs, 8, 0);
    await_eq(m, 0);
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(*(int *)tp_future_result(fs[i]), i * i);
        tp_free(tp_future_result(fs[i]));
        tp_future_unref(fs[i]);
    }
    tp_future *f = tp_run_in_executor(pool, L, failing, NULL);
    ck_assert_int_eq(await(f), -EIO);
    ck_assert_str_eq(tp_future_error_message(f), "no luck");
    tp_future_unref(f);
    loop_briefly();
    ck_assert_str_eq(history, "cb cb cb cb cb cb cb cb");
    tp_executor_free(pool);
}
END_TEST

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool blocker_started;

/* Holds its worker until the test opens the gate. */
static int blocker(void *arg, void **result)
{
    (void)arg, (void)result;
    blocker_started = true;
    pthread_mutex_lock(&gate);
    pthread_mutex_unlock(&gate);
    return 0;
}

static void *shutdown_thread(void *arg)
{
    tp_executor_shutdown(arg);
    return NULL;
}

/* A cancelled queued job never runs; shutdown waits for the running job, and the queued ones
 * complete cancelled; a job submitted after shutdown fails with -ESHUTDOWN. */
START_TEST(cancel_and_shutdown)
{
    ran = 0;
    blocker_started = false;
    tp_executor *pool = tp_executor_new(1);
    pthread_mutex_lock(&gate);
    tp_future *busy = tp_run_in_executor(pool, L, blocker, NULL);
    tp_future *cancelled = tp_run_in_executor(pool, L, square, (void *)3);
    tp_future *queued = tp_run_in_executor(pool, L, square, (void *)4);
    ck_assert(tp_future_cancel(cancelled));
    loop_briefly(); /* the cancel reaches the job */
    for (double end = tp__monotonic() + 30; !blocker_started && tp__monotonic() < end;)
        usleep(1000);
    ck_assert(blocker_started);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, shutdown_thread, pool), 0);
    /* shutdown cannot end while the blocker runs; the gate opens once it refuses new jobs
     * (synchronously: a future failed at once) */
    bool refused = false;
    for (double end = tp__monotonic() + 30; !refused && tp__monotonic() < end;) {
        tp_future *late = tp_run_in_executor(pool, L, square, (void *)5);
        refused = tp_future_error(late) == -ESHUTDOWN;
        if (!refused) { /* queued before the shutdown: drop it, it completes cancelled */
            tp_future_cancel(late);
            usleep(1000);
        }
        tp_future_unref(late);
    }
    ck_assert(refused);
    pthread_mutex_unlock(&gate);
    pthread_join(t, NULL);
    await_eq(busy, 0);
    await_eq(cancelled, -ECANCELED);
    await_eq(queued, -ECANCELED);
    tp_executor_free(pool);
}
END_TEST

static atomic_int args_freed, results_freed;

static void count_arg_free(void *p)
{
    tp_free(p);
    args_freed++;
}

static void count_result_free(void *p)
{
    tp_free(p);
    results_freed++;
}

/* Squares *arg (an owned int, freed here when the job runs). */
static int square_owned(void *arg, void **result)
{
    int *v = tp_malloc(sizeof(int));
    *v = *(int *)arg * *(int *)arg;
    tp_free(arg);
    *result = v;
    return 0;
}

static int *boxed(int v)
{
    int *p = tp_malloc(sizeof(int));
    *p = v;
    return p;
}

/* tp_run_in_executor_owned: a job that never runs frees its arg (cancelled while queued,
 * submitted after shutdown); a result nobody can read (its future cancelled while the job
 * ran) is freed at once; a read result is freed with its future. Nothing leaks (ASan). */
START_TEST(owned_jobs_free_what_nobody_takes)
{
    args_freed = results_freed = 0;
    blocker_started = false;
    tp_executor *pool = tp_executor_new(1);
    pthread_mutex_lock(&gate);
    tp_future *busy = tp_run_in_executor(pool, L, blocker, NULL);
    tp_future *skipped = tp_run_in_executor_owned(pool, L, square_owned, boxed(3), count_arg_free,
                                                  count_result_free);
    tp_future *read = tp_run_in_executor_owned(pool, L, square_owned, boxed(4), count_arg_free,
                                               count_result_free);
    ck_assert(tp_future_cancel(skipped));
    loop_briefly(); /* the cancel reaches the job (the blocker holds the only worker) */
    for (double end = tp__monotonic() + 30; !blocker_started && tp__monotonic() < end;)
        usleep(1000);
    ck_assert(blocker_started);
    pthread_mutex_unlock(&gate);
    await_eq(busy, 0);
    ck_assert_int_eq(await(read), 0);
    await_eq(skipped, -ECANCELED);
    ck_assert_int_eq(*(int *)tp_future_result(read), 16);
    ck_assert_int_eq(args_freed, 1); /* the skipped job's */
    ck_assert_int_eq(results_freed, 0);
    tp_future_unref(read);
    ck_assert_int_eq(results_freed, 1); /* with its future */

    /* Cancelled while running: the job's result is freed when it comes back. */
    blocker_started = false;
    pthread_mutex_lock(&gate);
    busy = tp_run_in_executor(pool, L, blocker, NULL);
    for (double end = tp__monotonic() + 30; !blocker_started && tp__monotonic() < end;)
        usleep(1000);
    tp_future *dropped = tp_run_in_executor_owned(pool, L, square_owned, boxed(5), count_arg_free,
                                                  count_result_free);
    pthread_mutex_unlock(&gate);
    await_eq(busy, 0);
    /* The owned job may be queued, running or done: its arg or its result is freed, whichever
     * nobody can take any more, once the caller drops the future. */
    tp_future_cancel(dropped);
    tp_future_unref(dropped);
    for (double end = tp__monotonic() + 30;
         args_freed + results_freed < 3 && tp__monotonic() < end;)
        loop_briefly();
    ck_assert_int_eq(args_freed + results_freed, 3);

    tp_executor_shutdown(pool);
    tp_future *late = tp_run_in_executor_owned(pool, L, square_owned, boxed(6), count_arg_free,
                                               count_result_free);
    ck_assert_int_eq(tp_future_error(late), -ESHUTDOWN);
    ck_assert_int_eq(args_freed + results_freed, 4);
    tp_future_unref(late);
    tp_executor_free(pool);
}
END_TEST

/* netutil_test.py IsValidIPTest.test_is_valid_ip */
START_TEST(test_is_valid_ip)
{
    static const char *good[] = {"127.0.0.1", "4.4.4.4", "::1", "2620:0:1cfe:face:b00c::3"};
    static const char *bad[] = {
        "www.google.com", "localhost", "4.4.4.4<", " 127.0.0.1", "", " ", "\n"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(tp_is_valid_ip(good[i], strlen(good[i])), "%s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!tp_is_valid_ip(bad[i], strlen(bad[i])), "'%s'", bad[i]);
    ck_assert(!tp_is_valid_ip("\0", 1));
    char a100[101];
    memset(a100, 'a', 100);
    ck_assert(!tp_is_valid_ip(a100, 100));
}
END_TEST

/* netutil_test.py _ResolverTestMixin.test_localhost (DefaultExecutorResolver) */
START_TEST(test_localhost)
{
    tp_executor *pool = tp_executor_new(1);
    tp_future *f = tp_resolve(pool, L, "localhost", 80, AF_UNSPEC);
    ck_assert_int_eq(await(f), 0);
    const tp_address_list *l = tp_future_result(f);
    ck_assert_uint_gt(l->n, 0);
    bool loopback = false;
    for (size_t i = 0; i < l->n; i++) {
        const tp_address *a = &l->addrs[i];
        if (a->family == AF_INET) {
            const struct sockaddr_in *in = (const void *)&a->addr;
            loopback |= in->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && ntohs(in->sin_port) == 80;
        } else if (a->family == AF_INET6) {
            const struct sockaddr_in6 *in6 = (const void *)&a->addr;
            loopback |= IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) && ntohs(in6->sin6_port) == 80;
        }
    }
    ck_assert(loopback);
    tp_future_unref(f);
    tp_executor_free(pool);
}
END_TEST

/* netutil_test.py _ResolverErrorTestMixin.test_bad_host: a name under the reserved .invalid
 * TLD fails (RFC 6761: never resolves), with the name in the message. */
START_TEST(test_bad_host)
{
    tp_executor *pool = tp_executor_new(1);
    tp_future *f = tp_resolve(pool, L, "an-address-that-will-not-resolve.invalid", 80, AF_UNSPEC);
    ck_assert_int_eq(await(f), -EHOSTUNREACH);
    ck_assert_ptr_nonnull(strstr(tp_future_error_message(f), ".invalid"));
    tp_future_unref(f);
    tp_executor_free(pool);
}
END_TEST

static tp_accept_handler *acceptor;
static int accepted;

static void on_accept(tp_loop *loop, int fd, const struct sockaddr *addr, socklen_t len, void *arg)
{
    (void)addr, (void)len, (void)arg;
    close(fd);
    if (++accepted == 3) {
        tp_accept_handler_remove(acceptor); /* from inside the callback */
        tp_loop_stop(loop);
    }
}

/* add_accept_handler: three connections accepted, then the handler removes itself; a fourth
 * connection is not accepted. */
START_TEST(accept_handler)
{
    int fds[2];
    ck_assert_int_eq(tp_bind_sockets("127.0.0.1", 0, 16, false, fds, 2), 1);
    int port = tp_socket_port(fds[0]);
    accepted = 0;
    acceptor = tp_add_accept_handler(L, fds[0], on_accept, NULL);
    ck_assert_ptr_nonnull(acceptor);
    int cs[4];
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 3; i++) {
        cs[i] = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_eq(connect(cs[i], (struct sockaddr *)&a, sizeof(a)), 0);
    }
    ck_assert_int_eq(tp_loop_run_sync(L, nothing, NULL, 30), 0);
    ck_assert_int_eq(accepted, 3);
    cs[3] = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(cs[3], (struct sockaddr *)&a, sizeof(a)), 0);
    await_eq(tp_sleep(L, 0.01), 0);
    ck_assert_int_eq(accepted, 3);
    ck_assert_uint_eq(tp_loop_live_handles(L), 0);
    for (int i = 0; i < 4; i++)
        close(cs[i]);
    close(fds[0]);
}
END_TEST

Suite *executor_suite(void)
{
    Suite *s = suite_create("executor");
    TCase *tc = fixture_tcase("executor");
    tcase_add_test(tc, run_in_executor);
    tcase_add_test(tc, cancel_and_shutdown);
    tcase_add_test(tc, owned_jobs_free_what_nobody_takes);
    suite_add_tcase(s, tc);
    tc = fixture_tcase("netutil");
    tcase_add_test(tc, test_is_valid_ip);
    tcase_add_test(tc, test_localhost);
    tcase_add_test(tc, test_bad_host);
    tcase_add_test(tc, accept_handler);
    suite_add_tcase(s, tc);
    return s;
}
