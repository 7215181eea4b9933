# SPDX-License-Identifier: MIT
"""The in-process half of pyinst-record: started from sitecustomize, before the program runs.

pyinst-record execs the unchanged command (python script.py / -m / -c) with
PYTHONPATH pointing at pyinst/_boot, whose sitecustomize calls bootstrap().
So the process, __main__, sys.argv, tracebacks, exit status, signals and
KeyboardInterrupt are the interpreter's own. bootstrap() starts the
recorder, then erases its traces (the PYTHONPATH entry and our environment
variables), so the program and its children see what they would have seen.
The trace is finished by an atexit handler registered first (it runs last),
or by the recorder's signal handler when a signal the program does not
handle would end the process; either way the recorder prints the summary.
"""
import atexit
import os
import sys

from . import _profiler, _recorder, _threads

_ENV_PREFIX = "PYINST_RECORD_"
_UNSET = "\0unset"
_EXIT_CANNOT_RECORD = 2  # the program never started


def _report_error(message):
    sys.stderr.write("pyinst-record: %s\n" % message)
    sys.stderr.flush()


def _take_config():
    """Reads and removes our variables, and restores PYTHONPATH as it was."""
    config = {k[len(_ENV_PREFIX):].lower(): v for k, v in os.environ.items()
              if k.startswith(_ENV_PREFIX)}
    for key in [k for k in os.environ if k.startswith(_ENV_PREFIX)]:
        del os.environ[key]
    original = config.get("pythonpath", _UNSET)
    if original == _UNSET:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = original
    return config


def _flush_streams():
    # The summary goes straight to fd 2: let the program's own output go first.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _finish():
    if not _recorder.is_running():
        return
    try:
        _threads.name_all()
        _threads.uninstall()
        _profiler.remove_fork_filter()
        _flush_streams()
        _recorder.stop()  # prints the summary line
    except Exception as error:  # the program's exit must not change
        _report_error(str(error))


def bootstrap():
    config = _take_config()
    try:
        _recorder.start(
            config["output"], float(config.get("interval", "0.001")),
            config.get("threads", "all") != "main", list(sys.argv),
            _profiler.header_metadata([("pyinst.command", config.get("command", ""))]),
            max_depth=int(config.get("max_depth", "0")),
            cpu_budget=float(config.get("cpu_budget", "0")),
            summary_fd=-1 if config.get("quiet") == "1" else 2,
            summary_label="pyinst-record",
            sampler_nice=int(config.get("sampler_nice", "-10")),
            report_command=config.get("report_command") or None)
    except Exception as error:
        _report_error(str(error))
        os._exit(_EXIT_CANNOT_RECORD)
    _threads.install()
    atexit.register(_finish)
