#!/bin/sh
# tests/lib/timed.sh NAME COMMAND...: runs COMMAND, then prints "suite NAME: N.N s" (with
# "FAILED" if it failed) and exits with COMMAND's status. With SUITE_TIMES set, the line is
# also appended to that file (make test prints them all again at the end).
name=$1
shift
t0=$(date +%s.%N)
"$@"
rc=$?
t1=$(date +%s.%N)
line=$(awk -v a="$t0" -v b="$t1" -v n="$name" -v rc="$rc" \
    'BEGIN { printf "suite %s: %.1f s%s", n, b - a, rc ? " FAILED" : "" }')
echo "$line"
if [ -n "$SUITE_TIMES" ]; then
    echo "$line" >> "$SUITE_TIMES"
fi
exit $rc
