# SPDX-License-Identifier: MIT
"""import pyinst: rendering in process (Profiler.print/output_text/output_html, pyinst.Session)."""
import json
import re

PRELUDE = '''
import io, json, os, sys, threading, time, warnings
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


def seconds_of(text, function):
    """The time shown on the tree line of function (first match)."""
    match = re.search(r"(\d+\.\d+) %s  api_prog\.py:\d+" % re.escape(function), text)
    assert match, "%s not in:\n%s" % (function, text)
    return float(match.group(1))


def test_context_manager_output_text_and_print(run):
    out = api(run, '''
with pyinst.Profiler(interval=0.001) as profiler:
    busy(0.3)
printed = io.StringIO()
profiler.print(file=printed)
report(text=profiler.output_text(), unicode=profiler.output_text(unicode=True),
       color=profiler.output_text(color=True), printed=printed.getvalue(),
       flat=profiler.output_text(flat=True),
       percent=profiler.output_text(time="percent_of_total"),
       samples=profiler.last_session.sample_count, stats=profiler.last_stats["samples"])
''')
    text = out["text"]
    assert seconds_of(text, "busy") >= 0.2
    assert "Samples: %d" % out["samples"] in text and out["samples"] > 100
    assert text.isascii() and "`- " in text  # output_text() defaults to ASCII, no colour
    assert "\x1b[" not in text and "\x1b[" in out["color"]
    assert "└─ " in out["unicode"]
    # print() to a file in memory: box drawing (it holds any character), no colour
    printed = out["printed"]
    assert "\x1b[" not in printed and "└─ " in printed and "busy" in printed
    assert printed == out["unicode"]
    # flat: one row per function, self and total, no tree
    assert re.search(r"^\s+self\s+total\s+function", out["flat"], re.M)
    assert re.search(r"^\s+\d+\.\d+\s+\d+\.\d+\s+busy  api_prog\.py", out["flat"], re.M)
    assert "`- " not in out["flat"]
    assert re.search(r"\d+\.\d% busy", out["percent"])


def test_decorator_renders_each_call(run):
    out = api(run, '''
profiler = pyinst.Profiler()

@profiler
def handler(seconds):
    busy(seconds)

handler(0.2)
first = profiler.output_text()
handler(0.1)
report(first=first, second=profiler.output_text(), session=repr(profiler.last_session))
''')
    assert seconds_of(out["first"], "handler") >= 0.15
    assert 0.05 <= seconds_of(out["second"], "handler") < 0.15  # the second call only
    assert out["session"].startswith("<pyinst.Session '")


def test_show_all_and_processors_change_the_tree(run):
    out = api(run, '''
import textwrap

def wrapping():
    text = "lorem ipsum dolor sit amet " * 200
    end = time.perf_counter() + 0.3
    while time.perf_counter() < end:
        textwrap.wrap(text, 30)

with pyinst.Profiler() as profiler:
    wrapping()
report(default=profiler.output_text(), show_all=profiler.output_text(show_all=True),
       ungrouped=profiler.output_text(processors={"group_library": False}),
       big_only=profiler.output_text(min_share=0.5))
''')
    # library frames fold into textwrap.wrap by default. Before 3.11 a sample
    # caught between a call instruction and its Python callee's first frame
    # shows a native leaf named after the call ("self._wrap_chunks  <native>"):
    # native leaves stay visible, so only Python frames count here.
    python_lines = [line for line in out["default"].splitlines()
                    if not line.endswith("<native>")]
    assert "frames hidden" in out["default"]
    assert not any("_wrap_chunks" in line for line in python_lines), out["default"]
    assert "_wrap_chunks" in out["show_all"] and "frames hidden" not in out["show_all"]
    assert "_wrap_chunks" in out["ungrouped"]
    # min_share: only nodes of at least half the total (wrapping and wrap)
    assert "[self]" in out["default"]
    assert "wrapping" in out["big_only"] and "[self]" not in out["big_only"]


def test_thread_selection(run):
    out = api(run, '''
def background_work():
    busy(0.5)

def main_work():
    busy(0.3)

worker = threading.Thread(target=background_work, name="worker")
with pyinst.Profiler(all_threads=True) as profiler:
    worker.start()
    main_work()
    worker.join()
try:
    profiler.output_text(threads="no such thread")
    error = None
except ValueError as e:
    error = str(e)
report(both=profiler.output_text(), worker=profiler.output_text(threads="worker"),
       main=profiler.output_text(threads=[threading.main_thread()]),
       names=sorted(t["name"] for t in profiler.last_session.threads), error=error)
''')
    assert out["names"] == ["MainThread", "worker"]
    both = out["both"]
    assert "background_work" in both and "main_work" in both
    assert "worker" in both and "MainThread" in both
    assert "background_work" in out["worker"] and "main_work" not in out["worker"]
    assert "main_work" in out["main"] and "background_work" not in out["main"]
    assert "no samples from the threads selected" in out["error"] and "worker" in out["error"]


def test_html_page(run):
    page_path = str(run.tmp / "report.html")
    out = api(run, '''
import webbrowser
opened = []
webbrowser.open = lambda url, *args, **kwargs: opened.append(url) or True

with pyinst.Profiler() as profiler:
    spin = lambda: busy(0.2)
    spin()
page = profiler.output_html()
written = profiler.write_html(%r)
browsed = profiler.open_in_browser()
with open(browsed, encoding="utf-8") as f:
    browsed_page = f.read()
os.unlink(browsed)
report(page=page, written=written, browsed=browsed, opened=opened,
       same=browsed_page == page, speedscope=json.loads(profiler.output("speedscope")),
       pprof=type(profiler.output("pprof")).__name__, folded=profiler.output("collapsed"))
''' % page_path)
    page = out["page"]
    assert page.startswith("<!DOCTYPE html>") and page.count("</html>") == 1
    assert not re.search(r"<script[^>]+src=|<link", page)  # self-contained
    # the function name, escaped for the JSON blob inside <script>
    assert "\\u003clambda\\u003e" in page and "<lambda>" not in page
    assert "busy" in page
    assert out["written"] == page_path
    with open(page_path, encoding="utf-8") as f:
        assert f.read() == page
    assert out["opened"] == ["file://" + out["browsed"]] and out["same"]
    assert out["speedscope"]["$schema"].startswith("https://www.speedscope.app")
    assert out["pprof"] == "bytes"
    assert re.search(r"<lambda> \(api_prog.py:\d+\);busy ", out["folded"])


def test_errors_are_clear_exceptions(run):
    out = api(run, '''
errors = {}

def expect(name, call):
    try:
        call()
    except Exception as e:
        errors[name] = [type(e).__name__, str(e), getattr(e, "code", None)]

profiler = pyinst.Profiler()
expect("before", profiler.output_text)
expect("before_print", profiler.print)
profiler.start()
expect("during", profiler.output_html)
busy(0.05)
profiler.stop()
expect("time", lambda: profiler.output_text(time="minutes"))
expect("renderer", lambda: profiler.output("nosuch"))
expect("option", lambda: profiler.output_text(bogus=1))
expect("metric", lambda: profiler.output_text(metric="joules"))
expect("processor", lambda: profiler.output_text(processors={"nosuch": True}))
expect("garbage", lambda: pyinst.Session(b"not a trace at all"))
expect("empty", lambda: pyinst.Session(b""))
expect("missing", lambda: pyinst.Session.load("missing.pyitrace"))
expect("not_a_trace", lambda: pyinst.Session(5))
report(errors=errors, is_value_error=issubclass(pyinst.TraceError, ValueError))
''')
    errors = out["errors"]
    assert errors["before"][0] == "RuntimeError" and "recorded nothing" in errors["before"][1]
    assert errors["before_print"][0] == "RuntimeError"
    assert errors["during"][0] == "RuntimeError" and "still recording" in errors["during"][1]
    assert errors["time"][0] == "ValueError" and "percent_of_total" in errors["time"][1]
    assert errors["renderer"][0] == "ValueError" and "nosuch" in errors["renderer"][1]
    assert errors["option"][0] == "TypeError" and "bogus" in errors["option"][1]
    assert errors["metric"][0] == "ValueError" and "joules" in errors["metric"][1]
    assert errors["processor"][0] == "ValueError" and "nosuch" in errors["processor"][1]
    assert errors["garbage"] == ["TraceError",
                                 "pyinst: <trace in memory>: not a .pyitrace file",
                                 "E_NOT_TRACE"]
    assert errors["empty"][2] == "E_EMPTY"
    assert errors["missing"][0] == "FileNotFoundError" and "missing" in errors["missing"][1]
    assert errors["not_a_trace"][0] == "TypeError" and "bytes-like" in errors["not_a_trace"][1]
    assert out["is_value_error"]


def test_damaged_traces_raise_or_render_never_crash(run):
    out = api(run, '''
with pyinst.Profiler() as profiler:
    busy(0.2)
with open(profiler.last_path, "rb") as f:
    data = f.read()
outcomes = {"rendered": 0, "warned": 0, "TraceError": 0}
variants = [data[:cut] for cut in range(0, len(data), max(1, len(data) // 40))]
for position in range(16, len(data), max(1, len(data) // 40)):
    flipped = bytearray(data)
    flipped[position] ^= 0x5A
    variants.append(bytes(flipped))
for variant in variants:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            session = pyinst.Session(variant)
            session.output_text(show_all=True)
            session.output_html()
            outcomes["rendered"] += 1
        except pyinst.TraceError:
            outcomes["TraceError"] += 1
    outcomes["warned"] += any(issubclass(w.category, RuntimeWarning) for w in caught)
whole = pyinst.Session(data)
report(outcomes=outcomes, variants=len(variants), whole=whole.sample_count)
''')
    outcomes = out["outcomes"]
    assert outcomes["rendered"] + outcomes["TraceError"] == out["variants"]
    assert outcomes["TraceError"] > 0 and outcomes["rendered"] > 0
    assert outcomes["warned"] > 0  # a trace cut inside its body loads with a warning
    assert out["whole"] > 100


def test_recording_alone_never_loads_the_renderers(run):
    script = run.script('''
import sys
print(sorted(name for name in sys.modules if name.startswith("pyinst")))
''', wait_for_sampler=False)
    result, _ = run.record([script], check_trace=False)
    assert result.returncode == 0, result.stderr.decode()
    loaded = result.stdout.decode()
    assert "pyinst._recorder" in loaded and "pyinst._report" not in loaded
