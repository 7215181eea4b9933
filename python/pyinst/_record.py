# SPDX-License-Identifier: MIT
"""The in-process half of pyinst-record: started from sitecustomize, before the program runs.

pyinst-record runs the unchanged command (python script.py / -m / -c) with
PYTHONPATH pointing at pyinst/_boot, whose sitecustomize calls bootstrap().
So __main__, sys.argv, tracebacks, exit codes and KeyboardInterrupt are the
interpreter's own. bootstrap() starts the recorder, then erases its traces:
the PYTHONPATH entry, the environment variables and the status descriptor
number, so the program and its children see what they would have seen.
The trace is finished by an atexit handler registered first (it runs last),
or by the recorder's signal handler when a signal the program does not
handle would end the process.
"""
import atexit
import os
import sys

from . import _profiler, _recorder, _threads

_ENV_PREFIX = "PYINST_RECORD_"
_UNSET = "\0unset"
_status_fd = -1


def _report_error(message):
    if _status_fd >= 0:
        os.write(_status_fd, ("pyinst-error %s\n" % message.replace("\n", " ")).encode())
    else:
        sys.stderr.write("pyinst-record: %s\n" % message)


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


def _take_status_fd(config):
    """Moves the status pipe out of the program's way: high, close-on-exec."""
    global _status_fd
    fd = int(config.get("status_fd", "-1"))
    if fd < 0:
        return
    try:
        import fcntl
        _status_fd = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 200)
        os.close(fd)
    except OSError:
        _status_fd = -1


def _finish():
    if not _recorder.is_running():
        return
    try:
        _threads.name_all()
        _threads.uninstall()
        _recorder.stop()  # writes the summary line to the status pipe
    except Exception as error:  # the program's exit must not change
        _report_error(str(error))


def bootstrap():
    config = _take_config()
    _take_status_fd(config)
    try:
        _recorder.start(
            config["output"], float(config.get("interval", "0.001")),
            config.get("threads", "all") != "main", list(sys.argv),
            _profiler.header_metadata([("pyinst.command", config.get("command", ""))]),
            max_depth=int(config.get("max_depth", "0")),
            cpu_budget=float(config.get("cpu_budget", "0")),
            summary_fd=_status_fd)
    except Exception as error:
        _report_error(str(error))
        os._exit(125)  # the program never started; pyinst-record explains
    _threads.install()
    atexit.register(_finish)
