#!/usr/bin/env python3
"""Black-box checks of pyinst-report on the golden traces: every valid one
dumps and passes `info --verify` as its state says; every invalid one makes
`dump` fail with exactly the one-line message in its .error file and exit
status 2, and makes `info --verify` fail (exit 2 with the same message for
files it cannot open, exit 1 with the damage listed otherwise).

usage: check_golden.py PYINST_REPORT
"""
import glob
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Valid but incomplete traces: readable, yet `info --verify` must say so.
INCOMPLETE = {"truncated", "unclosed"}


def run(cmd):
    return subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60)


def main():
    report = sys.argv[1]
    failures = []
    valid = sorted(glob.glob(os.path.join(ROOT, "tests/golden/valid/*.pyitrace")))
    invalid = sorted(glob.glob(os.path.join(ROOT, "tests/golden/invalid/*.pyitrace")))
    if len(valid) < 5 or len(invalid) < 20:
        failures.append("golden traces are missing: %d valid, %d invalid" % (len(valid),
                                                                             len(invalid)))
    for path in valid:
        name = os.path.basename(path)[:-len(".pyitrace")]
        rel = os.path.relpath(path, ROOT)
        dump = run([report, "dump", rel])
        # a cut trace reads fine with one warning line; anything else is silent
        warning = name == "truncated"
        if dump.returncode != 0 or bool(dump.stderr) != warning or (
                warning and (b": warning: " not in dump.stderr or dump.stderr.count(b"\n") != 1)):
            failures.append("%s: dump said %r (exit %d)" % (rel, dump.stderr, dump.returncode))
        verify = run([report, "info", "--verify", rel])
        want = 1 if name in INCOMPLETE else 0
        if verify.returncode != want:
            failures.append("%s: info --verify exited %d, expected %d" % (rel, verify.returncode,
                                                                         want))
    for path in invalid:
        rel = os.path.relpath(path, ROOT)
        expected = open(path[:-len(".pyitrace")] + ".error", "rb").read()
        done = run([report, "dump", rel])
        if done.returncode != 2:
            failures.append("%s: dump exited %d, expected 2" % (rel, done.returncode))
        if done.stderr != expected:
            failures.append("%s: dump said %r, expected %r" % (rel, done.stderr, expected))
        # info salvages: damage after the header is listed, and --verify fails
        done = run([report, "info", "--verify", rel])
        if done.returncode == 2:
            if done.stderr != expected.split(b" [")[0] + b"\n":
                failures.append("%s: info said %r" % (rel, done.stderr))
        elif done.returncode != 1 or b"damage:" not in done.stdout and b"state:" not in done.stdout:
            failures.append("%s: info --verify exited %d" % (rel, done.returncode))
    for f in failures:
        print("FAIL", f)
    print("%d valid, %d invalid golden traces checked, %d failures" % (len(valid), len(invalid),
                                                                       len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
