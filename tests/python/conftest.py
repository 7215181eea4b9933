# SPDX-License-Identifier: MIT
"""Black-box recorder tests: record small programs with one interpreter, check the trace.

    /usr/bin/python3 -m pytest tests/python --python=PATH --bindir=build/dev/bin \
        --pythonpath=build/dev/python

--python is the interpreter under test (pytest itself runs on Debian's
python3); the trace is read back through `pyinst-report dump`.
"""
import os
import signal
import subprocess
import sys
import textwrap

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tracedump import Trace  # noqa: E402

TIMEOUT = 120


def pytest_addoption(parser):
    parser.addoption("--python", default="/usr/bin/python3", help="interpreter under test")
    parser.addoption("--bindir", required=True, help="folder with pyinst-record/-report")
    parser.addoption("--pythonpath", default="", help="folder holding the pyinst package")
    parser.addoption("--attach-pythons", default="",
                     help="comma-separated interpreters for test_attach.py (empty: skip it)")


def _default_sigint():
    # A background shell may have ignored SIGINT; programs here must see it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Runner:
    def __init__(self, config, tmp_path):
        self.python = config.getoption("--python")
        self.bindir = os.path.abspath(config.getoption("--bindir"))
        self.pythonpath = os.path.abspath(config.getoption("--pythonpath"))
        self.record_bin = os.path.join(self.bindir, "pyinst-record")
        self.report = os.path.join(self.bindir, "pyinst-report")
        self.tmp = tmp_path
        out = subprocess.check_output([self.python, "-c",
                                       "import sys; print('%d %d' % sys.version_info[:2])"])
        self.version = tuple(int(x) for x in out.split())

    # Prepended to programs whose profile a test checks: under pyinst-record,
    # wait (at most 10 s) until the sampler has made its first rounds, so that
    # a machine too loaded to run it at once does not lose the program's
    # first tenths of a second. Does nothing in a plain run.
    WAIT_FOR_SAMPLER = (
        "import sys as _s, time as _t\n"
        "_r = _s.modules.get('pyinst._recorder')\n"
        "_e = _t.time() + 10\n"
        "while _r is not None and _t.time() < _e and (_r.stats() or {}).get('rounds', 9) < 3:\n"
        "    _t.sleep(0.001)\n")

    def script(self, source, name="prog.py", wait_for_sampler=True):
        path = self.tmp / name
        text = textwrap.dedent(source)
        if wait_for_sampler:
            text = self.WAIT_FOR_SAMPLER + text
        path.write_text(text, encoding="utf-8")
        return str(path)

    @staticmethod
    def line(path, needle, start=1):
        """The number of the first line at or after start that contains needle."""
        with open(path, encoding="utf-8") as f:
            for number, text in enumerate(f, 1):
                if number >= start and needle in text:
                    return number
        raise AssertionError("%r not in %s" % (needle, path))

    def record_command(self, args, output=None, options=()):
        output = output or str(self.tmp / "out.pyitrace")
        return [self.record_bin, "--python", self.python, "-o", output] + list(options) + \
            list(args), output

    def record(self, args, options=(), quiet=True, stdin=None, env=None, check_trace=True):
        """Runs pyinst-record; returns (completed process, Trace or None)."""
        command, output = self.record_command(args, options=(["-q"] if quiet else []) +
                                              list(options))
        result = subprocess.run(command, input=stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, timeout=TIMEOUT, cwd=str(self.tmp),
                                env=env, preexec_fn=_default_sigint)
        trace = Trace(output, self.report) if check_trace else None
        return result, trace

    def plain(self, args, stdin=None, env=None):
        return subprocess.run([self.python] + list(args), input=stdin, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=TIMEOUT, cwd=str(self.tmp),
                              env=env, preexec_fn=_default_sigint)

    def popen_record(self, args, output):
        command, _ = self.record_command(args, output=output, options=["-q"])
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=str(self.tmp), preexec_fn=_default_sigint)

    def popen_plain(self, args):
        return subprocess.Popen([self.python] + list(args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=str(self.tmp),
                                preexec_fn=_default_sigint)

    def api(self, source, timeout=TIMEOUT):
        """Runs a script that uses `import pyinst` directly."""
        env = dict(os.environ, PYTHONPATH=self.pythonpath)
        path = self.script(source, "api_prog.py")
        return subprocess.run([self.python, path], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout, cwd=str(self.tmp), env=env)

    def load(self, path):
        return Trace(str(path), self.report)


@pytest.fixture
def run(request, tmp_path):
    return Runner(request.config, tmp_path)
