"""The DataModule refuses training data that fills no batch (``src/deblurzoo/data/datamodule.py``),
and ``deblurzoo-train`` stops on it before it writes anything."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import hydra
import pytest
import torch

from deblurzoo.data.sequence import DatasetError
from deblurzoo.train import train
from tests.conftest import TINY_MODEL, compose_config

#: the tiny set's training clips: 2 videos of 10 frames, a 4-frame window at every frame
CLIPS = 2 * (10 - 4 + 1)


def test_a_run_without_one_full_batch_stops_before_writing(tmp_path, data_dir) -> None:
    out = tmp_path / "run"
    overrides = [*TINY_MODEL, "logger=csv", f"data.batch_size={CLIPS + 2}"]
    with pytest.raises(DatasetError) as error:
        train(compose_config("train", out, data_dir, overrides))
    message = str(error.value)
    assert f"the training split makes {CLIPS} clips (2 videos, data.clip_len=4" in message
    assert f"fewer than data.batch_size={CLIPS + 2}" in message
    assert f"Set data.batch_size to {CLIPS} or less" in message
    assert not out.exists()  # no checkpoint, no log, no metrics.json of an untrained net


def test_clips_are_counted_per_device(tmp_path: Path, data_dir: Path) -> None:
    """Each of 4 devices gets a quarter of the clips (rounded up), fewer than a batch of 5."""
    cfg = compose_config("train", tmp_path, data_dir, ["data.batch_size=5"])
    datamodule = hydra.utils.instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")  # one device: 14 clips fill two batches of 5
    datamodule.trainer = SimpleNamespace(world_size=4)
    with pytest.raises(DatasetError, match=f"makes {CLIPS} clips, 4 per device on 4 devices"):
        datamodule.setup("fit")


def test_batches_are_pinned_only_for_a_cuda_device(tmp_path: Path, data_dir: Path) -> None:
    """``data.pin_memory=true`` (the default) pins nothing on a CPU-only machine, where torch
    would only warn that it has no accelerator to pin for."""
    cfg = compose_config("train", tmp_path, data_dir, ["data.pin_memory=true"])
    datamodule = hydra.utils.instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    assert datamodule.train_dataloader().pin_memory is torch.cuda.is_available()
