"""tests/lib/mariadb.py's private server for programs that are not Python (the browser test,
tools/bench-blog.sh): starts it, prints its env() as one JSON line, and stops it and removes
its directory when stdin closes (or on SIGTERM).

    python3 tests/lib/mariadb_serve.py [--tcp]"""
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mariadb  # noqa: E402


def main():
    db = mariadb.Server(tcp="--tcp" in sys.argv[1:])
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        db.start()
        print(json.dumps(db.env()), flush=True)
        sys.stdin.read()
    finally:
        db.stop()


if __name__ == "__main__":
    main()
