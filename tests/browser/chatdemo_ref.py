#!/usr/bin/python3
# Tornado's demos/websocket/chatdemo.py (Copyright 2009 Facebook, Apache License 2.0), the
# reference the browser suite's "reference" case compares examples/chat with: the same
# handlers, run by Debian's python3-tornado over examples/chat's templates and static files.
# Changes: explicit imports (Debian's Tornado 6.2 has no lazy submodules), the paths, port 0
# with the bound port written to --port-file.
#
# Usage: /usr/bin/python3 tests/browser/chatdemo_ref.py --chat-dir=DIR --port-file=FILE
import asyncio
import logging
import os
import sys
import uuid

import tornado.escape
import tornado.httpserver
import tornado.netutil
import tornado.web
import tornado.websocket


class MainHandler(tornado.web.RequestHandler):
    def get(self):
        self.render("index.html", messages=ChatSocketHandler.cache)


class ChatSocketHandler(tornado.websocket.WebSocketHandler):
    waiters = set()
    cache = []
    cache_size = 200

    def get_compression_options(self):
        return {}

    def open(self):
        ChatSocketHandler.waiters.add(self)

    def on_close(self):
        ChatSocketHandler.waiters.remove(self)

    @classmethod
    def update_cache(cls, chat):
        cls.cache.append(chat)
        if len(cls.cache) > cls.cache_size:
            cls.cache = cls.cache[-cls.cache_size :]

    @classmethod
    def send_updates(cls, chat):
        for waiter in cls.waiters:
            try:
                waiter.write_message(chat)
            except Exception:
                logging.error("Error sending message", exc_info=True)

    def on_message(self, message):
        parsed = tornado.escape.json_decode(message)
        chat = {"id": str(uuid.uuid4()), "body": parsed["body"]}
        chat["html"] = tornado.escape.to_basestring(
            self.render_string("message.html", message=chat)
        )
        ChatSocketHandler.update_cache(chat)
        ChatSocketHandler.send_updates(chat)


async def main(chat_dir, port_file):
    app = tornado.web.Application(
        [(r"/", MainHandler), (r"/chatsocket", ChatSocketHandler)],
        cookie_secret="__TODO:_GENERATE_YOUR_OWN_RANDOM_VALUE_HERE__",
        template_path=os.path.join(chat_dir, "templates"),
        static_path=os.path.join(chat_dir, "static"),
        xsrf_cookies=True,
    )
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(sockets[0].getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    await asyncio.Event().wait()


if __name__ == "__main__":
    opts = dict(a.lstrip("-").split("=", 1) for a in sys.argv[1:])
    asyncio.run(main(opts["chat-dir"], opts["port-file"]))
