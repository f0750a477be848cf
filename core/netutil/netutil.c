/* The resolver runs getaddrinfo as an executor job; the accept handler is Tornado's
 * add_accept_handler loop over tp_accept. */
#include "core/netutil/netutil.h"

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "platform/socket.h"

/* ---- resolver --------------------------------------------------------------------------- */

typedef struct resolve_req {
    char *host;
    char port[16];
    int family;
} resolve_req;

tp_address_list *tp_address_list_new(const struct addrinfo *res)
{
    size_t n = 0;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
        n++;
    tp_address_list *l = tp_calloc(1, sizeof(*l) + n * sizeof(l->addrs[0]));
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof(l->addrs[0].addr))
            continue;
        tp_address *a = &l->addrs[l->n++];
        a->family = ai->ai_family;
        a->addrlen = ai->ai_addrlen;
        memcpy(&a->addr, ai->ai_addr, ai->ai_addrlen);
    }
    return l;
}

/* On a worker thread. */
static int resolve_job(void *arg, void **result)
{
    resolve_req *r = arg;
    struct addrinfo hints = {.ai_family = r->family, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(r->host, r->port, &hints, &res);
    if (rc != 0) {
        char msg[300];
        snprintf(msg, sizeof(msg), "%s: %.200s", gai_strerror(rc), r->host);
        *result = tp_strndup(msg, strlen(msg));
        return -EHOSTUNREACH;
    }
    *result = tp_address_list_new(res);
    freeaddrinfo(res);
    return 0;
}

/* On the loop: the list goes to the caller's future, which frees it (the job's has no
 * free function). */
static void resolve_done(tp_future *job_f, void *arg)
{
    tp_future *out = arg;
    if (tp_future_state(job_f) == TP_FUTURE_RESULT)
        tp_future_set_result(out, tp_future_result(job_f), tp_free);
    else
        tp_future_copy_outcome(job_f, out);
    tp_future_unref(out);
}

static void free_req(tp_future *job_f, void *arg)
{
    (void)job_f;
    resolve_req *r = arg;
    tp_free(r->host);
    tp_free(r);
}

/* A cancelled resolve cancels its job, which a worker then skips if it has not started. */
static void cancel_job(tp_future *out, void *arg)
{
    tp_future *job_f = arg;
    if (tp_future_cancelled(out))
        tp_future_cancel(job_f);
    tp_future_unref(job_f);
}

tp_future *tp_resolve(tp_executor *pool, tp_loop *loop, const char *host, int port, int family)
{
    resolve_req *r = tp_calloc(1, sizeof(*r));
    r->host = tp_strndup(host, strlen(host));
    snprintf(r->port, sizeof(r->port), "%d", port);
    r->family = family;
    tp_future *job_f = tp_run_in_executor(pool, loop, resolve_job, r);
    tp_future *out = tp_future_new(loop);
    tp_future_add_done_callback(job_f, resolve_done, tp_future_ref(out));
    tp_future_add_done_callback(job_f, free_req, r);
    tp_future_add_done_callback(out, cancel_job, job_f); /* takes over our reference */
    return out;
}

/* ---- add_accept_handler ----------------------------------------------------------------- */

#define ACCEPTS_PER_EVENT 128 /* Tornado's _DEFAULT_BACKLOG */

struct tp_accept_handler {
    tp_loop *loop;
    int fd;
    tp_accept_fn cb;
    void *arg;
    bool removed;
    bool in_cb; /* remove from inside cb: freed when the accept loop returns */
};

static void accept_ready(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)events;
    tp_accept_handler *ah = arg;
    ah->in_cb = true;
    for (int i = 0; i < ACCEPTS_PER_EVENT && !ah->removed; i++) {
        struct sockaddr_storage addr;
        socklen_t len = sizeof(addr);
        int c = tp_accept(fd, &addr, &len);
        if (c == -ECONNABORTED)
            continue; /* the peer gave up between SYN and accept */
        if (c < 0) {
            if (c != -EAGAIN)
                tp_log_warning("accept: %s", strerror(-c));
            break;
        }
        ah->cb(loop, c, (struct sockaddr *)&addr, len, ah->arg);
    }
    ah->in_cb = false;
    if (ah->removed)
        tp_free(ah);
}

tp_accept_handler *tp_add_accept_handler(tp_loop *loop, int listen_fd, tp_accept_fn cb, void *arg)
{
    tp_accept_handler *ah = tp_calloc(1, sizeof(*ah));
    *ah = (tp_accept_handler){.loop = loop, .fd = listen_fd, .cb = cb, .arg = arg};
    int r = tp_loop_add_fd(loop, listen_fd, TP_READ, accept_ready, ah);
    if (r < 0) {
        tp_free(ah);
        errno = -r;
        return NULL;
    }
    return ah;
}

void tp_accept_handler_remove(tp_accept_handler *ah)
{
    if (!ah || ah->removed)
        return;
    ah->removed = true;
    tp_loop_remove_fd(ah->loop, ah->fd);
    if (!ah->in_cb)
        tp_free(ah);
}
