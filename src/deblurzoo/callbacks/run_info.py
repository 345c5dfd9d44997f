"""Keeps a run's identity in its checkpoints so a resumed run continues the same wandb run."""

from __future__ import annotations

from typing import Any

from lightning import Callback, LightningModule, Trainer

from deblurzoo.utils.checkpoints import RUN_KEY
from deblurzoo.utils.instantiate import wandb_run_id


class RunInfo(Callback):
    """Stores ``{"wandb_id": ..., "task": "<module>.<class>"}`` under
    ``checkpoint["deblurzoo_run"]``: the wandb run to continue and the LightningModule class that
    ``deblurzoo-eval`` rebuilds."""

    def on_save_checkpoint(
        self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        task = type(pl_module)
        checkpoint[RUN_KEY] = {
            "wandb_id": wandb_run_id(trainer.loggers),
            "task": f"{task.__module__}.{task.__qualname__}",
        }
