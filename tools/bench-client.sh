#!/bin/sh
# The HTTP client benchmark of docs/benchmarks.md ("HTTP client"): N fetches over keep-alive
# against Debian's nginx pinned to CPU 0, each client pinned to CPU 1, at concurrency 1 and
# 10: our tp_http_client (build/tools/bench-client) against Tornado's AsyncHTTPClient with
# simple_httpclient and with curl_httpclient (python3-pycurl). Ratios matter, not absolutes.
#   sh tools/bench-client.sh [N]      (default 1000; needs `sh tools/deps.sh --bench`)
set -eu
N=${1:-1000}
BUILD=${BUILD:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
make -s -C "$here" "$BUILD/tools/bench-client" >/dev/null
d=$(mktemp -d)
chmod 755 "$d"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$d/tmp"
cat > "$d/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $d/tmp;
    proxy_temp_path $d/tmp;
    fastcgi_temp_path $d/tmp;
    uwsgi_temp_path $d/tmp;
    scgi_temp_path $d/tmp;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$port;
        location / { return 200 "Hello, world"; }
    }
}
CONF
taskset -c 0 /usr/sbin/nginx -c "$d/nginx.conf" -p "$d" &
ngx=$!
trap 'kill $ngx 2>/dev/null; wait $ngx 2>/dev/null; rm -rf "$d"' EXIT
python3 -c "
import socket, time
for _ in range(300):
    try: socket.create_connection(('127.0.0.1', $port), 1).close(); break
    except OSError: time.sleep(0.02)"
url="http://127.0.0.1:$port/"
echo "nginx on CPU 0, clients on CPU 1, $N fetches of $url"
for c in 1 10; do
    taskset -c 1 "$here/$BUILD/tools/bench-client" "$url" "$N" $c
    taskset -c 1 /usr/bin/python3 "$here/tools/bench_client_tornado.py" simple "$url" "$N" $c
    taskset -c 1 /usr/bin/python3 "$here/tools/bench_client_tornado.py" curl "$url" "$N" $c
done
