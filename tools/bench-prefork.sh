#!/bin/bash
# Prefork throughput against nginx with the same number of workers, in one run: requests per
# second and server CPU microseconds per request (utime+stime of the whole process tree).
# Usage: tools/bench-prefork.sh [seconds] [connections]   (run from the repository root)
# Needs: wrk, nginx; build/tornado-prefork and build/examples/hello.so (make).
set -u
D=${1:-8}; C=${2:-100}
shared=$(cd "$(dirname "$0")/../../shared/bench" && pwd)
tmp=${TMPDIR:-/tmp}/prefork-bench; mkdir -p "$tmp"
run() { # name port pid
  t0=$("$shared/cputicks.sh" "$3")
  out=$(wrk -t2 -c"$C" -d"${D}s" "http://127.0.0.1:$2/" 2>&1)
  t1=$("$shared/cputicks.sh" "$3")
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out"); total=$(awk '/requests in/{print $1}' <<<"$out")
  errs=$(grep -E 'Socket errors|Non-2xx' <<<"$out" | tr '\n' ' ')
  printf '%-14s req/s %10s  server-cpu-us/req %6s  %s\n' "$1" "$rps" \
    "$(awk -v t=$((t1-t0)) -v n="$total" 'BEGIN{printf "%.2f", n? t*10000/n : 0}')" "$errs"
}
for n in 1 2; do
  sed "s#@TMP@#$tmp#g; s#worker_processes 1#worker_processes $n#" "$shared/peers/nginx.conf" \
    > "$tmp/nginx.conf"
  nginx -c "$tmp/nginx.conf" & sleep 0.5
  run "nginx x$n" 9001 "$(cat "$tmp/nginx.pid")"
  kill "$(cat "$tmp/nginx.pid")"; sleep 0.5
  build/tornado-prefork --procs=$n --address=127.0.0.1 --port=9004 --no-access-log \
    build/examples/hello.so 2>/dev/null & pid=$!; sleep 0.5
  run "tp --procs=$n" 9004 $pid
  kill $pid; wait $pid 2>/dev/null; sleep 0.5
done
