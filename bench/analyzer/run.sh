#!/bin/sh
# Analyzer benchmark: load + render of synthetic traces with realistic shapes
# (4 threads, ~300 distinct stacks 7-37 frames deep, native leaves; see
# tests/fixtures big) at 1 M and 10 M samples. Prints wall time, peak memory
# (max RSS) and output size per line; the traces are cached in build/bench/.
# Floors on the 2-core reference machine: 10 M samples to text < 2 s; 1 M to
# HTML < 2 s and < 5 MB; peak memory independent of the sample count.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${PYI_BENCH_BIN:-$root/build/release/bin}
work=$root/build/bench
mkdir -p "$work"
[ -x "$bin/pyinst-report" ] || { echo "bench: build first (./dev.sh bench)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench: needs /usr/bin/time (Debian package 'time')" >&2; exit 2; }

trace() { # samples -> path (generated once)
    path=$work/big-$1.pyitrace
    [ -f "$path" ] || "$bin/pyinst-fixture" big "$path" "$1"
    echo "$path"
}

row() { # label samples renderer [extra options]
    label=$1 samples=$2 renderer=$3
    shift 3
    in=$(trace "$samples")
    out=$work/out-$samples.$renderer
    if ! /usr/bin/time -f '%e %M' -o "$work/time.txt" \
        "$bin/pyinst-report" -q -r "$renderer" "$@" "$in" -o "$out" 2> "$work/err.txt"; then
        printf '%-28s %10s %9s %10s %12s  %s\n' "$label" "$samples" "-" "-" "-" \
            "failed: $(head -1 "$work/err.txt")"
        return
    fi
    read -r secs rss < "$work/time.txt"
    size=$(wc -c < "$out")
    printf '%-28s %10s %8.2fs %8.1f MB %12s\n' "$label" "$samples" "$secs" \
        "$(echo "$rss / 1024" | bc -l)" "$size"
}

echo "pyinst-report benchmark ($(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d))"
for n in 1000000 10000000; do
    in=$(trace "$n")
    printf '  trace big-%s: %s bytes\n' "$n" "$(wc -c < "$in")"
done
printf '%-28s %10s %9s %10s %12s\n' "what" "samples" "time" "peak RSS" "output B"
row "load + text tree" 1000000 text
row "load + text tree" 10000000 text
row "load + text --flat" 10000000 text --flat
row "load + json" 1000000 json
row "load + speedscope" 1000000 speedscope
row "load + speedscope" 10000000 speedscope
row "load + pprof" 10000000 pprof
row "load + collapsed" 10000000 collapsed
row "load + html" 1000000 html
