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

unsigned tp__gen_add(char *snapshot)
{
    for (int i = 0; i < MAX_GENS; i++)
        if (!M.gens[i].gen) {
            M.gens[i] = (generation){++M.last_gen, snapshot};
            return M.gens[i].gen;
        }
    return 0;
}

static void gen_drop(unsigned gen)
{
    for (int i = 0; i < MAX_GENS; i++)
        if (M.gens[i].gen == gen) {
            unlink(M.gens[i].snapshot);
            tp_free(M.gens[i].snapshot);
            M.gens[i] = (generation){0};
        }
}

/* A generation's snapshot goes once no worker runs it and it is not current (respawns use it)
 * and not being started. */
void tp__gen_release_unused(void)
{
    for (int i = 0; i < MAX_GENS; i++) {
        unsigned g = M.gens[i].gen;
        if (g && g != M.current_gen && !(M.reload != R_IDLE && g == M.reload_gen) &&
            !tp__count(g, 7))
            gen_drop(g);
    }
}

static size_t old_generations(void)
{
    size_t n = 0;
    for (int i = 0; i < MAX_GENS; i++)
        n += M.gens[i].gen && M.gens[i].gen != M.current_gen;
    return n;
}

void tp__reload_start(const char *why)
{
    if (M.stopping)
        return;
    /* One reload at a time, and at most two old generations draining (about 3N processes):
     * triggers meanwhile are coalesced into one more reload. */
    if (M.starting || M.reload != R_IDLE || old_generations() >= 2) {
        M.reload_pending = true;
        return;
    }
    char err[300];
    tp__sd_notify("RELOADING=1");
    tp_log_info("reload (%s): snapshot of %s", why, M.o->app_path);
    char *snap = tp_snapshot_take(M.o->app_path, M.rundir, M.last_gen + 1, err, sizeof(err));
    unsigned gen = snap ? tp__gen_add(snap) : 0;
    if (!gen) {
        tp_free(snap);
        tp_log_error("reload failed at snapshot: %s; still serving generation %u", err,
                     M.current_gen);
        tp__sd_notify("READY=1");
        return;
    }
    M.reload = R_CANARY;
    M.reload_gen = gen;
    M.reload_started = tp_loop_time(M.loop);
    M.boot_deadline = M.reload_started + M.o->boot_timeout;
    if (!tp__spawn(0, gen))
        tp__reload_worker_failed(NULL, "fork");
}

static void reload_done(void)
{
    M.reload = R_IDLE;
    tp__gen_release_unused();
    tp__sd_notify("READY=1");
    if (M.reload_pending) {
        M.reload_pending = false;
        tp__reload_start("coalesced");
    }
}

static void commit(void)
{
    unsigned old = M.current_gen;
    M.current_gen = M.reload_gen;
    for (worker *w = M.workers; w; w = w->next)
        if (w->gen != M.current_gen)
            tp__drain_worker(w);
    for (int slot = 0; slot < MAX_SLOTS; slot++)
        M.respawn_at[slot] = 0; /* the new generation filled every slot */
    tp_log_info("generation %u serving (%d workers, boot %.0f ms); draining generation %u",
                M.current_gen, M.procs, (tp_loop_time(M.loop) - M.reload_started) * 1000, old);
    reload_done();
}

void tp__reload_worker_ready(worker *w)
{
    (void)w;
    if (M.reload == R_CANARY) {
        M.reload = R_SPAWN;
        for (int slot = 1; slot < M.procs; slot++)
            if (!tp__spawn(slot, M.reload_gen)) {
                tp__reload_worker_failed(NULL, "fork");
                return;
            }
    }
    if (tp__count(M.reload_gen, 1 << W_READY) >= (size_t)M.procs)
        commit();
}

/* Any failure of the new generation: its booting workers are killed, ready ones drained (they
 * may own connections already), and the old generation, never touched, keeps serving. */
void tp__reload_worker_failed(worker *w, const char *stage)
{
    if (M.reload == R_IDLE)
        return;
    const char *reason = w && w->failure[0] ? w->failure : "worker exited";
    char stage_name[32];
    snprintf(stage_name, sizeof(stage_name), "%s %s", M.reload == R_CANARY ? "canary" : "spawn",
             stage);
    tp_log_error("reload failed at %s: %s; still serving generation %u", stage_name, reason,
                 M.current_gen);
    unsigned gen = M.reload_gen;
    for (worker *o = M.workers; o; o = o->next)
        if (o->gen == gen && o != w)
            tp__drain_worker(o);
    M.reload = R_IDLE;
    M.reload_gen = 0;
    tp__gen_release_unused();
    tp__sd_notify("READY=1");
    if (M.reload_pending) {
        M.reload_pending = false;
        tp__reload_start("coalesced");
    }
}

void tp__reload_check_deadline(void)
{
    double now = tp_loop_time(M.loop);
    if (M.starting && now > M.boot_deadline && tp__count(M.current_gen, 1 << W_BOOTING)) {
        for (worker *w = M.workers; w; w = w->next)
            if (w->state == W_BOOTING) {
                snprintf(w->failure, sizeof(w->failure), "boot timeout (%.0f s) passed",
                         M.o->boot_timeout);
                kill(w->pid, SIGKILL);
            }
        return;
    }
    if (M.reload == R_IDLE || now <= M.boot_deadline)
        return;
    for (worker *w = M.workers; w; w = w->next)
        if (w->gen == M.reload_gen && w->state == W_BOOTING) {
            snprintf(w->failure, sizeof(w->failure), "boot timeout (%.0f s) passed",
                     M.o->boot_timeout);
            tp__reload_worker_failed(w, "boot");
            w->expected = true;
            kill(w->pid, SIGKILL);
            return;
        }
}
