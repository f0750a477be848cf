/* The libcurl multi interface on a tp_loop: libcurl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION); the loop calls
 * curl_multi_socket_action when they are ready. No threads. At most max_clients transfers
 * run at once; the others wait in a FIFO queue, each with a queue timeout as Tornado's
 * simple_httpclient. */
#include "http/client/client_internal.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>

#include "core/alloc.h"
#include "core/log.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

/* curl_global_init is not thread-safe before 7.84: once per process. */
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void list_push(tp__fetch_list *l, tp__http_fetch *f)
{
    f->prev = l->tail;
    f->next = NULL;
    if (l->tail)
        l->tail->next = f;
    else
        l->head = f;
    l->tail = f;
    l->n++;
}

static void list_remove(tp__fetch_list *l, tp__http_fetch *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        l->head = f->next;
    if (f->next)
        f->next->prev = f->prev;
    else
        l->tail = f->prev;
    f->prev = f->next = NULL;
    l->n--;
}

static void on_fd(tp_loop *loop, int fd, unsigned events, void *arg);
static void process_done(tp_http_client *c);
static void socket_action(tp_http_client *c, curl_socket_t fd, int flags);

/* CURLMOPT_SOCKETFUNCTION: socketp is non-NULL once the fd is in the loop. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    tp_http_client *c = userp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (socketp) {
            tp_loop_remove_fd(c->loop, s);
            curl_multi_assign(c->multi, s, NULL);
        }
        return 0;
    }
    unsigned ev = ((what & CURL_POLL_IN) ? TP_READ : 0) | ((what & CURL_POLL_OUT) ? TP_WRITE : 0);
    if (socketp)
        return tp_loop_update_fd(c->loop, s, ev) == 0 ? 0 : -1;
    if (tp_loop_add_fd(c->loop, s, ev, on_fd, c) != 0)
        return -1;
    curl_multi_assign(c->multi, s, c);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: -1 stops the timer; 0 means "as soon as possible". */
static int on_timer_change(CURLM *multi, long ms, void *userp)
{
    tp_http_client *c = userp;
    (void)multi;
    if (ms < 0)
        tp_timer_stop(c->loop, &c->timer);
    else
        tp_timer_start_at(c->loop, &c->timer, tp_loop_time(c->loop) + ms / 1000.0);
    return 0;
}

/* Lets libcurl work on fd (or its timeouts), then completes what finished. A fetch or a free
 * asked for from inside libcurl's callbacks (streaming, header, body producer) waits until
 * libcurl returns: the fetch in the queue, the free as a pending free. */
static void socket_action(tp_http_client *c, curl_socket_t fd, int flags)
{
    int running;
    c->in_action = true;
    c->depth++;
    curl_multi_socket_action(c->multi, fd, flags, &running);
    c->depth--;
    c->in_action = false;
    process_done(c);
}

static void on_timer(tp_loop *loop, void *arg)
{
    tp_http_client *c = arg;
    (void)loop;
    socket_action(c, CURL_SOCKET_TIMEOUT, 0);
}

static void on_fd(tp_loop *loop, int fd, unsigned events, void *arg)
{
    tp_http_client *c = arg;
    int flags = 0;
    (void)loop;
    if (events & TP_READ)
        flags |= CURL_CSELECT_IN;
    if (events & TP_WRITE)
        flags |= CURL_CSELECT_OUT;
    if (events & TP_ERROR_EVENTS)
        flags |= CURL_CSELECT_ERR;
    socket_action(c, fd, flags);
}

static CURL *easy_get(tp_http_client *c)
{
    if (c->nidle > 0) {
        CURL *e = c->idle[--c->nidle];
        curl_easy_reset(e);
        return e;
    }
    return curl_easy_init();
}

static void easy_put(tp_http_client *c, CURL *e)
{
    if (c->nidle < c->max_clients && !c->closing)
        c->idle[c->nidle++] = e;
    else
        curl_easy_cleanup(e);
}

/* Frees f and its handles; its response goes too unless a callback kept it. */
static void fetch_free(tp__http_fetch *f)
{
    tp_http_client *c = f->c;
    assert(f->state == TP__FETCH_DONE);
    tp_timer_stop(c->loop, &f->queue_timer);
    if (f->easy)
        easy_put(c, f->easy);
    curl_slist_free_all(f->slist);
    if (f->box && !f->box->kept)
        tp_http_response_free(&f->box->r);
    tp_free(f);
}

static void detach(tp__http_fetch *f)
{
    tp_http_client *c = f->c;
    assert(f->state != TP__FETCH_DONE);
    if (f->state == TP__FETCH_QUEUED) {
        list_remove(&c->queue, f);
    } else if (f->state == TP__FETCH_ACTIVE) {
        list_remove(&c->active, f);
        curl_multi_remove_handle(c->multi, f->easy);
    }
    f->state = TP__FETCH_DONE;
}

static void client_destroy(tp_http_client *c);

void tp__http_fetch_finish(tp__http_fetch *f)
{
    tp_http_client *c = f->c;
    detach(f);
    f->box->r.request_time = tp_loop_time(c->loop) - f->start;
    c->depth++;
    f->fn(&f->box->r, f->arg);
    c->depth--;
    fetch_free(f);
    if (c->depth == 0 && c->free_pending)
        client_destroy(c);
}

void tp__http_fetch_cancel(tp__http_fetch *f)
{
    detach(f);
    fetch_free(f);
}

static void on_queue_timeout(tp_loop *loop, void *arg)
{
    tp__http_fetch *f = arg;
    (void)loop;
    tp__http_fail(f, -ETIMEDOUT, "Timeout in request queue");
    tp__http_fetch_finish(f);
}

/* QUEUED -> ACTIVE: the easy handle goes into the multi. Returns libcurl's refusal, if any
 * (the fetch is then ACTIVE still, for the caller to fail or drop). */
static CURLMcode activate(tp_http_client *c, tp__http_fetch *f)
{
    assert(f->state == TP__FETCH_QUEUED);
    tp_timer_stop(c->loop, &f->queue_timer);
    f->queued_for = tp_loop_time(c->loop) - f->start;
    if (f->queued_for > 0) {
        /* The time spent queued counts against request_timeout. */
        double left = f->request_timeout - f->queued_for;
        curl_easy_setopt(f->easy, CURLOPT_TIMEOUT_MS, left > 0.001 ? (long)(left * 1000) : 1L);
    }
    f->state = TP__FETCH_ACTIVE;
    list_push(&c->active, f);
    return curl_multi_add_handle(c->multi, f->easy);
}

/* Starts queued fetches while slots are free. */
static void start_queued(tp_http_client *c)
{
    while (!c->closing && c->queue.head && c->active.n < (size_t)c->max_clients) {
        tp__http_fetch *f = c->queue.head;
        list_remove(&c->queue, f);
        CURLMcode rc = activate(c, f);
        if (rc != CURLM_OK) {
            tp__http_fail(f, -EIO, curl_multi_strerror(rc));
            tp__http_fetch_finish(f);
        }
    }
}

/* Completes every finished transfer, then fills the freed slots from the queue. */
static void process_done(tp_http_client *c)
{
    CURLMsg *msg;
    int left;
    c->depth++;
    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        tp__http_fetch *f = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&f);
        CURLcode result = msg->data.result;
        long n = 0;
        curl_easy_getinfo(f->easy, CURLINFO_NUM_CONNECTS, &n);
        c->connects += n;
        tp__http_fill_response(f, result);
        tp__http_fetch_finish(f);
    }
    start_queued(c);
    c->depth--;
    if (c->depth == 0 && c->free_pending)
        client_destroy(c);
}

tp__http_fetch *tp__http_fetch_start(tp_http_client *c, const tp_http_request *req,
                                     tp_http_done_fn fn, void *arg, int *err)
{
    const char *msg = NULL;
    if (c->closing || c->free_pending) {
        *err = -ESHUTDOWN;
        return NULL;
    }
    tp__http_fetch *f = tp_calloc(1, sizeof(*f));
    f->c = c;
    f->fn = fn;
    f->arg = arg;
    f->state = TP__FETCH_QUEUED;
    f->start = tp_loop_time(c->loop);
    f->max_body_size = c->max_body_size;
    tp_timer_init(&f->queue_timer, on_queue_timeout, f);
    f->box = tp__http_box_new(req->url ? req->url : "");
    f->easy = easy_get(c);
    *err = f->easy ? tp__http_setup(f, req, &msg) : -ENOMEM;
    if (*err) {
        if (msg)
            tp_log_warning("http client: %s", msg);
        f->state = TP__FETCH_DONE;
        fetch_free(f);
        return NULL;
    }
    if (c->active.n < (size_t)c->max_clients && !c->queue.head && !c->in_action) {
        if (activate(c, f) != CURLM_OK) {
            detach(f);
            fetch_free(f);
            *err = -EIO;
            return NULL;
        }
    } else {
        double ct = req->connect_timeout > 0 ? req->connect_timeout : 20;
        double rt = req->request_timeout > 0 ? req->request_timeout : 20;
        list_push(&c->queue, f);
        tp_timer_start_at(c->loop, &f->queue_timer, f->start + (ct < rt ? ct : rt));
    }
    return f;
}

int tp_http_fetch(tp_http_client *c, const tp_http_request *req, tp_http_done_fn fn, void *arg)
{
    int err;
    return tp__http_fetch_start(c, req, fn, arg, &err) ? 0 : err;
}

tp_http_client *tp_http_client_new(tp_loop *loop, const tp_http_client_opts *opts)
{
    pthread_once(&curl_once, curl_init_once);
    tp_http_client *c = tp_calloc(1, sizeof(*c));
    c->loop = loop;
    c->multi = curl_multi_init();
    if (!c->multi) {
        tp_free(c);
        return NULL;
    }
    c->max_clients = opts && opts->max_clients > 0 ? opts->max_clients : 10;
    c->max_body_size = opts && opts->max_body_size ? opts->max_body_size : 100u << 20;
    const char *ua =
        opts && opts->default_user_agent ? opts->default_user_agent : "tornado-prefork/0.1";
    c->user_agent = tp_strndup(ua, strlen(ua));
    c->idle = tp_calloc((size_t)c->max_clients, sizeof(*c->idle));
    tp_timer_init(&c->timer, on_timer, c);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    /* Keep a pooled connection per slot at least (libcurl's default is smaller). */
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)(c->max_clients * 2));
    return c;
}

static void client_destroy(tp_http_client *c)
{
    c->closing = true;
    c->depth++;
    while (c->active.head || c->queue.head) {
        tp__http_fetch *f = c->active.head ? c->active.head : c->queue.head;
        tp__http_fail(f, -ECANCELED, "HTTP client closed");
        tp__http_fetch_finish(f);
    }
    for (int i = 0; i < c->nidle; i++)
        curl_easy_cleanup(c->idle[i]);
    curl_multi_cleanup(c->multi);
    tp_timer_stop(c->loop, &c->timer);
    tp_free(c->idle);
    tp_free(c->user_agent);
    tp_free(c);
}

void tp_http_client_free(tp_http_client *c)
{
    if (!c)
        return;
    if (c->depth > 0) {
        c->free_pending = true;
        return;
    }
    client_destroy(c);
}

long tp_http_client_connects(const tp_http_client *c)
{
    return c->connects;
}
