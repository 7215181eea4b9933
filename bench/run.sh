#!/bin/sh
# Runs every benchmark (bench/*/run.sh), or the ones named: ./dev.sh bench [name...]
set -eu
cd "$(dirname "$0")"
names=${*:-$(for d in */run.sh; do dirname "$d"; done)}
for name in $names; do
    [ -x "$name/run.sh" ] || { echo "bench: no benchmark '$name'" >&2; exit 2; }
    echo "== $name"
    "./$name/run.sh"
    echo
done
