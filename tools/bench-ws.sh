#!/bin/bash
# WebSocket echo peers side by side, in one run: each server pinned to CPU 1 (one process or
# one worker), ws-load pinned to CPU 0. For each server: echo round trips (messages/s,
# round-trip p50/p99, the server's CPU microseconds per message, which is the figure to
# compare), then memory per idle connection (VmRSS growth of the server's process tree over
# N idle connections, a fresh server each time), without and with permessage-deflate offered.
# With --deflate ws-load only offers compression in the handshake and sends nothing, so the
# deflate column is idle memory only (compressed echo is not measured).
#
# Usage: tools/bench-ws.sh [seconds] [connections] [size] [names...]
#   names: tp ws tornado (default: all three)
#   tp:      our server; set TP_CMD to the command that starts it listening on
#            127.0.0.1:9014 and echoing on /echo, e.g. TP_CMD='build/examples/wsecho --port=9014'
#            or the prefork server with one worker (its CPU and memory are summed over the
#            master and the workers): TP_CMD='build/tornado-prefork --procs=1 --port=9014
#            --address=127.0.0.1 build/examples/wsecho.so'
#   ws:      the npm `ws` package (tools/bench/ws_echo_node.js; `tools/deps.sh --node`)
#   tornado: tools/bench/ws_echo_tornado.py on Debian's python3-tornado
#   DEPTH=4 tools/bench-ws.sh ...   keeps 4 messages in flight per connection (default 1).
# Needs build/tools/ws-load (make test-build). Everything listens on 127.0.0.1 only.
set -u
D=${1:-5}; C=${2:-1000}; S=${3:-64}; shift 3 2>/dev/null || true
root=$(cd "$(dirname "$0")/.." && pwd)
load=$root/build/tools/ws-load
names=${*:-tp ws tornado}
[ -x "$load" ] || { echo "bench-ws: build $load first (make test-build)"; exit 1; }
start() {
  case $1 in
    tp)      [ -n "${TP_CMD:-}" ] || { echo "tp: set TP_CMD"; return 1; }
             taskset -c 1 bash -c "exec $TP_CMD" >/dev/null 2>&1 & PORT=9014 ;;
    ws)      [ -d "$root/build/node/node_modules/ws" ] || sh "$root/tools/deps.sh" --node || return 1
             taskset -c 1 node "$root/tools/bench/ws_echo_node.js" 9011 & PORT=9011 ;;
    tornado) taskset -c 1 /usr/bin/python3 "$root/tools/bench/ws_echo_tornado.py" 9012 & PORT=9012 ;;
    *)       echo "unknown $1"; return 1 ;;
  esac
  PID=$!
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0; sleep 0.1; done
  echo "$1 did not start"; kill "$PID" 2>/dev/null; return 1
}
stop() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; sleep 0.5; }
field() { grep -o "$1=[^ ]*" <<<"$2" | cut -d= -f2; }
idle() { # idle bytes per connection on a fresh server; $2: extra ws-load flags
  start "$1" || return
  out=$(taskset -c 0 "$load" --idle $2 --url "ws://127.0.0.1:$PORT/echo" --connections "$C" \
        --seconds 1 --server-pid "$PID" 2>&1)
  stop
  b=$(field bytes_per_conn "$out"); echo "${b:-error}"
}
printf '%-8s %10s %9s %9s %12s %11s %14s  %s\n' server msgs/s p50-us p99-us cpu-us/msg \
  idle-B/conn deflate-B/conn notes
for n in $names; do
  start "$n" || continue
  out=$(taskset -c 0 "$load" --url "ws://127.0.0.1:$PORT/echo" --connections "$C" \
        --seconds "$D" --size "$S" --depth "${DEPTH:-1}" --server-pid "$PID" 2>&1)
  stop
  notes="conns=$(field conns "$out") failed=$(field failed "$out") closed=$(field closed "$out")"
  notes="$notes spread=$(field per_conn_min "$out")..$(field per_conn_max "$out")"
  i0=$(idle "$n" ""); i1=$(idle "$n" --deflate)
  printf '%-8s %10s %9s %9s %12s %11s %14s  %s\n' "$n" "$(field msgs_per_s "$out")" \
    "$(field p50_us "$out")" "$(field p99_us "$out")" "$(field server_cpu_us_per_msg "$out")" \
    "$i0" "$i1" "$notes"
done
