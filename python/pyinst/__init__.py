# SPDX-License-Identifier: MIT
"""pyinst: a sampling profiler for CPython 3.8-3.13 that is cheap enough to leave on.

A native thread samples every Python thread's stack at a jittered interval
without taking the GIL, and writes a .pyitrace file; nothing runs on the
profiled threads, so the overhead does not grow with the number of calls.

    import pyinst

    with pyinst.Profiler(interval=0.001) as profiler:
        work()
    print(profiler.last_path)        # the .pyitrace file
    profiler.print()                 # its call tree, rendered in process
    profiler.write_html("work.html") # or output_text(), output_html(), open_in_browser()

    @pyinst.Profiler(all_threads=True)
    def handler(request): ...

    pyinst.Session.load("old.pyitrace").print(show_all=True)

The pyinst-report command renders traces too (and merges, diffs, converts).
"""
from ._profiler import Profiler, default_trace_path
from ._session import Session

__all__ = ["Profiler", "Session", "TraceError", "default_trace_path", "__version__"]
__version__ = "0.1.0"


def __getattr__(name):
    # TraceError lives in the rendering extension, which recording alone
    # (pyinst-record) never loads.
    if name == "TraceError":
        from ._report import TraceError
        return TraceError
    raise AttributeError("module 'pyinst' has no attribute %r" % name)
