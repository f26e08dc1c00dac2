"""The lifetime of the ``torch.distributed`` process group of a training run (``torchrun``, DDP).

Under ``torchrun`` the trainer creates the default process group itself: the training arguments set up accelerate's
``PartialState``, which calls ``init_process_group`` on first use. Neither transformers nor accelerate destroys it
unless the script calls ``Trainer.end()`` / ``Accelerator.end_training()``, and sentence-transformers does neither.
Left alone, the gloo backend's threads (``pt_gloo_runloop``, ``gloo_tcp_loop``) are still running when the interpreter
exits, and their destruction during interpreter teardown can abort a rank with SIGABRT ("terminate called without an
active exception") after a run that succeeded. :func:`owned_process_group` shuts the group down while the process is
still intact.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from crossalign.errors import TrainingError

logger = logging.getLogger(__name__)


def _initialized() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized()


@contextmanager
def owned_process_group() -> Iterator[None]:
    """Destroy the default process group that the enclosed code created, on success and on error.

    A group that already existed on entry belongs to the caller and is left alone; so is one that the enclosed code
    destroyed itself (e.g. through ``Trainer.end()``), so nothing is destroyed twice.

    - On success every rank first waits at a barrier: each rank leaves only once all ranks (rank 0 saving the model
      included) are done, so after :func:`~crossalign.workflows.train.train` returns on any rank the model is on
      disk, and no rank closes its connections while another still uses them. The barrier's timeout is the
      group's (``ddp_timeout`` of the training arguments, 1800 s by default). If it fails (another rank died), a
      :class:`~crossalign.errors.TrainingError` says so.
    - On an exception there is no barrier (the other ranks may never reach it, and waiting would hang this one); the
      group is destroyed locally and the exception propagates unchanged.

    After ``destroy_process_group`` the garbage that still references the group (the DDP wrapper inside the trainer)
    is collected, which joins the backend's threads now rather than at interpreter exit. On an exception the
    traceback still references the trainer, so the threads end once the caller releases the exception.

    Raises:
        TrainingError: The enclosed code succeeded but another rank did not reach the final barrier.
    """
    owned = not _initialized()
    try:
        yield
    except BaseException:
        if owned and _initialized():
            _destroy(quiet=True)  # never hide the error that stopped the run
        raise
    if not (owned and _initialized()):
        return
    import torch.distributed as dist

    rank = dist.get_rank()
    try:
        _barrier()
    except Exception as exc:
        _destroy(quiet=True)
        raise TrainingError(
            f"rank {rank} finished training, but another rank did not reach the end of the run ({exc}).",
            hint="the failing rank's own error (above, or in its log) says what went wrong",
        ) from exc
    _destroy()


def _barrier() -> None:
    import torch
    import torch.distributed as dist

    if "nccl" in str(dist.get_backend()) and torch.cuda.is_available():  # NCCL needs this rank's device named
        dist.barrier(device_ids=[torch.cuda.current_device()])
    else:
        dist.barrier()


def _destroy(*, quiet: bool = False) -> None:
    import torch.distributed as dist

    try:
        dist.destroy_process_group()
    except Exception as exc:
        if not quiet:
            raise
        logger.warning("could not destroy the process group: %s", exc)
    gc.collect()  # the trainer's DDP wrapper holds the group; freeing it joins the gloo threads here


__all__ = ["owned_process_group"]
