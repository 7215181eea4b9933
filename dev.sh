#!/bin/sh
# The project's entry point: `./dev.sh demo` records the bundled example and
# prints its report; `./dev.sh test` builds everything and runs every test
# (what CI runs). Other verbs: build, bench, fuzz, clean.
set -eu
cd "$(dirname "$0")"
jobs=$(nproc 2>/dev/null || echo 2)

configure_and_build() { # preset
    cmake --preset "$1" >/dev/null # cheap, and picks up new modules
    cmake --build --preset "$1" -j "$jobs"
}

case "${1:-}" in
demo)
    ./scripts/install-deps.sh
    configure_and_build release >/dev/null
    bin=build/release/bin
    trace=build/demo.pyitrace
    "$bin/pyinst-record" -o "$trace" examples/demo.py
    "$bin/pyinst-report" "$trace"
    ;;
build)
    ./scripts/install-deps.sh
    configure_and_build "${2:-dev}"
    ;;
test)
    ./scripts/install-deps.sh
    start=$(date +%s)
    configure_and_build dev
    ctest --preset dev -j "$jobs"
    configure_and_build asan-ubsan
    ctest --preset asan-ubsan -j "$jobs"
    # ThreadSanitizer for the code with threads; the single-threaded damage
    # sweeps already ran twice above and are slow under TSan.
    configure_and_build tsan
    ctest --preset tsan -j "$jobs" -E '^Damage\.'
    # The optimiser sees warnings the other builds do not; demo and bench use this one.
    configure_and_build release >/dev/null
    echo "dev.sh test: all passed in $(( $(date +%s) - start )) s"
    ;;
bench)
    ./scripts/install-deps.sh
    configure_and_build release >/dev/null
    shift
    ./bench/run.sh "$@"
    ;;
fuzz)
    ./scripts/install-deps.sh
    configure_and_build fuzz
    shift
    ./tests/fuzz/run.sh "$@"
    ;;
clean)
    rm -rf build
    ;;
*)
    echo "usage: ./dev.sh demo|test|build [preset]|bench|fuzz [seconds]|clean" >&2
    exit 2
    ;;
esac
