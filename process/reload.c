/* Generations and the zero-downtime reload (process-model.md §9.4): snapshot, canary, the
 * rest, commit and drain of the old generation, or rollback with the old one serving. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "process/control.h"
#include "process/master_internal.h"
#include "process/snapshot.h"
#include "process/tls_keys.h"

unsigned tp__gen_add(tp_master *m, char *snapshot)
{
    for (int i = 0; i < MAX_GENS; i++)
        if (!m->gens[i].gen) {
            m->gens[i] = (generation){++m->last_gen, snapshot};
            return m->gens[i].gen;
        }
    return 0;
}

static void gen_drop(tp_master *m, unsigned gen)
{
    for (int i = 0; i < MAX_GENS; i++)
        if (m->gens[i].gen == gen) {
            unlink(m->gens[i].snapshot);
            tp_free(m->gens[i].snapshot);
            m->gens[i] = (generation){0};
            tp__tls_gen_drop(m, gen);
        }
}

/* A generation's snapshot goes once no worker runs it and it is not current (respawns use it)
 * and not being started. */
void tp__gen_release_unused(tp_master *m)
{
    for (int i = 0; i < MAX_GENS; i++) {
        unsigned g = m->gens[i].gen;
        if (g && g != m->current_gen && !(m->reload != R_IDLE && g == m->reload_gen) &&
            !tp__count(m, g, 7))
            gen_drop(m, g);
    }
}

static size_t old_generations(const tp_master *m)
{
    size_t n = 0;
    for (int i = 0; i < MAX_GENS; i++)
        n += m->gens[i].gen && m->gens[i].gen != m->current_gen;
    return n;
}

void tp__reload_start(tp_master *m, const char *why)
{
    if (m->stopping)
        return;
    /* One reload at a time, and at most two old generations draining (about 3N processes):
     * triggers meanwhile are coalesced into one more reload. */
    if (m->starting || m->reload != R_IDLE || old_generations(m) >= 2) {
        if (!m->reload_pending)
            tp_log_info("reload (%s) deferred: %s", why,
                        m->starting           ? "the first generation is booting"
                        : m->reload != R_IDLE ? "a reload is running"
                                              : "two old generations are draining");
        m->reload_pending = true;
        return;
    }
    char err[300];
    tp__sd_notify("RELOADING=1");
    tp__mstats(m)->reloads++;
    tp_log_info("reload (%s): snapshot of %s", why, m->o->app_path);
    char *snap = tp_snapshot_take(m->o->app_path, m->rundir, m->last_gen + 1, err, sizeof(err));
    unsigned gen = snap ? tp__gen_add(m, snap) : 0;
    if (gen && tp__tls_gen_take(m, gen, err, sizeof(err)) < 0) {
        gen_drop(m, gen);
        gen = 0;
        snap = NULL;
    }
    if (!gen) {
        tp_free(snap);
        tp__mstats(m)->rollbacks++;
        tp_log_error("reload failed at snapshot: %s; still serving generation %u", err,
                     m->current_gen);
        tp__sd_notify("READY=1");
        return;
    }
    m->reload = R_CANARY;
    m->reload_gen = gen;
    m->reload_started = tp_loop_time(m->loop);
    m->boot_deadline = m->reload_started + m->o->boot_timeout;
    if (!tp__spawn(m, 0, gen))
        tp__reload_worker_failed(m, NULL, "fork");
}

void tp__reload_start_pending(tp_master *m)
{
    if (m->reload_pending && m->reload == R_IDLE && !m->starting && old_generations(m) < 2) {
        m->reload_pending = false;
        tp__reload_start(m, "coalesced");
    }
}

static void reload_done(tp_master *m)
{
    m->reload = R_IDLE;
    tp__gen_release_unused(m);
    tp__sd_notify("READY=1");
    tp__reload_start_pending(m);
}

static void commit(tp_master *m)
{
    unsigned old = m->current_gen;
    m->current_gen = m->reload_gen;
    tp__mstats(m)->generation = m->current_gen;
    for (worker *w = m->workers; w; w = w->next)
        if (w->gen != m->current_gen)
            tp__drain_worker(m, w);
    for (int slot = 0; slot < MAX_SLOTS; slot++)
        m->respawn_at[slot] = 0; /* the new generation filled every slot */
    tp_log_info("generation %u serving (%d workers, boot %.0f ms); draining generation %u",
                m->current_gen, m->procs, (tp_loop_time(m->loop) - m->reload_started) * 1000, old);
    reload_done(m);
}

void tp__reload_worker_ready(tp_master *m, worker *w)
{
    (void)w;
    if (m->reload == R_CANARY) {
        m->reload = R_SPAWN;
        for (int slot = 1; slot < m->procs; slot++)
            if (!tp__spawn(m, slot, m->reload_gen)) {
                tp__reload_worker_failed(m, NULL, "fork");
                return;
            }
    }
    if (tp__count(m, m->reload_gen, 1 << W_READY) >= (size_t)m->procs)
        commit(m);
}

/* Any failure of the new generation: its booting workers are killed, ready ones drained (they
 * may own connections already), and the old generation, never touched, keeps serving. */
void tp__reload_worker_failed(tp_master *m, worker *w, const char *stage)
{
    if (m->reload == R_IDLE)
        return;
    const char *reason = w && w->failure[0] ? w->failure : "worker exited";
    char stage_name[32];
    snprintf(stage_name, sizeof(stage_name), "%s %s", m->reload == R_CANARY ? "canary" : "spawn",
             stage);
    tp__mstats(m)->rollbacks++;
    tp_log_error("reload failed at %s: %s; still serving generation %u", stage_name, reason,
                 m->current_gen);
    unsigned gen = m->reload_gen;
    for (worker *o = m->workers; o; o = o->next)
        if (o->gen == gen && o != w)
            tp__drain_worker(m, o);
    m->reload = R_IDLE;
    m->reload_gen = 0;
    tp__gen_release_unused(m);
    tp__sd_notify("READY=1");
    tp__reload_start_pending(m);
}

void tp__reload_check_deadline(tp_master *m)
{
    double now = tp_loop_time(m->loop);
    if (m->starting && now > m->boot_deadline && tp__count(m, m->current_gen, 1 << W_BOOTING)) {
        for (worker *w = m->workers; w; w = w->next)
            if (w->state == W_BOOTING) {
                snprintf(w->failure, sizeof(w->failure), "boot timeout (%.0f s) passed",
                         m->o->boot_timeout);
                kill(w->pid, SIGKILL);
            }
        return;
    }
    if (m->reload == R_IDLE || now <= m->boot_deadline)
        return;
    for (worker *w = m->workers; w; w = w->next)
        if (w->gen == m->reload_gen && w->state == W_BOOTING) {
            snprintf(w->failure, sizeof(w->failure), "boot timeout (%.0f s) passed",
                     m->o->boot_timeout);
            tp__reload_worker_failed(m, w, "boot");
            w->expected = true;
            kill(w->pid, SIGKILL);
            return;
        }
}
