#include "process/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"

static int copy_fd(int in, int out, size_t size)
{
    off_t off = 0;
    while ((size_t)off < size) {
        ssize_t n = sendfile(out, in, &off, size - (size_t)off);
        if (n <= 0)
            return n == 0 ? -EIO : -errno;
    }
    return 0;
}

/* Copies the open file in (size bytes) to path, a new file of mode 0400. 0, or -1 with a reason
 * in err (path removed). */
static int copy_to(int in, const char *src, size_t size, const char *path, char *err, size_t errlen)
{
    unlink(path);
    int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
    int r = out < 0 ? -errno : copy_fd(in, out, size);
    if (out >= 0 && close(out) < 0 && r == 0)
        r = -errno;
    if (r < 0) {
        snprintf(err, errlen, "cannot copy %s to %s: %s", src, path, strerror(-r));
        unlink(path);
        return -1;
    }
    return 0;
}

char *tp_snapshot_copy(const char *src, const char *dir, const char *name, unsigned gen, char *err,
                       size_t errlen)
{
    struct stat st;
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        snprintf(err, errlen, "cannot open %s: %s", src, strerror(errno));
        return NULL;
    }
    size_t n = strlen(dir) + strlen(name) + 32;
    char *path = tp_malloc(n);
    snprintf(path, n, "%s/g%u.%s", dir, gen, name);
    if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", src);
    } else if (copy_to(in, src, (size_t)st.st_size, path, err, errlen) == 0) {
        close(in);
        return path;
    }
    close(in);
    tp_free(path);
    return NULL;
}

char *tp_snapshot_take(const char *src, const char *dir, unsigned gen, char *err, size_t errlen)
{
    char magic[4];
    struct stat st;
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        snprintf(err, errlen, "cannot open %s: %s", src, strerror(errno));
        return NULL;
    }
    if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 4 ||
        pread(in, magic, 4, 0) != 4 ||
        memcmp(magic,
               "\x7f"
               "ELF",
               4) != 0) {
        snprintf(err, errlen, "%s is not an ELF shared object", src);
        close(in);
        return NULL;
    }
    size_t n = strlen(dir) + 32;
    char *path = tp_malloc(n);
    snprintf(path, n, "%s/app.g%u.so", dir, gen);
    int r = copy_to(in, src, (size_t)st.st_size, path, err, errlen);
    close(in);
    if (r < 0) {
        tp_free(path);
        return NULL;
    }
    return path;
}
