#!/usr/bin/env python3
"""Differential tests of the C template engine against tornado.template.

Every case of cases.json names a template under templates/ and a JSON context; it is
rendered by Debian's python3-tornado (tornado.template.Loader over the same directory, the
context loaded with json and ObjectDict so that `a.b` works on objects, as in the C
engine) and by build/.../tools/tp-template; the bytes must be identical. Error cases
compare the messages: a ParseError's str(), or "Type: message at file:line (via ...)"
for a runtime error, taken from the "# file:line" comments of Tornado's generated code;
cases marked "error": "other" (errors Tornado raises without a position, such as an
invalid whitespace mode) only need to fail in both.

Tornado 6.2 escapes ' as &#39;; 6.5 (our reference) uses html.escape's &#x27;, so the
Python side runs with 6.5's xhtml_escape.

It also checks tp-template-compile: templates/err must fail to compile with a file:line
message, and templates/doc compiled into a C table must render as Tornado renders it.

Usage: python3 tests/template/run.py [--build=build/tpl] [-k substring] [-v]
Exit status 1 with a diff on any mismatch.
"""
import argparse
import difflib
import html
import json
import os
import re
import subprocess
import sys
import traceback

sys.path.insert(0, "/usr/lib/python3/dist-packages")
import tornado.escape  # noqa: E402
import tornado.template  # noqa: E402
from tornado.util import ObjectDict  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "templates")


def xhtml_escape_65(value):
    return html.escape(tornado.escape.to_basestring(value))


tornado.escape.xhtml_escape = xhtml_escape_65


def test_namespace(loader_ref):
    """The functions tp-template --test-fns registers, in Python."""

    def upper(s):
        return tornado.escape.to_unicode(s).upper()

    def bracket(s):
        return "[" + tornado.escape.to_unicode(s) + "]"

    def template_module(_tt_name, **kwargs):
        return loader_ref[0].load(_tt_name).generate(**kwargs)

    mods = ObjectDict(Template=template_module)
    return {"upper": upper, "inc": lambda x: x + 1, "bracket": bracket,
            "modules": mods, "_tt_modules": mods}


def python_render(case):
    kwargs = {}
    if "autoescape" in case:
        kwargs["autoescape"] = case["autoescape"]
    if "whitespace" in case:
        kwargs["whitespace"] = case["whitespace"]
    ref = [None]
    if case.get("fns"):
        kwargs["namespace"] = test_namespace(ref)
    loader = tornado.template.Loader(ROOT, **kwargs)
    ref[0] = loader
    ctx = json.loads(json.dumps(case["ctx"]), object_hook=ObjectDict)
    try:
        return 0, loader.load(case["name"]).generate(**ctx)
    except tornado.template.ParseError as e:
        return 1, str(e).encode()
    except Exception as e:
        locs = re.findall(r"# (\S+:\d+(?: \(via [^)]*\))?)", traceback.format_exc())
        where = " at " + locs[-1] if locs else ""
        return 1, ("%s: %s%s" % (type(e).__name__, e, where)).encode()


def c_render(binary, case, tmpdir):
    ctx_path = os.path.join(tmpdir, "ctx.json")
    with open(ctx_path, "w", encoding="utf-8") as f:
        json.dump(case["ctx"], f, ensure_ascii=False)
    cmd = [binary, "--dir", ROOT]
    if "autoescape" in case:
        cmd += ["--no-autoescape"] if case["autoescape"] is None else ["--autoescape",
                                                                       case["autoescape"]]
    if "whitespace" in case:
        cmd += ["--whitespace", case["whitespace"]]
    if case.get("fns"):
        cmd.append("--test-fns")
    cmd += [case["name"], ctx_path]
    p = subprocess.run(cmd, capture_output=True, timeout=10)
    if p.returncode == 0:
        return 0, p.stdout
    return 1, p.stderr.rstrip(b"\n")


def normalize_sets(msg):
    """Python prints the parent sets of "else outside {...} block" in hash order, which
    changes from run to run: compare them sorted."""
    def fix(m):
        return b"{" + b", ".join(sorted(m.group(1).split(b", "))) + b"}"
    return re.sub(rb"\{('[a-z]+'(?:, '[a-z]+')*)\}", fix, msg)


def describe(case):
    opts = {k: v for k, v in case.items() if k not in ("name", "ctx")}
    return case["name"] + (" " + json.dumps(opts) if opts else "")


TABLE_MAIN = r"""
#include <stdio.h>
#include "web/template/template.h"
extern const tp_template_source tpl_table[];
extern const size_t tpl_table_count;
int main(int argc, char **argv)
{
    (void)argc;
    tp_template_loader *l = tp_template_loader_new_dict(tpl_table, tpl_table_count, 0, NULL);
    json_t *ctx = json_load_file(argv[2], 0, NULL);
    tp_template_error err;
    tp_template *t = tp_template_load(l, argv[1], NULL, &err);
    tp_buf out = {0};
    if (!t || tp_template_render(t, ctx, NULL, &out, &err) < 0) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    fwrite(out.base, 1, out.len, stdout);
    tp_buf_free(&out);
    tp_template_release(t);
    tp_template_loader_free(l);
    json_decref(ctx);
    return 0;
}
"""


def check_compile(build, cases):
    """tp-template-compile: a directory with a bad template fails with file:line; a good one
    becomes a C table that renders what Tornado renders without the directory."""
    compiler = os.path.join(build, "tools", "tp-template-compile")
    tmp = os.path.join(build, "template-test")
    out_c = os.path.join(tmp, "table.c")
    p = subprocess.run([compiler, os.path.join(ROOT, "err"), out_c], capture_output=True)
    bad = p.returncode != 0 and re.search(rb"err/[a-z_]+\.html:\d+: ", p.stderr)
    print("%s tp-template-compile rejects templates/err: %s" %
          ("ok  " if bad else "FAIL", p.stderr.decode().strip()))
    p = subprocess.run([compiler, "--symbol", "tpl_table", os.path.join(ROOT, "doc"), out_c],
                       capture_output=True)
    if p.returncode != 0:
        print("FAIL tp-template-compile templates/doc: %s" % p.stderr.decode())
        return 1
    main_c = os.path.join(tmp, "table_main.c")
    with open(main_c, "w") as f:
        f.write(TABLE_MAIN)
    exe = os.path.join(tmp, "table_render")
    # link as the build did: its sanitizer flags and libraries (build/.flags has the command)
    with open(os.path.join(build, ".flags")) as f:
        flags = f.read().split()
    extra = [t for t in flags if t.startswith("-fsanitize") or t.startswith("-l")]
    link = subprocess.run(["cc", "-std=gnu11", "-I.", "-o", exe, out_c, main_c,
                           os.path.join(build, "libtp.a")] + extra, capture_output=True)
    if link.returncode != 0:
        print("FAIL building the compiled table: %s" % link.stderr.decode())
        return 1
    failed = 0 if bad else 1
    for case in cases:
        if not case["name"].startswith("doc/") or case.get("fns"):
            continue
        want_rc, want = python_render(case)
        ctx_path = os.path.join(tmp, "ctx.json")
        with open(ctx_path, "w", encoding="utf-8") as f:
            json.dump(case["ctx"], f)
        got = subprocess.run([exe, case["name"][4:], ctx_path], capture_output=True).stdout
        ok = want_rc == 0 and want == got
        failed += not ok
        print("%s compiled table renders %s" % ("ok  " if ok else "FAIL", case["name"]))
    return failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/tpl")
    ap.add_argument("-k", default="")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    binary = os.path.join(args.build, "tools", "tp-template")
    if not os.access(binary, os.X_OK):
        sys.exit("no %s: build it with make BUILD=%s template-tools" % (binary, args.build))
    with open(os.path.join(HERE, "cases.json"), encoding="utf-8") as f:
        cases = [c for c in json.load(f) if args.k in c["name"]]
    tmpdir = os.path.join(args.build, "template-test")
    os.makedirs(tmpdir, exist_ok=True)
    failed = 0
    for case in cases:
        want_rc, want = python_render(case)
        got_rc, got = c_render(binary, case, tmpdir)
        expect_error = case.get("error")
        if want_rc and got_rc:
            want, got = normalize_sets(want), normalize_sets(got)
        same = want == got or (expect_error == "other" and want_rc and got_rc)
        ok = want_rc == got_rc and same and bool(expect_error) == bool(want_rc)
        if args.v or not ok:
            print("%s %s" % ("ok  " if ok else "FAIL", describe(case)))
        if not ok:
            failed += 1
            print("  tornado (rc %d) vs ours (rc %d):" % (want_rc, got_rc))
            for line in difflib.unified_diff(want.decode("utf-8", "replace").splitlines(True),
                                             got.decode("utf-8", "replace").splitlines(True),
                                             "tornado", "tp-template"):
                sys.stdout.write("  " + line if line.endswith("\n") else "  " + line + "\n")
    if not args.k:
        failed += check_compile(args.build, cases)
    print("template differential: %d cases, %d failed" % (len(cases), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
