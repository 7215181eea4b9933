# SPDX-License-Identifier: MIT
"""pyinst-record: the program behaves exactly as without it, and every ending leaves a trace."""
import os
import signal
import sys
import time

import pytest

REPORT_ENV = '''
import os, sys
print("argv", sys.argv)
print("name", __name__, "file", __file__ if "__file__" in globals() else None)
print("path0", sys.path[0])
print("main", getattr(sys.modules["__main__"], "__file__", None))
print("site", "sitecustomize" in sys.modules, [p for p in sys.path if "pyinst" in p])
print("env", sorted(k for k in os.environ if k.startswith("PYINST")),
      os.environ.get("PYTHONPATH"))
print("stdin", repr(sys.stdin.read()))
def link(fd):
    try:
        return os.readlink("/proc/self/fd/" + fd)
    except OSError:
        return ""
# The recorder's own descriptors (trace file, eventfd) stay out of the low
# numbers the program's open() calls get.
print("fds", [f for f in os.listdir("/proc/self/fd") if int(f) < 1000 and
              ("eventfd" in link(f) or link(f).endswith(".pyitrace"))])
sys.stderr.write("to stderr\\n")
'''


def same(recorded, plain):
    assert recorded.stdout == plain.stdout
    assert recorded.stderr == plain.stderr
    assert recorded.returncode == plain.returncode


def test_script_sees_the_same_world(run):
    script = run.script(REPORT_ENV + "raise SystemExit(7)\n")
    env = dict(os.environ, PYTHONPATH="/some/where")
    recorded, trace = run.record([script, "a", "b c"], stdin=b"input text", env=env)
    plain = run.plain([script, "a", "b c"], stdin=b"input text", env=env)
    same(recorded, plain)
    assert b"/some/where" in plain.stdout and plain.returncode == 7
    assert trace.stats["has_end"]
    assert trace.header["argv"] == [script, "a", "b c"]


def test_module_and_code_forms_see_the_same_world(run):
    run.script(REPORT_ENV, name="reporter.py")
    for args in (["-m", "reporter", "x"], ["-c", REPORT_ENV, "y"]):
        recorded, trace = run.record(args, stdin=b"")
        plain = run.plain(args, stdin=b"")
        same(recorded, plain)
        assert recorded.returncode == 0
        assert trace.stats["has_end"]


def test_uncaught_exception_keeps_its_traceback_and_status(run):
    script = run.script('''
def fail():
    raise ValueError("bad value")

print("before")
fail()
''')
    recorded, trace = run.record([script])
    plain = run.plain([script])
    same(recorded, plain)
    assert recorded.returncode == 1 and b"ValueError: bad value" in recorded.stderr
    assert trace.stats["has_end"] and trace.stats["has_index"]


def test_sys_exit_status_and_summary_line(run):
    script = run.script('''
import sys, time
time.sleep(0.2)
print("out")
sys.exit(3)
''')
    recorded, trace = run.record([script], quiet=False)
    assert recorded.returncode == 3
    assert recorded.stdout == b"out\n"
    lines = recorded.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    summary = lines[0]
    assert summary.startswith("pyinst-record: ")
    assert " samples, " in summary and " lost, " in summary and "out.pyitrace" in summary
    assert "report: " in summary and "pyinst-report" in summary
    samples = int(summary.split(" samples")[0].rsplit(" ", 1)[1])
    assert samples == len(trace.samples) > 100
    assert trace.stats["has_end"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signals_end_the_program_as_usual_and_finish_the_trace(run, sig):
    script = run.script('''
import time
print("ready", flush=True)
while True:
    time.sleep(0.01)
''')
    output = str(run.tmp / "signal.pyitrace")
    outcomes = []
    for proc in (run.popen_record([script], output), run.popen_plain([script])):
        assert proc.stdout.readline() == b"ready\n"
        time.sleep(0.3)
        proc.send_signal(sig)  # pyinst-record is the program itself: same pid
        out, err = proc.communicate(timeout=60)
        outcomes.append((proc.returncode, err.splitlines()[-1:] if sig == signal.SIGINT else err))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == -sig
    trace = run.load(output)
    assert trace.stats["has_end"] and trace.stats["has_index"]
    assert len(trace.samples) > 100


def test_a_handler_the_program_installed_still_runs(run):
    script = run.script('''
import signal, sys, time
signal.signal(signal.SIGTERM, lambda *a: sys.exit(42))
print("ready", flush=True)
while True:
    time.sleep(0.01)
''')
    output = str(run.tmp / "handled.pyitrace")
    proc = run.popen_record([script], output)
    assert proc.stdout.readline() == b"ready\n"
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 42
    assert run.load(output).stats["has_end"]


def test_os_exit_keeps_what_was_flushed(run):
    script = run.script('''
import os, time
end = time.time() + 1.6
while time.time() < end:
    time.sleep(0.001)
os._exit(5)
''')
    recorded, trace = run.record([script], quiet=False)
    assert recorded.returncode == 5
    assert recorded.stderr == b""  # no atexit, no summary: documented
    # The chunks flushed (about every second) are intact; the rest is lost.
    assert not trace.stats["has_end"]
    assert len(trace.samples) > 300


def test_fork_and_subprocess_children_are_left_alone(run):
    script = run.script('''
import multiprocessing, os, subprocess, sys, time

def square(x):
    return x * x

def work(seconds):
    end = time.time() + seconds
    while time.time() < end:
        pass

def main():
    work(0.1)
    pid = os.fork()
    if pid == 0:
        work(0.1)
        os._exit(9)
    _, status = os.waitpid(pid, 0)
    print("child", os.WEXITSTATUS(status))
    for method in ("fork", "spawn"):
        with multiprocessing.get_context(method).Pool(2) as pool:
            print(method, sum(pool.map(square, range(100))))
    out = subprocess.run([sys.executable, "-c",
                          "import os, sys; print(sorted(k for k in os.environ if 'PYINST' in k),"
                          " os.environ.get('PYTHONPATH'), 'pyinst' in sys.modules)"],
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    print("sub", out.strip())
    work(0.1)

if __name__ == "__main__":
    main()
''')
    recorded, trace = run.record([script])
    plain = run.plain([script])
    same(recorded, plain)
    assert b"child 9\nfork 328350\nspawn 328350\nsub [] None False\n" == recorded.stdout
    assert trace.stats["has_end"]
    assert len({s["thread"] for s in trace.samples}) >= 1
    assert trace.header["pid"] == int(trace.header["pid"])


def test_threads_the_program_starts_late_or_ends_early_are_all_seen(run):
    script = run.script('''
import threading, time
def short():
    time.sleep(0.05)
for i in range(20):
    t = threading.Thread(target=short, name="short-%d" % i)
    t.start()
    t.join()
''')
    recorded, trace = run.record([script])
    assert recorded.returncode == 0
    names = {trace.thread_name(t) for t in trace.threads}
    assert len([n for n in names if n.startswith("short-")]) >= 15, names


def test_main_thread_only(run):
    script = run.script('''
import threading, time
t = threading.Thread(target=time.sleep, args=(0.3,), name="other")
t.start()
time.sleep(0.3)
t.join()
''')
    recorded, trace = run.record([script], options=["--threads", "main"])
    assert recorded.returncode == 0
    assert {trace.thread_name(t) for t in trace.threads} == {"MainThread"}


def test_default_output_name_is_timestamped_in_the_working_directory(run):
    import subprocess
    script = run.script("print('hi')\n")
    result = subprocess.run([run.record_bin, "--python", run.python, script],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(run.tmp),
                            timeout=60)
    assert result.returncode == 0 and result.stdout == b"hi\n"
    made = [p for p in os.listdir(str(run.tmp)) if p.endswith(".pyitrace")]
    assert len(made) == 1 and made[0].startswith("pyinst-"), made
    assert made[0].encode() in result.stderr
    assert run.load(run.tmp / made[0]).stats["has_end"]
