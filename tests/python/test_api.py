# SPDX-License-Identifier: MIT
"""import pyinst: Profiler as start/stop, context manager and decorator."""
import json

from tracedump import contains

PRELUDE = '''
import json, sys, threading, time
import pyinst

def busy(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass

def report(**values):
    print(json.dumps(values))
'''


def api(run, body):
    result = run.api(PRELUDE + body)
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout.decode().strip().splitlines()[-1])


def test_context_manager_records_the_block(run):
    out = api(run, '''
with pyinst.Profiler(interval=0.001) as profiler:
    busy(0.3)
report(path=profiler.last_path, stats=profiler.last_stats, running=profiler.is_running)
''')
    assert out["running"] is False
    assert out["path"].startswith(str(run.tmp)) and out["path"].endswith(".pyitrace")
    assert out["stats"]["samples"] > 100
    trace = run.load(out["path"])
    assert trace.stats["has_end"]
    assert trace.share(trace.samples, contains("busy")) > 0.8
    assert trace.header["pyinst.api"] == "Profiler"
    assert trace.header["interval_ns"] == 1000000


def test_start_stop_and_a_second_recording(run):
    first = str(run.tmp / "first.pyitrace")
    second = str(run.tmp / "second.pyitrace")
    out = api(run, '''
p = pyinst.Profiler(path=%r)
p.start()
busy(0.2)
a = p.stop()
p.start(path=%r)
time.sleep(0.2)
b = p.stop()
errors = []
try:
    p.stop()
except RuntimeError as e:
    errors.append(str(e))
p.start(path=%r)
try:
    pyinst.Profiler().start()
except RuntimeError as e:
    errors.append(str(e))
p.stop()
report(a=a, b=b, errors=errors)
''' % (first, second, str(run.tmp / "third.pyitrace")))
    assert out["a"] == first and out["b"] == second
    assert "not recording" in out["errors"][0]
    assert "already recording" in out["errors"][1]
    assert run.load(first).share(run.load(first).samples, contains("busy")) > 0.8
    second_trace = run.load(second)
    assert second_trace.weight(second_trace.samples, contains("busy")) == 0


def test_decorator_records_each_call(run):
    out = api(run, '''
paths = []
profiler = pyinst.Profiler()

@profiler
def handler(n):
    busy(0.1)
    return n * 2

assert handler(2) == 4
paths.append(profiler.last_path)
assert handler(3) == 6
paths.append(profiler.last_path)
report(paths=paths, name=handler.__name__)
''')
    assert out["name"] == "handler"
    assert len(set(out["paths"])) == 2
    for path in out["paths"]:
        trace = run.load(path)
        assert trace.share(trace.samples, contains("handler")) > 0.8


def test_only_the_calling_thread_unless_all_threads(run):
    one = str(run.tmp / "one.pyitrace")
    every = str(run.tmp / "all.pyitrace")
    api(run, '''
def background():
    busy(0.6)

t = threading.Thread(target=background, name="background")
t.start()
with pyinst.Profiler(path=%r):
    busy(0.2)
with pyinst.Profiler(path=%r, all_threads=True):
    busy(0.2)
t.join()
report(done=True)
''' % (one, every))
    only = run.load(one)
    assert {only.thread_name(t) for t in only.threads} == {"MainThread"}
    both = run.load(every)
    assert {"MainThread", "background"} <= {both.thread_name(t) for t in both.threads}
    assert both.share(both.samples_of("background"), contains("background")) > 0.8


def test_recording_does_not_change_exceptions_or_output(run):
    out = api(run, '''
caught = None
try:
    with pyinst.Profiler():
        print("inside")
        raise KeyError("k")
except KeyError as error:
    caught = repr(error)
report(caught=caught)
''')
    assert out["caught"] == "KeyError('k')"


def test_layout_checks(run):
    out = api(run, '''
from pyinst import _recorder
source, disagreements, detail = _recorder._verify_layout()
report(source=source, disagreements=disagreements, detail=detail)
''')
    # 3.13+ read the interpreter's own _Py_DebugOffsets, which must agree
    # with the built-in 3.13 table; older versions use their table.
    assert out["source"] == ("_Py_DebugOffsets" if run.version >= (3, 13) else "table")
    assert out["disagreements"] == 0, out["detail"]
