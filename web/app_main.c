#include "web/app_main.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "platform/poller.h"

typedef struct main_opts {
    int port;
    const char *address;
    const char *port_file;
    const char *logging;
    bool access_log;
    bool debug;
} main_opts;

#define MOPT(name, type, help, lo, hi)                                                             \
    {                                                                                              \
#name, type, offsetof(main_opts, name), help, lo, hi                                       \
    }
static const tp_option main_options[] = {
    MOPT(port, TP_OPT_INT, "TCP port to listen on (0: any free port)", 0, 65535),
    MOPT(address, TP_OPT_STRING, "address to bind (empty: all interfaces)", 0, 0),
    MOPT(port_file, TP_OPT_STRING, "write the bound port to this file once listening", 0, 0),
    MOPT(logging, TP_OPT_STRING, "log level: debug, info, warning, error or none", 0, 0),
    MOPT(access_log, TP_OPT_BOOL, "log one line per request", 0, 0),
    MOPT(debug, TP_OPT_BOOL, "debug mode (error details in responses)", 0, 0),
};

static void on_stop_signal(tp_loop *loop, int signo, void *arg)
{
    (void)arg;
    tp_log_info("got signal %d, stopping", signo);
    tp_loop_stop(loop);
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

static int serve(tp_app *app, main_opts *mo, tp_http_server_opts *so)
{
    tp_loop *loop = tp_loop_current();
    int port = tp_app_listen(app, mo->address[0] ? mo->address : NULL, mo->port, so);
    if (port < 0) {
        fprintf(stderr, "error: cannot listen on %s:%d: %s\n", mo->address[0] ? mo->address : "*",
                mo->port, strerror(-port));
        return 1;
    }
    if (mo->port_file[0] && write_port_file(mo->port_file, port) < 0) {
        fprintf(stderr, "error: cannot write %s: %s\n", mo->port_file, strerror(errno));
        return 1;
    }
    tp_loop_add_signal(loop, SIGINT, on_stop_signal, NULL);
    tp_loop_add_signal(loop, SIGTERM, on_stop_signal, NULL);
    tp_log_info("serving on %s:%d (%s)", mo->address[0] ? mo->address : "*", port,
                tp_poller_name());
    int r = tp_loop_run(loop);
    tp_log_flush();
    return r < 0 ? 1 : 0;
}

int tp_app_main(const tp_app_entry *entry, int argc, char **argv)
{
    main_opts mo = {
        .port = 8888, .address = "", .port_file = "", .logging = "info", .access_log = true};
    tp_http_server_opts so;
    tp_http_server_opts_default(&so);
    tp_option_group groups[] = {
        {"Server", main_options, sizeof(main_options) / sizeof(main_options[0]), &mo},
        {"HTTP", tp_http_server_option_table, tp_http_server_option_count, &so},
    };
    char err[256];
    int rest, r = tp_options_parse(groups, 2, argc, argv, &rest, err, sizeof(err));
    if (r == 1) {
        printf("usage: %s [options]\n", argv[0]);
        tp_options_print_help(groups, 2, stdout);
        return 0;
    }
    if (r < 0 || rest < argc) {
        fprintf(stderr, "error: %s\n", r < 0 ? err : "unexpected argument");
        return 2;
    }
    int level = tp_log_level_parse(mo.logging);
    if (level < 0) {
        fprintf(stderr, "error: --logging=%s: use debug, info, warning, error or none\n",
                mo.logging);
        return 2;
    }
    tp_log_set_level(level);
    tp_log_set_access(mo.access_log);
    const char *why = tp_app_entry_check(entry);
    if (why) {
        fprintf(stderr, "error: %s\n", why);
        return 1;
    }
    tp_app *app = tp_app_new();
    tp_app_settings_of(app)->debug = mo.debug;
    int ir = entry->init(app);
    if (ir != 0) {
        fprintf(stderr, "error: app %s init failed (%d)\n", entry->name, ir);
        tp_app_free(app);
        return 1;
    }
    int status = serve(app, &mo, &so);
    if (entry->teardown)
        entry->teardown(app);
    tp_app_free(app);
    tp_loop_free(tp_loop_current());
    tp_log_flush();
    return status;
}
