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
    unlink(path);
    int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
    int r = out < 0 ? -errno : copy_fd(in, out, (size_t)st.st_size);
    close(in);
    if (out >= 0 && close(out) < 0 && r == 0)
        r = -errno;
    if (r < 0) {
        snprintf(err, errlen, "cannot copy %s to %s: %s", src, path, strerror(-r));
        unlink(path);
        tp_free(path);
        return NULL;
    }
    return path;
}
