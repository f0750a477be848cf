/* Tornado's WebSocket chat demo (demos/websocket/chatdemo.py) on tornado-prefork: the page
 * at / shows the last 200 messages and a form; /chatsocket is a WebSocket whose messages
 * {"body": ...} become {"id": uuid4, "body": ..., "html": message.html rendered} and go to
 * every page connected. Where the Python demo keeps one process's waiters and cache, this
 * one publishes each message on the pub/sub channel "chat" (web/pubsub/pubsub.h): every
 * worker of the host, and every host sharing a Redis server (--pubsub=redis://HOST:PORT),
 * receives it, adds it to its own cache and sends it to its own sockets. Built as
 * build/examples/chat (a program) and build/examples/chat.so (`tornado-prefork chat.so`).
 * Configured from the environment: see README.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "tp.h"

#ifndef CHAT_DIR
#define CHAT_DIR "examples/chat"
#endif
#define CHANNEL        "chat"
#define CACHE_SIZE     200
#define DEFAULT_SECRET "__TODO:_GENERATE_YOUR_OWN_RANDOM_VALUE_HERE__"

/* The worker's state (one loop per process): configuration, the subscription that keeps
 * the cache, the cache (a JSON array of messages, oldest first) and the open sockets. */
static struct {
    char *dir, *templates, *static_dir, *secret;
    tp_pubsub_sub *cache_sub;
    json_t *cache;
    size_t waiters;
} chat;

/* A socket's state: its own subscription to the channel. */
typedef struct chat_socket {
    tp_pubsub_sub *sub;
} chat_socket;

/* ---- the page ----------------------------------------------------------------------------- */

/* MainHandler.get: index.html with the cache. */
static int main_get(tp_handler *h)
{
    json_t *kw = json_pack("{sO}", "messages", chat.cache);
    if (!kw)
        return TP_ERROR;
    tp_render(h, "index.html", kw);
    json_decref(kw);
    return TP_OK;
}

static const tp_handler_class main_handler = {
    .name = "MainHandler",
    .get = main_get,
};

/* ---- messages ----------------------------------------------------------------------------- */

/* str(uuid.uuid4()): 36 characters and a NUL in out. */
static int uuid4(char out[37])
{
    unsigned char b[16];
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        return -EIO;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    *p = 0;
    return 0;
}

/* ChatSocketHandler.update_cache, called in every worker for every message of the channel
 * (this subscription was made first, so the cache is updated before the sockets are sent
 * the message: a page loaded meanwhile shows it, or gets it on its socket, or both; the
 * page's JS skips a message whose id it already shows). */
static void cache_message(tp_slice channel, tp_slice msg, void *arg)
{
    (void)channel;
    (void)arg;
    json_error_t e;
    json_t *m = json_loadb(msg.p, msg.n, 0, &e);
    if (!json_is_object(m)) {
        tp_log_error("chat: a message that is not a JSON object on channel %s: %s", CHANNEL,
                     e.text);
        json_decref(m);
        return;
    }
    json_array_append_new(chat.cache, m);
    while (json_array_size(chat.cache) > CACHE_SIZE)
        json_array_remove(chat.cache, 0);
    tp_log_info("chat: sending message to %zu waiters", chat.waiters);
}

/* ChatSocketHandler.send_updates, for one waiter: its subscription's callback. */
static void send_message(tp_slice channel, tp_slice msg, void *arg)
{
    (void)channel;
    tp_handler *h = arg;
    int r = tp_websocket_write_message(h, msg.p, msg.n, false);
    if (r < 0 && r != -EPIPE)
        tp_log_error("chat: error sending message: %s", strerror(-r));
}

/* open: the socket becomes a waiter. */
static int socket_open(tp_handler *h)
{
    chat_socket *s = tp_handler_state(h);
    s->sub = tp_pubsub_subscribe(tp_slice_cstr(CHANNEL), send_message, h);
    if (!s->sub)
        return TP_ERROR;
    chat.waiters++;
    return TP_OK;
}

/* on_close: no longer a waiter. */
static void socket_close(tp_handler *h)
{
    chat_socket *s = tp_handler_state(h);
    if (s->sub) {
        tp_pubsub_unsubscribe(s->sub);
        s->sub = NULL;
        chat.waiters--;
    }
}

/* on_message: {"body": ...} becomes {"id", "body", "html"}, published to every worker. A
 * message that is not such JSON aborts the connection, as the exception it raises in
 * Tornado does. */
static int socket_message(tp_handler *h, tp_slice text, bool binary)
{
    (void)binary;
    /* The demo logs the message's repr; the text may hold control characters, so here
     * only its size is logged. */
    tp_log_info("chat: got message (%zu bytes)", text.n);
    json_error_t e;
    json_t *parsed = json_loadb(text.p, text.n, 0, &e);
    json_t *body = json_object_get(parsed, "body");
    if (!json_is_string(body)) {
        tp_log_warning("chat: not a {\"body\": string} message: %s",
                       parsed ? "no string body" : e.text);
        json_decref(parsed);
        return TP_ERROR;
    }
    char id[37];
    json_t *m = uuid4(id) < 0 ? NULL : json_pack("{sssO}", "id", id, "body", body);
    json_decref(parsed);
    tp_buf html = {0};
    int r = m ? 0 : -ENOMEM;
    if (r == 0) {
        json_t *kw = json_pack("{sO}", "message", m);
        r = kw ? tp_render_string(h, "message.html", kw, &html) : -ENOMEM;
        json_decref(kw);
    }
    if (r == 0)
        r = json_object_set_new(m, "html", json_stringn(tp_buf_data(&html), html.len)) ? -ENOMEM
                                                                                       : 0;
    char *out = r == 0 ? json_dumps(m, JSON_COMPACT) : NULL;
    if (out) {
        r = tp_pubsub_publish(tp_slice_cstr(CHANNEL), out, strlen(out));
        if (r < 0)
            tp_log_error("chat: message not published: %s", strerror(-r));
    }
    free(out);
    tp_buf_free(&html);
    json_decref(m);
    return out ? TP_OK : TP_ERROR; /* a message not published is logged; the socket stays */
}

/* get_compression_options returns {} in the demo: permessage-deflate with the defaults. */
static bool socket_compression(tp_handler *h, tp_ws_deflate_params *p)
{
    (void)h;
    (void)p;
    return true;
}

static const tp_websocket_class socket_handler = {
    .base = {TP_WEBSOCKET_BASE("ChatSocketHandler"), .state_size = sizeof(chat_socket)},
    .get_compression_options = socket_compression,
    .open = socket_open,
    .on_message = socket_message,
    .on_close = socket_close,
};

/* ---- the app ------------------------------------------------------------------------------ */

static char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    v = v && *v ? v : def;
    return tp_strndup(v, strlen(v));
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = tp_malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void chat_teardown(tp_app *app)
{
    (void)app;
    if (chat.cache_sub)
        tp_pubsub_unsubscribe(chat.cache_sub);
    json_decref(chat.cache);
    tp_free(chat.dir);
    tp_free(chat.templates);
    tp_free(chat.static_dir);
    tp_free(chat.secret);
    memset(&chat, 0, sizeof(chat));
}

/* CHAT_DIR (templates/ and static/ under it; default: the compiled-in CHAT_DIR) and
 * CHAT_COOKIE_SECRET (default: the demo's placeholder, with a warning). */
static int read_config(void)
{
    chat.dir = env_or("CHAT_DIR", CHAT_DIR);
    chat.templates = join(chat.dir, "templates");
    chat.static_dir = join(chat.dir, "static");
    chat.secret = env_or("CHAT_COOKIE_SECRET", DEFAULT_SECRET);
    if (!getenv("CHAT_COOKIE_SECRET"))
        tp_log_warning("chat: CHAT_COOKIE_SECRET is not set: cookies are signed with the "
                       "demo's placeholder secret");
    if (!is_dir(chat.templates) || !is_dir(chat.static_dir)) {
        tp_log_error("chat: %s has no templates/ or static/ directory (set CHAT_DIR)", chat.dir);
        return -ENOENT;
    }
    return 0;
}

static int chat_init(tp_app *app)
{
    int r = read_config();
    if (r == 0) {
        chat.cache = json_array();
        chat.cache_sub = tp_pubsub_subscribe(tp_slice_cstr(CHANNEL), cache_message, NULL);
        r = chat.cache && chat.cache_sub ? 0 : -ENOMEM;
    }
    if (r == 0)
        r = tp_app_add_static(app, chat.static_dir, "/static/");
    if (r == 0)
        r = tp_app_route(app, "/", &main_handler, NULL);
    if (r == 0)
        r = tp_app_route(app, "/chatsocket", &socket_handler.base, NULL);
    if (r < 0)
        return chat_teardown(app), r;
    tp_app_settings *s = tp_app_settings_of(app);
    s->cookie_secret.secret = tp_slice_cstr(chat.secret);
    s->template_path = chat.templates;
    s->xsrf_cookies = true;
    tp_log_info("chat: templates in %s, static files in %s", chat.templates, chat.static_dir);
    return 0;
}

TP_APP("chat", chat_init, chat_teardown);
