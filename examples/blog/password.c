/* Author passwords: scrypt (OpenSSL's EVP_PBE_scrypt; the demo uses bcrypt) with a random
 * 16-byte salt, stored as "scrypt$N$r$p$SALT$HASH" (base64). Hashing takes tens of
 * milliseconds, so it runs on the worker's executor (the demo's run_in_executor), never on
 * the loop. */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples/blog/blog.h"

#define SCRYPT_N   16384
#define SCRYPT_R   8
#define SCRYPT_P   1
#define SALT_LEN   16
#define HASH_LEN   32
#define SCRYPT_MEM (64UL << 20)

/* A job's input, owned by the job: freed when it runs, or by pw_job_free when it never does
 * (the client left while it was queued). */
typedef struct pw_job {
    char *password;
    char *stored; /* NULL: hash a new password */
} pw_job;

static int derive(const char *password, const unsigned char *salt, size_t salt_len, uint64_t n,
                  uint64_t r, uint64_t p, unsigned char out[HASH_LEN])
{
    int ok = EVP_PBE_scrypt(password, strlen(password), salt, salt_len, n, r, p, SCRYPT_MEM, out,
                            HASH_LEN);
    return ok == 1 ? 0 : -EINVAL;
}

/* "scrypt$N$r$p$SALT$HASH" of password with a fresh salt. tp_malloc'd, or NULL. */
static char *hash_new(const char *password)
{
    unsigned char salt[SALT_LEN], hash[HASH_LEN];
    if (RAND_bytes(salt, sizeof(salt)) != 1 ||
        derive(password, salt, sizeof(salt), SCRYPT_N, SCRYPT_R, SCRYPT_P, hash) < 0)
        return NULL;
    unsigned char salt64[4 * ((SALT_LEN + 2) / 3) + 1], hash64[4 * ((HASH_LEN + 2) / 3) + 1];
    EVP_EncodeBlock(salt64, salt, sizeof(salt));
    EVP_EncodeBlock(hash64, hash, sizeof(hash));
    char buf[256];
    snprintf(buf, sizeof(buf), "scrypt$%d$%d$%d$%s$%s", SCRYPT_N, SCRYPT_R, SCRYPT_P,
             (char *)salt64, (char *)hash64);
    return tp_strndup(buf, strlen(buf));
}

/* base64 text to bytes: the decoded length, or -1 (EVP_DecodeBlock counts the padding). */
static int unbase64(const char *s, unsigned char *out, size_t room)
{
    size_t n = strlen(s);
    if (n == 0 || n % 4 || n / 4 * 3 > room)
        return -1;
    int len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    if (len < 0)
        return -1;
    return len - (s[n - 1] == '=') - (n > 1 && s[n - 2] == '=');
}

/* Whether password matches stored (constant time in the hash comparison). */
static bool check(const char *password, const char *stored)
{
    unsigned long long n, r, p;
    char salt64[64], hash64[64];
    if (sscanf(stored, "scrypt$%llu$%llu$%llu$%63[^$]$%63s", &n, &r, &p, salt64, hash64) != 5)
        return false;
    unsigned char salt[48], want[48], got[HASH_LEN];
    int ns = unbase64(salt64, salt, sizeof(salt)), nw = unbase64(hash64, want, sizeof(want));
    if (ns <= 0 || nw != HASH_LEN || derive(password, salt, (size_t)ns, n, r, p, got) < 0)
        return false;
    return CRYPTO_memcmp(got, want, HASH_LEN) == 0;
}

static void pw_job_free(void *arg)
{
    pw_job *job = arg;
    OPENSSL_cleanse(job->password, strlen(job->password));
    tp_free(job->password), tp_free(job->stored), tp_free(job);
}

/* On a worker thread. The result: the new hash string, or (for a check) a non-NULL marker
 * for a match. */
static int pw_run(void *arg, void **result)
{
    pw_job *job = arg;
    int r = 0;
    if (!job->stored) {
        *result = hash_new(job->password);
        r = *result ? 0 : -EINVAL;
    } else {
        *result = check(job->password, job->stored) ? (void *)"match" : NULL;
    }
    pw_job_free(job);
    return r;
}

/* free_result: how the future frees the job's result (the hash string; a check's result is a
 * static marker). The future owns it: read, it goes with the future; unread (the client left
 * while the job ran), it goes at once. */
static tp_future *submit(const char *password, const char *stored, tp_free_fn free_result)
{
    pw_job *job = tp_calloc(1, sizeof(*job));
    job->password = tp_strndup(password, strlen(password));
    job->stored = stored ? tp_strndup(stored, strlen(stored)) : NULL;
    if (!blog.pool) /* made on first use, from the running loop: its thread then inherits
                       the signal mask that leaves SIGTERM to the loop's signalfd */
        blog.pool = tp_executor_new(1);
    if (!blog.pool) {
        pw_job_free(job);
        tp_future *f = tp_future_new(tp_loop_current());
        tp_future_set_error(f, -errno, "no thread for password hashing");
        return f;
    }
    return tp_run_in_executor_owned(blog.pool, tp_loop_current(), pw_run, job, pw_job_free,
                                    free_result);
}

tp_future *blog_password_hash(const char *password)
{
    return submit(password, NULL, tp_free);
}

tp_future *blog_password_check(const char *password, const char *stored)
{
    return submit(password, stored ? stored : "", NULL);
}
