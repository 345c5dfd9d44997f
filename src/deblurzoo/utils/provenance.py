"""What a run records about itself: resolved config, model size, code revision, output dir."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers import Logger
from omegaconf import DictConfig, OmegaConf
from torch import nn


def git_revision() -> str:
    """``git describe`` of the deblurzoo checkout (``-dirty`` if modified), or ``unknown``."""
    try:
        return subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def parameter_counts(model: nn.Module) -> dict[str, int]:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"params/total": total, "params/trainable": trainable}


def log_provenance(loggers: list[Logger], cfg: DictConfig, model: nn.Module) -> dict[str, Any]:
    """Send the resolved config, parameter counts, git revision and output dir to every logger."""
    record = {
        **OmegaConf.to_container(cfg, resolve=True),
        **parameter_counts(model),
        "git_revision": git_revision(),
        "output_dir": cfg.paths.output_dir,
    }
    for logger in loggers:
        logger.log_hyperparams(record)
    return record
