"""Shared fixtures: the real Hydra configs composed for tiny CPU runs on a tiny synthetic set."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from omegaconf import DictConfig

from deblurzoo.utils import job

os.environ.setdefault("WANDB_MODE", "offline")  # tests never reach a wandb server
os.environ.setdefault("WANDB_SILENT", "true")
# One intra-op thread, here and in the processes tests start (commands, notebook kernels, sweep
# jobs): the tensors are tiny, and on a busy 2-core machine two threads that wait for each other
# made single tests 10 to 50 times slower. OMP_NUM_THREADS set by hand still wins.
os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

# A synthetic set small enough to generate in a second: 2 train and 2 test sequences of 10 frames.
TINY_DATA = [
    "data.layout.config.num_train=2",
    "data.layout.config.num_test=2",
    "data.layout.config.frames=10",
    "data.layout.config.size=[32,48]",
    "data.layout.config.subframes=5",
    "data.clip_len=4",
    "data.crop_size=32",
    "data.batch_size=2",
    "data.eval_chunk_len=6",
    "data.eval_chunk_overlap=2",
    "data.num_workers=0",
    "data.pin_memory=false",
]
TINY_MODEL = ["model.net.channels=[4,8,12]", "model.net.hidden=4", "model.net.num_resblocks=1"]


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data directory for the session, so the tiny synthetic set is generated once."""
    return tmp_path_factory.mktemp("data")


def compose_config(
    config_name: str, output_dir: Path, data_dir: Path, overrides: list[str] = ()
) -> DictConfig:
    """``conf/<config_name>.yaml`` for a CPU run writing to ``output_dir``, on the tiny synthetic
    set unless ``overrides`` pick another dataset or an experiment."""
    base = [
        f"paths.data_dir={data_dir}",
        f"paths.log_dir={output_dir.parent / 'logs'}",
        "trainer=cpu",
    ]
    other_data = any(o.startswith(("data=", "experiment=")) for o in overrides)
    return job.compose_config(
        config_name, [*base, *([] if other_data else TINY_DATA), *overrides], output_dir
    )


@pytest.fixture
def train_cfg(tmp_path: Path, data_dir: Path):
    """A factory of composed ``train`` configs: one epoch of a tiny model, CSV logging."""

    def make(*overrides: str, output_dir: Path | None = None) -> DictConfig:
        return compose_config(
            "train",
            output_dir or tmp_path / "train",
            data_dir,
            [
                "logger=csv",
                "trainer.max_epochs=1",
                "callbacks.progress_bar=null",
                *TINY_MODEL,
                *overrides,
            ],
        )

    return make


@pytest.fixture
def run_command(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Runs a Hydra command (:mod:`deblurzoo.commands`) in this process as ``<command>
    *overrides`` would: its errors raised as they are (not reported by Hydra), the root logger
    that Hydra's job logging configures restored after the test."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")

    def run(main: Callable[[], None], *overrides: str) -> None:
        monkeypatch.setattr(sys, "argv", [main.__module__, *overrides])
        main()

    return run
