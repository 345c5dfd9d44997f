"""Logs a short clip of restored test frames as a video (wandb), beside blur and sharp."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from lightning import Callback, LightningModule, Trainer
from PIL import Image
from torch import Tensor

from deblurzoo.callbacks.scored_frames import scored_frames


class RestoredClip(Callback):
    """Collects the first ``frames`` scored frames of the first test sequence (as seen by rank
    0) and, at the end of testing, logs them as ``test/clip``: a GIF of ``blur | restored |
    sharp`` at ``fps``, written to ``<directory>/test_clip.gif`` and sent to every logger that
    takes videos (wandb). Does nothing when no logger takes videos.
    """

    def __init__(self, directory: str | Path, frames: int = 8, fps: int = 4) -> None:
        self.directory, self.frames, self.fps = Path(directory), frames, fps
        self._clip: dict[int, Tensor] = {}
        self._seq_id: int | None = None

    def _loggers(self, trainer: Trainer) -> list[Any]:
        return [logger for logger in trainer.loggers if hasattr(logger, "log_video")]

    def on_test_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: dict,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if not trainer.is_global_zero or not self._loggers(trainer) or self.frames <= 0:
            return
        if self._seq_id is None:
            self._seq_id = int(batch["seq_id"][0])
        blur, sharp = (
            pl_module.target_frames(batch["blur"]),
            pl_module.target_frames(batch["sharp"]),
        )
        for seq_id, position, b, t in scored_frames(pl_module, batch):
            if seq_id == self._seq_id:
                row = torch.cat([blur[b, t], outputs[b, t].to(blur.dtype), sharp[b, t]], dim=-1)
                self._clip.setdefault(position, row.float().clamp(0, 1).cpu())

    def on_test_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        loggers = self._loggers(trainer)
        clip, self._clip, self._seq_id = self._clip, {}, None
        if not clip or not trainer.is_global_zero:
            return
        frames = [clip[index] for index in sorted(clip)[: self.frames]]
        path = self.directory / "test_clip.gif"
        write_gif(path, frames, self.fps)
        for logger in loggers:
            logger.log_video("test/clip", [str(path)], caption=["blur | restored | sharp"])


def write_gif(path: Path, frames: list[Tensor], fps: int) -> None:
    """Frames ``[3, H, W]`` in ``[0, 1]`` as an endlessly looping GIF at ``fps``."""
    images = [
        Image.fromarray((frame.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))
        for frame in frames
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(
        path, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0
    )
