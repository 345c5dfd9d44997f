"""Writes the restored test frames as PNG files, one folder per sequence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lightning import Callback, LightningModule, Trainer

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
        positions = pl_module.target_frames(batch["frame_idx"])
        scored = pl_module.target_frames(batch["score"])
        for b, seq_id in enumerate(batch["seq_id"].tolist()):
            frame_ids = datamodule.frame_ids("test", seq_id)
            for t in scored[b].nonzero().flatten().tolist():
                path = self.directory / names[seq_id] / f"{frame_ids[positions[b, t]]}.png"
                write_frame(path, outputs[b, t].float().cpu())
