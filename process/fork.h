/* Tornado's tornado.process.fork_processes and task_id for programs that link libtp and run
 * their own processes instead of using the prefork command: fork N copies of this process,
 * each returns with its task id, and the parent supervises them until they are all done. */
#ifndef TP_PROCESS_FORK_H
#define TP_PROCESS_FORK_H

#include "platform/api.h"

/* Tornado's default max_restarts. */
#define TP_FORK_MAX_RESTARTS 100

/* Forks num_processes children (<= 0: one per online CPU) and returns the child's task id
 * 0..N-1 in each child. The parent never returns normally: it restarts children that die of a
 * signal or exit non-zero (same task id), exit(0)s when all exited 0, and after max_restarts
 * restarts in total (< 0: 100) stops the others and exit(1)s. Call before any loop or thread
 * exists; -EALREADY if already called in this process tree, -EBUSY inside a running IOLoop,
 * -errno if the first forks fail (the children already started are stopped). */
TP_API int tp_fork_processes(int num_processes, int max_restarts);

/* This process's task id from tp_fork_processes, or -1 if it is not one of its children. */
TP_API int tp_task_id(void);

#endif
