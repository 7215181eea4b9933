#!/usr/bin/env python3
"""Checks that both readers decode every spec test vector as spec §10 says.

For each spec/vectors/NAME.pyitrace:
  - with NAME.json beside it, `pyinst-report dump` and
    spec/reference_reader.py must both exit 0 and print exactly that file;
  - with NAME.expect beside it (one line: an error name such as E_CORRUPT),
    both must exit non-zero and end their stderr with "[NAME]".
A vector with neither (or both), a .json or .expect without its vector, and
an empty vector folder are failures too.

usage: check_vectors.py C_READER PY_READER VECTORS_DIR
"""
import os
import subprocess
import sys


def run(cmd):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")


def first_difference(got, want):
    got_lines, want_lines = got.split(b"\n"), want.split(b"\n")
    for i, (g, w) in enumerate(zip(got_lines, want_lines)):
        if g != w:
            return "line %d differs:\n      got  %r\n      want %r" % (i + 1, g[:300], w[:300])
    return "got %d lines, want %d" % (len(got_lines), len(want_lines))


def check_vector(path, readers):
    """Returns a list of problems (empty: the vector passes)."""
    base = path[:-len(".pyitrace")]
    has_json, has_expect = os.path.exists(base + ".json"), os.path.exists(base + ".expect")
    if has_json == has_expect:
        return ["needs exactly one of %s.json and %s.expect" % (base, base)]
    problems = []
    if has_json:
        with open(base + ".json", "rb") as f:
            want = f.read()
        for name, cmd in readers:
            rc, out, err = run(cmd + [path])
            if rc != 0:
                problems.append("%s exited %d: %s" % (name, rc, err.strip()))
            elif out != want:
                problems.append("%s output differs from the .json: %s"
                                % (name, first_difference(out, want)))
    else:
        with open(base + ".expect") as f:
            want = f.read().strip()
        for name, cmd in readers:
            rc, out, err = run(cmd + [path])
            lines = err.strip().splitlines()
            if rc == 0:
                problems.append("%s succeeded, expected %s" % (name, want))
            elif not lines or not lines[-1].endswith("[%s]" % want):
                problems.append("%s failed without [%s]: %s" % (name, want, err.strip()))
    return problems


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    c_reader, py_reader, folder = argv[1:]
    readers = [("pyinst-report", [c_reader, "dump"]),
               ("reference_reader.py", [sys.executable, py_reader])]
    names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    vectors = [os.path.join(folder, n) for n in names if n.endswith(".pyitrace")]
    passed = failed = 0
    for n in names:                                # expectations without a vector
        stem, ext = os.path.splitext(n)
        if ext in (".json", ".expect") and stem + ".pyitrace" not in names:
            print("FAIL %s: no %s.pyitrace beside it" % (n, stem))
            failed += 1
    for path in vectors:
        problems = check_vector(path, readers)
        if problems:
            failed += 1
            print("FAIL %s" % os.path.basename(path))
            for p in problems:
                print("    " + p)
        else:
            passed += 1
            print("ok   %s" % os.path.basename(path))
    if not vectors:
        print("FAIL no test vectors in %s: spec §10 requires them" % folder)
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
