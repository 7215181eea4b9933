# SPDX-License-Identifier: MIT
"""Recorder benchmark: overhead vs plain and cProfile, sample rates, sampler CPU, memory, size.

    /usr/bin/python3 bench/recorder/bench.py [--bindir build/release/bin]
        [--pythons 3.8,3.11,3.13] [--runs 5] [--memory-seconds 45] [--quick]

Overhead is the workload's own wall time (perf_counter around its steady
part, after a warm-up) recorded / plain, with plain, pyinst and cProfile
runs interleaved so that each ratio compares runs made at the same moment;
the table shows the median ratio over --runs rounds.
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
from tracedump import Trace  # noqa: E402

WORKLOADS = os.path.join(HERE, "workloads.py")
OVERHEAD = [("call-heavy", 0.0), ("library-heavy", 0.0), ("threads-io", 0.0)]


def find_python(minor):
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.%d.*/bin/python3.%d"
                                                 % (minor, minor))))
    return found[-1] if found else None


class Bench:
    def __init__(self, args):
        self.args = args
        args.bindir = os.path.abspath(args.bindir)
        self.record = os.path.join(args.bindir, "pyinst-record")
        self.report = os.path.join(args.bindir, "pyinst-report")
        self.tmp = tempfile.mkdtemp(prefix="pyinst-bench-")

    def run(self, command):
        out = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True, cwd=self.tmp, timeout=1800)
        if out.returncode != 0:
            raise SystemExit("bench: %s failed:\n%s" % (" ".join(command), out.stderr))
        return json.loads(out.stdout.strip().splitlines()[-1])

    def plain(self, python, name, scale):
        return self.run([python, WORKLOADS, name, str(scale)])

    def pyinst(self, python, name, scale, interval="0.001", budget=None, trace="trace",
               nice=None):
        path = os.path.join(self.tmp, trace + ".pyitrace")
        options = ["-q", "-i", interval, "-o", path, "--python", python]
        if budget:
            options += ["--cpu-budget", budget]
        if nice is not None:
            options += ["--sampler-nice", nice]
        result = self.run([self.record] + options + [WORKLOADS, name, str(scale)])
        result["trace"] = path
        return result

    def cprofile(self, python, name, scale):
        out = os.path.join(self.tmp, "cprofile.prof")
        return self.run([python, "-m", "cProfile", "-o", out, WORKLOADS, name, str(scale)])

    def trace_facts(self, path):
        trace = Trace(path, self.report)
        samples = len(trace.samples)
        return {
            "samples": samples,
            "bytes": os.path.getsize(path),
            "bytes_per_sample": os.path.getsize(path) / samples if samples else 0.0,
            "achieved_hz": trace.meta.get("recorder.achieved_hz", 0.0),
            "rounds": trace.meta.get("recorder.rounds", 0),
            "cpu_ns": trace.meta.get("recorder.sampler_cpu_ns", 0),
            "round_cpu_ns": trace.meta.get("recorder.round_cpu_ns", 0),
            "final_interval_ns": trace.meta.get("recorder.final_interval_ns", 0),
            "rate_changes": trace.meta.get("recorder.rate_changes", 0),
            "lost": trace.lost_count(),
        }

    # ---- tables -----------------------------------------------------------

    def overhead(self, pythons):
        rows = []
        print("Overhead: workload wall time / plain, median of %d interleaved rounds, 1 ms"
              % self.args.runs)
        print("%-14s %-7s %8s %9s %10s %10s %8s %9s %6s" % (
            "workload", "python", "plain s", "pyinst x", "cProfile x", "pyinst cpu",
            "samples", "B/sample", "lost"))
        for name, scale in OVERHEAD:
            for label, python in pythons:
                ours, theirs, plain_s, cpu, facts = [], [], [], [], None
                for i in range(self.args.runs):
                    order = ["plain", "pyinst", "cprofile"]
                    order = order[i % 3:] + order[:i % 3]  # rotate who goes first
                    times, cpus = {}, {}
                    for mode in order:
                        if mode == "plain":
                            result = self.plain(python, name, scale)
                        elif mode == "pyinst":
                            result = self.pyinst(python, name, scale)
                            facts = self.trace_facts(result["trace"])
                        else:
                            result = self.cprofile(python, name, scale)
                        times[mode], cpus[mode] = result["seconds"], result["cpu"]
                    ours.append(times["pyinst"] / times["plain"])
                    cpu.append(cpus["pyinst"] / cpus["plain"])
                    theirs.append(times["cprofile"] / times["plain"])
                    plain_s.append(times["plain"])
                row = (name, label, statistics.median(plain_s), statistics.median(ours),
                       statistics.median(theirs), statistics.median(cpu), facts["samples"],
                       facts["bytes_per_sample"], facts["lost"])
                rows.append(row)
                print("%-14s %-7s %8.3f %9.3f %10.2f %10.3f %8d %9.2f %6d" % row)
                sys.stdout.flush()
        return rows

    def rates(self, pythons):
        rows = []
        print()
        print("Sample rate and sampler cost (30-deep busy stack, 1 thread; the sampler runs at")
        print("nice -10 when permitted, as root here: 'nice 0' shows it without that)")
        print("%-7s %-20s %9s %10s %10s %10s %12s %8s %7s" % (
            "python", "nominal", "achieved", "% nominal", "us/sample", "in-round", "final ivl us",
            "changes", "lost"))
        cases = [("1 kHz", "0.001", None, None), ("1 kHz, nice 0", "0.001", None, "0"),
                 ("10 kHz", "0.0001", None, None), ("10 kHz, budget 1.0", "0.0001", "1.0", None)]
        for label, python in pythons:
            for case, interval, budget, nice in cases:
                result = self.pyinst(python, "deep30", 1.0, interval, budget, nice=nice)
                f = self.trace_facts(result["trace"])
                nominal = 1.0 / float(interval)
                n = f["samples"] or 1
                row = (label, case, f["achieved_hz"], 100.0 * f["achieved_hz"] / nominal,
                       f["cpu_ns"] / 1000.0 / n, f["round_cpu_ns"] / 1000.0 / n,
                       f["final_interval_ns"] / 1000.0, f["rate_changes"], f["lost"])
                rows.append(row)
                print("%-7s %-20s %9.0f %9.1f%% %10.1f %10.1f %12.0f %8d %7d" % row)
                sys.stdout.flush()
        return rows

    def memory(self, label, python):
        print()
        seconds = self.args.memory_seconds
        scale = max(-3.0, __import__("math").log2(seconds / 4.0))
        print("Memory: 17 threads sampled every 0.2 ms for %.0f s (cpu budget 1.0), RSS in KiB"
              % seconds)
        plain = self.plain(python, "many-threads", scale)
        ours = self.pyinst(python, "many-threads", scale, "0.0002", "1.0", trace="memory")
        f = self.trace_facts(ours["trace"])
        checkpoints = ours["rss_checkpoints"]
        half = checkpoints[len(checkpoints) // 2 - 1] if len(checkpoints) > 1 else 0
        growth = checkpoints[-1] - half
        per_million = growth / (f["samples"] / 2 / 1e6) if f["samples"] else 0.0
        print("%-7s %9s %9s %9s %12s %16s %18s %9s" % (
            "python", "plain", "pyinst", "extra", "samples", "2nd-half growth",
            "KiB per 1M samples", "B/sample"))
        extra = ours["rss_kib"] - plain["rss_kib"]
        print("%-7s %9d %9d %9d %12d %16d %18.1f %9.2f" % (
            label, plain["rss_kib"], ours["rss_kib"], extra, f["samples"], growth,
            per_million, f["bytes_per_sample"]))
        hour = 3.6e6
        print("an hour at 1 kHz (3.6M samples of one thread): %s" % (
            "covered by this run" if f["samples"] >= hour else
            "this run had %.1fM samples; growth extrapolates to %+.0f KiB"
            % (f["samples"] / 1e6, per_million * 3.6)))
        return {"extra_kib": extra, "growth_kib": growth, "samples": f["samples"],
                "per_million": per_million}


def floors(overhead_rows, rate_rows, memory):
    print()
    print("Floors")
    checks = []
    for name, label, _, ours, _, _, _, _, _ in overhead_rows:
        if name in ("call-heavy", "library-heavy"):
            checks.append(("%s %s <= 1.05x" % (name, label), ours <= 1.05, "%.3fx" % ours))
    for label, case, _, percent, _, _, _, _, _ in rate_rows:
        if case == "1 kHz":
            checks.append(("%s 1 kHz >= 95%% of nominal" % label, percent >= 95.0,
                           "%.1f%%" % percent))
    if memory:
        bounded = memory["per_million"] < 2048
        checks.append(("RSS bounded (< 2 MiB per 1M samples)", bounded,
                       "%+d KiB over the 2nd half" % memory["growth_kib"]))
    for text, ok, value in checks:
        print("  %-44s %-6s %s" % (text, "PASS" if ok else "FAIL", value))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bindir", default=os.path.join(ROOT, "build", "release", "bin"))
    parser.add_argument("--pythons", default="3.8,3.11,3.13")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--memory-seconds", type=float, default=45.0)
    parser.add_argument("--quick", action="store_true", help="3 runs, 10 s memory run")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.memory_seconds = 3, 10.0
    pythons = []
    for version in args.pythons.split(","):
        python = find_python(int(version.split(".")[1]))
        if python is None:
            print("bench: no CPython %s under pyenv; skipped" % version)
            continue
        pythons.append((version, python))
    if not pythons:
        raise SystemExit("bench: no interpreter to measure")
    bench = Bench(args)
    print("machine: %d CPUs, load average %.2f; interpreters: %s" % (
        os.cpu_count(), os.getloadavg()[0], ", ".join(p for _, p in pythons)))
    started = time.time()
    overhead_rows = bench.overhead(pythons)
    rate_rows = bench.rates(pythons)
    label, python = pythons[len(pythons) // 2]
    memory = bench.memory(label, python) if args.memory_seconds > 0 else None
    floors(overhead_rows, rate_rows, memory)
    print("(%.0f s; traces in %s)" % (time.time() - started, bench.tmp))


if __name__ == "__main__":
    main()
