/* Session-ticket keys shared by every worker of the prefork server: a ring in anonymous shared
 * memory, made by the master before it forks (so every worker maps the same pages), rotated by
 * the master, read by the workers' OpenSSL ticket callback under a seqlock (a rotation never
 * gives a torn key). A ticket made by one worker resumes on any other. TLS 1.2 and 1.3. */
#ifndef TP_HTTP_TLS_TICKETS_H
#define TP_HTTP_TLS_TICKETS_H

#include "platform/api.h"

#include <stdint.h>

#include <openssl/ssl.h>

typedef struct tp_tls_tickets tp_tls_tickets;

/* Maps a ring with one fresh random key (RAND_bytes) in MAP_SHARED anonymous memory: children
 * forked afterwards share it. NULL when mmap or RAND_bytes fails. Free with
 * tp_tls_tickets_free (in each process that mapped or inherited it). */
TP_API tp_tls_tickets *tp_tls_tickets_new(void);
/* Unmaps t (NULL is fine). The keys are wiped first when this process made the ring. */
TP_API void tp_tls_tickets_free(tp_tls_tickets *t);
/* A new random current key; the current one becomes the previous one (still decrypts, and its
 * tickets are renewed); the one before is wiped. Only one process (the master) may rotate.
 * 0, or -EIO when RAND_bytes fails (the keys are unchanged then). */
TP_API int tp_tls_tickets_rotate(tp_tls_tickets *t);
/* Rotations done so far (0 for a new ring). */
TP_API uint64_t tp_tls_tickets_rotations(const tp_tls_tickets *t);
/* Makes ctx (a server context) encrypt and decrypt tickets with t's keys, turns the
 * per-process session-ID cache off (resumption never depends on landing on the same process),
 * sets a fixed session-ID context and the session lifetime to lifetime seconds (a ticket is
 * decryptable for one to two rotation periods: give the period). t must outlive ctx. 0 or
 * -EINVAL. */
TP_API int tp_tls_tickets_install(SSL_CTX *ctx, tp_tls_tickets *t, long lifetime);

#endif
