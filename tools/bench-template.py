#!/usr/bin/env python3
"""Template rendering benchmark: tornado.template (python3-tornado) against the C engine
(tp-template --bench) on the same templates and data, two pages in one run.

layout: a 3-level inheritance chain (page.html extends layout.html extends base.html) with a
  100-row table loop: per row an enumerate index, attribute lookups, autoescaped strings (with
  & and < to escape), an if/else, a conditional expression and a %-format.
table: the anchor page of shared/bench/template (bench.py): 3 levels, a 100-row table of
  row['key'] lookups, autoescaped strings with & and <, an if/else and a conditional
  expression per row.

Both renderers' outputs are compared byte for byte before timing. Each page is timed in
--rounds rounds, Tornado then C in turn; the figures are the medians of the rounds and the
speed-up is the median of the per-round ratios (the machine's speed drifts less within a
round). tp-template --bench renders each page into a new buffer, as a request does.

Usage: /usr/bin/python3 tools/bench-template.py [--build=build] [--rows=100] [--seconds=2]
           [--rounds=5] [--page=layout|table|both]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, "/usr/lib/python3/dist-packages")
import tornado  # noqa: E402
import tornado.template  # noqa: E402
from tornado.util import ObjectDict  # noqa: E402

LAYOUT = {
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

# shared/bench/template/t, as bench.py renders it.
TABLE = {
    "base.html": """<!DOCTYPE html>
<html><head><title>{% block title %}Site{% end %}</title></head>
<body>{% block body %}{% end %}<footer>{{ footer }}</footer></body></html>
""",
    "section.html": """{% extends "base.html" %}
{% block title %}{{ section }} - Site{% end %}
{% block body %}<h1>{{ section }}</h1>{% block content %}{% end %}{% end %}
""",
    "page.html": """{% extends "section.html" %}
{% block content %}
<table>
{% for row in rows %}
  <tr class="{{ 'odd' if row['id'] % 2 else 'even' }}"><td>{{ row['id'] }}</td><td>{{ row['name'] }}</td><td>{{ row['email'] }}</td>{% if row['admin'] %}<td>admin</td>{% else %}<td>-</td>{% end %}</tr>
{% end %}
</table>
{% end %}
""",
}


def layout_context(rows):
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


def table_context(rows):
    return {"section": "Users", "footer": "(c) 2026",
            "rows": [{"id": i, "name": "User <%d> & co" % i, "email": "u%d@example.com" % i,
                      "admin": i % 7 == 0} for i in range(rows)]}


# name: (templates, context, does the Python side see dicts as objects (row.x)?)
PAGES = {"layout": (LAYOUT, layout_context, True), "table": (TABLE, table_context, False)}


def time_tornado(template, ctx, seconds):
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(50):
            template.generate(**ctx)
        n += 50
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / n * 1e6, n


def time_c(binary, d, ctx_path, n):
    out = subprocess.run([binary, "--dir", d, "--bench", str(n), "page.html", ctx_path],
                         check=True, capture_output=True, text=True).stdout
    return float(re.search(r"([\d.]+) us/render", out).group(1))


def bench_page(name, binary, args):
    templates, make_ctx, objects = PAGES[name]
    with tempfile.TemporaryDirectory() as d:
        for fname, text in templates.items():
            with open(os.path.join(d, fname), "w") as f:
                f.write(text)
        ctx = make_ctx(args.rows)
        ctx_path = os.path.join(d, "ctx.json")
        with open(ctx_path, "w") as f:
            json.dump(ctx, f)
        pctx = json.loads(json.dumps(ctx), object_hook=ObjectDict if objects else None)
        template = tornado.template.Loader(d).load("page.html")
        want = template.generate(**pctx)
        got = subprocess.run([binary, "--dir", d, "page.html", ctx_path], check=True,
                             capture_output=True).stdout
        if want != got:
            sys.exit("%s: outputs differ: tornado %d bytes, tp-template %d bytes" %
                     (name, len(want), len(got)))
        py, c, ratios, py_n, c_n = [], [], [], 0, 0
        for _ in range(args.rounds):
            py_us, n = time_tornado(template, pctx, args.seconds / args.rounds)
            py_n += n
            n = max(1000, int(args.seconds / args.rounds * 1e6 / max(py_us / 40, 1)))
            c_us = time_c(binary, d, ctx_path, n)
            c_n += n
            py.append(py_us)
            c.append(c_us)
            ratios.append(py_us / c_us)
    print("%s: page.html, 3-level inheritance, %d rows, %d bytes of output (identical)" %
          (name, args.rows, len(want)))
    print("  tornado.template %s (Python %s): %8.2f us/render (median of %d rounds, %d renders)"
          % (tornado.version, sys.version.split()[0], statistics.median(py), args.rounds, py_n))
    print("  tp-template (C):                    %8.2f us/render (median of %d rounds, %d renders)"
          % (statistics.median(c), args.rounds, c_n))
    print("  speed-up: %.1fx (median of the rounds' ratios; min %.1fx, max %.1fx)" %
          (statistics.median(ratios), min(ratios), max(ratios)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rows", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=2.0, help="Tornado's time per page")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--page", choices=["layout", "table", "both"], default="both")
    args = ap.parse_args()
    binary = os.path.join(args.build, "tools", "tp-template")
    for name in (["layout", "table"] if args.page == "both" else [args.page]):
        bench_page(name, binary, args)


if __name__ == "__main__":
    main()
