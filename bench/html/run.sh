#!/bin/sh
# HTML renderer benchmark (on demand: ./bench/html/run.sh, or ./dev.sh bench html
# where bench/run.sh exists). Writes fixture traces of 100 k and 1 M samples
# ("big": 4 threads, ~300 deep stacks; "wide": one distinct stack per 20
# samples, the stress case for size) and times `pyinst-report -r html` (and
# text, for comparison) on each, whole command (load + render), printing
# seconds, peak RSS and the file size. The floor for 1 M samples: under 2 s and
# a file under 5 MB.
# usage: bench/html/run.sh [BIN_DIR]   (default: build/release/bin, brought up to date)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-}
if [ -z "$bin" ]; then
    bin=$root/build/release/bin
    [ -f "$root/build/release/CMakeCache.txt" ] || (cd "$root" && cmake --preset release >/dev/null)
    cmake --build "$root/build/release" -j "$(nproc 2>/dev/null || echo 2)" \
          --target pyinst-report pyinst-fixture >/dev/null
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/pyinst-bench-html.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Runs a command; prints "seconds peak_rss_kb" (python3's rusage of the child).
measure() {
    python3 - "$@" <<'PY'
import resource, subprocess, sys, time
start = time.monotonic()
subprocess.run(sys.argv[1:], check=True)
elapsed = time.monotonic() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"{elapsed:.3f} {rss}")
PY
}

printf '%-8s %-10s %-10s %9s %12s %12s %10s\n' trace samples renderer seconds "peak RSS MB" \
    "output MB" "trace MB"
for case in "big 100000" "big 1000000" "wide 100000" "wide 1000000"; do
    set -- $case
    scenario=$1 samples=$2
    trace="$work/$scenario-$samples.pyitrace"
    "$bin/pyinst-fixture" "$scenario" "$trace" "$samples"
    trace_bytes=$(wc -c < "$trace")
    for renderer in html text; do
        out="$work/out-$samples.$renderer"
        set -- $(measure "$bin/pyinst-report" -q -r "$renderer" -o "$out" "$trace")
        bytes=$(wc -c < "$out")
        awk -v c="$scenario" -v s="$samples" -v r="$renderer" -v t="$1" -v rss="$2" -v b="$bytes" -v tb="$trace_bytes" \
            'BEGIN { printf "%-8s %-10s %-10s %9s %12.1f %12.2f %10.2f\n", c, s, r, t, rss / 1024, b / 1048576, tb / 1048576 }'
    done
done
