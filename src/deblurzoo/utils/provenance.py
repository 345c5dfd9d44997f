"""What a run records about itself: resolved config, model size and cost, code revision,
output dir, the overrides that made the job, and the tags that find it in wandb."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from lightning.pytorch.loggers import Logger, WandbLogger
from omegaconf import DictConfig, OmegaConf
from torch import nn

from deblurzoo.models import model_spec


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


def gmacs_per_frame(net: Mapping[str, Any], frame_size: Sequence[int]) -> float:
    """GMACs per restored frame of the registry entry ``net`` at ``frame_size`` (H, W), counted
    on the meta device by :func:`deblurzoo.zoo.measure` (no memory, no compute; from well under
    a second for the RIRN hosts to ~40 s for MemDeblur, whatever the size)."""
    from deblurzoo.zoo import measure  # the zoo CLI module; imported only when counting

    entry = dict(net)
    return measure(entry.pop("name"), *frame_size, **entry).gmacs_per_frame


def job_overrides() -> list[str]:
    """The command-line overrides that made this Hydra job (empty outside Hydra)."""
    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


def run_tags(cfg: DictConfig, net: Mapping[str, Any]) -> list[str]:
    """``cfg.tags``, then the model's family and registered name, the options of the registry
    entry ``net`` that differ from its defaults (``irm=False``; scalars only, from the family's
    :class:`~deblurzoo.models.ModelSpec`) and the dataset (the ``data`` group's choice), for
    filtering runs in wandb."""
    spec = model_spec(net["name"])
    tags = [*cfg.get("tags", []), spec.family, net["name"]]
    tags += [
        f"{key}={value}"
        for key, value in spec.changed_options(net).items()
        if isinstance(value, str | int | float | bool) or value is None
    ]
    if HydraConfig.initialized():
        tags.append(HydraConfig.get().runtime.choices.get("data"))
    return list(dict.fromkeys(str(tag) for tag in tags if tag))


def log_provenance(
    loggers: list[Logger], cfg: DictConfig, model: nn.Module, net: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Send the resolved config, parameter counts, git revision, output dir and job overrides to
    every logger; with a wandb logger and a registry entry ``net``, also the GMACs per frame at
    ``cfg.gmacs_frame_size`` (null: not counted)."""
    record = {
        **OmegaConf.to_container(cfg, resolve=True),
        **parameter_counts(model),
        "git_revision": git_revision(),
        "output_dir": cfg.paths.output_dir,
        "overrides": job_overrides(),
    }
    frame_size = cfg.get("gmacs_frame_size")
    if net is not None and frame_size and any(isinstance(lg, WandbLogger) for lg in loggers):
        height, width = frame_size
        record[f"gmacs_per_frame@{height}x{width}"] = gmacs_per_frame(net, frame_size)
    for logger in loggers:
        logger.log_hyperparams(record)
    return record
