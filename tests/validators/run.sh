#!/bin/sh
# Exports fixture traces in every format and has real consumers open them:
# speedscope's app (jsdom), pprof-format and `go tool pprof` (when Go is
# installed), and the folded grammar check. Expected totals come from the
# fixtures' definitions (tests/fixtures), not from pyinst-report itself.
# usage: run.sh speedscope|pprof|collapsed BIN_DIR NPM_DIR WORK_DIR
set -eu
format=$1 bin=$2 npm=$3 work=$4
mkdir -p "$work"
cd "$work"
report="$bin/pyinst-report"

# name samples wall_ns threads
fixtures="demo 276 2760000000 3
hostile 6 210000000 1
tiny 5 500000000 1
big 20000 20000000000 4"

echo "$fixtures" | while read -r name samples wall threads; do
    "$bin/pyinst-fixture" "$name" "$name.pyitrace" "$samples"
    case $format in
    speedscope)
        "$report" convert -q "$name.pyitrace" -o "$name.speedscope.json"
        node "$npm/speedscope_check.js" "$name.speedscope.json" \
            --expect-total "$wall" --expect-profiles "$threads"
        "$report" convert -q --metric samples "$name.pyitrace" -o "$name.samples.speedscope.json"
        node "$npm/speedscope_check.js" "$name.samples.speedscope.json" --expect-total "$samples"
        ;;
    collapsed)
        "$report" convert -q -r collapsed "$name.pyitrace" -o "$name.collapsedstack.txt"
        node "$npm/folded_check.js" "$name.collapsedstack.txt" --expect-total $((wall / 1000))
        node "$npm/speedscope_check.js" "$name.collapsedstack.txt" --expect-total $((wall / 1000))
        ;;
    pprof)
        "$report" convert -q "$name.pyitrace" -o "$name.pb.gz"
        node "$npm/pprof_check.js" "$name.pb.gz" --expect-total "samples/count=$samples" \
            --expect-total "wall/nanoseconds=$wall"
        node "$npm/speedscope_check.js" "$name.pb.gz" --expect-total "$wall"
        go=$(command -v go || ls /usr/lib/go-*/bin/go 2>/dev/null | head -1 || true)
        if [ -n "$go" ]; then
            "$go" tool pprof -raw "$name.pb.gz" > "$name.pprof.raw" 2>/dev/null
            "$go" tool pprof -top -sample_index=samples "$name.pb.gz" > "$name.pprof.top" 2>&1
            grep -q "Total samples = $samples" "$name.pprof.top" ||
                { echo "FAIL: go tool pprof did not count $samples samples"; cat "$name.pprof.top"; exit 1; }
            if [ "$name" = demo ]; then
                grep -q ' <module>$' "$name.pprof.top" ||
                    { echo "FAIL: go tool pprof lost <module>"; cat "$name.pprof.top"; exit 1; }
            fi
            echo "go tool pprof OK"
        else
            echo "go tool pprof not installed: that cross-check is skipped"
        fi
        ;;
    esac
done
echo "validators $format: all passed"
