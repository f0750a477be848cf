/* Per-generation snapshots of app.so: a private copy, so a reload is atomic even while a
 * linker rewrites the file, and each generation dlopens a path of its own. */
#ifndef TP_PROCESS_SNAPSHOT_H
#define TP_PROCESS_SNAPSHOT_H

#include <stddef.h>

/* Copies src to dir/app.g<gen>.so (mode 0400) after checking it is a non-empty ELF file.
 * Returns the new path (tp_free it) or NULL with a one-line reason in err. */
char *tp_snapshot_take(const char *src, const char *dir, unsigned gen, char *err, size_t errlen);

/* Copies any regular file src to dir/g<gen>.<name> (mode 0400): the generation's copy of a
 * file its workers read at boot (TLS certificate and key). The new path (tp_free it) or NULL
 * with a one-line reason in err. */
char *tp_snapshot_copy(const char *src, const char *dir, const char *name, unsigned gen, char *err,
                       size_t errlen);

#endif
