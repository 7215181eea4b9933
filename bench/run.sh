#!/bin/sh
# Runs every benchmark (bench/*/run.sh), or the named ones: `bench/run.sh
# analyzer`. Each prints its own table. Expects a release build
# (./dev.sh bench builds it first).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 0 ]; then
    set -- $(cd "$here" && ls -d */ | tr -d /)
fi
for name in "$@"; do
    [ -x "$here/$name/run.sh" ] || [ -f "$here/$name/run.sh" ] ||
        { echo "bench: no benchmark '$name'" >&2; exit 2; }
    sh "$here/$name/run.sh"
done
