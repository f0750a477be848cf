/* `tornado-prefork new DIR` (Kore's `kodev create`): writes the embedded project template
 * (tools/new/: app.c, templates/index.html, test_app.c, Makefile, README.md) into DIR, which
 * must not exist or be empty. "@NAME@" in the files becomes DIR's base name (characters
 * other than letters, digits, '-', '_' and '.' turned into '_'). */
#include "tools/new_project.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLACEHOLDER "@NAME@"

/* 0 if dir is missing (then made) or an empty directory; else -errno, said on stderr. */
static int make_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOTDIR) {
            fprintf(stderr, "error: %s exists and is not a directory\n", dir);
            return -ENOTDIR;
        }
        if (errno != ENOENT || mkdir(dir, 0755) < 0) {
            int e = errno;
            fprintf(stderr, "error: cannot create %s: %s\n", dir, strerror(e));
            return -e;
        }
        return 0;
    }
    struct dirent *de;
    bool empty = true;
    while (empty && (de = readdir(d)))
        empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
    closedir(d);
    if (!empty) {
        fprintf(stderr,
                "error: %s exists and is not empty: tornado-prefork new makes a new project "
                "in a new (or empty) directory, and overwrites nothing\n",
                dir);
        return -EEXIST;
    }
    return 0;
}

/* The project's name: dir's last component, made safe for a C string and HTML. */
static void project_name(const char *dir, char *out, size_t n)
{
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && dir[start - 1] != '/')
        start--;
    size_t k = 0;
    for (size_t i = start; i < len && k + 1 < n; i++) {
        char c = dir[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        out[k++] = ok ? c : '_';
    }
    out[k] = '\0';
    if (!k)
        snprintf(out, n, "app");
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Writes f's text with each placeholder replaced by name, to fd. */
static int write_text(int fd, const tp_new_file *f, const char *name)
{
    const char *p = f->data, *end = f->data + f->len;
    size_t plen = strlen(PLACEHOLDER);
    for (;;) {
        const char *hit = memmem(p, (size_t)(end - p), PLACEHOLDER, plen);
        int r = write_all(fd, p, (size_t)((hit ? hit : end) - p));
        if (r < 0 || !hit)
            return r;
        if ((r = write_all(fd, name, strlen(name))) < 0)
            return r;
        p = hit + plen;
    }
}

/* dir/f->path, its folder made first; never overwrites (O_EXCL). 0 or -errno (said). */
static int write_file(const char *dir, const tp_new_file *f, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, f->path);
    char *slash = strrchr(path, '/');
    if (slash > path + strlen(dir)) {
        *slash = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            goto fail;
        *slash = '/';
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        goto fail;
    int r = write_text(fd, f, name);
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0)
        return 0;
    errno = -r;
fail:;
    int e = errno;
    fprintf(stderr, "error: cannot write %s: %s\n", path, strerror(e));
    return -e;
}

int tp_new_project_main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: tornado-prefork new DIR\n"
                        "  makes a new app project in DIR (which must not exist, or be empty)\n");
        return 2;
    }
    const char *dir = argv[1];
    if (make_dir(dir) < 0)
        return 1;
    char name[256];
    project_name(dir, name, sizeof(name));
    for (size_t i = 0; i < tp_new_file_count; i++)
        if (write_file(dir, &tp_new_files[i], name) < 0)
            return 1;
    printf("created the app %s in %s:\n", name, dir);
    for (size_t i = 0; i < tp_new_file_count; i++)
        printf("  %s\n", tp_new_files[i].path);
    printf("next: cd %s && make && make test && tornado-prefork --port=8888 app.so\n"
           "(with PKG_CONFIG_PATH=PREFIX/lib/pkgconfig if pkg-config does not find tp)\n",
           dir);
    return 0;
}
