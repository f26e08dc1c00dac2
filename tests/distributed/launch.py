"""Run a torchrun command so that a timeout or failure never leaves worker processes behind, and a hang says where.

``subprocess.run(timeout=...)`` kills only torchrun itself. torchrun (torch.distributed.elastic) starts every worker in
a session of its own, so killing torchrun's process group does not reach them either: orphaned workers, stuck in a
collective waiting for a dead peer, keep running and keep the output pipes open, and reading those pipes then waits
forever. Here the whole process tree (found through ``/proc``) is signalled. On a timeout every worker first gets
SIGABRT, which with ``PYTHONFAULTHANDLER=1`` prints the Python stack of each of its threads into the captured stderr,
so the failure shows where each rank was waiting; then the tree is killed and the pipes are read with a bound.

A timeout is retried once (``retries``) with a warning that carries the first attempt's stacks: on 2 busy cores a
rendezvous or gloo connection very rarely stalls (once in the CI history, not reproduced in 20+ local runs), and a
run that hangs twice still fails the test with the stacks. A worker that fails (non-zero exit) is never retried.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

STACK_DUMP_GRACE_S = 5.0
"""Seconds the workers get to print their stacks after SIGABRT before the tree is killed."""


def run_torchrun(
    command: Sequence[str], *, env: Mapping[str, str], timeout: float = 300, retries: int = 1
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in a new session; after ``retries`` timeouts (each warned with the workers' stacks) the next
    one raises TimeoutExpired carrying them."""
    for _ in range(retries):
        try:
            return _run_once(command, env=env, timeout=timeout)
        except subprocess.TimeoutExpired as hung:
            warnings.warn(
                f"torchrun hung for {timeout:g} s and was killed; retrying once. The workers' stacks:\n"
                f"{(hung.stderr or '')[-8000:]}",
                RuntimeWarning,
                stacklevel=2,
            )
    return _run_once(command, env=env, timeout=timeout)


def _run_once(command: Sequence[str], *, env: Mapping[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    child_env = dict(env)
    child_env.setdefault("PYTHONFAULTHANDLER", "1")
    proc = subprocess.Popen(
        list(command), env=child_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _signal_all(descendants(proc.pid), signal.SIGABRT)
        time.sleep(STACK_DUMP_GRACE_S)
        _kill_tree(proc.pid)
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:  # a grandchild we could not see still holds a pipe
            out, err = "", "(output not readable: a process outside the tree still holds the pipe)"
        raise subprocess.TimeoutExpired(proc.args, timeout, output=out, stderr=err) from None
    finally:
        if proc.poll() is None:  # pragma: no cover - interrupted test
            _kill_tree(proc.pid)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (children, their children, …), read from ``/proc``."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # the process ended while we looked
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, []))
    return found


def _kill_tree(pid: int) -> None:
    tree = descendants(pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    _signal_all(tree, signal.SIGKILL)


def _signal_all(pids: Sequence[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
