# SPDX-License-Identifier: MIT
"""pyinst-record from outside: --pid, --subprocesses, --live, and the errors of attaching.

Runs only with --attach-pythons (the recorder_attach test): each test that
records a program does it once per interpreter listed there (3.8, 3.11,
3.13 and Debian's static /usr/bin/python3.11 by default), the others once.
"""
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tracedump import NATIVE, Trace, contains  # noqa: E402

TIMEOUT = 120

BUSY_SLEEPY = '''
import sys, time

def busy(seconds):
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n

def sleepy(seconds):
    time.sleep(seconds)

def main():
    print("ready", flush=True)
    while True:
        busy(0.05)
        sleepy(0.05)

main()
'''


def pytest_generate_tests(metafunc):
    if "python" in metafunc.fixturenames:
        pythons = [p for p in metafunc.config.getoption("--attach-pythons").split(",") if p]
        metafunc.parametrize("python", pythons, ids=[short(p) for p in pythons])


def short(python):
    return python.replace(os.path.expanduser("~/.pyenv/versions/"), "").replace("/", "_")


class Attach:
    def __init__(self, config, tmp):
        if not config.getoption("--attach-pythons"):
            pytest.skip("attach tests run in recorder_attach (--attach-pythons)")
        bindir = os.path.abspath(config.getoption("--bindir"))
        self.record_bin = os.path.join(bindir, "pyinst-record")
        self.report = os.path.join(bindir, "pyinst-report")
        self.tmp = tmp
        self.targets = []
        self.stray_pids = []  # not our children, killed by pid

    def script(self, source, name="target.py"):
        path = self.tmp / name
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        return str(path)

    def start(self, python, source, name="target.py", ready=True, **popen):
        """Starts a program; returns once it printed its first line."""
        proc = subprocess.Popen([python, self.script(source, name)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=str(self.tmp), **popen)
        self.targets.append(proc)
        if ready:
            assert proc.stdout.readline() == b"ready\n", proc.stderr.read()
        return proc

    def record(self, args, output="out.pyitrace", check_trace=True, **run):
        output = str(self.tmp / output)
        result = subprocess.run([self.record_bin, "-o", output] + list(args),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                timeout=TIMEOUT, cwd=str(self.tmp), **run)
        return result, (Trace(output, self.report) if check_trace else None)

    def load(self, name):
        return Trace(str(self.tmp / name), self.report)

    def close(self):
        for pid in self.stray_pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for proc in self.targets:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


@pytest.fixture
def attach(request, tmp_path):
    a = Attach(request.config, tmp_path)
    yield a
    a.close()


def version_of(python):
    out = subprocess.check_output([python, "-c", "import sys; print(sys.version.split()[0])"])
    return out.decode().strip()


def process_state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


# ---- Attaching to a running program ----------------------------------------


def test_attach_records_stacks_names_and_lines(attach, python):
    target = attach.start(python, BUSY_SLEEPY)
    result, trace = attach.record(["--pid", str(target.pid), "--duration", "1"])
    assert result.returncode == 0, result.stderr
    assert target.poll() is None  # still running: attaching never stops it
    assert trace.header["pid"] == target.pid
    assert trace.header["pyinst.attach"] == "pid"
    assert trace.header["python"].startswith(version_of(python)[:4])
    assert trace.stats["has_end"] and trace.stats["has_index"]
    main = trace.samples_of("MainThread")
    assert len(main) > 300, len(trace.samples)
    path = str(attach.tmp / "target.py")
    busy = trace.share(main, contains("busy"))
    sleepy = trace.share(main, contains("sleepy"))
    assert 0.25 < busy < 0.75 and 0.25 < sleepy < 0.75, (busy, sleepy)
    # The stack from <module> down, with the line each frame is on.
    lines = {}
    for s in main:
        frames = trace.frames(s["stack"])
        assert [f.name for f in frames[:2]] == ["<module>", "main"], frames
        assert frames[0].file.endswith("target.py") and frames[0].line == 20
        for f in frames:
            if f.kind != NATIVE:
                lines.setdefault(f.name, set()).add(f.line)
    assert lines["main"] <= {16, 17, 18}
    assert lines["busy"] <= {5, 6, 7, 8, 9} and 7 in lines["busy"]
    # The def line: a frame caught before its first instruction ran (3.8-3.10).
    assert lines["sleepy"] <= {11, 12} and 12 in lines["sleepy"]
    leaves = {trace.frames(s["stack"])[-1].name for s in main}
    assert {"time.sleep", "time.perf_counter"} <= leaves, leaves
    # Busy time is on CPU (the thread's state), sleeping is not.
    on_cpu = [s for s in main if s["status"] & 1]
    assert trace.share(on_cpu, contains("busy")) > 0.8
    # A per-thread CPU time was measured (in the kernel's tick units), with
    # most /proc reads skipped (a busy thread holding the GIL, a sleeping one
    # whose stack stays put: at most 3 skipped in a row).
    assert sum(s["cpu_ns"] or 0 for s in main) > 0.1e9
    assert len(main) / 4 <= trace.meta["recorder.cpu_reads"] < 0.7 * len(main)
    assert trace.header["status_known"] & 0x1F == 0x1F
    assert main and all(trace.frames(s["stack"])[0].file == path for s in main)


def test_attach_to_twenty_threads(attach, python):
    target = attach.start(python, '''
import threading, time
def spin(i):
    while True:
        if i % 2:
            time.sleep(0.001)
        else:
            sum(range(200))
for i in range(20):
    threading.Thread(target=spin, args=(i,), daemon=True).start()
print("ready", flush=True)
while True:
    time.sleep(0.01)
''')
    time.sleep(0.2)
    result, trace = attach.record(["--pid", str(target.pid), "--duration", "1"])
    assert result.returncode == 0, result.stderr
    spinning = {s["thread"] for s in trace.samples if contains("spin")(trace.frames(s["stack"]))}
    assert len(spinning) == 20
    tids = {trace.threads[t]["native_id"] for t in spinning}
    assert len(tids) == 20 and all(tid > 0 for tid in tids)
    assert trace.thread_ids("MainThread")
    # Sleepers wait, spinners compute (loose: two CPUs for twenty threads).
    sleeping = [s for s in trace.samples if contains("time.sleep")(trace.frames(s["stack"]))
                and s["thread"] in spinning]
    assert sleeping and sum(1 for s in sleeping if s["status"] & 1) < 0.5 * len(sleeping)


def test_target_exiting_mid_recording_completes_the_trace(attach, python):
    target = attach.start(python, '''
import time
print("ready", flush=True)
end = time.time() + 0.8
while time.time() < end:
    pass
''')
    result, trace = attach.record(["--pid", str(target.pid)])
    target.wait(timeout=30)
    assert result.returncode == 0, result.stderr
    assert b"exited; the trace is complete" in result.stderr
    assert trace.stats["has_end"] and trace.stats["has_index"]
    assert len(trace.samples) > 200
    assert trace.meta["recorder.processes"] == 1


def test_ctrl_c_stops_recording_and_leaves_the_target_running(attach, python):
    target = attach.start(python, BUSY_SLEEPY)
    output = str(attach.tmp / "int.pyitrace")
    recorder = subprocess.Popen([attach.record_bin, "--pid", str(target.pid), "-o", output],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Never stopped: the target stays runnable or sleeping, never traced.
    states = set()
    for _ in range(40):
        states.add(process_state(target.pid))
        time.sleep(0.01)
    assert not states & {"t", "T"}, states
    recorder.send_signal(signal.SIGINT)
    out, err = recorder.communicate(timeout=60)
    assert recorder.returncode == 0, err
    assert target.poll() is None
    trace = Trace(output, attach.report)
    assert trace.stats["has_end"] and len(trace.samples) > 50


def test_threads_main_records_only_the_main_thread(attach, python):
    target = attach.start(python, '''
import threading, time
threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
print("ready", flush=True)
while True:
    time.sleep(0.01)
''')
    result, trace = attach.record(["--pid", str(target.pid), "-d", "0.5", "--threads", "main"])
    assert result.returncode == 0, result.stderr
    assert {t["native_id"] for t in trace.threads.values()} == {target.pid}


def test_subprocesses_follows_forked_workers_and_spawned_children(attach, python):
    script = attach.script('''
import multiprocessing, os, subprocess, sys, time

def work(n):
    end = time.time() + 0.4
    while time.time() < end:
        pass
    return os.getpid()

if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    with multiprocessing.Pool(2) as pool:
        print(len(set(pool.map(work, range(4)))), flush=True)
    code = "import time\\nend = time.time() + 0.5\\nwhile time.time() < end: pass"
    subprocess.run([sys.executable, "-c", code], check=True)
    sys.exit(7)
''')
    result, trace = attach.record(["--python", python, "--subprocesses", script])
    assert result.returncode == 7, result.stderr  # the program's own status
    assert trace.header["pyinst.attach"] == "spawn"
    processes = trace.processes
    assert len(processes) >= 3, processes  # two workers and the -c child
    root = trace.header["pid"]
    by_process = {}
    for s in trace.samples:
        by_process.setdefault(trace.threads[s["thread"]]["process"], []).append(s)
    workers = [p for p in processes.values() if p["parent"] == 1 and
               any(contains("work")(trace.frames(s["stack"])) for s in by_process.get(p["id"], []))]
    assert len(workers) == 2, processes
    child = [p for p in processes.values() if p["meta"].get("argv", [""])[-1].startswith("import")]
    assert len(child) == 1 and child[0]["parent"] == 1
    assert all(p["pid"] != root for p in processes.values())
    assert trace.meta["recorder.processes"] == len(processes) + 1
    ended = [m for m in trace.markers if trace.strings[m["name"]] == "pyinst.process.end"]
    assert len(ended) >= len(processes)
    assert trace.stats["has_end"]
    # The report labels each thread with its process.
    text = subprocess.run([attach.report, "--no-color", str(attach.tmp / "out.pyitrace")],
                          stdout=subprocess.PIPE, check=True).stdout.decode()
    for worker in workers:
        assert "pid %d, tid %d, main]" % (worker["pid"], worker["pid"]) in text, text


def test_a_program_started_through_a_wrapper_script(attach, python):
    """Like pyenv's shims: the child is a shell first, then execs the
    interpreter, whose libpython is mapped a moment after its executable."""
    wrapper = attach.tmp / "python-shim"
    wrapper.write_text('#!/bin/sh\nexec "%s" "$@"\n' % python)
    os.chmod(str(wrapper), 0o755)
    script = attach.script('''
import time
end = time.time() + 0.5
while time.time() < end:
    pass
print("done")
''', name="spin.py")
    result, trace = attach.record(["--python", str(wrapper), "--duration", "10", script])
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"done\n"
    assert len(trace.samples) > 100
    assert trace.header["python"].startswith(version_of(python)[:4])


def test_attach_to_a_process_in_another_pid_namespace(attach, python):
    """What containers do: the thread states hold the namespace's ids."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare")
    script = attach.script(BUSY_SLEEPY)
    # --kill-child: the program dies with unshare, or it would outlive the test.
    outer = subprocess.Popen(["unshare", "--pid", "--fork", "--kill-child", "--mount-proc",
                              python, script],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(attach.tmp))
    attach.targets.append(outer)
    assert outer.stdout.readline() == b"ready\n", outer.stderr.read()
    inner = [int(p) for p in open("/proc/%d/task/%d/children" % (outer.pid, outer.pid)).read().split()] \
        if os.path.exists("/proc/%d/task/%d/children" % (outer.pid, outer.pid)) else \
        [int(d) for d in os.listdir("/proc") if d.isdigit() and
         open("/proc/%s/stat" % d).read().rsplit(")", 1)[1].split()[1] == str(outer.pid)]
    assert len(inner) == 1
    attach.stray_pids.append(inner[0])
    result, trace = attach.record(["--pid", str(inner[0]), "-d", "0.5"])
    assert result.returncode == 0, result.stderr
    main = trace.samples_of("MainThread")
    assert len(main) > 100
    assert trace.threads[main[0]["thread"]]["native_id"] == inner[0]  # our pid, not 1
    assert any(s["status"] & 1 for s in main)  # its /proc state was found


# ---- The live view -----------------------------------------------------------


def test_live_prints_plain_tables_when_not_a_terminal(attach, python):
    target = attach.start(python, BUSY_SLEEPY)
    result, trace = attach.record(["--pid", str(target.pid), "-d", "2.5", "--live"])
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "\x1b" not in out
    blocks = [b for b in out.split("\n\n") if b.strip()]
    assert len(blocks) >= 2, out
    rows = blocks[-1].splitlines()
    assert rows[0].startswith("pyinst live  pid %d" % target.pid)
    assert "%own" in rows[2]
    shares = {r.split()[-2]: float(r.split()[0].rstrip("%")) for r in rows[3:]}
    assert shares["main"] < 5 and shares["time.sleep"] > 20, rows
    assert trace.stats["has_end"]
    assert b"pyinst-record: " in result.stderr  # the summary, after the view


def test_live_view_in_tmux_updates_in_place_and_quits_with_q(attach, python):
    if not shutil.which("tmux"):
        pytest.skip("no tmux")
    target = attach.start(python, BUSY_SLEEPY)
    output = str(attach.tmp / "live.pyitrace")
    socket = str(attach.tmp / "tmux.sock")
    tmux = ["tmux", "-S", socket]
    command = "%s --pid %d --live -o %s; echo recorder-exit-$?; sleep 30" % (
        attach.record_bin, target.pid, output)
    subprocess.run(tmux + ["new-session", "-d", "-x", "100", "-y", "20", command], check=True)
    try:
        def screen():
            return subprocess.run(tmux + ["capture-pane", "-p"], stdout=subprocess.PIPE,
                                  check=True).stdout.decode()
        deadline = time.time() + 30
        while "busy" not in screen() and time.time() < deadline:
            time.sleep(0.2)
        first = screen()
        assert "pyinst live  pid %d" % target.pid in first and "busy" in first, first
        assert first.splitlines()[0].startswith("pyinst live")  # drawn at the top, in place
        time.sleep(2.5)
        second = screen()
        assert second != first and second.count("pyinst live") == 1, second
        subprocess.run(tmux + ["resize-window", "-x", "60", "-y", "12"], check=False)
        time.sleep(1.5)
        assert all(len(line) <= 60 for line in screen().splitlines())
        subprocess.run(tmux + ["send-keys", "q"], check=True)
        while "recorder-exit-" not in screen() and time.time() < deadline + 30:
            time.sleep(0.2)
        after = screen()
        assert "recorder-exit-0" in after, after
        assert "pyinst live" not in after  # the alternate screen is gone
    finally:
        subprocess.run(tmux + ["kill-server"], check=False)
    trace = Trace(output, attach.report)
    assert trace.stats["has_end"] and len(trace.samples) > 100
    assert target.poll() is None


# ---- Errors --------------------------------------------------------------------


def one_line(result):
    lines = result.stderr.decode().splitlines()
    assert result.returncode == 2 and len(lines) == 1, (result.returncode, lines)
    assert lines[0].startswith("pyinst-record: ")
    return lines[0]


def test_a_pid_that_does_not_exist(attach):
    result, _ = attach.record(["--pid", "4194000"], check_trace=False)
    assert "no process with pid 4194000" in one_line(result)


def test_a_process_that_is_not_python(attach):
    sleeper = subprocess.Popen(["sleep", "60"])
    attach.targets.append(sleeper)
    time.sleep(0.1)
    result, _ = attach.record(["--pid", str(sleeper.pid)], check_trace=False)
    line = one_line(result)
    assert "process %d (sleep) is not a Python process" % sleeper.pid in line
    assert not os.path.exists(str(attach.tmp / "out.pyitrace"))


def test_an_unsupported_python_is_named(attach):
    import glob
    olds = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.7.*/bin/python3.7")))
    if not olds:
        pytest.skip("no CPython 3.7 here")
    target = attach.start(olds[-1], 'print("ready", flush=True)\nimport time\ntime.sleep(60)\n')
    result, _ = attach.record(["--pid", str(target.pid)], check_trace=False)
    assert "runs CPython 3.7" in one_line(result)


def test_permission_denied_says_what_is_needed(attach):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root to run the recorder as nobody against a root process")
    target = attach.start(sys.executable, BUSY_SLEEPY)
    out_dir = attach.tmp / "nobody"
    out_dir.mkdir()
    os.chmod(str(out_dir), 0o777)
    os.chmod(str(attach.tmp), 0o755)
    result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                             attach.record_bin, "--pid", str(target.pid),
                             "-o", str(out_dir / "x.pyitrace")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    line = one_line(result)
    assert "permission denied" in line and "CAP_SYS_PTRACE" in line, line
    assert "kernel.yama.ptrace_scope" in line, line
    scope = "/proc/sys/kernel/yama/ptrace_scope"
    now = open(scope).read().strip() if os.path.exists(scope) else "not set"
    assert now in line, line


def test_pid_and_a_program_are_exclusive(attach):
    result, _ = attach.record(["--pid", "1", "x.py"], check_trace=False)
    assert "either --pid or a program" in one_line(result)
