"""Runs killed with SIGKILL (at a batch, or in the middle of writing a checkpoint) and restarted
with ``ckpt_path=last`` finish their epochs; resumed from an epoch-end checkpoint they end with
the metrics of the run that was never stopped; a NaN loss stops training with the step named."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
import torch
from lightning import Callback
from omegaconf import open_dict

from deblurzoo.train import train
from tests.test_train import cli

#: the same short deterministic run for every test: 3 epochs, no logger
RUN = ["trainer.max_epochs=3", "trainer.deterministic=true", "logger=none"]
KILLER = "+callbacks.kill._target_=tests.test_fault_tolerance.KillAt"


class _KillWhenPickled:
    """Kills the process while ``torch.save`` is serialising the checkpoint it sits in."""

    def __reduce__(self):
        os.kill(os.getpid(), signal.SIGKILL)


class KillAt(Callback):
    """Test-only: SIGKILLs its own process at ``batch`` of ``epoch``, or in the middle of the
    ``save``-th checkpoint write (two writes per epoch: ``epoch_XXX.ckpt`` then ``last.ckpt``)."""

    def __init__(self, epoch: int | None = None, batch: int = 0, save: int | None = None) -> None:
        self.epoch, self.batch, self.save, self.saves = epoch, batch, save, 0

    def on_train_batch_start(self, trainer, pl_module, batch: Any, batch_idx: int) -> None:
        if trainer.current_epoch == self.epoch and batch_idx == self.batch:
            os.kill(os.getpid(), signal.SIGKILL)

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        self.saves += 1
        if self.saves == self.save:
            checkpoint["kill"] = _KillWhenPickled()


class NanInputAt(Callback):
    """Test-only: fills the blurry input of global step ``step`` with NaN."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch: dict, batch_idx: int) -> None:
        if trainer.global_step == self.step:
            batch["blur"].fill_(float("nan"))


def _killed(result) -> None:
    assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]


def _epoch(ckpt: Path) -> int:
    return torch.load(ckpt, map_location="cpu", weights_only=True)["epoch"]


def _metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())


@pytest.mark.slow
def test_resumed_run_ends_with_the_uninterrupted_runs_metrics(tmp_path, data_dir) -> None:
    logs = tmp_path / "logs"
    cli("train", *RUN, "hydra.run.dir=whole", log_dir=logs, data_dir=data_dir)
    # killed in epoch 2, after epoch 1's checkpoints; restarted in its own directory, as a
    # requeued SLURM job is
    run = [*RUN, "hydra.run.dir=killed"]
    _killed(cli("train", *run, KILLER, "+callbacks.kill.epoch=2", "+callbacks.kill.batch=2",
                log_dir=logs, data_dir=data_dir, check=False))  # fmt: skip
    assert _epoch(logs / "killed" / "checkpoints" / "last.ckpt") == 1
    assert not (logs / "killed" / "metrics.json").exists()
    cli("train", *run, "ckpt_path=last", log_dir=logs, data_dir=data_dir)
    whole, resumed = _metrics(logs / "whole"), _metrics(logs / "killed")
    assert Path(resumed["ckpt_path"]).name == Path(whole["ckpt_path"]).name  # same best epoch
    assert resumed["val_psnr_best"] == pytest.approx(whole["val_psnr_best"], abs=1e-4)
    for stage in ("restored", "blurry"):
        for key, value in whole[stage].items():
            assert resumed[stage][key] == pytest.approx(value, abs=1e-4), (stage, key)


@pytest.mark.slow
def test_kill_while_writing_last_ckpt_leaves_the_previous_one(tmp_path, data_dir) -> None:
    logs = tmp_path / "logs"
    # write 4 is epoch 1's last.ckpt
    kill = [KILLER, "+callbacks.kill.save=4"]
    _killed(cli("train", *RUN, "test=false", "hydra.run.dir=train/killed", *kill,
                log_dir=logs, data_dir=data_dir, check=False))  # fmt: skip
    checkpoints = logs / "train" / "killed" / "checkpoints"
    assert _epoch(checkpoints / "last.ckpt") == 0  # whole and loadable: epoch 0's
    assert len(list(checkpoints.glob(".last.ckpt.*.tmp"))) == 1  # the interrupted write
    result = cli("train", *RUN, "ckpt_path=last", "hydra.run.dir=train/restarted", log_dir=logs,
                 data_dir=data_dir)  # fmt: skip
    assert f"Restoring states from the checkpoint path at {checkpoints / 'last.ckpt'}" in (
        result.stdout + result.stderr
    )
    restarted = logs / "train" / "restarted" / "checkpoints"
    assert {p.name for p in restarted.glob("epoch_*.ckpt")} <= {"epoch_001.ckpt", "epoch_002.ckpt"}
    state = torch.load(restarted / "last.ckpt", weights_only=True)
    assert state["epoch"] == 2 and state["global_step"] == 3 * 7  # 7 steps in each of 3 epochs
    assert _metrics(logs / "train" / "restarted")["num_frames"] == 20


def test_kill_before_any_checkpoint_restarts_from_scratch(tmp_path, data_dir) -> None:
    logs = tmp_path / "logs"
    run = ["trainer.max_epochs=1", "logger=none", "test=false"]
    kill = [KILLER, "+callbacks.kill.epoch=0", "+callbacks.kill.batch=1"]
    _killed(cli("train", *run, "hydra.run.dir=train/killed", *kill,
                log_dir=logs, data_dir=data_dir, check=False))  # fmt: skip
    assert not (logs / "train" / "killed" / "checkpoints").exists()
    result = cli("train", *run, "ckpt_path=last", "hydra.run.dir=train/restarted", log_dir=logs,
                 data_dir=data_dir)  # fmt: skip
    assert "training starts from scratch" in result.stdout + result.stderr
    assert _epoch(logs / "train" / "restarted" / "checkpoints" / "last.ckpt") == 0


def test_nan_loss_stops_with_the_step_and_keeps_the_last_good_checkpoint(train_cfg) -> None:
    steps_per_epoch = 7  # the tiny set's 14 training clips in batches of 2
    cfg = train_cfg("trainer.max_epochs=3", "test=false")
    with open_dict(cfg):
        cfg.callbacks.nan = {"_target_": f"{__name__}.NanInputAt", "step": steps_per_epoch + 3}
    with pytest.raises(FloatingPointError, match=rf"global step {steps_per_epoch + 3} \(epoch 1"):
        train(cfg)
    state = torch.load(Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt", weights_only=True)
    assert state["epoch"] == 0 and state["global_step"] == steps_per_epoch
    assert all(torch.isfinite(w).all() for w in state["state_dict"].values())
