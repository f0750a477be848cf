/* `tornado-prefork new DIR`: a new app project from the template in tools/new/, which the
 * build embeds in the binary (tools/embed-new.sh). */
#ifndef TP_TOOLS_NEW_PROJECT_H
#define TP_TOOLS_NEW_PROJECT_H

#include <stddef.h>

typedef struct tp_new_file {
    const char *path; /* relative to the project, "templates/index.html" */
    const char *data; /* "@NAME@" in it becomes the project's name */
    size_t len;
} tp_new_file;

extern const tp_new_file tp_new_files[];
extern const size_t tp_new_file_count;

/* Runs `tornado-prefork new ARGS...` (argv[0] is "new"); returns the exit status: 0, 2 for
 * a bad command line, 1 when DIR exists and is not empty or a file cannot be written. */
int tp_new_project_main(int argc, char **argv);

#endif
