#!/bin/sh
# Trace format benchmark: writer/reader samples per second, bytes per sample.
set -eu
cd "$(dirname "$0")/../.."
exec build/release/bin/bench_format "$@"
