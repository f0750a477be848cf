/* tornado-prefork: the prefork server command, and its reload/stop/status helpers.
 *
 *   tornado-prefork [options] APP.so
 *   tornado-prefork reload|stop|status --pid-file=F
 *   tornado-prefork new DIR        (a new app project: tools/new_project.c)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/log_options.h"
#include "core/options.h"
#include "platform/proc.h"
#include "process/master.h"
#include "process/metrics.h"
#include "process/scoreboard.h"
#include "tools/new_project.h"
#include "web/pubsub/internal.h"

#define VERSION "0.1.0"

typedef struct cli {
    const char *procs;
    const char *pid_file, *port_file, *log_file, *logging, *config, *user, *group, *pubsub;
    const char *metrics_address;
    int metrics_port;
    bool reuseport, autoreload, access_log, version;
    int backlog;
    double worker_timeout, boot_timeout, shutdown_timeout, drain_idle_grace,
        websocket_drain_timeout, tls_ticket_rotation;
    size_t max_requests, max_requests_jitter;
    tp_opt_list port, address, unix_socket, watch;
    int config_depth;
} cli;

#define COPT(n_, t_, h_, lo, hi) TP_OPTION(cli, n_, t_, h_, .min = lo, .max = hi)
static int read_config(void *base, const tp_option *o, char *err, size_t errlen);

#define LISTEN(n_, t_, h_, lo, hi)                                                                 \
    TP_OPTION(cli, n_, t_, h_, .min = lo, .max = hi, .multiple = true, .append = true)
static const tp_option listen_options[] = {
    LISTEN(port, TP_OPT_INT,
           "TCP port to listen on (default 8888; repeat or 8000,8001 or 8000:8003)", 0, 65535),
    LISTEN(address, TP_OPT_STRING, "address to bind (default: all interfaces; may repeat)", 0, 0),
    LISTEN(unix_socket, TP_OPT_STRING, "also listen on this Unix socket path (may repeat)", 0, 0),
    LISTEN(watch, TP_OPT_STRING, "with --autoreload, also watch this path (may repeat)", 0, 0),
};

static const tp_option cli_options[] = {
    COPT(procs, TP_OPT_STRING, "worker processes: a number, or auto (CPUs in the affinity mask)", 0,
         0),
    COPT(reuseport, TP_OPT_BOOL, "one SO_REUSEPORT socket per worker instead of a shared one", 0,
         0),
    COPT(backlog, TP_OPT_INT, "listen backlog", 1, 1 << 20),
    COPT(pid_file, TP_OPT_STRING, "write the master's pid here (and use it for reload/stop/status)",
         0, 0),
    COPT(port_file, TP_OPT_STRING, "write the first bound TCP port here once serving", 0, 0),
    COPT(log_file, TP_OPT_STRING, "append the log here instead of stderr (USR1 reopens it)", 0, 0),
    COPT(logging, TP_OPT_STRING, "log level: debug, info, warning, error or none", 0, 0),
    COPT(access_log, TP_OPT_BOOL, "log one line per request", 0, 0),
    COPT(worker_timeout, TP_OPT_DOUBLE,
         "seconds without heartbeat before a worker is killed (0: off)", 0, 1e6),
    COPT(boot_timeout, TP_OPT_DOUBLE, "seconds for a worker to boot", 0.1, 1e6),
    COPT(shutdown_timeout, TP_OPT_DOUBLE, "seconds a draining worker gets to finish", 0, 1e6),
    COPT(websocket_drain_timeout, TP_OPT_DOUBLE,
         "seconds a draining worker keeps its WebSocket connections before closing them (1001)", 0,
         1e6),
    COPT(drain_idle_grace, TP_OPT_DOUBLE, "seconds an idle keep-alive connection gets in a drain",
         0, 1e6),
    COPT(max_requests, TP_OPT_SIZE, "replace a worker after this many requests (0: never)", 0,
         1e15),
    COPT(max_requests_jitter, TP_OPT_SIZE, "add up to this many to max_requests, per worker", 0,
         1e15),
    COPT(autoreload, TP_OPT_BOOL, "reload when APP.so (or a --watch path) changes", 0, 0),
    COPT(user, TP_OPT_STRING, "run as this user after binding", 0, 0),
    COPT(group, TP_OPT_STRING, "run as this group after binding", 0, 0),
    COPT(pubsub, TP_OPT_STRING,
         "publish/subscribe between hosts through redis://HOST:PORT (default: this host's "
         "workers, relayed by the master)",
         0, 0),
    COPT(metrics_port, TP_OPT_INT,
         "serve Prometheus metrics at http://METRICS_ADDRESS:PORT/metrics (0: no endpoint)", 0,
         65535),
    COPT(metrics_address, TP_OPT_STRING, "address of the metrics endpoint", 0, 0),
    {.name = "config",
     .type = TP_OPT_STRING,
     .offset = offsetof(cli, config),
     .help = "read options from this file (name = value lines, Python literals; read when given)",
     .metavar = "PATH",
     .callback = read_config},
    COPT(tls_ticket_rotation, TP_OPT_DOUBLE,
         "seconds between rotations of the TLS session-ticket keys the master shares", 1, 1e7),
    COPT(version, TP_OPT_BOOL, "print the version and exit", 0, 0),
};

static const cli cli_defaults = {.procs = "auto",
                                 .logging = "info",
                                 .access_log = true,
                                 .backlog = 1024,
                                 .worker_timeout = 30,
                                 .boot_timeout = 30,
                                 .shutdown_timeout = 30,
                                 .drain_idle_grace = 2,
                                 .websocket_drain_timeout = 30,
                                 .tls_ticket_rotation = 3600,
                                 .pid_file = "",
                                 .port_file = "",
                                 .log_file = "",
                                 .config = "",
                                 .user = "",
                                 .group = "",
                                 .pubsub = "",
                                 .metrics_address = "127.0.0.1"};

/* The command's state: the option values as given (values), the master's options made of them
 * (opts) and the option groups that parse into both. One lives on main's stack for the life of
 * the process; the parsing functions get it as an argument. */
typedef struct prefork_cmd {
    tp_prefork_opts opts;
    cli values;
    tp_log_options log; /* Tornado's logging options */
    tp_option_group groups[5];
} prefork_cmd;

#define NGROUPS 5

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "error: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return 2;
}

static int parse_arg(prefork_cmd *cmd, const char *a)
{
    char err[512];
    if (tp_options_parse_one(cmd->groups, NGROUPS, a, err, sizeof(err)) < 0) {
        fprintf(stderr, "error: %s\n", err);
        return 2;
    }
    return 0;
}

/* --config: the file is read when the option is given, so later options override it. */
static int read_config(void *base, const tp_option *o, char *err, size_t errlen)
{
    (void)o;
    cli *values = base;
    prefork_cmd *cmd = (prefork_cmd *)((char *)values - offsetof(prefork_cmd, values));
    if (!values->config[0])
        return 0;
    if (values->config_depth >= 8) {
        snprintf(err, errlen, "config files include each other: %s", values->config);
        return -EINVAL;
    }
    values->config_depth++;
    int r = tp_options_parse_config_file(cmd->groups, NGROUPS, values->config, err, errlen);
    values->config_depth--;
    return r < 0 ? -EINVAL : 0;
}

/* Copies a multiple option's items into one of the master's fixed arrays. */
static int listen_list(const tp_opt_list *l, const char *name, void *dst, size_t size,
                       size_t *count)
{
    if (l->n > TP_PREFORK_MAX_LISTEN)
        return usage_error("too many --%s (16 at most)", name);
    if (l->n)
        memcpy(dst, l->items, l->n * size);
    *count = l->n;
    return 0;
}

static int parse_args(prefork_cmd *cmd, int argc, char **argv)
{
    int i = 1;
    for (; i < argc && !strncmp(argv[i], "--", 2) && argv[i][2]; i++) {
        if (!strcmp(argv[i], "--help"))
            return -1;
        int r = parse_arg(cmd, argv[i] + 2);
        if (r)
            return r;
    }
    if (cmd->values.version)
        return -2;
    if (i != argc - 1)
        return usage_error("%s", i >= argc ? "give the app: tornado-prefork [options] APP.so"
                                           : "one APP.so, after the options");
    cmd->opts.app_path = argv[i];
    return 0;
}

static int log_files(prefork_cmd *cmd)
{
    const tp_log_options *lo = &cmd->log;
    tp_log_files f;
    char err[256];
    tp_log_options_files(lo, &f);
    if (tp_log_check_files(&f, err, sizeof(err)) < 0)
        return usage_error("%s", err);
    if ((lo->log_file_prefix[0] || lo->log_access_file_prefix[0]) && cmd->values.log_file[0])
        return usage_error("%s", "give --log-file or --log-file-prefix, not both");
    return 0;
}

static int finish_options(prefork_cmd *cmd)
{
    if (!strcmp(cmd->values.procs, "auto"))
        cmd->opts.procs = 0;
    else {
        char *end;
        long n = strtol(cmd->values.procs, &end, 10);
        if (!*cmd->values.procs || *end || n < 1 || n > 256)
            return usage_error("--procs=%s: a number from 1 to 256, or auto", cmd->values.procs);
        cmd->opts.procs = (int)n;
    }
    int level = tp_log_level_parse(cmd->values.logging);
    if (level < 0)
        return usage_error("--logging=%s: use debug, info, warning, error or none",
                           cmd->values.logging);
    tp_log_set_level(level);
    tp_log_set_access(cmd->values.access_log);
    const cli *v = &cmd->values;
    if (listen_list(&v->port, "port", cmd->opts.ports, sizeof(int), &cmd->opts.nports) ||
        listen_list(&v->address, "address", cmd->opts.addresses, sizeof(char *),
                    &cmd->opts.naddresses) ||
        listen_list(&v->unix_socket, "unix-socket", cmd->opts.unix_sockets, sizeof(char *),
                    &cmd->opts.nunix) ||
        listen_list(&v->watch, "watch", cmd->opts.watch, sizeof(char *), &cmd->opts.nwatch))
        return 2;
    int r = log_files(cmd);
    if (r)
        return r;
    if (!cmd->opts.nports && !cmd->opts.nunix)
        cmd->opts.ports[cmd->opts.nports++] = 8888;
    cmd->opts.reuseport = cmd->values.reuseport;
    cmd->opts.backlog = cmd->values.backlog;
    cmd->opts.pid_file = cmd->values.pid_file;
    cmd->opts.port_file = cmd->values.port_file;
    cmd->opts.log_file = cmd->values.log_file[0] ? cmd->values.log_file : NULL;
    cmd->opts.worker_timeout = cmd->values.worker_timeout;
    cmd->opts.boot_timeout = cmd->values.boot_timeout;
    cmd->opts.shutdown_timeout = cmd->values.shutdown_timeout;
    cmd->opts.kill_grace = 5;
    cmd->opts.drain_idle_grace = cmd->values.drain_idle_grace;
    cmd->opts.websocket_drain_timeout = cmd->values.websocket_drain_timeout;
    cmd->opts.max_requests = cmd->values.max_requests;
    cmd->opts.max_requests_jitter = cmd->values.max_requests_jitter;
    cmd->opts.autoreload = cmd->values.autoreload;
    cmd->opts.tls_ticket_rotation = cmd->values.tls_ticket_rotation;
    cmd->opts.user = cmd->values.user;
    cmd->opts.group = cmd->values.group;
    cmd->opts.metrics_port = cmd->values.metrics_port;
    cmd->opts.metrics_address = cmd->values.metrics_address;
    if (cmd->values.pubsub[0]) {
        char host[256], err[300];
        int port;
        if (tp__pubsub_url_parse(cmd->values.pubsub, host, sizeof(host), &port, err, sizeof(err)) <
            0)
            return usage_error("%s", err);
        cmd->opts.pubsub = cmd->values.pubsub;
    }
    return 0;
}

/* ---- reload / stop / status --------------------------------------------------------------- */

static pid_t read_pid(const char *pid_file)
{
    FILE *f = pid_file && *pid_file ? fopen(pid_file, "r") : NULL;
    int pid = 0;
    if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 0 || kill(pid, 0) < 0) {
        fprintf(stderr, "error: no tornado-prefork runs with pid file %s\n",
                pid_file && *pid_file ? pid_file : "(none: give --pid-file)");
        pid = 0;
    }
    if (f)
        fclose(f);
    return pid;
}

static int status_command(const char *pid_file)
{
    char path[4200];
    size_t size;
    snprintf(path, sizeof(path), "%s.scoreboard", pid_file);
    const tp_scoreboard *sb = tp_scoreboard_open(path, &size);
    if (!sb) {
        fprintf(stderr, "error: cannot read %s\n", path);
        return 1;
    }
    tp_buf out = {0};
    tp_status_render(sb, (double)time(NULL), &out);
    fwrite(tp_buf_data(&out), 1, out.len, stdout);
    tp_buf_free(&out);
    return 0;
}

static int command(prefork_cmd *cmd, const char *name, int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        if (strncmp(argv[i], "--", 2))
            return usage_error("unexpected argument %s", argv[i]);
        int r = parse_arg(cmd, argv[i] + 2);
        if (r)
            return r;
    }
    pid_t pid = read_pid(cmd->values.pid_file);
    if (!pid)
        return 1;
    if (!strcmp(name, "status"))
        return status_command(cmd->values.pid_file);
    if (!strcmp(name, "reload"))
        return kill(pid, SIGHUP) < 0 ? 1 : 0;
    if (kill(pid, SIGTERM) < 0)
        return 1;
    double budget = cmd->values.shutdown_timeout;
    if (cmd->values.websocket_drain_timeout + TP_WS_CLOSE_WAIT > budget)
        budget = cmd->values.websocket_drain_timeout + TP_WS_CLOSE_WAIT;
    for (int waited = 0; waited < (int)(budget + 15) * 10; waited++) {
        if (kill(pid, 0) < 0)
            return 0;
        usleep(100000);
    }
    fprintf(stderr, "error: pid %d still runs\n", (int)pid);
    return 1;
}

/* Option values point into the arguments, whose memory the process title reuses: parse a
 * copy. */
static char **copy_args(int argc, char **argv)
{
    char **copy = calloc((size_t)argc + 1, sizeof(char *));
    for (int i = 0; copy && i < argc; i++)
        copy[i] = strdup(argv[i]);
    return copy;
}

/* Lives as long as the process: option values point into it (volatile, so the store that
 * keeps it reachable is not optimised away). */
static char **volatile arg_copy;

/* Starts the master with the parsed options; returns its exit status. */
static int run_master(prefork_cmd *cmd, int argc, char **original_argv)
{
    if (access(cmd->opts.app_path, R_OK) < 0) {
        fprintf(stderr, "error: cannot read %s: %s\n", cmd->opts.app_path, strerror(errno));
        return 1;
    }
    /* Start errors go to the stderr the user sees, also when the log goes to a file. */
    cmd->opts.error_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
    if (cmd->opts.error_fd < 0)
        cmd->opts.error_fd = 2;
    if (cmd->opts.log_file) {
        FILE *f = freopen(cmd->opts.log_file, "a", stderr);
        if (!f) {
            fprintf(stdout, "error: cannot open %s: %s\n", cmd->opts.log_file, strerror(errno));
            return 1;
        }
        setvbuf(stderr, NULL, _IONBF, 0);
    }
    if (tp_log_options_in_use(&cmd->log)) {
        tp_log_files f;
        char err[512];
        tp_log_options_files(&cmd->log, &f);
        if (tp_log_open_files(&f, "", err, sizeof(err)) < 0) {
            fprintf(stderr, "error: %s\n", err);
            return 1;
        }
    }
    tp_proctitle_init(argc, original_argv);
    tp_buf settings = {0};
    tp_options_describe(cmd->groups, NGROUPS, &settings);
    tp_buf_append(&settings, "", 1);
    cmd->opts.settings = tp_buf_data(&settings);
    int status = tp_master_run(&cmd->opts);
    tp_buf_free(&settings);
    return status;
}

int main(int argc, char **original_argv)
{
    arg_copy = copy_args(argc, original_argv);
    char **argv = arg_copy;
    if (!argv)
        return 1;
    prefork_cmd state = {.values = cli_defaults};
    prefork_cmd *cmd = &state;
    tp_http_server_opts_default(&cmd->opts.http);
    cmd->groups[0] = (tp_option_group){"Server", cli_options,
                                       sizeof(cli_options) / sizeof(cli_options[0]), &cmd->values};
    cmd->groups[1] = (tp_option_group){"HTTP", tp_http_server_option_table,
                                       tp_http_server_option_count, &cmd->opts.http};
    if (argc > 1 && !strcmp(argv[1], "new"))
        return tp_new_project_main(argc - 1, argv + 1);
    cmd->groups[2] = (tp_option_group){
        "Listen", listen_options, sizeof(listen_options) / sizeof(listen_options[0]), &cmd->values};
    tp_log_options_default(&cmd->log);
    cmd->groups[3] =
        (tp_option_group){"Logging", tp_log_option_table, tp_log_option_count, &cmd->log};
    tp_tls_opts_default(&cmd->opts.tls);
    cmd->groups[4] =
        (tp_option_group){"TLS", tp_tls_option_table, tp_tls_option_count, &cmd->opts.tls};
    if (argc > 1 &&
        (!strcmp(argv[1], "reload") || !strcmp(argv[1], "stop") || !strcmp(argv[1], "status")))
        return command(cmd, argv[1], argc, argv);
    int r = parse_args(cmd, argc, argv);
    if (r == -1) {
        tp_options_print_usage(cmd->groups, NGROUPS, "tornado-prefork", stdout);
        printf("tornado-prefork [OPTIONS] APP.so\n"
               "tornado-prefork reload|stop|status --pid-file=F\n"
               "tornado-prefork new DIR   (a new app project in DIR)\n");
        return 0;
    }
    if (r == -2) {
        printf("tornado-prefork %s\n", VERSION);
        return 0;
    }
    if (r || (r = finish_options(cmd)))
        return r;
    return run_master(cmd, argc, original_argv);
}
