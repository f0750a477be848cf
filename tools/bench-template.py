#!/usr/bin/env python3
"""Template rendering benchmark: tornado.template (python3-tornado) against the C engine
(tp-template --bench) on the same templates and data, in one run.

The page is a 3-level inheritance chain (page.html extends layout.html extends base.html)
with a 100-row table loop: per row an enumerate index, attribute lookups, autoescaped
strings (with & and < to escape), an if/else, a conditional expression and a %-format.
Both renderers' outputs are compared byte for byte before timing.

Usage: python3 tools/bench-template.py [--build=build/tpl] [--rows=100] [--seconds=2]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, "/usr/lib/python3/dist-packages")
import tornado  # noqa: E402
import tornado.template  # noqa: E402

TEMPLATES = {
    "base.html": """<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>{% block title %}Site{% end %} - {{ site_name }}</title>
  {% block head %}{% end %}
</head>
<body>
  <header><h1>{{ site_name }}</h1>{% block nav %}{% end %}</header>
  <main>{% block main %}{% end %}</main>
  <footer>{% block footer %}&copy; {{ year }} {{ site_name }}{% end %}</footer>
</body>
</html>
""",
    "layout.html": """{% extends "base.html" %}
{% block nav %}
  <nav>{% for item in nav %}<a href="{{ item.url }}"{% if item.url == current %} class="active"{% end %}>{{ item.title }}</a>{% end %}</nav>
{% end %}
{% block main %}
  <div class="layout">
    <aside>{% block sidebar %}<p>Signed in as {{ user.name }}</p>{% end %}</aside>
    <section>{% block content %}{% end %}</section>
  </div>
{% end %}
""",
    "page.html": """{% extends "layout.html" %}
{% block title %}{{ title }}{% end %}
{% block content %}
  <h2>{{ title }} ({{ len(rows) }} rows)</h2>
  <table>
    <tr><th>#</th><th>Name</th><th>Email</th><th>Active</th><th>Score</th></tr>
    {% for i, row in enumerate(rows) %}
    <tr class="{{ 'odd' if i % 2 else 'even' }}">
      <td>{{ row.id }}</td><td>{{ row.name }}</td><td>{{ row.email }}</td>
      <td>{% if row.active %}yes{% else %}no{% end %}</td><td>{{ '%.2f' % row.score }}</td>
    </tr>
    {% end %}
  </table>
{% end %}
""",
}


def context(rows):
    return {
        "site_name": "Bench & Co",
        "year": 2024,
        "title": "Users <all>",
        "current": "/users",
        "user": {"name": "Ada"},
        "nav": [{"url": u, "title": t} for u, t in
                [("/", "Home"), ("/users", "Users"), ("/about", "About & help")]],
        "rows": [{"id": i, "name": "User %d <%d>" % (i, i), "email": "u%d@example.com" % i,
                  "active": i % 3 != 0, "score": i * 1.25} for i in range(rows)],
    }


def time_tornado(template, ctx, seconds):
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(50):
            template.generate(**ctx)
        n += 50
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / n * 1e6, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/tpl")
    ap.add_argument("--rows", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    binary = os.path.join(args.build, "tools", "tp-template")
    with tempfile.TemporaryDirectory() as d:
        for name, text in TEMPLATES.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        ctx = context(args.rows)
        ctx_path = os.path.join(d, "ctx.json")
        with open(ctx_path, "w") as f:
            json.dump(ctx, f)
        from tornado.util import ObjectDict
        pctx = json.loads(json.dumps(ctx), object_hook=ObjectDict)
        template = tornado.template.Loader(d).load("page.html")
        want = template.generate(**pctx)
        got = subprocess.run([binary, "--dir", d, "page.html", ctx_path], check=True,
                             capture_output=True).stdout
        if want != got:
            sys.exit("outputs differ: tornado %d bytes, tp-template %d bytes" %
                     (len(want), len(got)))
        py_us, py_n = time_tornado(template, pctx, args.seconds)
        n = max(1000, int(args.seconds * 1e6 / max(py_us / 40, 1)))
        out = subprocess.run([binary, "--dir", d, "--bench", str(n), "page.html", ctx_path],
                             check=True, capture_output=True, text=True).stdout
        c_us = float(re.search(r"([\d.]+) us/render", out).group(1))
    print("page.html: 3-level inheritance, %d rows, %d bytes of output (identical)" %
          (args.rows, len(want)))
    print("tornado.template %s (Python %s): %10.2f us/render (%d renders)" %
          (tornado.version, sys.version.split()[0], py_us, py_n))
    print("tp-template (C):                   %10.2f us/render (%d renders)" % (c_us, n))
    print("speed-up: %.1fx" % (py_us / c_us))


if __name__ == "__main__":
    main()
