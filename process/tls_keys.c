/* TLS in the prefork server, both sides. The master makes the session-ticket ring before it
 * forks the first worker and rotates it on a timer (--tls-ticket-rotation). Each generation
 * gets its own copies of the certificate, key and CA files, taken with its app.so snapshot;
 * its workers make their TLS context from those copies when they boot. A reload (HUP) thus
 * re-reads the files, a bad certificate fails the canary like a bad app.so, and a worker of
 * an older generation respawned later still loads the certificate its generation started
 * with, whatever is on disk by then. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/tls/tickets.h"
#include "process/master_internal.h"
#include "process/snapshot.h"
#include "process/tls_keys.h"

/* One generation's TLS options: the user's, with the file paths pointing to its copies. */
typedef struct tls_gen {
    unsigned gen; /* 0: free */
    tp_tls_opts opts;
    char *files[3]; /* copies of certfile, keyfile, ca_certs (NULL: not given) */
} tls_gen;

struct tp__tls_master {
    tp_tls_tickets *tickets;
    tp_periodic *rotation;
    tls_gen gens[MAX_GENS];
};

bool tp__tls_on(const tp_prefork_opts *o)
{
    return o->tls.certfile && o->tls.certfile[0];
}

static void rotate(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_master *m = arg;
    if (tp_tls_tickets_rotate(m->tls->tickets) < 0)
        tp_log_error("session ticket keys: RAND_bytes failed; the keys stay as they were");
    else
        tp_log_info("session ticket keys rotated (%llu)",
                    (unsigned long long)tp_tls_tickets_rotations(m->tls->tickets));
}

int tp__tls_keys_start(tp_master *m, char *err, size_t errlen)
{
    if (!tp__tls_on(m->o))
        return 0;
    m->tls = tp_calloc(1, sizeof(*m->tls));
    m->tls->tickets = tp_tls_tickets_new();
    if (!m->tls->tickets) {
        snprintf(err, errlen, "cannot make the session ticket keys: %s", strerror(errno));
        return -1;
    }
    m->tls->rotation = tp_periodic_new(m->loop, m->o->tls_ticket_rotation, 0, rotate, m);
    tp_periodic_start(m->tls->rotation);
    tp_log_info("TLS: %s; session ticket keys shared by the workers, rotated every %gs",
                m->o->tls.certfile, m->o->tls_ticket_rotation);
    return 0;
}

static tls_gen *gen_of(const tp_master *m, unsigned gen)
{
    for (int i = 0; m->tls && i < MAX_GENS; i++)
        if (m->tls->gens[i].gen == gen)
            return &m->tls->gens[i];
    return NULL;
}

void tp__tls_gen_drop(tp_master *m, unsigned gen)
{
    tls_gen *g = gen ? gen_of(m, gen) : NULL;
    if (!g)
        return;
    for (int i = 0; i < 3; i++)
        if (g->files[i]) {
            unlink(g->files[i]);
            tp_free(g->files[i]);
        }
    *g = (tls_gen){0};
}

/* Copies one file of the options (skipped when not given). 0 or -1 with the reason in err. */
static int copy_file(const tp_master *m, tls_gen *g, int i, const char **path, const char *name,
                     char *err, size_t errlen)
{
    if (!*path || !**path)
        return 0;
    char why[400];
    g->files[i] = tp_snapshot_copy(*path, m->rundir, name, g->gen, why, sizeof(why));
    if (!g->files[i]) {
        snprintf(err, errlen, "TLS: %s", why);
        return -1;
    }
    *path = g->files[i];
    return 0;
}

int tp__tls_gen_take(tp_master *m, unsigned gen, char *err, size_t errlen)
{
    if (!tp__tls_on(m->o))
        return 0;
    tls_gen *g = gen_of(m, 0); /* a free one: there are as many as generations */
    if (!g) {                  /* never serve a TLS port in plain HTTP for want of a slot */
        snprintf(err, errlen, "TLS: no free generation slot for the certificate files");
        return -1;
    }
    *g = (tls_gen){.gen = gen, .opts = m->o->tls};
    if (copy_file(m, g, 0, &g->opts.certfile, "cert.pem", err, errlen) < 0 ||
        copy_file(m, g, 1, &g->opts.keyfile, "key.pem", err, errlen) < 0 ||
        copy_file(m, g, 2, &g->opts.ca_certs, "ca.pem", err, errlen) < 0) {
        tp__tls_gen_drop(m, gen);
        return -1;
    }
    return 0;
}

const tp_tls_opts *tp__tls_opts_of(const tp_master *m, unsigned gen)
{
    tls_gen *g = gen_of(m, gen);
    return g ? &g->opts : NULL;
}

tp_tls_tickets *tp__tls_tickets(const tp_master *m)
{
    return m->tls ? m->tls->tickets : NULL;
}

void tp__tls_keys_stop(tp_master *m)
{
    if (!m->tls)
        return;
    for (int i = 0; i < MAX_GENS; i++)
        tp__tls_gen_drop(m, m->tls->gens[i].gen);
    tp_periodic_free(m->tls->rotation);
    tp_tls_tickets_free(m->tls->tickets);
    tp_free(m->tls);
    m->tls = NULL;
}

/* err names the generation's copy of a file: name the user's file instead. */
static void name_given_file(const tp_worker_boot *b, char *err, size_t errlen)
{
    const char *copies[] = {b->tls->certfile, b->tls->keyfile, b->tls->ca_certs};
    const char *given[] = {b->tls_given->certfile, b->tls_given->keyfile, b->tls_given->ca_certs};
    for (int i = 0; i < 3; i++) {
        char *at = copies[i] && copies[i][0] ? strstr(err, copies[i]) : NULL;
        if (at && given[i]) {
            char rest[512];
            snprintf(rest, sizeof(rest), "%s", at + strlen(copies[i]));
            snprintf(at, errlen - (size_t)(at - err), "%s%s", given[i], rest);
            return;
        }
    }
}

/* A ticket made just before a rotation is decryptable for one period more, one made just
 * after it for two: the lifetime clients are told is two periods (a ticket past its key is
 * answered with a full handshake, never an error). */
tp_tls_ctx *tp__worker_tls_ctx(const tp_worker_boot *b, char *err, size_t errlen)
{
    if (!b->tls)
        return NULL;
    tp_tls_ctx *ctx = tp_tls_ctx_new(b->tls, err, errlen);
    if (!ctx) {
        if (b->tls_given)
            name_given_file(b, err, errlen);
        return NULL;
    }
    long lifetime = (long)(2 * b->tls_ticket_rotation + 0.999);
    if (b->tickets &&
        tp_tls_tickets_install(tp_tls_ctx_ssl_ctx(ctx), b->tickets, lifetime > 0 ? lifetime : 1)) {
        snprintf(err, errlen, "cannot install the session ticket keys");
        tp_tls_ctx_unref(ctx);
        return NULL;
    }
    return ctx;
}
