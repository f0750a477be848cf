#!/usr/bin/python3
"""Tornado's blog demo (demos/blog/blog.py) ported to MySQL/MariaDB for tools/bench-blog.sh:
the same handlers and queries, each statement run on a thread pool (IOLoop.run_in_executor)
through a blocking driver (MySQLdb, the C client, by default; --driver=pymysql for the
pure-Python one), one connection per pool thread. It renders examples/blog/templates (the
templates the C blog renders), so both servers produce the same pages. Run with Debian's
Tornado: /usr/bin/python3 tools/bench-blog-tornado.py --port=P --db-socket=S --db-name=D ...

Only what the benchmark and a manual look need is ported: home, archive, feed, entry; the
author pages and compose are left out (the benchmark reads entries)."""
import argparse
import asyncio
import concurrent.futures
import datetime
import os
import threading

import tornado.ioloop
import tornado.locale
import tornado.util
import tornado.web

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BLOG = os.path.join(ROOT, "examples", "blog")


class Database:
    """A blocking driver on a thread pool: one connection per thread, made on first use."""

    def __init__(self, args):
        self.args = args
        self.local = threading.local()
        self.pool = concurrent.futures.ThreadPoolExecutor(args.threads)

    def _conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            a = self.args
            if a.driver == "pymysql":
                import pymysql
                c = pymysql.connect(unix_socket=a.db_socket, user=a.db_user,
                                    password=a.db_password, database=a.db_name,
                                    charset="utf8mb4", autocommit=True)
            else:
                import MySQLdb
                c = MySQLdb.connect(unix_socket=a.db_socket, user=a.db_user,
                                    password=a.db_password, database=a.db_name,
                                    charset="utf8mb4", autocommit=True)
            self.local.conn = c
        return c

    def _query(self, stmt, args):
        cur = self._conn().cursor()
        try:
            cur.execute(stmt, args)
            names = [d[0] for d in cur.description]
            return [tornado.util.ObjectDict(zip(names, row)) for row in cur.fetchall()]
        finally:
            cur.close()

    async def query(self, stmt, *args):
        return await tornado.ioloop.IOLoop.current().run_in_executor(
            self.pool, self._query, stmt, args)


class NoResultError(Exception):
    pass


class BaseHandler(tornado.web.RequestHandler):
    async def query(self, stmt, *args):
        return await self.application.db.query(stmt, *args)

    async def queryone(self, stmt, *args):
        results = await self.query(stmt, *args)
        if len(results) == 0:
            raise NoResultError()
        elif len(results) > 1:
            raise ValueError("Expected 1 result, got %d" % len(results))
        return results[0]

    def get_current_user(self):
        return None  # the benchmark reads pages anonymously

    def get_template_namespace(self):
        ns = super().get_template_namespace()
        ns["blog_title"] = self.settings["blog_title"]
        return ns


class HomeHandler(BaseHandler):
    async def get(self):
        entries = await self.query("SELECT * FROM entries ORDER BY published DESC, id DESC LIMIT 5")
        if not entries:
            self.redirect("/compose")
            return
        self.render("home.html", entries=entries)


class EntryHandler(BaseHandler):
    async def get(self, slug):
        try:
            entry = await self.queryone("SELECT * FROM entries WHERE slug = %s", slug)
        except NoResultError:
            raise tornado.web.HTTPError(404)
        self.render("entry.html", entry=entry)


class ArchiveHandler(BaseHandler):
    async def get(self):
        entries = await self.query("SELECT * FROM entries ORDER BY published DESC, id DESC")
        self.render("archive.html", entries=entries)


class FeedHandler(BaseHandler):
    async def get(self):
        entries = await self.query("SELECT * FROM entries ORDER BY published DESC, id DESC LIMIT 10")
        self.set_header("Content-Type", "application/atom+xml")
        self.render("feed.xml", entries=entries)


class EntryModule(tornado.web.UIModule):
    def render(self, entry):
        return self.render_string("modules/entry.html", entry=entry)


def format_date(handler, d):
    """The C blog's format_date UI method: locale.format_date(d, full_format, shorter)."""
    return handler.locale.format_date(d, full_format=True, shorter=True)


def atom_date(handler, d):
    d = d or datetime.datetime.now(datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8888)
    ap.add_argument("--db-socket", required=True)
    ap.add_argument("--db-user", default="blog")
    ap.add_argument("--db-password", default="blog")
    ap.add_argument("--db-name", default="blog")
    ap.add_argument("--driver", choices=("mysqldb", "pymysql"), default="mysqldb")
    ap.add_argument("--threads", type=int, default=4, help="thread pool size")
    args = ap.parse_args()

    async def run():
        app = tornado.web.Application(
            [(r"/", HomeHandler), (r"/archive", ArchiveHandler), (r"/feed", FeedHandler),
             (r"/entry/([^/]+)", EntryHandler)],
            blog_title="Tornado Blog", template_path=os.path.join(BLOG, "templates"),
            static_path=os.path.join(BLOG, "static"), ui_modules={"Entry": EntryModule},
            ui_methods={"format_date": format_date, "atom_date": atom_date},
            xsrf_cookies=True, cookie_secret="bench", login_url="/auth/login")
        app.db = Database(args)
        app.listen(args.port, address="127.0.0.1")
        await asyncio.Event().wait()

    asyncio.run(run())


if __name__ == "__main__":
    main()
