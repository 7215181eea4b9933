# SPDX-License-Identifier: MIT
"""Session: one finished recording (a .pyitrace) and its renderings, made in process."""
import codecs
import os
import sys
import threading

_TIME_UNITS = ("seconds", "percent_of_total")


def _report():
    """pyinst._report, imported on first use: recording alone never loads the renderers."""
    from . import _report
    return _report


def _producer():
    from . import __version__
    return "pyinst %s (Python API)" % __version__


def _thread_keys(threads):
    """threads as the analyzer's thread filter takes them: a list of str."""
    if threads is None:
        return None
    if isinstance(threads, (str, int, threading.Thread)):
        threads = [threads]
    keys = []
    for thread in threads:
        if isinstance(thread, threading.Thread):
            if thread.native_id is None:
                raise ValueError("pyinst: thread %r has not started" % thread.name)
            keys.append(str(thread.native_id))
        elif isinstance(thread, int) and not isinstance(thread, bool):
            keys.append(str(thread))
        elif isinstance(thread, str):
            keys.append(thread)
        else:
            raise TypeError("pyinst: threads are names, native ids or threading.Thread "
                            "objects, not %s" % type(thread).__name__)
    return keys


def _render_options(show_all=False, unicode=True, color=False, flat=False, time="seconds",
                    source=True, min_share=None, metric="wall", processors=None,
                    threads=None, inverted=False):
    """The keywords of Session's rendering methods as pyinst._report.render() options."""
    if time not in _TIME_UNITS:
        raise ValueError("pyinst: time is 'seconds' or 'percent_of_total', not %r" % (time,))
    options = {
        "show_all": show_all, "ascii": not unicode, "color": color, "flat": flat,
        "percent": time == "percent_of_total", "with_source": source, "min_share": min_share,
        "metric": metric, "inverted": inverted, "producer": _producer(),
    }
    if processors is not None:
        options["processors"] = dict(processors)
    keys = _thread_keys(threads)
    if keys is not None:
        options["threads"] = keys
    return options


def _file_supports_unicode(file):
    encoding = getattr(file, "encoding", None)
    if encoding is None:
        return True  # text kept in memory (io.StringIO) holds any character
    try:
        return codecs.lookup(encoding).name.startswith("utf")
    except LookupError:
        return False


def _file_supports_color(file):
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return file.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


class Session:
    """A finished recording: what its trace says, and its renderings.

    Session(trace) reads trace: a .pyitrace path (str or os.PathLike), or a
    bytes-like object holding a whole trace. It raises pyinst.TraceError when
    the data is not a trace pyinst can read (.code says why, e.g. 'E_CORRUPT'),
    OSError when the file cannot be read. A trace cut short (the recording
    process died) loads what is intact, with a RuntimeWarning.

    From the trace: path (None for bytes), start_time (Unix seconds), duration
    and wall_time (seconds; wall_time adds up every thread), cpu_time (seconds,
    None when not measured), sample_count, lost_samples, program (the recorded
    command line) and threads (dicts: id, name, native_id, pid, is_main,
    sample_count, wall_time).

    Every rendering method also takes these view options, as keywords:
      show_all    keep every frame: no minimum share, no library grouping,
                  import machinery shown
      min_share   hide tree nodes under this share of the total (0.01 = 1 %);
                  None: the renderer's default (text 1 %, html 0.1 %)
      metric      'wall' (default), 'cpu', 'on-cpu', 'waiting' or 'samples'
      processors  {name: bool} switching tree processors on or off:
                  hide-importlib, hide-profiler, group-library, merge-self,
                  aggregate-calls, collapse-recursion ('_' for '-' is fine)
      threads     only these threads: a name, a native id
                  (threading.get_native_id()), a threading.Thread, or a list
                  of them; a ValueError lists the trace's threads if none
                  matches
      inverted    callers (bottom-up) tree
    """

    def __init__(self, trace):
        if isinstance(trace, (str, os.PathLike)):
            self.path = os.fspath(trace)
            self._trace = self.path
        else:
            try:
                view = memoryview(trace)
            except TypeError:
                raise TypeError("pyinst: a trace is a path or a bytes-like object, not %s"
                                % type(trace).__name__) from None
            self.path = None
            self._trace = view.tobytes()  # our own copy: the caller may reuse its buffer
        info = _report().info(self._trace)
        self.start_time = info["start_time"]
        self.duration = info["duration"]
        self.wall_time = info["wall_time"]
        self.cpu_time = info["cpu_time"]
        self.sample_count = info["sample_count"]
        self.lost_samples = info["lost_samples"]
        self.program = info.get("program", "")
        self.threads = info["threads"]

    @classmethod
    def load(cls, path):
        """The recording in the .pyitrace file at path."""
        return cls(os.fspath(path))

    def __repr__(self):
        where = repr(self.path) if self.path is not None else "<trace in memory>"
        return "<pyinst.Session %s: %.3f s, %d samples>" % (where, self.duration,
                                                           self.sample_count)

    def output(self, renderer="text", **options):
        """The recording rendered by one of pyinst's renderers: 'text', 'json',
        'speedscope', 'pprof', 'collapsed' or 'html'; str, or bytes for pprof.
        options: those of output_text() and output_html(), and the view options."""
        return _report().render(self._trace, renderer, _render_options(**options))

    def output_text(self, unicode=False, color=False, show_all=False, *, flat=False,
                    time="seconds", **view):
        """The call tree as text, pyinstrument style (str).

        unicode: box-drawing connectors (else ASCII); color: ANSI colours by
        cost; flat: a table of the top functions (self and total) instead of
        the tree; time: 'seconds' or 'percent_of_total'. See the class for the
        view options.
        """
        return self.output("text", unicode=unicode, color=color, show_all=show_all,
                           flat=flat, time=time, **view)

    def print(self, file=None, *, unicode=None, color=None, show_all=False, flat=False,
              time="seconds", **view):
        """Writes output_text() to file (default sys.stdout). unicode and color
        default to what file supports: colour on a terminal unless NO_COLOR is
        set, box drawing for a UTF-8 file or one held in memory."""
        file = sys.stdout if file is None else file
        if unicode is None:
            unicode = _file_supports_unicode(file)
        if color is None:
            color = _file_supports_color(file)
        file.write(self.output_text(unicode, color, show_all, flat=flat, time=time, **view))

    def output_html(self, *, show_all=False, source=True, **view):
        """One self-contained HTML page (str): call tree, flame graph, timelines.
        source: embed the profiled lines from the .py files readable now."""
        return self.output("html", show_all=show_all, source=source, **view)

    def write_html(self, path, *, show_all=False, source=True, **view):
        """Writes output_html() to path; returns the path."""
        page = self.output_html(show_all=show_all, source=source, **view)
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)
        return os.fspath(path)

    def open_in_browser(self, *, show_all=False, source=True, **view):
        """Writes output_html() to a new temporary file and opens it with the
        webbrowser module; returns the file's path (left for the browser)."""
        import tempfile
        import webbrowser
        page = self.output_html(show_all=show_all, source=source, **view)
        fd, path = tempfile.mkstemp(prefix="pyinst-", suffix=".html")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        webbrowser.open("file://" + path)
        return path
