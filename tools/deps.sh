#!/bin/sh
# Installs the Debian packages the build (and, with --test, the tests and benchmarks) need,
# only when one is missing. Safe to run every time: it asks dpkg first and does nothing
# when everything is there. Needs root (or sudo) only when something must be installed.
# --node also installs the npm packages of the browser tests (tests/browser) into build/node.
set -eu
build="gcc make pkg-config libjemalloc-dev libpcre2-dev zlib1g-dev libjansson-dev libssl-dev libhiredis-dev"
test="check clang libclang-rt-14-dev python3 python3-tornado python3-websockets curl wrk redis-server chromium libjs-jquery"
bench="nginx h2o python3-tornado hyperfine"
want=$build
node=""
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
if [ -n "$node" ] && ! command -v npm >/dev/null 2>&1; then
    missing="$missing nodejs npm"
fi
if [ -n "$missing" ]; then
    echo "deps.sh: installing$missing" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# The browser tests' npm packages (never committed: build/ is ignored).
if [ -n "$node" ] && { ! [ -d build/node/node_modules/playwright-core ] ||
    ! [ -d build/node/node_modules/ws ]; }; then
    echo "deps.sh: npm install --prefix build/node ws@8 playwright-core" >&2
    mkdir -p build/node
    npm install --prefix build/node --no-audit --no-fund ws@8 playwright-core >/dev/null
fi
exit 0
