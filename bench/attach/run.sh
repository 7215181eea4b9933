#!/bin/sh
# Attach benchmark (bench/attach/bench.py): a running target's slowdown while
# pyinst-record --pid records it at 1 ms and 100 us, sampler CPU per sample,
# syscalls per thread-sample (strace -c).
set -eu
cd "$(dirname "$0")/../.."
exec /usr/bin/python3 bench/attach/bench.py --bindir build/release/bin "$@"
