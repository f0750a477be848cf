#!/bin/sh
# The layering rule of DESIGN.md §1: a file may include headers of its own layer and of the
# layers below it, never of a layer above. Usage: check-layers.sh LAYER... (lowest first).
# Prints each offending include and exits 1 if there is any.
status=0
for layer in "$@"; do
    higher=""
    seen=0
    for other in "$@"; do
        [ "$seen" = 1 ] && higher="$higher $other"
        [ "$other" = "$layer" ] && seen=1
    done
    if [ -n "$higher" ]; then
        pattern=$(printf '%s\n' $higher | sed 's|.*|"&/|' | paste -sd'|')
        hits=$(grep -rnE "^#[[:space:]]*include[[:space:]]+($pattern)" "$layer" --include='*.[ch]')
        if [ -n "$hits" ]; then
            echo "check-layers: $layer/ includes a header of a higher layer ($higher ):"
            echo "$hits"
            status=1
        fi
    fi
done
[ "$status" = 0 ] && echo "check-layers: $* in order, no upward include"
# An app needs nothing but include/tp.h: the test apps and the examples include no library
# header by its path (their own headers, such as examples/blog/store.h, are fine).
pattern=$(printf '%s\n' "$@" | sed 's|.*|"&/|' | paste -sd'|')
hits=$(grep -rnE "^#[[:space:]]*include[[:space:]]+($pattern)" tests/apps examples --include='*.[ch]')
if [ -n "$hits" ]; then
    echo "check-layers: an app includes a library header instead of tp.h:"
    echo "$hits"
    status=1
else
    echo "check-layers: tests/apps and examples include the library through tp.h only"
fi
exit $status
