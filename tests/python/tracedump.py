# SPDX-License-Identifier: MIT
"""Reads a .pyitrace through `pyinst-report dump` (JSON lines) into plain objects for tests.

Run it directly to see where a trace's time went:
    python3 tests/python/tracedump.py build/dev/bin/pyinst-report FILE [N]
"""
import collections
import json
import subprocess
import sys

Frame = collections.namedtuple("Frame", "name file first_line line kind")
NATIVE = 1
SYNTHETIC = 2


class Trace:
    def __init__(self, path, report):
        result = subprocess.run([report, "dump", path], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, universal_newlines=True)
        if result.returncode != 0:
            raise AssertionError("pyinst-report dump %s failed (%d): %s"
                                 % (path, result.returncode, result.stderr.strip()))
        self.header = {}
        self.strings = {0: ""}
        self.functions, self.locations, self.stacks, self.threads = {}, {}, {}, {}
        self.processes = {}
        self.samples, self.lost, self.markers = [], [], []
        self.meta, self.end, self.stats = {}, None, None
        for line in result.stdout.splitlines():
            self._take(json.loads(line))

    def _take(self, rec):
        kind = rec["record"]
        if kind == "header":
            self.header = rec["meta"]
        elif kind == "string":
            self.strings[rec["id"]] = rec["value"]
        elif kind == "function":
            self.functions[rec["id"]] = rec
        elif kind == "location":
            self.locations[rec["id"]] = rec
        elif kind == "stack":
            self.stacks[rec["id"]] = rec
        elif kind == "thread":
            self.threads[rec["id"]] = rec  # a later record renames
        elif kind == "process":
            self.processes[rec["id"]] = rec
        elif kind == "sample":
            self.samples.append(rec)
        elif kind == "lost":
            self.lost.append(rec)
        elif kind == "marker":
            self.markers.append(rec)
        elif kind == "meta":
            self.meta[rec["key"]] = rec["value"]
        elif kind == "end":
            self.end = rec
        elif kind == "stats":
            self.stats = rec

    def frame(self, location_id):
        loc = self.locations[location_id]
        fn = self.functions[loc["function"]]
        return Frame(self.strings[fn["name"]], self.strings[fn["file"]], fn["first_line"],
                     loc["line"], fn["kind"])

    def frames(self, stack_id):
        """The stack's frames, outermost first."""
        out = []
        while stack_id:
            stack = self.stacks[stack_id]
            out.append(self.frame(stack["location"]))
            stack_id = stack["parent"]
        return out[::-1]

    def thread_name(self, thread_id):
        return self.strings[self.threads[thread_id]["name"]]

    def thread_ids(self, name):
        return [t for t in self.threads if self.thread_name(t) == name]

    def samples_of(self, thread_name=None):
        ids = set(self.thread_ids(thread_name)) if thread_name is not None else None
        return [s for s in self.samples if ids is None or s["thread"] in ids]

    def weight(self, samples, where=lambda frames: True):
        """Sum of weight_ns of the samples whose frames satisfy where."""
        return sum(s["weight_ns"] for s in samples if where(self.frames(s["stack"])))

    def share(self, samples, where):
        total = self.weight(samples)
        return self.weight(samples, where) / total if total else 0.0

    def lost_count(self, reason=None):
        return sum(l["count"] for l in self.lost if reason is None or l["reason"] == reason)


def names(frames):
    return [f.name for f in frames]


def contains(name):
    return lambda frames: any(f.name == name for f in frames)


def main(argv):
    trace = Trace(argv[2], argv[1])
    top = int(argv[3]) if len(argv) > 3 else 15
    by_stack = collections.Counter()
    for s in trace.samples:
        by_stack[(s["thread"], s["stack"])] += s["weight_ns"]
    total = sum(by_stack.values()) or 1
    for (thread, stack), weight in by_stack.most_common(top):
        frames = trace.frames(stack)
        text = " > ".join("%s:%d" % (f.name, f.line) for f in frames[-6:])
        print("%5.1f%% %-10s %s" % (100.0 * weight / total, trace.thread_name(thread), text))
    print("lost:", trace.lost_count(), "samples:", len(trace.samples))


if __name__ == "__main__":
    main(sys.argv)
