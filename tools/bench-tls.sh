#!/bin/bash
# TLS against nginx, in one run, with the same certificate (EC P-256, made here) and one
# worker each: tornado-prefork --procs=1 serving build/examples/hello.so, nginx with
# worker_processes 1 returning "Hello, world". Each server (master and worker) is pinned to
# CPU 1, the clients to CPU 0. Three measurements per server:
#   full      new connections per second, a full handshake each (openssl s_time -new, one
#             GET / per connection)
#   resumed   the same with the first session resumed on every connection (s_time -reuse:
#             session tickets on both servers)
#   keepalive requests per second over TLS keep-alive connections (wrk https)
# and for each the server's CPU microseconds per connection or request (utime+stime of the
# master and its workers from /proc, clock ticks of 1/CLK_TCK s).
#
# Usage: tools/bench-tls.sh [seconds] [connections] [tls1_2|tls1_3]
#        (needs make, nginx, wrk, openssl; prints the exact commands it runs)
set -u
D=${1:-8}; C=${2:-50}; V=${3:-tls1_3}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/tp-bench-tls.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
NGX=9041; TP=9042
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/key.pem" \
  -out "$dir/cert.pem" -days 2 -subj /CN=localhost 2>/dev/null || exit 1
mkdir -p "$dir/ngx"
cat > "$dir/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $dir/ngx/pid; error_log stderr error;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 100000000;
  client_body_temp_path $dir/ngx/b; proxy_temp_path $dir/ngx/p; fastcgi_temp_path $dir/ngx/f;
  uwsgi_temp_path $dir/ngx/u; scgi_temp_path $dir/ngx/s;
  server { listen 127.0.0.1:$NGX ssl reuseport backlog=4096;
    ssl_certificate $dir/cert.pem; ssl_certificate_key $dir/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { default_type text/plain; return 200 "Hello, world"; } } }
CONF
hz=$(getconf CLK_TCK)
ticks_sh=$root/../shared/bench/cputicks.sh
[ -x "$ticks_sh" ] || ticks_sh=/work/shared/bench/cputicks.sh
ticks() { "$ticks_sh" "$1"; }
wait_tls() { for _ in $(seq 100); do
    curl -sk -o /dev/null "https://127.0.0.1:$1/" && return 0; sleep 0.1; done
  echo "port $1 did not answer over TLS"; exit 1; }
line() { # name what count-per-second total ticks
  awk -v n="$1" -v w="$2" -v r="$3" -v t="$4" -v d="$5" -v hz="$hz" 'BEGIN {
    printf "%-14s %-9s %10s /s  server-cpu-us %8.1f per %s\n", n, w, r, t ? d * 1e6 / hz / t : 0,
      w == "keepalive" ? "request" : "connection" }'
}
s_time() { # name port -new|-reuse: connections per wall-clock second, and how many resumed
  local t0 t1 w0 w1 out n r cmd
  cmd="taskset -c 0 openssl s_time -connect 127.0.0.1:$2 $3 -$V -time $D -www /"
  echo "    \$ $cmd" >&2
  t0=$(ticks "$PID"); w0=$(date +%s.%N); out=$($cmd 2>&1); w1=$(date +%s.%N); t1=$(ticks "$PID")
  n=$(awk '/connections in [0-9.]+s;/ {print $1; exit}' <<<"$out")
  r=$(grep -E '^[r*]+$' <<<"$out" | tr -d '\n*' | wc -c)
  line "$1" "$([ "$3" = -new ] && echo full || echo resumed)" \
    "$(awk -v n="${n:-0}" -v a="$w0" -v b="$w1" 'BEGIN {printf "%.1f", n / (b - a)}')" \
    "${n:-0}" $((t1 - t0))
  echo "    ($n connections, $r of them resumed)" >&2
}
keepalive() { # name port
  local t0 t1 out cmd
  cmd="taskset -c 0 wrk -t1 -c$C -d${D}s --latency https://127.0.0.1:$2/"
  echo "    \$ $cmd" >&2
  t0=$(ticks "$PID"); out=$($cmd 2>&1); t1=$(ticks "$PID")
  line "$1" keepalive "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '/requests in/ {print $1}' <<<"$out")" $((t1 - t0))
  grep -E 'Socket errors|Non-2xx' <<<"$out" >&2
}
bench() { # name port
  wait_tls "$2"
  s_time "$1" "$2" -new
  s_time "$1" "$2" -reuse
  keepalive "$1" "$2"
}
echo "TLS benchmark: $V, ${D}s per run, wrk -c$C; servers on CPU 1, clients on CPU 0"
echo "  \$ taskset -c 1 nginx -c nginx.conf   (worker_processes 1, listen ssl, same cert)" >&2
taskset -c 1 /usr/sbin/nginx -c "$dir/nginx.conf" -p "$dir/ngx" & PID=$!
bench nginx $NGX
kill "$PID"; wait "$PID" 2>/dev/null
cmd="taskset -c 1 $root/build/tornado-prefork --procs=1 --address=127.0.0.1 --port=$TP
  --certfile=$dir/cert.pem --keyfile=$dir/key.pem --logging=warning --no-access-log
  $root/build/examples/hello.so"
echo "  \$ $(echo $cmd)" >&2
$cmd & PID=$!
bench tornado-prefork $TP
kill "$PID"; wait "$PID" 2>/dev/null; PID=
