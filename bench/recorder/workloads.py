# SPDX-License-Identifier: MIT
"""Benchmark workloads for the recorder; run by bench.py under each interpreter.

    python workloads.py NAME [SECONDS]

Each workload warms up, then times its steady part with perf_counter and
prints one JSON line {"seconds": ..., "rss_kib": ...} (rss at the end).
"""
import json
import os
import sys
import threading
import time


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# ---- call-heavy: recursion and tiny method calls ----------------------------

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x, self.y = x, y

    def norm2(self):
        return self.x * self.x + self.y * self.y

    def shifted(self, d):
        return Point(self.x + d, self.y - d)


def call_heavy(scale):
    total = fib(int(25 + scale))
    p = Point(1, 2)
    for i in range(int(1500000 * 2 ** scale)):
        p = p.shifted(1)
        total += p.norm2() & 7
    return total


# ---- library-heavy: json, re, pygments --------------------------------------

def library_heavy(scale):
    import json as js
    import re
    sys.path.append("/usr/lib/python3/dist-packages")  # Debian's python3-pygments
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer
    with open(__file__) as f:
        source = f.read()
    docs = [{"id": i, "name": "item%d" % i, "tags": ["a", "b"], "v": i / 3} for i in range(3000)]
    words = re.compile(r"\b([a-z_]+)\s*\(")
    rounds = max(1, int(50 * 2 ** scale))
    total = 0
    for _ in range(rounds):
        text = js.dumps(docs)
        total += len(js.loads(text))
        total += len(words.findall(source * 4))
        total += len(highlight(source, PythonLexer(), HtmlFormatter()))
    return total


# ---- threads with I/O --------------------------------------------------------

def threads_io(scale):
    rounds = max(10, int(12000 * 2 ** scale))

    def pipe_pair():
        r, w = os.pipe()
        return os.fdopen(r, "rb", buffering=0), os.fdopen(w, "wb", buffering=0)

    def echo(reader, writer):
        while True:
            data = reader.read(64)
            if not data:
                break
            writer.write(data[::-1])

    pairs = []
    workers = []
    for _ in range(4):
        a_r, a_w = pipe_pair()
        b_r, b_w = pipe_pair()
        t = threading.Thread(target=echo, args=(a_r, b_w), daemon=True)
        t.start()
        workers.append(t)
        pairs.append((a_w, b_r))

    def client(a_w, b_r):
        for i in range(rounds):
            a_w.write(b"message %06d" % i)
            b_r.read(64)
            fib(8)

    clients = [threading.Thread(target=client, args=pair) for pair in pairs]
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    for a_w, _ in pairs:
        a_w.close()
    return len(workers)


# ---- for the rate, CPU and memory measurements ---------------------------------

def deep(depth, seconds):
    if depth > 0:
        return deep(depth - 1, seconds)
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


def deep30(scale):
    return deep(30, 0.8 * 2 ** scale)


def many_threads(scale):
    """16 threads idling at different depths, plus the main thread: many
    samples per round, for memory growth over millions of samples."""
    seconds = 4.0 * 2 ** scale
    stop = time.perf_counter() + seconds

    def idle(depth):
        if depth:
            return idle(depth - 1)
        while time.perf_counter() < stop:
            time.sleep(0.002)

    threads = [threading.Thread(target=idle, args=(5 + 3 * i,)) for i in range(16)]
    for t in threads:
        t.start()
    checkpoints = []
    while time.perf_counter() < stop:
        time.sleep(seconds / 8)
        checkpoints.append(rss_kib())
    for t in threads:
        t.join()
    return checkpoints


WORKLOADS = {
    "call-heavy": call_heavy, "library-heavy": library_heavy, "threads-io": threads_io,
    "deep30": deep30, "many-threads": many_threads,
}


def main():
    name = sys.argv[1]
    scale = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    work = WORKLOADS[name]
    if name in ("call-heavy", "library-heavy", "threads-io"):
        work(scale - 3)  # warm up: imports, caches, specialisation
    start, start_cpu = time.perf_counter(), time.thread_time()
    result = work(scale)
    seconds = time.perf_counter() - start
    out = {"seconds": seconds, "cpu": time.thread_time() - start_cpu, "rss_kib": rss_kib()}
    if name == "many-threads":
        out["rss_checkpoints"] = result
    print(json.dumps(out))


if __name__ == "__main__":
    main()
