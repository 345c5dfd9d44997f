"""``ckpt_path=last`` resumes the newest run of the same net on the same data, skipping newer runs
of other models that share the task (every ``debug=`` run is task ``debug``), and refuses, naming
both, when no run matches; it never loads one model's checkpoint into another."""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

import pytest
import torch

from deblurzoo.models.loading import RUN_KEY, CheckpointError
from deblurzoo.train import train
from deblurzoo.utils.checkpoints import resolve_ckpt_path, run_identity
from tests.conftest import TINY_DATA, TINY_MODEL, compose_config
from tests.test_kernel_space import TINY_OVERRIDES as TINY_KERNEL_SPACE

#: a one-batch epoch of the debug preset that writes checkpoints, under task `debug`
ONE_BATCH = [
    "debug=limit", "logger=none", "test=false", "callbacks.progress_bar=null",
    "trainer.max_epochs=1", "trainer.limit_train_batches=1", "trainer.limit_val_batches=1",
]  # fmt: skip
KERNEL_SPACE = [
    "experiment=kernel_space_synthetic", *TINY_DATA, *TINY_KERNEL_SPACE,
    "trainer.check_val_every_n_epoch=1",
]  # fmt: skip


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """``logs/`` holding two runs of task ``debug``: a tiny IFI-RNN and, newer, a tiny
    kernel-space encoder on the same data."""
    logs = tmp_path_factory.mktemp("resume") / "logs"
    runs = logs / "debug" / "runs"
    train(compose_config("train", runs / "ifirnn", data_dir, [*TINY_MODEL, *ONE_BATCH]))
    train(compose_config("train", runs / "kernel_space", data_dir, [*KERNEL_SPACE, *ONE_BATCH]))
    newer = time.time() + 60
    os.utime(runs / "kernel_space" / "checkpoints" / "last.ckpt", (newer, newer))
    return logs


def _resume(logs: Path, data_dir: Path, name: str, *overrides: str):
    """A ``train`` config resuming ``ckpt_path=last`` from ``logs``, writing to ``name`` beside."""
    return compose_config(
        "train", logs.parent / name, data_dir, [*ONE_BATCH, "ckpt_path=last", *overrides]
    )


def test_last_resumes_the_newest_run_of_the_same_net(logs, data_dir, caplog) -> None:
    ifirnn = logs / "debug" / "runs" / "ifirnn" / "checkpoints" / "last.ckpt"
    cfg = _resume(logs, data_dir, "continued", *TINY_MODEL, "trainer.max_epochs=2")
    with caplog.at_level(logging.INFO, logger="deblurzoo.utils.checkpoints"):
        train(cfg)
    assert f"kernel_space/checkpoints/last.ckpt, newer, is another run's; resuming {ifirnn}" in (
        caplog.text
    )
    resumed = torch.load(
        Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt", weights_only=True
    )
    assert resumed["epoch"] == 1  # epoch 0 came from the IFI-RNN run
    assert resumed["global_step"] == torch.load(ifirnn, weights_only=True)["global_step"] + 1


def test_last_refuses_when_no_run_is_of_this_net_naming_both(logs, data_dir) -> None:
    cfg = _resume(logs, data_dir, "refused", *TINY_MODEL, "model.net.hidden=6")
    with pytest.raises(CheckpointError) as error:
        train(cfg)
    message = str(error.value)
    assert message.startswith(
        f"ckpt_path=last: no run under {logs / 'debug'} trained this net on this data (2 "
        f"checked), so none is resumed; the newest, {logs / 'debug/runs/kernel_space'}"
    )
    assert "model.net.name: 'kernel_space' in the checkpoint, 'ifirnn_c1h1' in this run" in message
    assert not Path(cfg.paths.output_dir).exists()  # refused before anything is written
    identity = run_identity(cfg)
    ifirnn = logs / "debug" / "runs" / "ifirnn"
    with pytest.raises(CheckpointError, match=r"model.net.hidden: 4 in the checkpoint, 6 in this"):
        resolve_ckpt_path("last", ifirnn, identity=identity)


def test_last_compares_the_data(logs, data_dir, tmp_path) -> None:
    """The run's dataset is stored in its checkpoints; another dataset is another run."""
    cfg = _resume(logs, data_dir, "other_data", *TINY_MODEL)
    identity = run_identity(cfg)
    content = torch.load(logs / "debug/runs/ifirnn/checkpoints/last.ckpt", weights_only=True)
    assert content[RUN_KEY]["data"] == identity["data"]
    assert identity["data"]["layout"] == "deblurzoo.data.layouts.SyntheticGoproLayout"
    root = identity["data"]["root"]
    content[RUN_KEY]["data"]["root"] = "/elsewhere/GOPRO_Large"
    (tmp_path / "other/checkpoints").mkdir(parents=True)
    torch.save(content, tmp_path / "other/checkpoints/last.ckpt")
    with pytest.raises(
        CheckpointError,
        match=re.escape(f"data.root: '/elsewhere/GOPRO_Large' in the checkpoint, '{root}' in"),
    ):
        resolve_ckpt_path("last", tmp_path, identity=identity)
