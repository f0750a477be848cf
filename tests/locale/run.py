#!/usr/bin/env python3
"""Differential tests of web/locale/locale.h against Debian's python3-tornado (tornado.locale).

Usage: python3 tests/locale/run.py --build=build [-v]

Every call (format_date over a grid of ages, offsets, flags and locales; format_day; list;
friendly_number; translate and pgettext over CSV files and .mo catalogs; get_closest;
get_browser_locale over Accept-Language headers; the registry's loads) is made once with
Tornado and once through build/tools/tp_locale (one process, JSON lines); the results
must be identical. Tornado reads the clock itself, so its `datetime` is replaced by one
whose utcnow() is the "now" of the call. Exit status 1 and a diff if anything differs."""
import argparse
import datetime as real_datetime
import gettext
import itertools
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import types

try:
    import tornado.locale
    import tornado.httputil
    import tornado.web
except ImportError:  # a python3 without Tornado (pyenv): Debian's has python3-tornado
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- fixtures --------------------------------------------------------------------------

def write_mo(path, entries, big_endian=False, version=0, corrupt=False):
    """A GNU .mo file of entries [(msgid, msgstr)], msgid/msgstr as bytes, sorted by msgid
    as msgfmt does (no hash table)."""
    entries = sorted(entries, key=lambda e: e[0])
    n = len(entries)
    ids = strs = b""
    pos = []
    for k, v in entries:
        pos.append((len(ids), len(k), len(strs), len(v)))
        ids += k + b"\0"
        strs += v + b"\0"
    kstart = 28 + 16 * n
    vstart = kstart + len(ids)
    table = []
    for o1, l1, _, _ in pos:
        table += [l1, o1 + kstart]
    for _, _, o2, l2 in pos:
        table += [l2, o2 + vstart]
    e = ">" if big_endian else "<"
    out = struct.pack(e + "7I", 0x950412DE, version << 16, n, 28, 28 + 8 * n, 0, 0)
    out += struct.pack(e + "%dI" % len(table), *table) + ids + strs
    if corrupt:
        out = out[: vstart + 2]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(out)


def header(plural=None, charset="utf-8"):
    h = "Project-Id-Version: locale tests\n"
    if charset is not None:
        h += "Content-Type: text/plain; charset=%s\n" % charset
    if plural is not None:
        h += "Plural-Forms: %s\n" % plural
    return h


def entry(msgid, msgstr, enc="utf-8"):
    """msgid "ctx\\x04id" or "id\\x00plural"; msgstr a str or a list of plural forms."""
    if isinstance(msgstr, list):
        msgstr = "\0".join(msgstr)
    return (msgid.encode(enc), msgstr.encode(enc))


SEC = "1 second ago\0%(seconds)d seconds ago"
MIN = "1 minute ago\0%(minutes)d minutes ago"
HOUR = "1 hour ago\0%(hours)d hours ago"

CATALOGS = {
    # Tornado's own test catalog plus date strings
    "fr_FR": (header("nplurals=2; plural=(n > 1);"), [
        ("school", "école"), ("law\x04right", "le droit"), ("good\x04right", "le bien"),
        ("organization\x04club\0clubs", ["le club", "les clubs"]),
        ("stick\x04club\0clubs", ["le bâton", "les bâtons"]),
        ("club\0clubs", ["un club", "des clubs"]),
        ("weird\x04sep", "has\x04separator"), ("plain", "simple"),
        ("April", "avril"), ("Sunday", "dimanche"), ("Monday", "lundi"),
        (SEC, ["il y a %(seconds)d seconde", "il y a %(seconds)d secondes"]),
        (MIN, ["il y a %(minutes)d minute", "il y a %(minutes)d minutes"]),
        ("yesterday at %(time)s", "hier à %(time)s"),
        ("%(weekday)s, %(month_name)s %(day)s", "%(weekday)s %(day)s %(month_name)s"),
        ("%(commas)s and %(last)s", "%(commas)s et %(last)s"),
    ]),
    "pt": (header("nplurals=2; plural=n != 1;"), [
        ("school", "escola"), ("only in pt", "só pt"), ("apple\0apples", ["maçã", "maçãs"]),
        ("ctx\x04only in pt", "só pt (ctx)"),
    ]),
    "pt_BR": (header("nplurals=2; plural=n > 1;"), [
        ("school", "escola (BR)"), ("house\0houses", ["casa", "casas"]),
    ]),
    "pl_PL": (header("nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && "
                     "(n%100<10 || n%100>=20) ? 1 : 2);"), [
        ("file\0files", ["plik", "pliki", "plików"]),
        (SEC, ["%(seconds)d sekunda temu", "%(seconds)d sekundy temu",
               "%(seconds)d sekund temu"]),
        (HOUR, ["%(hours)d godzina temu", "%(hours)d godziny temu", "%(hours)d godzin temu"]),
        ("May", "maja"),
    ]),
    "ru_RU": (header("nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
                     "(n%100<10 || n%100>=20) ? 1 : 2);"), [
        ("file\0files", ["файл", "файла", "файлов"]),
    ]),
    "ar_AR": (header("nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && "
                     "n%100<=10 ? 3 : n%100>=11 ? 4 : 5;"), [
        ("file\0files", ["f0", "f1", "f2", "f3", "f4", "f5"]),
    ]),
    "ja_JP": (header("nplurals=1; plural=0;"), [("file\0files", ["ファイル"])]),
    "zh_CN": (header("nplurals=1; plural=0;"), [("April", "四月")]),
    # Python's rewrite of C: "||" returns an operand, "!" binds looser than "==", "/" floors
    "qa": (header("nplurals=4; plural=(n || 5) - 4;"), [("x\0xs", ["a0", "a1", "a2", "a3"])]),
    "qb": (header("nplurals=4; plural=!n == 1 ? 2 : 3;"), [("x\0xs", ["b0", "b1", "b2", "b3"])]),
    "qc": (header("nplurals=4; plural=(n + 10) / 3 % 4;"), [("x\0xs", ["c0", "c1", "c2", "c3"])]),
    "qd": (header("nplurals=4; plural= n<2 ? n : n<5 ? 2 : 3 ;"), [("x\0xs", ["d0", "d1", "d2", "d3"])]),
    "qe": (header("nplurals=3; plural=n == 1 == 0 ? 2 : n>=2>=1;"), [("x\0xs", ["e0", "e1", "e2"])]),
    "qf": (header("nplurals=3; plural=!!n&&!n+1;"), [("x\0xs", ["g0", "g1", "g2"])]),
    # plain and plural entries under one msgid; a later plural entry keeps extra forms
    "qg": (header("nplurals=3; plural=n%3;"), [
        ("dup", "plain"), ("dup\0dups", ["p0", "p1"]), ("x\0xs", ["a", "b", "c"]),
        ("x\0ys", ["A", "B"])]),
    "qh": (header(None, charset=None), [("ascii only", "seulement ascii")]),
    "qi": ("Content-Type: text/plain; charset=latin-1\n", [("cafe", "café")], "latin-1"),
    # catalogs Python refuses: the locale is not loaded
    "xa": (header("nplurals=2; plural=n == !n;"), [("x", "y")]),
    "xb": (header("nplurals=2; plural=n ++ 1;"), [("x", "y")]),
    "xc": ("Content-Type: text/plain\n", [("x", "y")]),
    "xd": (header("nplurals=2"), [("x", "y")]),
    "xe": (header(None, charset=None), [("x", "é")]),
    "xf": (header("nplurals=2; plural=" + "(" * 21 + "n" + ")" * 21 + ";"), [("x", "y")]),
    "xg": (header("nplurals=2; plural=n>1 #;"), [("x", "y")]),
}


def build_gettext(root):
    """Catalogs: little-endian, one big-endian (de_DE), and broken files."""
    d = os.path.join(root, "mo")
    for lang, spec in CATALOGS.items():
        hdr, pairs = spec[0], spec[1]
        enc = spec[2] if len(spec) > 2 else "utf-8"
        ents = [entry("", hdr, enc)] + [entry(k, v, enc) for k, v in pairs]
        write_mo(os.path.join(d, lang, "LC_MESSAGES", "app.mo"), ents)
    de = [entry("", header("nplurals=2; plural=n != 1;")), entry("school", "Schule"),
          entry("file\0files", ["Datei", "Dateien"]), entry("yesterday", "gestern")]
    write_mo(os.path.join(d, "de_DE", "LC_MESSAGES", "app.mo"), de, big_endian=True)
    write_mo(os.path.join(d, "xh", "LC_MESSAGES", "app.mo"), de, version=2)
    write_mo(os.path.join(d, "xi", "LC_MESSAGES", "app.mo"), de, corrupt=True)
    os.makedirs(os.path.join(d, "xj", "LC_MESSAGES"))
    with open(os.path.join(d, "xj", "LC_MESSAGES", "app.mo"), "wb") as f:
        f.write(b"not a catalog at all")
    # zz_ZZ parses, but its fallback zz does not: gettext.translation fails for both
    write_mo(os.path.join(d, "zz_ZZ", "LC_MESSAGES", "app.mo"), de)
    write_mo(os.path.join(d, "zz", "LC_MESSAGES", "app.mo"), de, corrupt=True)
    os.makedirs(os.path.join(d, "nomo", "LC_MESSAGES"))
    os.makedirs(os.path.join(d, ".hidden", "LC_MESSAGES"))
    write_mo(os.path.join(d, ".hidden", "LC_MESSAGES", "app.mo"), de)
    return d


def build_csv(root):
    """The committed CSV directory plus re-encodings and broken files, one per directory."""
    dirs = {"csv": os.path.join(HERE, "csv"), "root": root}
    with open(os.path.join(HERE, "csv", "es_LA.csv"), "rb") as f:
        es = f.read().decode("utf-8")

    def one(name, fname, data):
        d = os.path.join(root, name)
        os.makedirs(d)
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)
        dirs[name] = d

    one("bom8", "es_LA.csv", es.encode("utf-8-sig"))
    one("bom16le", "es_LA.csv", b"\xff\xfe" + es.replace("\n", "\r\n").encode("utf-16-le"))
    one("bom16be", "es_LA.csv", b"\xfe\xff" + es.replace("\n", "\r").encode("utf-16-be"))
    one("bad8", "es_LA.csv", b'"school","\xe9cole"\n')
    one("odd16", "es_LA.csv", b"\xff\xfe" + "ab".encode("utf-16-le") + b"\x00")
    one("surrogate16", "es_LA.csv", b"\xff\xfe" + b"\x00\xd8a\x00")
    one("dots", "es.LA.csv", b'"a","b"\n')
    one("nul", "es_LA.csv", b'"a\x00b","c\x00d"\n"x","y"\n')
    one("crlf", "es_LA.csv", b'"school","escuela"\r\n"a\r\nb","c\rd"\r"e","f"')
    return dirs


# ---- the calls ---------------------------------------------------------------------------

NOWS = [1367174100, 1367174100.75, 1709251230, 1609459210.25, 0, 86400 * 3 + 5,
        951782400 + 43200, 4102444799]
AGES = [0, 0.4, 1, 1.5, 2, 49, 49.9999995, 50, 59, 60, 89, 90, 91, 149, 150, 151, 2969,
        2970, 2999, 3000, 5399, 5400, 9000, 12600, 86399, 86399.5, 86400, 86401, 90000,
        86400 * 2, 86400 * 4 + 86399, 86400 * 5, 86400 * 100, 86400 * 333 + 86399,
        86400 * 334, 86400 * 500, 86400 * 3650, -0.5, -1, -30, -59, -59.9, -60, -61, -3600,
        -86400 - 30, -86400 * 400]
OFFSETS = [0, 60, -60, 330, -330, -345, 720, -840, 1, -1, 1439, -1440, 2000]
DATE_LOCALES = ["en", "en_US", "es_LA", "fr_FR", "zh_CN", "de_DE", "fa_IR", "ar_AR",
                "pt_BR", "pt", "pl_PL", "ja_JP"]
FLAGS = list(itertools.product([True, False], repeat=3))


def date_calls(rng, locales, budget):
    calls = []
    for now, age, off, loc in itertools.product(NOWS, AGES, OFFSETS, locales):
        for rel, sh, full in FLAGS:
            calls.append({"op": "format_date", "locale": loc, "date": now - age, "now": now,
                          "gmt_offset": off, "relative": rel, "shorter": sh,
                          "full_format": full})
    rng.shuffle(calls)
    calls = calls[:budget]
    # the edges of datetime's range (Tornado raises there)
    for date, now, off in [(-62135596800, -62135596800, 0), (-62135596800, -62135596800, 60),
                           (-62135596800, -62135596700, -60), (253402300799, 253402300799, -1),
                           (253402300799.9999996, 253402300799, 0), (-62135596801, 0, 0),
                           (253402300800, 0, 0), (253402300799, 253402300799, 1),
                           (-62135596800 + 86400, -62135596800 + 86400, 0)]:
        calls.append({"op": "format_date", "locale": "en_US", "date": date, "now": now,
                      "gmt_offset": off, "relative": True, "shorter": False,
                      "full_format": False})
    return calls


def day_calls(locales):
    calls = []
    for date, off, loc, dow in itertools.product(
            [1367174100, 0, 951868800, 1709251230.5, -86400 * 365 * 300, 253402300799],
            [0, 60, -60, -1439, 1440], locales, [True, False]):
        calls.append({"op": "format_day", "locale": loc, "date": date, "gmt_offset": off,
                      "dow": dow})
    return calls


PARTS = [[], ["A"], ["A", "B"], ["A", "B", "C"], ["ä", "", "ç", "d"], ["x"] * 6,
         ["%(last)s", "%%"]]
NUMBERS = [0, 7, -7, 12, 999, 1000, -1000, 99999, 100000, -100000, 1234567, -999999,
           2 ** 63 - 1, -2 ** 63]
COUNTS = [-20, -1, 0, 1, 2, 3, 4, 5, 11, 12, 21, 22, 25, 101, 102, 111, 112, 1000000]


def text_calls(locales):
    calls = []
    for loc in locales:
        calls.append({"op": "info", "locale": loc})
        calls += [{"op": "list", "locale": loc, "parts": p} for p in PARTS]
        calls += [{"op": "friendly_number", "locale": loc, "n": n} for n in NUMBERS]
    return calls


MESSAGES = ["school", "I love you", "plain", "only in pt", "ascii only", "cafe", "dup",
            "April", "missing", "", "comma, inside", 'a "quoted" word', "multi\nline",
            "spaced", "yesterday", "a\x00b", "ab", "trailing", "bad", "plain", "x",
            "%(commas)s and %(last)s", "Monday"]
PLURALS = [("%(name)s liked this", "%(name)s liked this"), ("club", "clubs"),
           ("apple", "apples"), ("house", "houses"), ("file", "files"), ("x", "xs"),
           ("x", "ys"), ("dup", "dups"), ("1 second ago", "%(seconds)d seconds ago"),
           ("missing", "missings")]
CONTEXTS = ["law", "good", "organization", "stick", "weird", "ctx", "nope", ""]


def translate_calls(locales):
    calls = []
    for loc in locales:
        for m in MESSAGES:
            calls.append({"op": "translate", "locale": loc, "msg": m, "plural": None,
                          "count": None})
            for ctx in CONTEXTS:
                calls.append({"op": "pgettext", "locale": loc, "ctx": ctx, "msg": m,
                              "plural": None, "count": None})
        for (one, many), count in itertools.product(PLURALS, COUNTS):
            calls.append({"op": "translate", "locale": loc, "msg": one, "plural": many,
                          "count": count})
            for ctx in CONTEXTS[::3] + ["organization"]:
                calls.append({"op": "pgettext", "locale": loc, "ctx": ctx, "msg": one,
                              "plural": many, "count": count})
        calls.append({"op": "pgettext", "locale": loc, "ctx": "weird", "msg": "sep",
                      "plural": None, "count": None})
    return calls


CLOSEST = [["en-us"], ["EN_us"], ["fr-fr"], ["fr"], ["FR_fr"], ["pt-PT"], ["pt"],
           ["pt_br"], ["a_b_c", "es-la"], [""], ["es_LA_x"], ["de-de"], ["zh-cn"], ["xx"],
           [], ["pt-br", "fr"], ["es"], ["ES"], ["es-"], ["-la"], ["_"], ["en_US "],
           ["qa"], ["QA"], ["de-DE-1996", "ja"], ["ja_jp"], ["pl"], ["xa"], ["zz_ZZ"],
           ["pt-" + "x" * 300], ["x" * 300 + "_BR"]]
HEADERS = [None, "", "  ", "fr-FR,fr;q=0.9,en;q=0.8", "es-LA;q=0", "es;q=-1, fr",
           "de;q=abc, es-la", "zh-CN;q=1_0, es-LA;q=2", "fr-fr;q=inf, es-la",
           "fr-fr;q=nan, es-la", "en;level=1;q=0.1, es-la;q=0.5", "fr-fr;q=0.5,es-la;q=0.5",
           "es-la;q=0.5,fr-fr;q=0.5", "pt-BR;q= 0.3 ", "*", "fr-fr ;q=1", "es-la;Q=0.1",
           "es-la;q=1e-400", "es-la;q=.5, fr-fr;q=5.", "es-la;q=1_, fr-fr", "es-la;q=+0.5",
           "es-la;q=-0, pt-br", "es-la;q=0x1, fr-fr;q=1__0", "es-la\xa0;q=0.5", "\x85fr-fr",
           "es-la;q=1e3;x, fr-fr;q=1e2", "es-la; q=0.2, fr-fr; q=0.1", "de,,fr-fr",
           "ja-jp;q=0.001", "pl;q=0.7, ru-ru;q=0.8", "fr-fr;q=0.5;q=0.9, es-la;q=0.6",
           "es-la;q=1.0e+0, fr-fr;q=9.9E-1", "es-la;q=-inf, fr-fr;q=Infinity",
           "es-la;q=1 0", "es-la;q=\u00df"]
DEFAULTS = ["en_US", "es-LA", "xx", "fr_fr"]


def registry_calls():
    calls = [{"op": "supported"}]
    calls += [{"op": "closest", "codes": c} for c in CLOSEST]
    calls += [{"op": "get", "code": c} for c in ["en_US", "es_LA", "es", "fr", "xx", "pt"]]
    calls += [{"op": "browser", "header": h, "default": d}
              for h, d in itertools.product(HEADERS, DEFAULTS)]
    return calls


def sessions(fixtures, mo_dir, rng):
    csv_locales = DATE_LOCALES
    s = [{"op": "names"}]
    s += registry_calls() + text_calls(["en", "en_US", "fr_FR", "es_LA"])
    s += date_calls(rng, ["en", "en_US", "zh_CN", "de_DE"], 1500)
    s += [{"op": "load_csv", "dir": fixtures["csv"]}]
    s += registry_calls() + text_calls(csv_locales) + translate_calls(csv_locales)
    s += date_calls(rng, csv_locales, 12000) + day_calls(csv_locales)
    s += [{"op": "set_default", "code": "es_LA"}] + registry_calls()
    s += [{"op": "set_default", "code": "xx_YY"}] + registry_calls()
    s += [{"op": "info", "locale": "xx_YY"}, {"op": "set_default", "code": "en_US"}]
    for name in ["bom8", "bom16le", "bom16be", "crlf", "nul"]:
        s += [{"op": "load_csv", "dir": fixtures[name]}, {"op": "supported"}]
        s += translate_calls(["es_LA"])[:200] + date_calls(rng, ["es_LA"], 150)
    gettext_locales = ["fr_FR", "pt_BR", "pt", "pl_PL", "ru_RU", "ar_AR", "ja_JP", "zh_CN",
                       "de_DE", "qa", "qb", "qc", "qd", "qe", "qf", "qg", "qh", "qi", "en_US",
                       "zz_ZZ", "xa"]
    s += [{"op": "load_gettext", "dir": mo_dir, "domain": "app"}]
    s += registry_calls() + text_calls(gettext_locales) + translate_calls(gettext_locales)
    s += date_calls(rng, ["fr_FR", "pl_PL", "de_DE", "zh_CN"], 3000)
    s += day_calls(["fr_FR", "de_DE"])
    s += [{"op": "load_gettext", "dir": mo_dir, "domain": "nothing"}, {"op": "supported"}]
    # loads that fail (each followed by a fresh load, as Tornado's state after a failure
    # is not worth copying)
    for name in ["bad8", "odd16", "surrogate16", "dots"]:
        s += [{"op": "load_csv", "dir": fixtures[name]},
              {"op": "load_csv", "dir": fixtures["csv"]}]
    s += [{"op": "load_csv", "dir": "/nonexistent/locale/dir"},
          {"op": "load_csv", "dir": fixtures["csv"]}, {"op": "supported"}]
    s += header_calls(rng, 3000) + plural_calls(rng, 3000)
    s += csv_calls(rng, fixtures["root"], 400) + mo_calls(rng, fixtures["root"], 300)
    return s


# ---- random inputs (fixed seed) -------------------------------------------------------------

PLURAL_OPS = ["||", "&&", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%"]
PLURAL_NS = list(range(-12, 32)) + [99, 100, 101, 102, 110, 111, 112, 121, 1000]


def rand_plural(rng, depth=0):
    k = rng.randrange(7 if depth < 3 else 2)
    sp = lambda: rng.choice(["", "", " ", "  ", "\t"])
    if k == 0:
        return "n"
    if k == 1:
        return rng.choice(["0", "1", "2", "3", "5", "10", "20", "007", "100"])
    if k == 2:
        return "(" + sp() + rand_plural(rng, depth + 1) + sp() + ")"
    if k == 3:
        return "!" + sp() + rand_plural(rng, depth + 1)
    if k == 4:
        return "%s?%s:%s" % (rand_plural(rng, depth + 1), rand_plural(rng, depth + 1),
                             rand_plural(rng, depth + 1))
    return sp().join([rand_plural(rng, depth + 1), rng.choice(PLURAL_OPS),
                      rand_plural(rng, depth + 1)])


def plural_calls(rng, count):
    calls = []
    while len(calls) < count:
        e = rand_plural(rng)
        if rng.random() < 0.15:  # a mutation: often invalid, sometimes still valid
            i = rng.randrange(len(e) + 1)
            e = e[:i] + rng.choice("()!?:n1 =&|#-x") + e[i + rng.randrange(2):]
        if e.count("*") <= 2:  # keep values inside int64 (Python's are unbounded)
            calls.append({"op": "plural", "expr": e, "n": PLURAL_NS})
    return calls


HEADER_CODES = ["fr-FR", "fr", "es-la", "en", "de", "xx", "pt-br", "*", "", "PT", "zh-CN"]
HEADER_PARAMS = [";q=0.5", ";q=1", ";q=0", ";q=-1", ";q=abc", ";q=1e3", ";q=.5", ";q=1_0",
                 ";q=nan", ";q=inf", ";level=1", " ;q=0.3", "; q=0.2", ";Q=0.4", "", "", "",
                 ";q=0.5;q=0.9", ";q=", ";q=5.", ";q=0.50"]
HEADER_SPACE = ["", "", " ", "\t", "\xa0", "\x85"]


def header_calls(rng, count):
    calls = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randrange(1, 5)):
            parts.append(rng.choice(HEADER_SPACE) + rng.choice(HEADER_CODES) +
                         rng.choice(HEADER_PARAMS) + rng.choice(HEADER_SPACE))
        calls.append({"op": "browser", "header": rng.choice([",", ", ", ",,"]).join(parts),
                      "default": rng.choice(DEFAULTS)})
    return calls


CSV_PIECES = ['"', '"', ",", ",", "\n", "\r\n", "\r", "a", "b", " ", '""', "plural",
              "singular", "unknown", "x y", "\u00a0", "\u3000", "\u00e9", "\t", '"plural"',
              ',"', '",', "\x00", "\u2028", "\ufeff"]


def csv_calls(rng, root, count):
    """Random CSV files, loaded by both; the three tables compared by size and content."""
    calls = []
    for i in range(count):
        text = "".join(rng.choice(CSV_PIECES) for _ in range(rng.randrange(1, 80)))
        enc = rng.choice(["utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-be-bom"])
        data = (b"\xfe\xff" + text.encode("utf-16-be") if enc == "utf-16-be-bom"
                else text.encode(enc))
        d = os.path.join(root, "fuzz%d" % i)
        os.makedirs(d)
        with open(os.path.join(d, "es_LA.csv"), "wb") as f:
            f.write(data)
        calls += [{"op": "load_csv", "dir": d}, {"op": "csv_stats", "code": "es_LA"}]
        tornado_call(calls[-2])
        tables = tornado.locale._translations.get("es_LA", {})
        for msg in tables.get("unknown", {}):
            calls.append({"op": "translate", "locale": "es_LA", "msg": msg, "plural": None,
                          "count": None})
        for msg in tables.get("singular", {}):
            calls.append({"op": "translate", "locale": "es_LA", "msg": msg, "plural": "-",
                          "count": 1})
        for msg in tables.get("plural", {}):
            calls.append({"op": "translate", "locale": "es_LA", "msg": "-", "plural": msg,
                          "count": 2})
    return calls


def mo_calls(rng, root, count):
    """Catalogs with a few bytes changed: loaded or refused alike, then translated alike."""
    hdr, pairs = CATALOGS["fr_FR"]
    base = os.path.join(root, "mobase", "fz", "LC_MESSAGES", "app.mo")
    write_mo(base, [entry("", hdr)] + [entry(k, v) for k, v in pairs], rng.random() < 0.5)
    with open(base, "rb") as f:
        good = f.read()
    calls = []
    for i in range(count):
        data = bytearray(good)
        for _ in range(rng.randrange(1, 4)):
            pos = rng.randrange(len(data)) if rng.random() < 0.5 else rng.randrange(28 + 16 * 17)
            data[pos % len(data)] = rng.choice([0, 1, 0xff, 0x80, 0x3b, 0x3d, rng.randrange(256)])
        if rng.random() < 0.1:
            data = data[:rng.randrange(len(data))]
        d = os.path.join(root, "mofuzz%d" % i)
        os.makedirs(os.path.join(d, "fz", "LC_MESSAGES"))
        with open(os.path.join(d, "fz", "LC_MESSAGES", "app.mo"), "wb") as f:
            f.write(bytes(data))
        calls += [{"op": "load_gettext", "dir": d, "domain": "app"}, {"op": "supported"}]
        for m in ["school", "plain", "April", "", "Monday"]:
            calls.append({"op": "translate", "locale": "fz", "msg": m, "plural": None,
                          "count": None})
        for n in [0, 1, 2]:
            calls.append({"op": "pgettext", "locale": "fz", "ctx": "stick", "msg": "club",
                          "plural": "clubs", "count": n})
            calls.append({"op": "translate", "locale": "fz", "msg": "1 second ago",
                          "plural": "%(seconds)d seconds ago", "count": n})
    return calls


# ---- Tornado's side -------------------------------------------------------------------------

class FixedClock(real_datetime.datetime):
    now_value = None

    @classmethod
    def utcnow(cls):
        return cls.now_value


tornado.locale.datetime = types.SimpleNamespace(datetime=FixedClock,
                                                timedelta=real_datetime.timedelta)


def tornado_call(c):
    op = c["op"]
    L = tornado.locale
    if op == "names":
        return {k: dict(v) for k, v in L.LOCALE_NAMES.items()}
    if op == "load_csv":
        L.load_translations(c["dir"])
        L._use_gettext = False  # Tornado keeps gettext mode once set: see docs/locale.md
        L.Locale._cache = {}
        return None
    if op == "load_gettext":
        L.load_gettext_translations(c["dir"], c["domain"])
        L.Locale._cache = {}
        return None
    if op == "set_default":
        L.set_default_locale(c["code"])
        L.Locale._cache = {}
        return None
    if op == "plural":
        try:
            fn = gettext.c2py(c["expr"])
        except Exception:  # ValueError, or SyntaxError from c2py's exec
            raise ValueError("does not compile")
        out = []
        for n in c["n"]:
            try:
                out.append(fn(n))
            except ZeroDivisionError:
                out.append(None)
        return out
    if op == "csv_stats":
        t = L._translations[c["code"]]
        return [len(t.get(k, {})) for k in ("unknown", "singular", "plural")]
    if op == "supported":
        return sorted(L.get_supported_locales())
    if op == "get":
        return L.Locale.get(c["code"]).code
    if op == "closest":
        return L.get(*c["codes"]).code
    if op == "browser":
        headers = tornado.httputil.HTTPHeaders()
        if c["header"] is not None:
            headers["Accept-Language"] = c["header"]
        handler = types.SimpleNamespace(request=types.SimpleNamespace(headers=headers))
        return tornado.web.RequestHandler.get_browser_locale(handler, c["default"]).code
    loc = L.get(c["locale"])
    if op == "info":
        return {"code": loc.code, "name": loc.name, "rtl": loc.rtl,
                "gettext": isinstance(loc, L.GettextLocale)}
    if op == "translate":
        return loc.translate(c["msg"], c["plural"], c["count"])
    if op == "pgettext":
        return loc.pgettext(c["ctx"], c["msg"], c["plural"], c["count"])
    if op == "format_date":
        FixedClock.now_value = real_datetime.datetime.utcfromtimestamp(c["now"])
        return loc.format_date(c["date"], c["gmt_offset"], c["relative"], c["shorter"],
                               c["full_format"])
    if op == "format_day":
        date = real_datetime.datetime.utcfromtimestamp(c["date"])
        return loc.format_day(date, c["gmt_offset"], c["dow"])
    if op == "list":
        return loc.list(c["parts"])
    if op == "friendly_number":
        return loc.friendly_number(c["n"])
    raise ValueError(op)


def tornado_result(c):
    try:
        return {"r": tornado_call(c)}
    except Exception:
        return {"error": True}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    exe = os.path.join(args.build, "tools", "tp_locale")
    if not os.path.exists(exe):
        sys.exit("%s not built (make BUILD=%s %s)" % (exe, args.build, exe))
    import logging
    logging.getLogger("tornado.general").setLevel(logging.CRITICAL)
    t0 = time.monotonic()
    root = tempfile.mkdtemp(prefix="tp-locale-")
    try:
        fixtures = build_csv(root)
        mo_dir = build_gettext(root)
        L = tornado.locale
        saved = (L._translations, L._supported_locales, L._use_gettext, L._default_locale)
        calls = sessions(fixtures, mo_dir, random.Random(6))  # csv_calls loads files
        L._translations, L._supported_locales, L._use_gettext, L._default_locale = saved
        L.Locale._cache = {}
        want = [tornado_result(c) for c in calls]
        text = "".join(json.dumps(c) + "\n" for c in calls)
        proc = subprocess.run([exe], input=text.encode(), stdout=subprocess.PIPE, timeout=120)
    finally:
        shutil.rmtree(root)
    got = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    bad = [(c, w, g) for c, w, g in itertools.zip_longest(calls, want, got) if w != g]
    kinds, errors, distinct = {}, {}, {}
    for c, w in zip(calls, want):
        kinds[c["op"]] = kinds.get(c["op"], 0) + 1
        errors[c["op"]] = errors.get(c["op"], 0) + ("error" in w)
        distinct.setdefault(c["op"], set()).add(json.dumps(w))
    if args.v or bad:
        print("calls (errors, distinct results):", ", ".join(
            "%s %d (%d, %d)" % (k, n, errors[k], len(distinct[k])) for k, n in sorted(kinds.items())))
    for c, w, g in bad[:30]:
        print("DIFF", json.dumps(c, ensure_ascii=False))
        print("  tornado:", json.dumps(w, ensure_ascii=False))
        print("  ours:   ", json.dumps(g, ensure_ascii=False))
    print("locale: %d calls, %d differ, exit %d, %.1f s" % (len(calls), len(bad),
                                                            proc.returncode,
                                                            time.monotonic() - t0))
    sys.exit(1 if bad or proc.returncode else 0)


if __name__ == "__main__":
    main()
