#!/bin/sh
# Installs the Debian packages the build (and, with --test, the tests and benchmarks) need,
# only when one is missing. Safe to run every time: it asks dpkg first and does nothing
# when everything is there. Needs root (or sudo) only when something must be installed.
# --node installs the npm packages of the WebSocket benchmarks (tools/bench-ws.sh: the `ws`
# peer) and of the browser tests (tests/browser: playwright-core) into build/node (ignored by
# git), when missing.
set -eu
build="gcc make pkg-config libjemalloc-dev libpcre2-dev zlib1g-dev libjansson-dev libssl-dev libhiredis-dev libcurl4-openssl-dev libnghttp2-dev libmariadb-dev"
test="check clang libclang-rt-14-dev python3 python3-tornado python3-websockets curl wrk redis-server chromium libjs-jquery nginx openssl haproxy nghttp2-client python3-h2 python3-hyperframe python3-hpack mariadb-server mariadb-client"
bench="nginx h2o python3-tornado hyperfine python3-pycurl"
# examples/blog: Markdown (libcmark) and slugs (ICU); its benchmark's Tornado port (MySQL drivers).
build="$build libcmark-dev libicu-dev"
bench="$bench python3-mysqldb python3-pymysql"
want=$build
node=0
for a in "$@"; do
    case $a in
    --test) want="$want $test" ;;
    --bench) want="$want $test $bench" ;;
    --node) node=1 ;;
    *) echo "deps.sh: unknown option $a" >&2; exit 2 ;;
    esac
done
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
        missing="$missing $p"
done
# npm packages: only what is missing, into build/node.
node_deps() {
    here=$(cd "$(dirname "$0")/.." && pwd)
    [ -d "$here/build/node/node_modules/ws" ] && [ -d "$here/build/node/node_modules/playwright-core" ] &&
        return 0
    command -v npm >/dev/null || { echo "deps.sh: npm (Node 20) is needed for --node" >&2; exit 1; }
    echo "deps.sh: npm install ws@8 playwright-core into build/node" >&2
    npm install --silent --no-audit --no-fund --prefix "$here/build/node" ws@8 playwright-core
}
if [ $node = 1 ]; then
    node_deps
fi
[ -z "$missing" ] && exit 0
echo "deps.sh: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
