/* The master <-> worker control channel: one SOCK_SEQPACKET socketpair per worker, fixed-size
 * messages. EOF on the worker's end means the master is gone. */
#ifndef TP_PROCESS_CONTROL_H
#define TP_PROCESS_CONTROL_H

#include <stdint.h>

enum tp_ctl_type {
    TP_CTL_READY = 1,   /* worker -> master: listening, app initialised */
    TP_CTL_BOOT_FAILED, /* worker -> master: text says why (dlerror, init status) */
    TP_CTL_RECYCLE,     /* worker -> master: max_requests reached, replace me */
    TP_CTL_DRAIN,       /* master -> worker: stop accepting, finish, exit (seconds in value) */
    TP_CTL_STOP_NOW,    /* master -> worker: close everything and exit */
    TP_CTL_REOPEN_LOGS, /* master -> worker: reopen the log file */
};

typedef struct tp_ctl_msg {
    uint32_t type;
    uint32_t gen;
    int32_t pid;
    int32_t slot;
    double value;
    char text[240];
} tp_ctl_msg;

#endif
