# SPDX-License-Identifier: MIT
"""Attach benchmark: what recording a running process from outside costs it and us.

    /usr/bin/python3 bench/attach/bench.py [--bindir build/release/bin]
        [--pythons 3.8,3.11,3.13,/usr/bin/python3.11] [--runs 5] [--quick]

1. Slowdown: the target times its own workload (perf_counter, after a
   warm-up) while pyinst-record --pid records it at 1 ms, at 100 us, or not
   at all; the three kinds of run are interleaved and the table shows the
   median ratio over --runs rounds. At 100 us the CPU budget is lifted
   (--cpu-budget 1) so that the rate asked for is the rate tried; the
   achieved rate is shown.
2. Sampler CPU per sample, from the trace (the sampler thread's own clock)
   and from the recorder process's rusage (every thread, writer included).
3. Syscalls per thread-sample: strace -f -c counts every syscall of the
   recorder during a 1 s and a 3 s recording of the same target; the
   difference divided by the difference in thread-samples is the steady
   cost (start-up and the final flush cancel out). Also the recorder's own
   count of memory reads and /proc reads per thread-sample.
"""
import argparse
import glob
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
from tracedump import Trace  # noqa: E402

TARGET = os.path.join(HERE, "target.py")


def find_python(spec):
    if spec.startswith("/"):
        return spec if os.path.exists(spec) else None
    minor = int(spec.split(".")[1])
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.%d.*/bin/python3.%d"
                                                 % (minor, minor))))
    return found[-1] if found else None


class Bench:
    def __init__(self, args):
        self.args = args
        bindir = os.path.abspath(args.bindir)
        self.record = os.path.join(bindir, "pyinst-record")
        self.report = os.path.join(bindir, "pyinst-report")
        self.tmp = tempfile.mkdtemp(prefix="pyinst-bench-attach-")

    def target(self, python, workload, scale, threads):
        proc = subprocess.Popen([python, TARGET, workload, str(scale), str(threads)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                universal_newlines=True, cwd=self.tmp)
        line = proc.stdout.readline()
        if line != "ready\n":
            proc.kill()
            raise SystemExit("bench: %s %s did not start: %r" % (python, workload, line))
        return proc

    def attach(self, pid, trace, options, strace_out=None):
        command = [self.record, "-q", "--pid", str(pid), "-o", trace] + options
        if strace_out:
            command = ["strace", "-f", "-c", "-o", strace_out] + command
        recorder = subprocess.Popen(command, stderr=subprocess.PIPE, universal_newlines=True)
        deadline = time.time() + 10
        while time.time() < deadline and (not os.path.exists(trace) or
                                           os.path.getsize(trace) == 0):
            time.sleep(0.01)
        time.sleep(0.2)  # the first rounds read the code objects
        return recorder

    def finish(self, recorder):
        _, status, usage = os.wait4(recorder.pid, 0)
        recorder.returncode = os.waitstatus_to_exitcode(status) if hasattr(
            os, "waitstatus_to_exitcode") else status >> 8
        err = recorder.stderr.read()
        if recorder.returncode != 0:
            raise SystemExit("bench: pyinst-record failed: %s" % err)
        return usage.ru_utime + usage.ru_stime

    def timed_run(self, python, workload, scale, options=None, name="t"):
        """The target's own seconds, and (when recorded) the trace and recorder CPU."""
        proc = self.target(python, workload, scale, 0)
        recorder, trace = None, os.path.join(self.tmp, name + ".pyitrace")
        if options is not None:
            if os.path.exists(trace):
                os.unlink(trace)
            recorder = self.attach(proc.pid, trace, options)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        out = proc.stdout.readline()
        proc.wait()
        seconds = float(re.search(r'"seconds": ([0-9.e-]+)', out).group(1))
        if recorder is None:
            return seconds, None, 0.0
        cpu = self.finish(recorder)
        return seconds, Trace(trace, self.report), cpu

    def overhead(self, python, workload, scale):
        modes = [("plain", None), ("1ms", ["-i", "0.001"]),
                 ("100us", ["-i", "0.0001", "--cpu-budget", "1"])]
        seconds = {m: [] for m, _ in modes}
        ratios = {m: [] for m, _ in modes[1:]}
        hz, cpu_per_sample, sampler_per_sample = {}, {}, {}
        for _ in range(self.args.runs):
            plain = None
            for mode, options in modes:
                s, trace, cpu = self.timed_run(python, workload, scale, options, mode)
                seconds[mode].append(s)
                if options is None:
                    plain = s
                    continue
                ratios[mode].append(s / plain)
                meta = trace.meta
                samples = max(1, meta["recorder.thread_samples"])
                hz.setdefault(mode, []).append(meta["recorder.achieved_hz"])
                cpu_per_sample.setdefault(mode, []).append(cpu * 1e6 / samples)
                sampler_per_sample.setdefault(mode, []).append(
                    meta["recorder.sampler_cpu_ns"] / 1e3 / samples)
        med = statistics.median
        return {"plain": med(seconds["plain"]),
                "ratio": {m: med(r) for m, r in ratios.items()},
                "spread": {m: (min(r), max(r)) for m, r in ratios.items()},
                "hz": {m: med(v) for m, v in hz.items()},
                "cpu_us": {m: med(v) for m, v in cpu_per_sample.items()},
                "sampler_us": {m: med(v) for m, v in sampler_per_sample.items()}}

    def syscalls(self, python, threads, workload="deep30"):
        """Steady syscalls per thread-sample for a target with 1 + threads threads."""
        counts = []
        for seconds in (1, 3):
            proc = self.target(python, workload, 3, threads)  # ~6 s, busy or sleeping
            proc.stdin.write("go\n")
            proc.stdin.flush()
            trace = os.path.join(self.tmp, "sys%d.pyitrace" % seconds)
            strace_out = os.path.join(self.tmp, "strace%d.txt" % seconds)
            if os.path.exists(trace):
                os.unlink(trace)
            recorder = self.attach(proc.pid, trace, ["-d", str(seconds)], strace_out)
            self.finish(recorder)
            proc.kill()
            proc.wait()
            meta = Trace(trace, self.report).meta
            counts.append((strace_calls(strace_out), meta["recorder.thread_samples"],
                           meta["recorder.memory_syscalls"] + meta["recorder.cpu_reads"]))
        (calls1, samples1, own1), (calls3, samples3, own3) = counts
        samples = max(1, samples3 - samples1)
        return (calls3 - calls1) / samples, (own3 - own1) / samples, samples3 / 3.0

    def main(self):
        args = self.args
        pythons = []
        for spec in args.pythons.split(","):
            path = find_python(spec)
            if path is None:
                print("bench: no CPython %s here, skipped" % spec, file=sys.stderr)
                continue
            version = subprocess.check_output(
                [path, "-c", "import sys; print(sys.version.split()[0])"],
                universal_newlines=True).strip()
            label = version + (" (Debian, static)" if path.startswith("/usr/bin") else "")
            pythons.append((label, path))
        workloads = [("call-heavy", -1.0 if args.quick else 0.0),
                     ("library-heavy", -1.0 if args.quick else 0.0)]
        print("Target slowdown while attached (target's own wall time / plain, median of %d "
              "interleaved rounds)" % args.runs)
        print("%-26s %-14s %8s %12s %8s %12s %8s %9s" % (
            "python", "workload", "plain s", "1ms ratio", "1ms Hz", "100us ratio", "100us Hz",
            "floor"))
        fails = 0
        cpu_rows = []
        if args.part == "syscalls":
            workloads = []
        for label, python in pythons:
            for workload, scale in workloads:
                r = self.overhead(python, workload, scale)
                ok = r["ratio"]["1ms"] <= 1.02
                fails += not ok
                print("%-26s %-14s %8.3f %6.3f%-6s %8.0f %6.3f%-6s %8.0f %9s" % (
                    label, workload, r["plain"], r["ratio"]["1ms"],
                    "x", r["hz"]["1ms"], r["ratio"]["100us"], "x", r["hz"]["100us"],
                    "PASS" if ok else "FAIL <=1.02"), flush=True)
                print("%-26s %-14s %8s  spread 1ms %.3f-%.3f, 100us %.3f-%.3f" % (
                    "", "", "", r["spread"]["1ms"][0], r["spread"]["1ms"][1],
                    r["spread"]["100us"][0], r["spread"]["100us"][1]))
                cpu_rows.append((label, workload, r))
        print()
        print("Recorder CPU per thread-sample (us): sampler thread's clock / whole process "
              "(rusage, writer and start-up included)")
        print("%-26s %-14s %16s %16s" % ("python", "workload", "1ms", "100us"))
        for label, workload, r in cpu_rows:
            print("%-26s %-14s %7.1f / %6.1f %7.1f / %6.1f" % (
                label, workload, r["sampler_us"]["1ms"], r["cpu_us"]["1ms"],
                r["sampler_us"]["100us"], r["cpu_us"]["100us"]))
        print()
        print("Syscalls per thread-sample at 1 ms (strace -f -c, 3 s minus 1 s recording; "
              "floor <= 3 on 3.11+)")
        print("%-26s %11s %8s %12s %14s %9s" % ("python", "threads", "rate Hz", "all syscalls",
                                               "memory+/proc", "floor"))
        print("(main thread busy in a 30-deep stack, or 'sleeping' in time.sleep; the other "
              "threads sleep 2 ms at a time)")
        for label, python in pythons if args.part != "overhead" else []:
            for threads, workload in ((0, "deep30"), (0, "sleepy"), (1, "deep30"), (19, "deep30")):
                every, own, rate = self.syscalls(python, threads, workload)
                modern = not label.startswith(("3.8", "3.9", "3.10"))
                ok = every <= 3 or not modern
                fails += not ok
                print("%-26s %11s %8.0f %12.2f %14.2f %9s" % (
                    label, "%d%s" % (threads + 1, " sleeping" if workload == "sleepy" else ""),
                    rate, every, own,
                    ("PASS" if ok else "FAIL <=3") if modern else "-"), flush=True)
        return 1 if fails else 0


def strace_calls(path):
    """The total of the calls column of strace -c's table."""
    total = 0
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 5 and fields[-1] != "total" and re.match(r"^[0-9.]+$", fields[0]):
                total += int(fields[3])
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bindir", default="build/release/bin")
    parser.add_argument("--pythons", default="3.8,3.11,3.13,/usr/bin/python3.11")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smaller workloads, for a try")
    parser.add_argument("--part", choices=["all", "overhead", "syscalls"], default="all",
                        help="overhead (with CPU per sample) or syscalls only")
    args = parser.parse_args()
    if subprocess.run(["which", "strace"], stdout=subprocess.DEVNULL).returncode != 0:
        raise SystemExit("bench: needs strace (apt-get install strace)")
    sys.exit(Bench(args).main())


if __name__ == "__main__":
    main()
