# SPDX-License-Identifier: MIT
"""pyinst-record: what the trace says about programs with known behaviour."""
import collections

from tracedump import NATIVE, contains, names

BUSY = '''
import time

def busy(seconds):
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n
'''


def test_busy_and_sleeping_functions_get_their_shares(run):
    script = run.script(BUSY + '''
def sleepy(seconds):
    time.sleep(seconds)

def main():
    busy(0.4)
    sleepy(0.4)

main()
''')
    result, trace = run.record([script])
    assert result.returncode == 0, result.stderr
    main = trace.samples_of("MainThread")
    busy_share = trace.share(main, contains("busy"))
    sleepy_share = trace.share(main, contains("sleepy"))
    assert 0.3 < busy_share < 0.7, busy_share
    assert 0.3 < sleepy_share < 0.7, sleepy_share
    # Weights are measured time: together they cover the run.
    assert 0.7e9 < trace.weight(main) < 2.0e9
    # Busy time is on CPU, sleeping is not (how much of the busy time the
    # scheduler gave us depends on the machine's load: only sleep is sure).
    on_cpu = [s for s in main if s["status"] & 1]
    assert trace.share(on_cpu, contains("busy")) > 0.7
    assert trace.weight(on_cpu, contains("sleepy")) < 0.1 * trace.weight(main, contains("sleepy"))
    assert all(s["cpu_ns"] is not None for s in main[1:])
    # Nothing else in the trace claims a large share.
    assert busy_share + sleepy_share > 0.85
    assert trace.header["status_known"] & 0x1F == 0x1F
    assert trace.stats["has_end"] and trace.stats["has_index"]


def test_native_calls_show_as_leaves_with_their_line(run):
    script = run.script('''
import time

def sleepy():
    x = 1
    time.sleep(0.4)
    return x

sleepy()
''')
    result, trace = run.record([script])
    assert result.returncode == 0, result.stderr
    leaves = collections.Counter()
    for s in trace.samples_of("MainThread"):
        frames = trace.frames(s["stack"])
        if frames and frames[-1].kind == NATIVE and len(frames) >= 2:
            assert s["status"] & 0x10  # PYI_STATUS_NATIVE_LEAF
            leaves[(frames[-2].name, frames[-2].line, frames[-1].name)] += s["weight_ns"]
    (caller, line, callee), weight = leaves.most_common(1)[0]
    assert weight > 0.25e9
    assert (caller, line) == ("sleepy", run.line(script, "time.sleep(0.4)"))
    # The callee is named from the bytecode (3.11+: by PEP 657 columns;
    # before: walking back from the call to what pushed the callable).
    assert callee == "time.sleep"


def test_line_numbers_are_the_lines_being_run(run):
    script = run.script(BUSY + '''
def outer():
    a = 1
    busy(0.3)
    return a

outer()
''')
    result, trace = run.record([script])
    assert result.returncode == 0
    call_busy = run.line(script, "busy(0.3)")
    call_outer = run.line(script, "outer()", call_busy + 1)
    loop = run.line(script, "while time.perf_counter()")
    lines = collections.Counter()
    for s in trace.samples_of("MainThread"):
        frames = trace.frames(s["stack"])
        for i, f in enumerate(frames):
            if f.name == "outer":
                lines[("outer", f.line, frames[i - 1].line)] += 1
            if f.name == "busy":
                lines[("busy", f.line)] += 1
    assert {k[1] for k in lines if k[0] == "outer"} == {call_busy}, lines
    assert {k[2] for k in lines if k[0] == "outer"} == {call_outer}, lines
    busy_lines = {k[1] for k in lines if k[0] == "busy"}
    assert busy_lines <= {loop - 2, loop - 1, loop, loop + 1, loop + 2}, busy_lines
    assert loop in busy_lines or loop + 1 in busy_lines
    # Each function keeps the first line of its def.
    first = {f.name: f.first_line for s in trace.samples for f in trace.frames(s["stack"])}
    assert first["busy"] == run.line(script, "def busy")
    assert first["outer"] == run.line(script, "def outer")


def test_threads_are_separated_and_named(run):
    script = run.script(BUSY + '''
import threading

def alpha_work():
    busy(0.3)

def beta_work():
    time.sleep(0.3)

threads = [threading.Thread(target=alpha_work, name="alpha"),
           threading.Thread(target=beta_work, name="beta")]
for t in threads:
    t.start()
for t in threads:
    t.join()
''')
    result, trace = run.record([script])
    assert result.returncode == 0, result.stderr
    named = {trace.thread_name(t) for t in trace.threads}
    assert {"MainThread", "alpha", "beta"} <= named, named
    alpha, beta = trace.samples_of("alpha"), trace.samples_of("beta")
    assert trace.share(alpha, contains("alpha_work")) > 0.8
    assert trace.share(beta, contains("beta_work")) > 0.8
    assert trace.weight(alpha, contains("beta_work")) == 0
    assert trace.weight(beta, contains("alpha_work")) == 0
    assert trace.share(trace.samples_of("MainThread"), contains("alpha_work")) == 0
    # The busy thread holds the GIL (even when the scheduler parks it); the
    # sleeping one has released it.
    gil = lambda samples: sum(x["weight_ns"] for x in samples if x["status"] & 0x02)
    assert gil(alpha) > 0.5 * trace.weight(alpha)
    assert gil(beta) < 0.2 * trace.weight(beta)
    # Kernel thread ids are real and distinct.
    tids = [trace.threads[t]["native_id"] for t in trace.threads]
    assert len(set(tids)) == len(tids) and all(tids)
    main = trace.thread_ids("MainThread")[0]
    assert trace.threads[main]["flags"] & 1


def test_non_ascii_names_survive(run):
    script = run.script(BUSY + '''
def café():
    busy(0.15)

def 函数():
    busy(0.15)

class Ünïcode:
    def méthode(self):
        busy(0.15)

café()
函数()
Ünïcode().méthode()
''', name="prog_módulo_🐍.py")
    result, trace = run.record([script])
    assert result.returncode == 0, result.stderr
    seen = {f.name for s in trace.samples for f in trace.frames(s["stack"])}
    assert {"café", "函数", "Ünïcode.méthode"} <= seen, seen
    files = {f.file for s in trace.samples for f in trace.frames(s["stack"])}
    assert any(f.endswith("prog_módulo_🐍.py") for f in files), files


def test_deep_recursion_is_kept_whole(run):
    script = run.script('''
import time

def recurse(n):
    if n == 0:
        time.sleep(0.3)
        return 0
    return recurse(n - 1) + 1

recurse(900)
''')
    result, trace = run.record([script])
    assert result.returncode == 0, result.stderr
    deepest = 0
    for s in trace.samples_of("MainThread"):
        depth = names(trace.frames(s["stack"])).count("recurse")
        if depth > deepest:
            deepest = depth
            status = s["status"]
    assert deepest == 901
    assert not status & 0x08  # not truncated


def test_stacks_deeper_than_max_depth_are_cut_explicitly(run):
    script = run.script('''
import time

def recurse(n):
    if n == 0:
        time.sleep(0.2)
        return 0
    return recurse(n - 1) + 1

recurse(300)
''')
    result, trace = run.record([script], options=["--max-depth", "100"])
    assert result.returncode == 0, result.stderr
    assert trace.header["max_depth"] == 100
    cut = [s for s in trace.samples_of("MainThread") if s["status"] & 0x08]
    assert trace.weight(cut) > 0.1e9
    frames = trace.frames(cut[-1]["stack"])
    assert frames[0].name == "<truncated>" and frames[0].kind == 2
    assert len(frames) <= 102  # the root marker, 100 frames, maybe a native leaf


def test_qualified_names_of_generators_coroutines_lambdas_and_nested_classes(run):
    script = run.script(BUSY + '''
import asyncio

def gen():
    yield busy(0.12)

class Outer:
    class Inner:
        def method(self):
            busy(0.12)

async def coro():
    busy(0.12)
    await asyncio.sleep(0)

lam = lambda: busy(0.12)

def outer():
    def closure():
        busy(0.12)
    closure()

list(gen())
Outer.Inner().method()
asyncio.run(coro())
lam()
outer()
''')
    result, trace = run.record([script])
    assert result.returncode == 0, result.stderr
    callers = collections.Counter()
    for s in trace.samples_of("MainThread"):
        frames = trace.frames(s["stack"])
        for i, f in enumerate(frames):
            if f.name == "busy" and i > 0:
                callers[frames[i - 1].name] += 1
    expected = {"gen", "Outer.Inner.method", "coro", "<lambda>", "outer.<locals>.closure"}
    assert expected <= set(callers), callers


def test_sampling_a_program_that_churns_frames_and_code_never_breaks_it(run):
    # Code objects created and freed (their addresses get reused), generators,
    # coroutines, recursion of changing depth, threads coming and going, all
    # sampled every 0.1 ms: torn and stale reads must stay invalid samples.
    script = run.script('''
import asyncio, threading, time

def churn_code(i):
    namespace = {}
    exec(compile("def f%d(n):\\n    return [x * %d for x in range(n)]\\n" % (i, i),
                 "<churn %d>" % i, "exec"), namespace)
    return sum(namespace["f%d" % i](50))

def gen(n):
    for i in range(n):
        yield churn_code(i)

def tokens(n):
    for i in range(n):
        yield i

def pairs(n):
    it = tokens(n)
    for a in it:
        yield a, next(it, 0)

def pipeline():
    return sum(a + b for a, b in pairs(3000))

try:  # generator-heavy library code (Debian's python3-pygments), if it imports
    import sys
    sys.path.append("/usr/lib/python3/dist-packages")
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer
    with open(__file__) as source_file:
        SOURCE = source_file.read()
    def lexing():
        return len(highlight(SOURCE, PythonLexer(), HtmlFormatter()))
except ImportError:
    def lexing():
        return 1

def recurse(n):
    return recurse(n - 1) + 1 if n else sum(gen(5))

async def coro(n):
    await asyncio.sleep(0)
    return recurse(n)

def worker(k):
    for i in range(60):
        recurse((i * 7 + k) % 120)

end = time.time() + 2.0
total = 0
while time.time() < end:
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    total += asyncio.run(coro(40)) + sum(gen(20)) + pipeline() + lexing()
    for t in threads:
        t.join()
print("survived", total > 0)
''')
    result, trace = run.record([script], options=["--interval", "0.0001", "--cpu-budget", "1"])
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"survived True\n"
    assert trace.stats["has_end"]
    assert len(trace.samples) > 1000
    # Invalid samples happen (frames change under the reader) but stay rare.
    assert trace.lost_count(1) < 0.2 * len(trace.samples)


def test_garbage_collection_is_flagged(run):
    script = run.script('''
import gc, time

class Node:
    def __init__(self):
        self.other = self

def churn():
    end = time.perf_counter() + 0.6
    keep = [Node() for _ in range(200000)]
    while time.perf_counter() < end:
        gc.collect()
    return len(keep)

churn()
''')
    result, trace = run.record([script])
    assert result.returncode == 0, result.stderr
    main = trace.samples_of("MainThread")
    in_gc = [s for s in main if s["status"] & 0x04]
    assert trace.weight(in_gc) > 0.2 * trace.weight(main, contains("churn"))
    # Nearly all collections happen inside churn here (start-up imports may
    # trigger a few automatic ones).
    assert trace.weight(in_gc, contains("churn")) > 0.9 * trace.weight(in_gc)
