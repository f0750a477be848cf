#!/bin/bash
# HTTP/2 (cleartext, prior knowledge) side by side, in one run: each server pinned to CPU 1
# with one worker, h2load pinned to CPU 0 with one thread, the same 12-byte "Hello, world".
# Prints req/s and the server's CPU microseconds per request (the figure to compare).
#
# Usage: tools/bench-h2.sh [requests] [connections] [streams] [names...]
#   defaults: 200000 requests, 10 connections, 100 concurrent streams per connection
#   names: nginx h2o tp (default: all three)
#   tp: our server; TP_CMD starts it listening on 127.0.0.1:9024 with one worker serving
#       "Hello, world" on GET / (default: build/examples/hello, the one-process app program)
# TLS=1: the same over TLS 1.3 with ALPN h2, every server with one self-signed EC P-256
#   certificate made here (the few handshakes of the 10 connections are noise next to the
#   200,000 requests: this measures HTTP/2 over TLS records).
# Needs: h2load (nghttp2-client), nginx, h2o (Debian packages). Listens on 127.0.0.1 only.
set -u
N=${1:-200000}; C=${2:-10}; M=${3:-100}; shift 3 2>/dev/null || true
root=$(cd "$(dirname "$0")/.." && pwd)
ticks=$root/../shared/bench/cputicks.sh
[ -x "$ticks" ] || ticks=/work/shared/bench/cputicks.sh
names=${*:-nginx h2o tp}
tmp=${TMPDIR:-/tmp}/bench-h2; mkdir -p "$tmp"
TLS=${TLS:-0}
TP_CMD=${TP_CMD:-$root/build/examples/hello --port=9024 --address=127.0.0.1 --logging=warning}
scheme=http; ssl=""; h2o_ssl=""; nginx_ssl=""; curl_h2=--http2-prior-knowledge
if [ "$TLS" = 1 ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
  scheme=https; ssl=" ssl"; curl_h2="--http2 -k"
  TP_CMD="$TP_CMD --certfile=$tmp/cert.pem --keyfile=$tmp/key.pem"
  h2o_ssl="  ssl:
    certificate-file: $tmp/cert.pem
    key-file: $tmp/key.pem"
  nginx_ssl="ssl_certificate $tmp/cert.pem; ssl_certificate_key $tmp/key.pem;"
fi

nginx_conf() {
  cat > "$tmp/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx.err;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  http2_max_concurrent_streams $M;
  server {
    listen 127.0.0.1:9021$ssl http2 reuseport backlog=4096;
    $nginx_ssl
    location / { default_type text/plain; return 200 "Hello, world"; }
  }
}
CONF
}

h2o_conf() {
  mkdir -p "$tmp/h2o-root"; printf 'Hello, world' > "$tmp/h2o-root/index.txt"
  cat > "$tmp/h2o.conf" <<CONF
num-threads: 1
http2-max-concurrent-requests-per-connection: $M
listen:
  host: 127.0.0.1
  port: 9023
$h2o_ssl
hosts:
  default:
    paths:
      /:
        file.file: $tmp/h2o-root/index.txt
CONF
}

start() {
  case $1 in
    nginx) nginx_conf; taskset -c 1 nginx -c "$tmp/nginx.conf" & PORT=9021 ;;
    h2o)   h2o_conf; taskset -c 1 h2o -c "$tmp/h2o.conf" >"$tmp/h2o.log" 2>&1 & PORT=9023 ;;
    tp)    taskset -c 1 bash -c "exec $TP_CMD" & PORT=9024 ;;
    *)     echo "unknown $1"; return 1 ;;
  esac
  PID=$!
  for _ in $(seq 50); do
    curl -s -o /dev/null $curl_h2 "$scheme://127.0.0.1:$PORT/" && return 0; sleep 0.1; done
  echo "$1 did not start"; kill "$PID" 2>/dev/null; return 1
}

for n in $names; do
  start "$n" || continue
  t0=$("$ticks" "$PID")
  out=$(taskset -c 0 h2load -t1 -c"$C" -m"$M" -n"$N" "$scheme://127.0.0.1:$PORT/" 2>&1)
  t1=$("$ticks" "$PID")
  rps=$(awk '/^finished in/{print $4}' <<<"$out")
  ok=$(awk '/^requests:/{print $8}' <<<"$out")
  us=$(awk -v t=$((t1-t0)) -v n="$ok" 'BEGIN{printf "%.2f", n? t*10000/n : 0}')
  printf '%-6s req/s %10s  succeeded %8s  server-cpu-us/req %6s\n' "$n" "$rps" "$ok" "$us"
  kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null
  [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null; rm -f "$tmp/nginx.pid"
  sleep 0.5
done
