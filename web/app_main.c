#include "web/app_main.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/log_options.h"
#include "http/tls/tls.h"
#include "platform/poller.h"
#include "platform/proc.h"
#include "web/websocket.h"

/* The "Server" options of the command line. */
typedef struct main_opts {
    int port;
    const char *address;
    const char *port_file;
    const char *logging;
    bool access_log;
    bool debug;
} main_opts;

#define MOPT(n_, t_, h_, lo, hi) TP_OPTION(main_opts, n_, t_, h_, .min = lo, .max = hi)
static const tp_option main_options[] = {
    MOPT(port, TP_OPT_INT, "TCP port to listen on (0: any free port)", 0, 65535),
    MOPT(address, TP_OPT_STRING, "address to bind (empty: all interfaces)", 0, 0),
    MOPT(port_file, TP_OPT_STRING, "write the bound port to this file once listening", 0, 0),
    MOPT(logging, TP_OPT_STRING, "log level: debug, info, warning, error or none", 0, 0),
    MOPT(access_log, TP_OPT_BOOL, "log one line per request", 0, 0),
    MOPT(debug, TP_OPT_BOOL, "debug mode (error details in responses)", 0, 0),
};

/* Open WebSockets get 1001 "going away" and this long for the close handshake (their own
 * close timeout is shorter; this only bounds a peer that never answers). */
#define STOP_WEBSOCKET_WAIT 10.0

static void stop_now(tp_loop *loop, void *arg)
{
    (void)arg;
    tp_loop_stop(loop);
}

static void websockets_gone(tp_app *app, void *arg)
{
    (void)app;
    tp_loop_stop(arg);
}

/* As a prefork worker's drain: WebSocket peers learn why the connection ends; a second signal
 * stops at once. */
static void on_stop_signal(tp_loop *loop, int signo, void *arg)
{
    tp_app *app = arg;
    static bool stopping;
    tp_log_info("got signal %d, stopping", signo);
    size_t open = tp_app_websocket_count(app);
    if (stopping || !open) {
        tp_loop_stop(loop);
        return;
    }
    stopping = true;
    tp_log_info("closing %zu WebSocket connection(s) with 1001", open);
    tp_app_close_websockets(app, 1001, "going away", websockets_gone, loop);
    tp_loop_call_later(loop, STOP_WEBSOCKET_WAIT, stop_now, NULL);
}

static int write_port_file(const char *path, int port)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -errno;
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return -errno;
    return 0;
}

/* The one-process runner's state: on tp_app_main's stack for the life of the program. */
typedef struct tp_app_runner {
    main_opts opts;
    tp_http_server_opts http; /* the "HTTP" options */
    tp_log_options log;       /* the "Logging" options: Tornado's log_file_prefix etc. */
    tp_tls_opts tls;          /* the "TLS" options: Tornado's ssl_options */
    const tp_app_entry *entry;
    tp_app *app;
    tp_loop *loop;
} tp_app_runner;

/* -1 to go on, else the exit status: 0 after --help, 2 for a bad command line. */
static int parse_command_line(tp_app_runner *r, int argc, char **argv)
{
    tp_option_group groups[] = {
        {"Server", main_options, sizeof(main_options) / sizeof(main_options[0]), &r->opts},
        {"HTTP", tp_http_server_option_table, tp_http_server_option_count, &r->http},
        {"Logging", tp_log_option_table, tp_log_option_count, &r->log},
        {"TLS", tp_tls_option_table, tp_tls_option_count, &r->tls},
    };
    char err[256];
    int rest, st = tp_options_parse(groups, 4, argc, argv, &rest, err, sizeof(err));
    if (st == 1) {
        tp_options_print_usage(groups, 4, argv[0], stdout);
        return 0;
    }
    if (st < 0 || rest < argc) {
        fprintf(stderr, "error: %s\n", st < 0 ? err : "unexpected argument");
        return 2;
    }
    int level = tp_log_level_parse(r->opts.logging);
    if (level < 0) {
        fprintf(stderr, "error: --logging=%s: use debug, info, warning, error or none\n",
                r->opts.logging);
        return 2;
    }
    tp_log_set_level(level);
    if (r->tls.certfile[0] && !(r->http.tls = tp_tls_ctx_new(&r->tls, err, sizeof(err)))) {
        fprintf(stderr, "error: %s\n", err);
        return 2;
    }
    tp_log_set_access(r->opts.access_log);
    if (tp_log_options_in_use(&r->log)) {
        tp_log_files f;
        tp_log_options_files(&r->log, &f);
        if (tp_log_open_files(&f, NULL, err, sizeof(err)) < 0) {
            fprintf(stderr, "error: %s\n", err);
            return 2;
        }
    }
    return -1;
}

/* Checks the entry and runs the app's init: 0, or -1 (said on stderr). */
static int start_app(tp_app_runner *r)
{
    const char *why = tp_app_entry_check(r->entry);
    if (why) {
        fprintf(stderr, "error: %s\n", why);
        return -1;
    }
    r->app = tp_app_new();
    tp_app_settings_of(r->app)->debug = r->opts.debug;
    int ir = r->entry->init(r->app);
    if (ir != 0) {
        fprintf(stderr, "error: app %s init failed (%d)\n", r->entry->name, ir);
        tp_app_free(r->app);
        r->app = NULL;
        return -1;
    }
    return 0;
}

static int serve(tp_app_runner *r)
{
    const char *address = r->opts.address[0] ? r->opts.address : NULL;
    tp_raise_nofile_limit(); /* as tornado-prefork: the default 1024 caps the connections */
    int port = tp_app_listen(r->app, address, r->opts.port, &r->http);
    if (port < 0) {
        fprintf(stderr, "error: cannot listen on %s:%d: %s\n", address ? address : "*",
                r->opts.port, strerror(-port));
        return 1;
    }
    /* Signals first: the port file says "ready", and a SIGTERM from then on must stop cleanly
     * (and the descriptors a test counts from then on must all be there). */
    tp_loop_add_signal(r->loop, SIGINT, on_stop_signal, r->app);
    tp_loop_add_signal(r->loop, SIGTERM, on_stop_signal, r->app);
    if (r->opts.port_file[0] && write_port_file(r->opts.port_file, port) < 0) {
        fprintf(stderr, "error: cannot write %s: %s\n", r->opts.port_file, strerror(errno));
        return 1;
    }
    tp_log_info("serving %s on %s:%d (%s)", r->http.tls ? "https" : "http", address ? address : "*",
                port, tp_poller_name());
    int st = tp_loop_run(r->loop);
    tp_log_flush();
    return st < 0 ? 1 : 0;
}

int tp_app_main(const tp_app_entry *entry, int argc, char **argv)
{
    tp_app_runner runner = {
        .opts =
            {.port = 8888, .address = "", .port_file = "", .logging = "info", .access_log = true},
        .entry = entry,
    };
    tp_app_runner *r = &runner;
    tp_http_server_opts_default(&r->http);
    tp_log_options_default(&r->log);
    tp_tls_opts_default(&r->tls);
    int status = parse_command_line(r, argc, argv);
    if (status >= 0)
        return status;
    if (start_app(r) < 0)
        return 1;
    r->loop = tp_loop_current();
    status = serve(r);
    if (r->entry->teardown)
        r->entry->teardown(r->app);
    tp_app_free(r->app);
    tp_tls_ctx_unref(r->http.tls);
    tp_loop_free(r->loop);
    tp_log_flush();
    return status;
}
