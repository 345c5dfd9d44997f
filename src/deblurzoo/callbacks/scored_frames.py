"""The scored restored frames of a test batch, as the callbacks that use them walk them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from lightning import LightningModule
from torch import Tensor


class ScoredFrame(NamedTuple):
    """A scored frame: its sequence, its index in that sequence, and ``[b, t]``, where it is in
    the restored clip (the test step's ``outputs``) and in ``pl_module.target_frames(clip)`` of
    any clip of the batch."""

    seq_id: int
    position: int
    b: int
    t: int


def scored_frames(pl_module: LightningModule, batch: dict[str, Tensor]) -> Iterator[ScoredFrame]:
    """Every scored frame of a test ``batch`` (``batch["score"]`` of the frames the net restores,
    :meth:`~deblurzoo.tasks.VideoRestorationModule.target_frames`), clip by clip, in order."""
    positions = pl_module.target_frames(batch["frame_idx"])
    scored = pl_module.target_frames(batch["score"])
    for b, seq_id in enumerate(batch["seq_id"].tolist()):
        for t in scored[b].nonzero().flatten().tolist():
            yield ScoredFrame(seq_id, int(positions[b, t]), b, t)
