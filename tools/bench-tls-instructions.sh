#!/bin/bash
# Instructions per TLS connection, ours against nginx, with callgrind (deterministic: the
# figure does not move with the machine's load, unlike the CPU times of bench-tls.sh).
# Each server runs under valgrind --tool=callgrind (ours: tornado-prefork --procs=1 serving
# build/examples/hello.so, children traced; nginx: one process, master_process off) with the
# same EC P-256 certificate; a Python client makes N1 then, in a second run, N2 TLS 1.3
# connections, each one GET / with Connection: close, every one a full handshake (full) or
# resuming the previous connection's session ticket (resumed). The serving process's
# instruction count difference between the two runs, divided by N2-N1, is the cost of one
# connection (start-up and the probes cancel out).
#
# Usage: tools/bench-tls-instructions.sh [N1] [N2] [modes...]  (defaults: 50 250 resumed full)
# Needs valgrind, nginx, /usr/bin/python3, curl. Listens on 127.0.0.1:9052-9053 only.
set -u
N1=${1:-50}; N2=${2:-250}; shift 2 2>/dev/null || true
modes=${*:-resumed full}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/tp-bench-tlsi.XXXXXX)
trap 'rm -rf "$dir"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/key.pem" \
  -out "$dir/cert.pem" -days 2 -subj /CN=localhost 2>/dev/null || exit 1
cat > "$dir/client.py" <<'PY'
import socket, ssl, sys
port, n, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
def one(sess=None):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=120),
                        server_hostname="localhost", session=sess)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    assert b"Hello, world" in data, data
    r = (s.session_reused, s.session)
    s.close()
    return r
_, sess = one()
reused = 0
for _ in range(n):
    r, new = one(sess if mode == "resumed" else None)
    reused += r
    sess = new if mode == "resumed" else sess
assert mode != "resumed" or reused == n, "only %d of %d resumed" % (reused, n)
PY

# Runs server $1 for N=$2 connections of mode $3; prints the serving process's instructions.
measure() {
  local who=$1 n=$2 mode=$3 d="$dir/$1-$2-$3" port pid
  mkdir -p "$d/ngx"
  if [ "$who" = tp ]; then
    port=9052
    set -- "$root/build/tornado-prefork" --procs=1 --port=$port --address=127.0.0.1 \
      --certfile="$dir/cert.pem" --keyfile="$dir/key.pem" --logging=warning --no-access-log \
      --worker-timeout=0 --boot-timeout=300 "$root/build/examples/hello.so"
    valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$d/cg.%p" "$@" \
      >"$d/log" 2>&1 &
  else
    port=9053
    cat > "$d/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $d/ngx/pid; error_log stderr error;
events { worker_connections 4096; }
http { access_log off;
  client_body_temp_path $d/ngx/b; proxy_temp_path $d/ngx/p; fastcgi_temp_path $d/ngx/f;
  uwsgi_temp_path $d/ngx/u; scgi_temp_path $d/ngx/s;
  server { listen 127.0.0.1:$port ssl backlog=4096;
    ssl_certificate $dir/cert.pem; ssl_certificate_key $dir/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { default_type text/plain; return 200 "Hello, world"; } } }
CONF
    valgrind --tool=callgrind --callgrind-out-file="$d/cg.%p" nginx -c "$d/nginx.conf" \
      >"$d/log" 2>&1 &
  fi
  pid=$!
  for _ in $(seq 600); do curl -sk -o /dev/null "https://127.0.0.1:$port/" && break; sleep 0.2; done
  /usr/bin/python3 "$dir/client.py" $port "$n" "$mode" || { kill $pid; return 1; }
  kill -TERM $pid; wait $pid 2>/dev/null
  # The serving process: the largest count (ours: the worker, not the master).
  grep -h "^summary:" "$d"/cg.* | awk '{print $2}' | sort -n | tail -1
}

for mode in $modes; do
  for who in nginx tp; do
    a=$(measure $who "$N1" "$mode"); b=$(measure $who "$N2" "$mode")
    awk -v w=$who -v m=$mode -v a="$a" -v b="$b" -v n=$((N2 - N1)) \
      'BEGIN{printf "%-6s %-8s %12.0f instructions per connection\n", w, m, (b - a) / n}'
  done
done
