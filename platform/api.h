/* Symbol visibility. The library is built with -fvisibility=hidden: only declarations marked
 * TP_API are exported from libtp.so and from the tornado-prefork binary that app.so files
 * link against. Internal names (tp__*) and process state stay inside. */
#ifndef TP_PLATFORM_API_H
#define TP_PLATFORM_API_H

#define TP_API __attribute__((visibility("default")))

#endif
