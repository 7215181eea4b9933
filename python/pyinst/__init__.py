# SPDX-License-Identifier: MIT
"""pyinst: a sampling profiler for CPython 3.8-3.13 that is cheap enough to leave on.

A native thread samples every Python thread's stack at a jittered interval
without taking the GIL, and writes a .pyitrace file; nothing runs on the
profiled threads, so the overhead does not grow with the number of calls.

    import pyinst

    with pyinst.Profiler(interval=0.001) as profiler:
        work()
    print(profiler.last_path)        # the .pyitrace file

    @pyinst.Profiler(all_threads=True)
    def handler(request): ...

Render a trace with the pyinst-report command.
"""
from ._profiler import Profiler, default_trace_path

__all__ = ["Profiler", "default_trace_path", "__version__"]
__version__ = "0.1.0"
