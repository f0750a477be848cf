/* TLS in the prefork server, both sides. The master makes the session-ticket ring before it
 * forks the first worker and rotates it on a timer (--tls-ticket-rotation); every worker
 * makes its TLS context when it boots, from the certificate files as they are then, so a
 * reload (HUP) re-reads them and a bad certificate fails the canary like a bad app.so. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "http/tls/tickets.h"
#include "process/master_internal.h"
#include "process/tls_keys.h"

bool tp__tls_on(const tp_prefork_opts *o)
{
    return o->tls.certfile && o->tls.certfile[0];
}

static void rotate(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_master *m = arg;
    if (tp_tls_tickets_rotate(m->tickets) < 0)
        tp_log_error("session ticket keys: RAND_bytes failed; the keys stay as they were");
    else
        tp_log_info("session ticket keys rotated (%llu)",
                    (unsigned long long)tp_tls_tickets_rotations(m->tickets));
}

int tp__tls_keys_start(tp_master *m, char *err, size_t errlen)
{
    if (!tp__tls_on(m->o))
        return 0;
    m->tickets = tp_tls_tickets_new();
    if (!m->tickets) {
        snprintf(err, errlen, "cannot make the session ticket keys: %s", strerror(errno));
        return -1;
    }
    m->ticket_timer = tp_periodic_new(m->loop, m->o->tls_ticket_rotation, 0, rotate, m);
    tp_periodic_start(m->ticket_timer);
    tp_log_info("TLS: %s; session ticket keys shared by the workers, rotated every %gs",
                m->o->tls.certfile, m->o->tls_ticket_rotation);
    return 0;
}

void tp__tls_keys_stop(tp_master *m)
{
    tp_periodic_free(m->ticket_timer);
    m->ticket_timer = NULL;
    tp_tls_tickets_free(m->tickets);
    m->tickets = NULL;
}

/* A ticket made just before a rotation is decryptable for one period more, one made just
 * after it for two: the lifetime clients are told is two periods (a ticket past its key is
 * answered with a full handshake, never an error). */
tp_tls_ctx *tp__worker_tls_ctx(const tp_worker_boot *b, char *err, size_t errlen)
{
    if (!b->tls)
        return NULL;
    tp_tls_ctx *ctx = tp_tls_ctx_new(b->tls, err, errlen);
    if (!ctx)
        return NULL;
    long lifetime = (long)(2 * b->tls_ticket_rotation + 0.999);
    if (b->tickets &&
        tp_tls_tickets_install(tp_tls_ctx_ssl_ctx(ctx), b->tickets, lifetime > 0 ? lifetime : 1)) {
        snprintf(err, errlen, "cannot install the session ticket keys");
        tp_tls_ctx_unref(ctx);
        return NULL;
    }
    return ctx;
}
