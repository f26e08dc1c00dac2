"""The torchrun launcher of these tests: a hang ends in a bounded time, with stacks, and leaves no process behind."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from launch import descendants, run_torchrun

# A stand-in for torchrun: it starts a "worker" in a session of its own (as torch.distributed.elastic does) that
# blocks forever with the inherited stdout/stderr pipes open, writes the worker's pid, and waits for it.
LAUNCHER = textwrap.dedent(
    """
    import subprocess, sys
    worker = subprocess.Popen(
        [sys.executable, "-c", "import threading; threading.Event().wait()"], start_new_session=True
    )
    open(sys.argv[1], "w").write(str(worker.pid))
    worker.wait()
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie awaiting its reaper is dead for our purpose
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_timeout_dumps_worker_stacks_and_kills_a_worker_in_its_own_session(tmp_path):
    pid_file = tmp_path / "worker.pid"
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired) as raised:
        run_torchrun([sys.executable, "-c", LAUNCHER, str(pid_file)], env=dict(os.environ), timeout=3, retries=0)
    assert time.monotonic() - started < 60
    worker = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker), "the worker in its own session survived the timeout"
    # faulthandler's dump on SIGABRT names the frame the worker was blocked in
    assert "Fatal Python error: Aborted" in raised.value.stderr
    assert "in wait" in raised.value.stderr


def test_descendants_walks_the_whole_tree():
    sleeper = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'import time; time.sleep(30)'])"
    child = subprocess.Popen([sys.executable, "-c", sleeper])
    try:
        deadline = time.monotonic() + 20
        while len(descendants(child.pid)) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        grandchildren = descendants(child.pid)
        assert len(grandchildren) == 1 and grandchildren[0] != child.pid
        assert child.pid in descendants(os.getpid())
    finally:
        for pid in descendants(child.pid):
            os.kill(pid, 9)
        child.kill()
        child.wait()


def test_a_timeout_is_retried_once_with_a_warning_then_raises(tmp_path):
    with pytest.warns(RuntimeWarning, match="hung for 2 s") as warned, pytest.raises(subprocess.TimeoutExpired):
        run_torchrun([sys.executable, "-c", LAUNCHER, str(tmp_path / "w.pid")], env=dict(os.environ), timeout=2)
    assert len(warned) == 1 and "Fatal Python error: Aborted" in str(warned[0].message)


def test_a_failing_command_is_not_retried(tmp_path):
    counter = tmp_path / "runs"
    code = f"open({str(counter)!r}, 'a').write('x'); raise SystemExit(3)"
    completed = run_torchrun([sys.executable, "-c", code], env=dict(os.environ), timeout=30)
    assert completed.returncode == 3 and counter.read_text() == "x"
