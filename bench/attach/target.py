# SPDX-License-Identifier: MIT
"""A benchmark target for bench/attach/bench.py, run under each interpreter.

    python target.py WORKLOAD [SCALE] [THREADS]

Prints "ready", waits for a line on stdin (the recorder attaches in
between), warms up, times the workload with perf_counter and prints one
JSON line {"seconds": ...}. THREADS > 0 starts that many extra threads
that sleep in a shallow stack first (for per-thread costs).
"""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "recorder"))
import workloads  # noqa: E402


def idle(stop):
    while not stop.is_set():
        time.sleep(0.002)


def sleepy(scale):
    """Waits in time.sleep, the way most threads of a service do."""
    end = time.perf_counter() + 6.0 * 2 ** (scale - 3)
    while time.perf_counter() < end:
        time.sleep(0.01)


def main():
    name = sys.argv[1]
    scale = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    extra = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    stop = threading.Event()
    threads = [threading.Thread(target=idle, args=(stop,)) for _ in range(extra)]
    for t in threads:
        t.start()
    work = sleepy if name == "sleepy" else workloads.WORKLOADS[name]
    print("ready", flush=True)
    sys.stdin.readline()
    if name in ("call-heavy", "library-heavy"):
        work(scale - 3)
    start = time.perf_counter()
    work(scale)
    seconds = time.perf_counter() - start
    stop.set()
    for t in threads:
        t.join()
    print(json.dumps({"seconds": seconds}), flush=True)


if __name__ == "__main__":
    main()
