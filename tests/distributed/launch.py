"""Run a torchrun command so that a timeout or failure never leaves worker processes behind.

``subprocess.run(timeout=...)`` kills only torchrun itself; its workers are orphaned and, stuck in a collective
waiting for a dead peer, keep running. Here torchrun gets its own process session and the whole group is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence


def run_torchrun(
    command: Sequence[str], *, env: Mapping[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in a new session; on timeout kill its whole process group and raise TimeoutExpired."""
    proc = subprocess.Popen(
        list(command), env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise subprocess.TimeoutExpired(proc.args, timeout, output=out, stderr=err) from None
    finally:
        if proc.poll() is None:  # pragma: no cover - interrupted test
            os.killpg(proc.pid, signal.SIGKILL)
    with_leftovers = _group_alive(proc.pid)
    if with_leftovers:  # torchrun exited but a worker of its group did not: never leak it into the next test
        os.killpg(proc.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
