"""Atomic file writes: a reader never sees a half-written file, a crash never leaves one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO


@contextmanager
def atomic_write(path: str | Path, mode: str = "w", **open_kwargs) -> Iterator[IO]:
    """Open a temporary file beside ``path`` and move it onto ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint writer made atomic on every filesystem: the checkpoint goes to a
    temporary file beside its target, is flushed to disk, and replaces the target in one
    ``os.replace``. A process killed at any moment of a save (SIGKILL, a SLURM time limit, a
    node failure) leaves the previous ``last.ckpt`` whole.

    Lightning's own writer stages the bytes in the system temporary directory and moves them
    with ``shutil.move``, which is a rename only when that directory shares a filesystem with
    the checkpoints; on a cluster (node-local ``/tmp``, checkpoints on a shared filesystem) it
    copies into the target in place.
    """

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        with atomic_write(path, "wb") as handle:
            torch.save(checkpoint, handle)
