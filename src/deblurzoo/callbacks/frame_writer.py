"""Writes the restored test frames as PNG files, one folder per sequence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lightning import Callback, LightningModule, Trainer

from deblurzoo.callbacks.scored_frames import scored_frames
from deblurzoo.data.frames import write_frame


class FrameWriter(Callback):
    """Saves every scored restored frame to ``<directory>/<sequence>/<frame id>.png``."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def on_test_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: dict,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        datamodule = trainer.datamodule
        names = datamodule.sequence_names("test")
        for seq_id, position, b, t in scored_frames(pl_module, batch):
            frame_id = datamodule.frame_ids("test", seq_id)[position]
            path = self.directory / names[seq_id] / f"{frame_id}.png"
            write_frame(path, outputs[b, t].float().cpu())
