"""The Tornado upstream of the reverse proxy tests (run with /usr/bin/python3, Debian's
Tornado): python3 proxy_upstream.py PORT_FILE. Writes its port to PORT_FILE once listening.

  /echo     any method: JSON of the method, uri, headers, body length and SHA-1, and the id
            of the connection it came on (keep-alive reuse is counted here)
  /upload   streamed body (@stream_request_body): JSON of its length and SHA-1
  /stream   a chunked response: N pieces, flushed one by one (?n=)
  /slow     answers after ?s= seconds
  /hop      a response with hop-by-hop fields that must not reach the client
  /half     Content-Length 100000, 10 bytes, then the connection closes
  /reset    the connection closes without a response
  /count    how many requests arrived (to prove one never did)
  /ws       WebSocket echo
"""
import asyncio
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import portfile  # noqa: E402

import tornado.ioloop
import tornado.web
import tornado.websocket

COUNT = [0]


def conn_id(handler):
    return id(handler.request.connection.stream)


class Base(tornado.web.RequestHandler):
    def prepare(self):
        COUNT[0] += 1


class Echo(Base):
    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND")

    def _echo(self):
        body = self.request.body
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps({
            "method": self.request.method,
            "uri": self.request.uri,
            "headers": list(self.request.headers.get_all()),
            "body_len": len(body),
            "body_sha1": hashlib.sha1(body).hexdigest(),
            "body": body[:200].decode("latin-1"),
            "conn": conn_id(self),
        }))

    get = post = put = delete = patch = options = propfind = _echo

    def head(self):
        self.set_header("X-Head", "yes")
        self.set_header("Content-Length", "1234")


@tornado.web.stream_request_body
class Upload(Base):
    def prepare(self):
        super().prepare()
        self.n = 0
        self.sha = hashlib.sha1()

    def data_received(self, chunk):
        self.n += len(chunk)
        self.sha.update(chunk)

    def put(self):
        self.write({"body_len": self.n, "body_sha1": self.sha.hexdigest()})

    post = put


class Stream(Base):
    async def get(self):
        for i in range(int(self.get_argument("n", "5"))):
            self.write("piece %d\n" % i)
            await self.flush()


class Slow(Base):
    async def get(self):
        await asyncio.sleep(float(self.get_argument("s", "5")))
        self.write("slow done")


class Hop(Base):
    def get(self):
        self.set_header("Connection", "X-Hop-Secret")
        self.set_header("X-Hop-Secret", "must not pass")
        self.set_header("Keep-Alive", "timeout=5")
        self.set_header("Proxy-Authenticate", "Basic")
        self.set_header("Trailer", "X-T")
        self.set_header("X-End-To-End", "kept")
        self.write("hop")


class Half(Base):
    async def get(self):
        self.set_header("Content-Length", "100000")
        self.write(b"0123456789")
        await self.flush()
        self.request.connection.stream.close()


class Reset(Base):
    def get(self):
        self.request.connection.stream.close()


class Count(tornado.web.RequestHandler):
    def get(self):
        self.write(str(COUNT[0]))


class WS(tornado.websocket.WebSocketHandler):
    def on_message(self, message):
        self.write_message(message, binary=isinstance(message, bytes))


def main():
    app = tornado.web.Application([
        (r"/echo.*", Echo), (r"/upload", Upload), (r"/stream", Stream), (r"/slow", Slow),
        (r"/hop", Hop), (r"/half", Half), (r"/reset", Reset), (r"/count", Count), (r"/ws", WS),
    ])
    portfile.listen_tornado(app, sys.argv[1], max_body_size=1 << 30)
    tornado.ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
