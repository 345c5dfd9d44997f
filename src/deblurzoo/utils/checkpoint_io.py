"""Lightning's checkpoint writer made atomic (:func:`deblurzoo.utils.atomic.atomic_write`); a
module of its own so that writing a file does not import Lightning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from deblurzoo.utils.atomic import atomic_write


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
