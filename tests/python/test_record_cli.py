# SPDX-License-Identifier: MIT
"""pyinst-record's own checks: bad arguments and interpreters give one clear line, status 2."""
import os
import subprocess

import pytest

BAD_ARGUMENTS = [
    ([], "no program to run"),
    (["--interval", "abc", "x.py"], "--interval takes seconds"),
    (["--threads", "some", "x.py"], "--threads takes 'all', 'main' or a thread id"),
    (["--bogus", "x.py"], "unknown option '--bogus'"),
    (["-m"], "-m needs a module"),
    (["missing_script.py"], "cannot run missing_script.py: No such file or directory"),
    (["--python", "/bin/true", "-c", "pass"], "is not a Python interpreter pyinst can run"),
    (["--python", "/nonexistent/python", "-c", "pass"], "cannot find the Python interpreter"),
]


@pytest.mark.parametrize("args,message", BAD_ARGUMENTS)
def test_bad_arguments_give_one_clear_line(run, args, message):
    command = [run.record_bin] + args
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=str(run.tmp), timeout=60)
    assert result.returncode == 2
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pyinst-record: ") and message in lines[0], \
        lines
    assert result.stdout == b""


def test_unsupported_interpreter_is_refused(run):
    import glob
    olds = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.7.*/bin/python3.7")))
    if not olds:
        pytest.skip("no CPython 3.7 here to try")
    result = subprocess.run([run.record_bin, "--python", olds[-1], "-c", "print(1)"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert result.returncode == 2 and result.stdout == b""
    assert b"is CPython 3.7." in result.stderr
    assert b"pyinst records CPython 3.8 to 3.13" in result.stderr


def test_help_and_version(run):
    out = subprocess.run([run.record_bin, "--help"], stdout=subprocess.PIPE, timeout=60)
    assert out.returncode == 0 and b"usage: pyinst-record" in out.stdout
    out = subprocess.run([run.record_bin, "--version"], stdout=subprocess.PIPE, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith(b"pyinst-record ")


