#!/bin/sh
# Recorder benchmark (bench/recorder/bench.py): overhead vs plain and cProfile on
# CPython 3.8/3.11/3.13, sample rates, sampler CPU, memory and bytes per sample.
set -eu
cd "$(dirname "$0")/../.."
exec /usr/bin/python3 bench/recorder/bench.py --bindir build/release/bin "$@"
