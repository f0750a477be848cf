#!/usr/bin/python3
"""Tornado WebSocket peer for tools/bench-ws.sh and ws-load (Debian's python3-tornado).

Usage: ws_echo_tornado.py PORT
  /echo  echoes text and binary messages (max message 16 MiB; permessage-deflate accepted
         when the client offers it)
  /sub   a subscriber: receives every published message
  /pub   POST: sends the request body to every subscriber (text), answers 204
  /chat  a WebSocket whose messages go to every /sub and /chat connection
Listens on 127.0.0.1 only."""
import sys

import tornado.ioloop
import tornado.web
import tornado.websocket

SUBS = set()


class Echo(tornado.websocket.WebSocketHandler):
    def get_compression_options(self):
        return {}

    def on_message(self, message):
        self.write_message(message, binary=isinstance(message, bytes))


def publish(message):
    for s in list(SUBS):
        try:
            s.write_message(message)
        except tornado.websocket.WebSocketClosedError:
            SUBS.discard(s)


class Sub(Echo):
    def open(self):
        SUBS.add(self)

    def on_message(self, message):
        pass

    def on_close(self):
        SUBS.discard(self)


class Chat(Sub):
    def on_message(self, message):
        publish(message)


class Pub(tornado.web.RequestHandler):
    def post(self):
        publish(self.request.body.decode("utf-8", "replace"))
        self.set_status(204)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9012
    app = tornado.web.Application(
        [(r"/echo", Echo), (r"/sub", Sub), (r"/pub", Pub), (r"/chat", Chat)],
        websocket_max_message_size=16 << 20,
    )
    app.listen(port, address="127.0.0.1", backlog=4096)
    tornado.ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
