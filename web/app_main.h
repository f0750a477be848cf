/* Running an app as a one-process program: what `build/examples/hello --port=8888` does.
 * Parses the command line (tornado.options style), serves the app until SIGINT or SIGTERM. */
#ifndef TP_WEB_APP_MAIN_H
#define TP_WEB_APP_MAIN_H

#include "platform/api.h"

#include "web/app_entry.h"

/* Runs entry's app on the current loop; returns the process exit status (0 after a signal
 * stop, 2 for a bad command line, 1 when the app or the listener fails). */
TP_API int tp_app_main(const tp_app_entry *entry, int argc, char **argv);

#endif
