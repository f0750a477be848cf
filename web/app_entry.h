/* The app.so ABI: one exported symbol, made by TP_APP, that the server checks before it
 * calls anything in the app. */
#ifndef TP_WEB_APP_ENTRY_H
#define TP_WEB_APP_ENTRY_H

#include "platform/api.h"

#include <stdint.h>

#include "web/app.h"

#define TP_ABI_VERSION     1
#define TP_APP_SYMBOL      tp_app_entry_v1
#define TP_APP_SYMBOL_NAME "tp_app_entry_v1"

typedef struct tp_app_entry {
    uint32_t abi_version;        /* TP_ABI_VERSION the app was built with */
    uint32_t entry_size;         /* sizeof(tp_app_entry) */
    uint32_t handler_class_size; /* sizeof(tp_handler_class) */
    uint32_t reserved;
    const char *name;
    int (*init)(tp_app *app);      /* adds routes and settings; 0 or -errno */
    void (*teardown)(tp_app *app); /* may be NULL */
} tp_app_entry;

/* Declares the app: TP_APP("hello", hello_init, NULL); */
#define TP_APP(name_, init_, teardown_)                                                            \
    __attribute__((visibility("default")))                                                         \
    const tp_app_entry TP_APP_SYMBOL = {TP_ABI_VERSION,                                            \
                                        sizeof(tp_app_entry),                                      \
                                        sizeof(tp_handler_class),                                  \
                                        0,                                                         \
                                        name_,                                                     \
                                        init_,                                                     \
                                        teardown_}

/* NULL if entry matches this library's ABI, else a one-line reason. */
TP_API const char *tp_app_entry_check(const tp_app_entry *entry);

#endif
