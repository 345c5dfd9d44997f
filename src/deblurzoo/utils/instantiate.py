"""Build callbacks and loggers from their Hydra config groups."""

from __future__ import annotations

import logging

import hydra
from lightning import Callback
from lightning.pytorch.callbacks import LearningRateMonitor
from lightning.pytorch.loggers import Logger, WandbLogger
from omegaconf import DictConfig

log = logging.getLogger(__name__)


def _entries(group: DictConfig | None) -> list[DictConfig]:
    """The entries of a group that are objects to build (those with a ``_target_``)."""
    return [
        entry
        for entry in (group or {}).values()
        if isinstance(entry, DictConfig) and "_target_" in entry
    ]


def instantiate_loggers(
    group: DictConfig | None, wandb_id: str | None = None, tags: list[str] | None = None
) -> list[Logger]:
    """Loggers of ``cfg.logger``; a wandb run to resume is continued under ``wandb_id``, and
    ``tags`` (if given) replace the wandb logger's configured tags."""
    loggers = []
    for entry in _entries(group):
        extra = {}
        if entry._target_.endswith("WandbLogger"):
            if wandb_id:
                extra.update(id=wandb_id, resume="allow")
            if tags is not None:
                extra["tags"] = tags
        loggers.append(hydra.utils.instantiate(entry, **extra))
    return loggers


def instantiate_callbacks(group: DictConfig | None, with_logger: bool) -> list[Callback]:
    """Callbacks of ``cfg.callbacks``; the LR monitor is left out when nothing logs."""
    callbacks = [hydra.utils.instantiate(entry) for entry in _entries(group)]
    if not with_logger:
        dropped = [c for c in callbacks if isinstance(c, LearningRateMonitor)]
        if dropped:
            log.info("no logger configured: LearningRateMonitor left out")
        callbacks = [c for c in callbacks if c not in dropped]
    return callbacks


def wandb_run_id(loggers: list[Logger]) -> str | None:
    """The id of the wandb run among ``loggers``, if any."""
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            return logger.experiment.id
    return None
