#!/bin/bash
# The blog's entry page (one indexed SELECT by slug, a template with the Entry UI module) under
# wrk, in one run on the same private MariaDB (tests/lib/mariadb_serve.py, 1000 entries):
# build/examples/blog.so under tornado-prefork with one worker, then Tornado's blog demo
# ported to MySQL with a thread-pool driver (tools/bench-blog-tornado.py, one process, Debian's
# Tornado). The server under test is pinned to CPU 1; wrk and mariadbd share CPU 0. For each:
# req/s, latency p50/p99, the server's CPU microseconds per request (utime+stime of all its
# processes: master and worker, or the Python process with its threads) and the database's.
#
# Usage: tools/bench-blog.sh [seconds] [connections] [driver]
#        (needs make, wrk, mariadb-server, python3-mysqldb / python3-pymysql, python3-tornado)
set -u
D=${1:-8}; C=${2:-20}; DRIVER=${3:-mysqldb}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/tp-bench-blog.XXXXXX)
TP=9041; PY=9042; SRV_PID=; DB_PID=
cleanup() {
    [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
    [ -n "$DB_PID" ] && exec {DBIN}>&- && wait "$DB_PID" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
mkfifo "$dir/db.in" "$dir/db.out"
taskset -c 0 python3 "$root/tests/lib/mariadb_serve.py" <"$dir/db.in" >"$dir/db.out" & DB_PID=$!
exec {DBIN}>"$dir/db.in"
read -r env_line <"$dir/db.out" || { echo "MariaDB did not start"; exit 1; }
js() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$env_line" "$1"; }
SOCK=$(js TP_DB_SOCKET); USER=$(js TP_DB_USER); PASS=$(js TP_DB_PASSWORD); NAME=$(js TP_DB_NAME)
MYSQLD=$(cat "$(dirname "$SOCK")/mysqld.pid")
sql() { mariadb --no-defaults --socket="$SOCK" -uroot "$NAME" -e "$1"; }
sql "$(cat "$root/examples/blog/schema.sql")
INSERT INTO authors (email, name, hashed_password) VALUES ('bench@example.com', 'Bench', '');
INSERT INTO entries (author_id, slug, title, markdown, html, published, updated)
  SELECT 1, CONCAT('entry-', seq), CONCAT('Entry number ', seq), REPEAT('Some text. ', 80),
         CONCAT('<p>', REPEAT('Some <em>text</em>. ', 80), '</p>'),
         UTC_TIMESTAMP() - INTERVAL seq MINUTE, UTC_TIMESTAMP() - INTERVAL seq MINUTE
  FROM seq_1_to_1000;" || exit 1
URLPATH=/entry/entry-500

wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
  sleep 0.05; done; echo "port $1 did not open"; exit 1; }
# utime+stime (ticks) of pid and its child processes: the peers' script (../shared/bench).
ticks_sh=$root/../shared/bench/cputicks.sh
[ -x "$ticks_sh" ] || ticks_sh=/work/shared/bench/cputicks.sh
tree_ticks() { "$ticks_sh" "$1"; }
run() { # name port pid
    local hz t0 t1 d0 d1 out rps n p50 p99
    hz=$(getconf CLK_TCK)
    curl -sf "http://127.0.0.1:$2$URLPATH" -o "$dir/$1.html" || { echo "$1: no page"; return; }
    taskset -c 0 wrk -t1 -c"$C" -d2s "http://127.0.0.1:$2$URLPATH" >/dev/null # warm-up
    t0=$(tree_ticks "$3"); d0=$(tree_ticks "$MYSQLD")
    out=$(taskset -c 0 wrk -t1 -c"$C" -d"${D}s" --latency "http://127.0.0.1:$2$URLPATH")
    t1=$(tree_ticks "$3"); d1=$(tree_ticks "$MYSQLD")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    n=$(awk '/requests in/ {print $1}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out"); p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    printf '%-14s req/s %9s  p50 %8s  p99 %8s  server-cpu-us/req %7s  db-cpu-us/req %6s  errors %s\n' \
        "$1" "$rps" "$p50" "$p99" \
        "$(awk -v d=$((t1 - t0)) -v n="$n" -v hz="$hz" 'BEGIN {printf "%.1f", d * 1e6 / hz / n}')" \
        "$(awk -v d=$((d1 - d0)) -v n="$n" -v hz="$hz" 'BEGIN {printf "%.1f", d * 1e6 / hz / n}')" \
        "$(grep -c 'Non-2xx\|Socket errors' <<<"$out")"
}
URL="mysql://$USER:$PASS@/$NAME?unix_socket=$SOCK"
BLOG_DB=$URL BLOG_COOKIE_SECRET=bench taskset -c 1 "$root/build/tornado-prefork" --procs=1 \
    --port=$TP --address=127.0.0.1 --logging=warning "$root/build/examples/blog.so" & SRV_PID=$!
wait_port $TP
run tp-blog.so $TP $SRV_PID
kill $SRV_PID; wait $SRV_PID 2>/dev/null
taskset -c 1 /usr/bin/python3 "$root/tools/bench-blog-tornado.py" --port=$PY --db-socket="$SOCK" \
    --db-user="$USER" --db-password="$PASS" --db-name="$NAME" --driver="$DRIVER" & SRV_PID=$!
wait_port $PY
run "tornado-$DRIVER" $PY $SRV_PID
kill $SRV_PID; wait $SRV_PID 2>/dev/null; SRV_PID=
cmp -s "$dir/tp-blog.so.html" "$dir/tornado-$DRIVER.html" && echo "pages: identical" ||
    { echo "pages differ:"; diff "$dir/tp-blog.so.html" "$dir/tornado-$DRIVER.html" | head -20; }
