"""MemDeblur trains and is scored through the generic task and the real entry point (CPU)."""

from __future__ import annotations

import json
from pathlib import Path

import hydra
import pytest
import torch

from deblurzoo.losses import charbonnier, resize_clip
from deblurzoo.models import MultiScaleFrames
from deblurzoo.train import train
from tests.conftest import compose_config

TINY_MEMDEBLUR = [
    "model.net.mid_channels=8",
    "model.net.num_blocks_forward=1",
    "model.net.num_blocks_backward=1",
    "model.net.key_dim=8",
    "model.net.backbone=resnet18",
]


@pytest.mark.parametrize("model", ["memdeblur", "memdeblur_slim"])
def test_memdeblur_trains_and_writes_metrics(model, tmp_path: Path, data_dir: Path) -> None:
    overrides = [f"model={model}", *TINY_MEMDEBLUR, "logger=csv", "trainer.max_epochs=1"]
    cfg = compose_config("train", tmp_path / "run", data_dir, overrides)
    summary = train(cfg)
    metrics = json.loads((Path(cfg.paths.output_dir) / "metrics.json").read_text())
    assert metrics["net"]["name"] == model
    assert metrics["num_frames"] == 20
    assert metrics["restored"]["psnr_frame"] == pytest.approx(summary["restored"]["psnr_frame"])


def test_multi_scale_loss_averages_the_three_scales(tmp_path: Path, data_dir: Path) -> None:
    """Supplementary Eq. 1: the training loss is the mean of the per-scale Charbonnier losses."""
    cfg = compose_config("train", tmp_path, data_dir, ["model=memdeblur", *TINY_MEMDEBLUR])
    module = hydra.utils.instantiate(cfg.model)
    blur, sharp = torch.rand(2, 2, 4, 3, 32, 32)
    with torch.no_grad():
        out = module.net(blur)
        loss = module.loss(out, sharp).item()
    assert isinstance(out, MultiScaleFrames) and len(out.coarse) == 2
    per_scale = [charbonnier(out.frames, sharp)] + [
        charbonnier(c, resize_clip(sharp, c.shape[-2:])) for c in out.coarse
    ]
    assert loss == pytest.approx(sum(per_scale).item() / 3, rel=1e-6)
