#!/bin/bash
# Reverse proxy overhead, in one run: wrk against an upstream nginx directly, through our
# proxy handler (build/tests/proxyapp's /nginx/ route), and through nginx as a reverse proxy
# (one worker, upstream keep-alive), the same upstream each time. The proxy under test is
# pinned to CPU 1; wrk and the upstream share CPU 0. For each: req/s, latency p50/p99, and
# the proxy's CPU microseconds per request (utime+stime of its process over the run).
#
# Usage: tools/bench-proxy.sh [seconds] [connections]    (needs make test-build, nginx, wrk)
set -u
D=${1:-8}; C=${2:-50}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/tp-bench-proxy.XXXXXX)
trap 'kill $UP_PID $PX_PID 2>/dev/null; rm -rf "$dir"' EXIT
UP=9031; NGX=9032; TP=9033; PX_PID=
mkdir -p "$dir/www" "$dir/up" "$dir/px"
head -c 1024 /dev/zero | tr '\0' x > "$dir/www/1k.txt"
common="daemon off; master_process off; worker_processes 1; error_log stderr error;
events { worker_connections 4096; }"
temps() { echo "client_body_temp_path $1/b; proxy_temp_path $1/p; fastcgi_temp_path $1/f;
  uwsgi_temp_path $1/u; scgi_temp_path $1/s; access_log off; keepalive_requests 1000000;"; }
cat > "$dir/up.conf" <<CONF
$common pid $dir/up/pid;
http { $(temps "$dir/up") server { listen 127.0.0.1:$UP; root $dir/www; } }
CONF
cat > "$dir/px.conf" <<CONF
$common pid $dir/px/pid;
http { $(temps "$dir/px")
  upstream up { server 127.0.0.1:$UP; keepalive 16; }
  server { listen 127.0.0.1:$NGX;
    location /nginx/ { proxy_pass http://up/; proxy_http_version 1.1;
      proxy_set_header Connection ""; proxy_set_header Host 127.0.0.1:$UP;
      proxy_set_header X-Forwarded-For \$remote_addr; proxy_buffering on; } } }
CONF
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
  sleep 0.05; done; echo "port $1 did not open"; exit 1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
taskset -c 0 /usr/sbin/nginx -c "$dir/up.conf" -p "$dir/up" & UP_PID=$!
wait_port $UP
run() { # name port path [pid of the proxy]
  local t0=0 t1=0 hz out
  hz=$(getconf CLK_TCK)
  [ -n "${4:-}" ] && t0=$(cpu_ticks "$4")
  out=$(taskset -c 0 wrk -t1 -c"$C" -d"${D}s" --latency "http://127.0.0.1:$2$3")
  [ -n "${4:-}" ] && t1=$(cpu_ticks "$4")
  local rps n p50 p99 cpu=-
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  n=$(awk '/requests in/ {print $1}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out"); p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  [ -n "${4:-}" ] && cpu=$(awk -v d=$((t1 - t0)) -v n="$n" -v hz="$hz" \
      'BEGIN {printf "%.2f", d * 1e6 / hz / n}')
  printf '%-12s req/s %10s  p50 %8s  p99 %8s  proxy-cpu-us/req %6s  errors %s\n' "$1" "$rps" \
    "$p50" "$p99" "$cpu" "$(grep -c 'Non-2xx\|Socket errors' <<<"$out")"
}
run direct $UP /1k.txt
PROXY_NGINX=127.0.0.1:$UP taskset -c 1 "$root/build/tests/proxyapp" --port=$TP \
  --address=127.0.0.1 --logging=warning & PX_PID=$!
wait_port $TP
run tp-proxy $TP /nginx/1k.txt $PX_PID
kill $PX_PID; wait $PX_PID 2>/dev/null
taskset -c 1 /usr/sbin/nginx -c "$dir/px.conf" -p "$dir/px" & PX_PID=$!
wait_port $NGX
run nginx-proxy $NGX /nginx/1k.txt $PX_PID
