/* tornado-prefork: the one header an app includes. */
#include <errno.h>
#ifndef TP_H
#define TP_H

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/options.h"
#include "core/slice.h"
#include "core/status.h"
#include "core/stream.h"
#include "http/date.h"
#include "http/headers.h"
#include "http/query.h"
#include "http/request.h"
#include "http/server.h"
#include "platform/socket.h"
#include "process/fork.h"
#include "web/app.h"
#include "web/app_entry.h"
#include "web/app_main.h"
#include "web/handler.h"
#include "web/websocket.h"
#include "web/pubsub/pubsub.h"
#include "http/websocket/websocket.h"
#include "core/escape.h"
#include "http/cookie.h"
#include "web/signed_value.h"
#include "web/builtin_handlers.h"
#include "web/locale/locale.h"
#include "web/static/static.h"
#include "web/template/template.h"
#include "http/form.h"
#include "web/pubsub/pubsub.h"

#endif
