/* The shared ticket-key ring (tickets.h). One writer (the master), many readers (the workers,
 * in other processes): a seqlock over two keys, copied a 64-bit word at a time with relaxed
 * atomics so that a reader racing a rotation retries instead of using a torn key. */
#include "http/tls/tickets.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define KEY_WORDS 10 /* 16 name + 32 AES-256 + 32 HMAC-SHA256 bytes */

typedef union ticket_key {
    uint64_t w[KEY_WORDS];
    struct {
        unsigned char name[16];
        unsigned char aes[32];
        unsigned char hmac[32];
    } k;
} ticket_key;

/* Lives in the shared mapping: keys[0] encrypts, keys[1] (after a rotation) still decrypts. */
struct tp_tls_tickets {
    uint64_t seq; /* odd while the master writes */
    uint64_t rotations;
    ticket_key keys[2];
    pid_t maker;
};

static int ex_index = -1;
static EVP_CIPHER *aes; /* fetched once: OpenSSL 3's implicit fetch per ticket costs a lookup */
static pthread_once_t ex_once = PTHREAD_ONCE_INIT;

static void ex_index_init(void)
{
    ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    aes = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
}

tp_tls_tickets *tp_tls_tickets_new(void)
{
    void *p = mmap(NULL, sizeof(tp_tls_tickets), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    tp_tls_tickets *t = p;
    t->maker = getpid();
    if (RAND_bytes((unsigned char *)&t->keys[0], sizeof(ticket_key)) != 1) {
        munmap(p, sizeof(*t));
        return NULL;
    }
    return t;
}

void tp_tls_tickets_free(tp_tls_tickets *t)
{
    if (!t)
        return;
    if (t->maker == getpid())
        OPENSSL_cleanse(t->keys, sizeof(t->keys));
    munmap(t, sizeof(*t));
}

/* The writer's half of the seqlock: seq odd, the words, seq even again. */
static void store_keys(tp_tls_tickets *t, const ticket_key keys[2])
{
    uint64_t seq = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&t->seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < KEY_WORDS; j++)
            __atomic_store_n(&t->keys[i].w[j], keys[i].w[j], __ATOMIC_RELAXED);
    __atomic_store_n(&t->rotations, t->rotations + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&t->seq, seq + 2, __ATOMIC_RELEASE);
}

/* The reader's half: copies until it saw an even seq that did not change meanwhile. */
static uint64_t load_keys(const tp_tls_tickets *t, ticket_key keys[2])
{
    for (;;) {
        uint64_t before = __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE);
        uint64_t rotations = __atomic_load_n(&t->rotations, __ATOMIC_RELAXED);
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < KEY_WORDS; j++)
                keys[i].w[j] = __atomic_load_n(&t->keys[i].w[j], __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (!(before & 1) && __atomic_load_n(&t->seq, __ATOMIC_RELAXED) == before)
            return rotations;
    }
}

int tp_tls_tickets_rotate(tp_tls_tickets *t)
{
    ticket_key keys[2];
    keys[1] = t->keys[0]; /* the only writer: reading without the lock is safe here */
    if (RAND_bytes((unsigned char *)&keys[0], sizeof(ticket_key)) != 1)
        return -EIO;
    store_keys(t, keys);
    OPENSSL_cleanse(keys, sizeof(keys));
    return 0;
}

uint64_t tp_tls_tickets_rotations(const tp_tls_tickets *t)
{
    return __atomic_load_n(&t->rotations, __ATOMIC_ACQUIRE);
}

static int set_keys(const ticket_key *key, unsigned char *iv, EVP_CIPHER_CTX *cctx,
                    EVP_MAC_CTX *hctx, int enc)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)key->k.hmac,
                                          sizeof(key->k.hmac)),
        OSSL_PARAM_construct_end(),
    };
    if (!EVP_MAC_CTX_set_params(hctx, params))
        return -1;
    int ok = enc ? EVP_EncryptInit_ex(cctx, aes, NULL, key->k.aes, iv)
                 : EVP_DecryptInit_ex(cctx, aes, NULL, key->k.aes, iv);
    return ok ? 0 : -1;
}

/* OpenSSL's ticket callback: enc 1 makes a ticket with the current key (1 = done); enc 0 finds
 * the ticket's key: 1 current, 2 previous (accepted, and a new ticket is issued), 0 unknown (a
 * full handshake), -1 error. */
static int ticket_cb(SSL *ssl, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx,
                     EVP_MAC_CTX *hctx, int enc)
{
    const tp_tls_tickets *t = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_index);
    ticket_key keys[2];
    uint64_t rotations = load_keys(t, keys);
    int r = -1;
    if (enc) {
        memcpy(name, keys[0].k.name, 16);
        if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(aes)) == 1 &&
            set_keys(&keys[0], iv, cctx, hctx, 1) == 0)
            r = 1;
    } else {
        r = 0;
        for (int i = 0; i < (rotations ? 2 : 1) && r == 0; i++)
            if (!memcmp(name, keys[i].k.name, 16))
                r = set_keys(&keys[i], iv, cctx, hctx, 0) < 0 ? -1 : i + 1;
    }
    OPENSSL_cleanse(keys, sizeof(keys));
    return r;
}

int tp_tls_tickets_install(SSL_CTX *ctx, tp_tls_tickets *t, long lifetime)
{
    static const unsigned char sid_ctx[] = "tornado-prefork";
    pthread_once(&ex_once, ex_index_init);
    if (!ctx || !t || ex_index < 0 || !aes || !SSL_CTX_set_ex_data(ctx, ex_index, t))
        return -EINVAL;
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
    if (!SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1) ||
        !SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb))
        return -EINVAL;
    if (lifetime > 0)
        SSL_CTX_set_timeout(ctx, lifetime);
    return 0;
}
