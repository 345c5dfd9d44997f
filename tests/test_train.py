"""End-to-end: train, resume and evaluate through the real entry points on CPU."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from deblurzoo.eval import evaluate
from deblurzoo.models.loading import read_checkpoint
from deblurzoo.train import train
from deblurzoo.utils.job import run_job
from tests.conftest import TINY_DATA, TINY_MODEL, compose_config

REPO = Path(__file__).resolve().parents[1]


def cli(
    entry: str, *overrides: str, log_dir: Path, data_dir: Path, check: bool = True, **kwargs
) -> subprocess.CompletedProcess:
    """``python -m deblurzoo.<entry>`` on the tiny synthetic set, logs under ``log_dir``, run from
    ``log_dir`` (``tests`` importable, for test-only callbacks); output captured. Training runs
    the tiny default model unless the overrides pick a ``model=`` (with its own widths)."""
    own_model = any(o.startswith("model=") for o in overrides)
    tiny = [*TINY_DATA, *TINY_MODEL] if entry == "train" and not own_model else TINY_DATA
    flags = [o for o in overrides if o.startswith("-")]  # argparse wants `-m` before overrides
    command = [sys.executable, "-m", f"deblurzoo.{entry}", *flags]
    command += ["callbacks.progress_bar=null"] if entry == "train" else []
    command += [f"paths.data_dir={data_dir}", f"paths.log_dir={log_dir}", *tiny]
    command += [o for o in overrides if not o.startswith("-")]
    env = {**os.environ, "WANDB_MODE": "offline", "PYTHONPATH": str(REPO)}
    log_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        command, env=env, cwd=log_dir, capture_output=True, text=True, timeout=900, **kwargs
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
        )
    return result


def test_fast_dev_run(train_cfg) -> None:
    cfg = train_cfg("debug=fdr", "logger=none", "test=false")
    assert train(cfg) is None
    assert cfg.trainer.fast_dev_run is True


def test_train_writes_checkpoints_and_metrics(train_cfg) -> None:
    cfg = train_cfg()
    summary = train(cfg)
    out = Path(cfg.paths.output_dir)
    assert (out / "checkpoints" / "last.ckpt").is_file()
    assert (out / "checkpoints" / "epoch_000.ckpt").is_file()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["num_sequences"] == 2 and metrics["num_frames"] == 20  # every test frame once
    assert metrics["restored"]["psnr_frame"] == pytest.approx(summary["restored"]["psnr_frame"])
    rows = list(csv.DictReader((out / "metrics_per_sequence.csv").open()))
    assert [r["sequence"] for r in rows] == ["synthetic_000", "synthetic_001"]
    assert sum(int(r["frames"]) for r in rows) == 20
    assert list(out.glob("**/*.tmp")) == []


def test_eval_from_checkpoint_reproduces_test_metrics(train_cfg, tmp_path, data_dir) -> None:
    train_summary = train(train_cfg())
    ckpt = train_summary["ckpt_path"]
    eval_dir = tmp_path / "eval"
    cfg = compose_config(
        "eval", eval_dir, data_dir, ["logger=none", f"ckpt_path={ckpt}", "save_frames=true"]
    )
    summary = evaluate(cfg)
    for key in ("psnr_frame", "psnr_seq", "ssim_frame", "ssim_seq"):
        assert summary["restored"][key] == pytest.approx(train_summary["restored"][key], abs=1e-6)
        assert summary["blurry"][key] == pytest.approx(train_summary["blurry"][key], abs=1e-6)
    assert json.loads((eval_dir / "metrics.json").read_text())["restored"] == summary["restored"]
    frames = sorted((eval_dir / "frames" / "synthetic_000").glob("*.png"))
    assert len(frames) == 10


def test_resume_continues_from_saved_epoch_and_wandb_run(train_cfg, tmp_path) -> None:
    first_dir = tmp_path / "logs" / "train" / "runs" / "first"
    run_job(train, train_cfg("test=false", "logger=wandb", output_dir=first_dir))
    last = first_dir / "checkpoints" / "last.ckpt"
    first_state = torch.load(last, weights_only=True)
    assert first_state["epoch"] == 0
    wandb_id = read_checkpoint(last).run_info["wandb_id"]
    assert wandb_id

    second_dir = tmp_path / "second"
    resume = ["test=false", "logger=wandb", "ckpt_path=last", "trainer.max_epochs=2"]
    second = train_cfg(*resume, output_dir=second_dir)
    run_job(train, second)
    resumed_last = second_dir / "checkpoints" / "last.ckpt"
    resumed = torch.load(resumed_last, weights_only=True)
    assert resumed["epoch"] == 1
    assert resumed["global_step"] == 2 * first_state["global_step"]
    epochs = sorted(p.name for p in (second_dir / "checkpoints").glob("epoch_*.ckpt"))
    assert epochs == ["epoch_001.ckpt"]  # epoch 0 was not trained again
    assert read_checkpoint(resumed_last).run_info["wandb_id"] == wandb_id
    assert list((second_dir / "wandb").glob(f"offline-run-*-{wandb_id}"))


def test_missing_checkpoint_is_named(train_cfg) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere.ckpt"):
        train(train_cfg("ckpt_path=/nowhere.ckpt"))
