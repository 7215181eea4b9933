#!/bin/sh
# Runs the reader fuzzer (build/fuzz, from `./dev.sh fuzz`) for SECONDS
# (default 60), starting from the committed corpus and the spec vectors.
# New interesting inputs land in build/fuzz/corpus-new; crashers go to
# build/fuzz/crashes: minimise them and commit them to tests/fuzz/corpus.
set -eu
cd "$(dirname "$0")/../.."
seconds=${1:-60}
fuzzer=build/fuzz/bin/trace_reader_fuzz
[ -x "$fuzzer" ] || { echo "run.sh: build the 'fuzz' preset first (./dev.sh fuzz)" >&2; exit 2; }
mkdir -p build/fuzz/corpus-new build/fuzz/crashes
exec "$fuzzer" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=build/fuzz/crashes/ build/fuzz/corpus-new tests/fuzz/corpus spec/vectors
