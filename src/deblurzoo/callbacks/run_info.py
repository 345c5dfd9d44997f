"""Keeps a run's identity in its checkpoints: the wandb run a resumed run continues, the task
``deblurzoo-eval`` rebuilds, and the data ``ckpt_path=last`` matches runs on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lightning import Callback, LightningModule, Trainer

from deblurzoo.models.loading import RUN_KEY
from deblurzoo.utils.instantiate import wandb_run_id


class RunInfo(Callback):
    """Stores ``{"wandb_id": ..., "task": "<module>.<class>", "data": data}`` under
    ``checkpoint["deblurzoo_run"]``: the wandb run to continue, the LightningModule class that
    ``deblurzoo-eval`` rebuilds and the dataset trained on (the ``data`` part of
    :func:`deblurzoo.utils.checkpoints.run_identity`; the net is in the task's
    hyper-parameters).
    """

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = dict(data)

    def on_save_checkpoint(
        self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        task = type(pl_module)
        checkpoint[RUN_KEY] = {
            "wandb_id": wandb_run_id(trainer.loggers),
            "task": f"{task.__module__}.{task.__qualname__}",
            "data": self.data,
        }
