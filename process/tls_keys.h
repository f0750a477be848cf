/* TLS in the prefork server (tls_keys.c): the master's session-ticket ring and its rotation,
 * and each worker's TLS context made at boot from the generation's certificate files. */
#ifndef TP_PROCESS_TLS_KEYS_H
#define TP_PROCESS_TLS_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "http/tls/tls.h"
#include "process/master.h"
#include "process/worker.h"

typedef struct tp_master tp_master;

/* Whether o serves TLS (a --certfile was given). */
bool tp__tls_on(const tp_prefork_opts *o);
/* With TLS on: maps the ticket ring (before the first fork, so every worker shares it) and
 * starts its rotation every o->tls_ticket_rotation seconds. 0, or -1 with a reason in err. */
int tp__tls_keys_start(tp_master *m, char *err, size_t errlen);
/* Stops the rotation, unmaps the ring, deletes every generation's copies (nothing to do
 * without TLS). */
void tp__tls_keys_stop(tp_master *m);
/* With TLS on: copies the certificate, key and CA files for generation gen (taken with its
 * app.so snapshot). 0, or -1 with "TLS: cannot open ...: REASON" in err (nothing left). */
int tp__tls_gen_take(tp_master *m, unsigned gen, char *err, size_t errlen);
/* Deletes generation gen's copies (none: nothing to do). */
void tp__tls_gen_drop(tp_master *m, unsigned gen);
/* Generation gen's TLS options (paths of its copies; owned by m), or NULL without TLS. */
const tp_tls_opts *tp__tls_opts_of(const tp_master *m, unsigned gen);
/* The shared ticket ring (NULL without TLS). */
struct tp_tls_tickets *tp__tls_tickets(const tp_master *m);
/* In a booting worker: the TLS context from b->tls with the shared ticket keys installed
 * (the caller holds the reference), or NULL: without TLS (err empty) or with the reason in
 * err ("certfile /x.pem: ..."). */
tp_tls_ctx *tp__worker_tls_ctx(const tp_worker_boot *b, char *err, size_t errlen);

#endif
