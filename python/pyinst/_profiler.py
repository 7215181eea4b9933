# SPDX-License-Identifier: MIT
"""The Profiler API: start/stop, context manager and decorator around pyinst._recorder,
and the last recording's renderings (through pyinst.Session)."""
import functools
import os
import sys
import threading
import time

from . import _recorder, _threads
from ._session import Session

_DEFAULT_INTERVAL = 0.001


def default_trace_path(directory=None):
    """A new timestamped trace name, pyinst-YYYYmmdd-HHMMSS[-N].pyitrace, in directory (cwd)."""
    base = os.path.join(directory or os.getcwd(), "pyinst-" + time.strftime("%Y%m%d-%H%M%S"))
    path, n = base + ".pyitrace", 1
    while os.path.exists(path):
        n += 1
        path = "%s-%d.pyitrace" % (base, n)
    return path


def header_metadata(extra=()):
    """(key, str) pairs stored in the trace header: what an analyzer needs to know."""
    pairs = [
        ("python.executable", sys.executable or ""),
        ("python.version_full", sys.version),
        ("python.prefix", sys.prefix),
        ("python.base_prefix", sys.base_prefix),
        ("python.sys_path", os.pathsep.join(p for p in sys.path if isinstance(p, str))),
    ]
    pairs.extend(extra)
    return pairs


class Profiler:
    """Records this process's Python stacks into a .pyitrace file.

    interval: seconds between samples (default 0.001, jittered by +-25 %).
    all_threads: record every Python thread; False (the default, as in
        pyinstrument) records only the thread that calls start().
    path: trace file; None means a new pyinst-<timestamp>.pyitrace in the
        current directory at each start().
    max_depth: innermost frames kept per stack (default 2048).
    cpu_budget: share of one CPU the sampler may use before it lowers its
        rate (default 0.1); the trace records every change.

    Only one recording can run in a process at a time. After stop(),
    last_path is the trace and last_session reads it (a pyinst.Session);
    print(), output_text(), output_html(), write_html(), open_in_browser()
    and output() render it in process, with Session's options.
    """

    def __init__(self, interval=_DEFAULT_INTERVAL, all_threads=False, path=None, *,
                 max_depth=0, cpu_budget=0.0):
        if not interval > 0:
            raise ValueError("interval must be positive")
        self.interval = float(interval)
        self.all_threads = bool(all_threads)
        self.path = path
        self.max_depth = int(max_depth)
        self.cpu_budget = float(cpu_budget)
        self.last_path = None
        self.last_stats = None
        self._recording_path = None
        self._last_session = None

    @property
    def is_running(self):
        return self._recording_path is not None and _recorder.is_running()

    def start(self, path=None):
        """Starts recording into path (or the profiler's path, or a new default name)."""
        if self._recording_path is not None:
            raise RuntimeError("this Profiler is already recording")
        target = os.fspath(path or self.path or default_trace_path())
        _recorder.start(target, self.interval, self.all_threads, list(sys.argv),
                        header_metadata([("pyinst.api", "Profiler")]),
                        max_depth=self.max_depth, cpu_budget=self.cpu_budget)
        self._recording_path = target
        _threads.install()

    def stop(self):
        """Stops recording, finishes the trace and returns its path."""
        if self._recording_path is None:
            raise RuntimeError("this Profiler is not recording")
        path, self._recording_path = self._recording_path, None
        if _recorder.is_running():
            _threads.name_all()  # names given after the threads started
            _threads.uninstall()
            remove_fork_filter()
            self.last_stats = _recorder.stop()
        else:
            self.last_stats = None  # a fork child: the parent owns the trace
        self.last_path = path
        self._last_session = None  # read again on demand: the path may be reused
        return path

    # ---- The last recording -------------------------------------------------

    @property
    def last_session(self):
        """The last recording as a pyinst.Session; None before the first stop()."""
        if self.last_path is None:
            return None
        if self._last_session is None:
            self._last_session = Session(self.last_path)
        return self._last_session

    def _session_to_render(self):
        if self.last_path is not None:
            return self.last_session
        if self._recording_path is not None:
            raise RuntimeError("this Profiler is still recording: call stop() before "
                               "rendering")
        raise RuntimeError("this Profiler has recorded nothing yet: start() and stop() it "
                           "(or use it as a context manager or decorator) before rendering")

    def print(self, file=None, **options):
        """Prints the last recording's call tree to file (sys.stdout): Session.print()."""
        self._session_to_render().print(file, **options)

    def output_text(self, unicode=False, color=False, show_all=False, **options):
        """The last recording's call tree as text: Session.output_text()."""
        return self._session_to_render().output_text(unicode, color, show_all, **options)

    def output_html(self, **options):
        """The last recording as one self-contained HTML page: Session.output_html()."""
        return self._session_to_render().output_html(**options)

    def write_html(self, path, **options):
        """Writes output_html() to path and returns it: Session.write_html()."""
        return self._session_to_render().write_html(path, **options)

    def open_in_browser(self, **options):
        """Opens output_html() in a browser: Session.open_in_browser()."""
        return self._session_to_render().open_in_browser(**options)

    def output(self, renderer="text", **options):
        """The last recording rendered by a named renderer: Session.output()."""
        return self._session_to_render().output(renderer, **options)

    # ---- Context manager and decorator ----------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()
        return False

    def __call__(self, function):
        """Decorator: records every call (a recursive call joins the outer one)."""
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            if self._recording_path is not None:
                return function(*args, **kwargs)
            self.start()
            try:
                return function(*args, **kwargs)
            finally:
                self.stop()
        return wrapper


# ---- fork ----------------------------------------------------------------
# CPython 3.12+ warns "This process is multi-threaded, use of fork() may lead
# to deadlocks" when the process has more than one OS thread at fork(): our
# sampler and writer threads would make a single-threaded program print it.
# Before each fork of a program with no thread of its own, a filter for that
# one warning is put in place; it stays until the next fork decides again
# (3.12 warns before the after-fork hooks run, 3.13 after them), or until
# recording stops. A program with threads of its own sees the warning.
_FORK_WARNING = r"This process \(pid=\d+\) is multi-threaded, use of \w+\(\) may lead"
_fork_filter = None


def _process_threads():
    try:
        with open("/proc/self/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[17])
    except (OSError, ValueError, IndexError):
        return 0


def remove_fork_filter():
    global _fork_filter
    if _fork_filter is None:
        return
    import warnings
    try:
        warnings.filters.remove(_fork_filter)
        warnings._filters_mutated()
    except (ValueError, AttributeError):
        pass  # the program reset the filters itself
    _fork_filter = None


def _before_fork():
    global _fork_filter
    remove_fork_filter()
    ours = _recorder.thread_count()
    if ours == 0 or _process_threads() - ours > 1:
        return
    import warnings
    warnings.filterwarnings("ignore", message=_FORK_WARNING, category=DeprecationWarning)
    _fork_filter = warnings.filters[0]


def _after_fork_in_child():
    # The sampler and writer threads did not survive fork(): drop the
    # recorder without touching the parent's trace. The child is not recorded.
    remove_fork_filter()
    _recorder._after_fork_child()
    _threads.uninstall()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
