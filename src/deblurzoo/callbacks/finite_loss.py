"""Stops training at the first NaN or Inf loss, before it reaches the weights or a checkpoint."""

from __future__ import annotations

import torch
from lightning import Callback, LightningModule, Trainer
from torch import Tensor


class FiniteLoss(Callback):
    """Raises ``FloatingPointError`` naming the step when the training loss is not finite.

    The check runs before the backward pass, so the weights never see the bad gradient, and
    every DDP rank takes the same decision (one boolean all-reduce per step), so no rank is left
    waiting in a collective. Checkpoints already written stay as they are: ``last.ckpt`` is the
    last good state, from which ``ckpt_path=last`` resumes.
    """

    def on_before_backward(
        self, trainer: Trainer, pl_module: LightningModule, loss: Tensor
    ) -> None:
        finite = bool(torch.isfinite(loss.detach()).all())
        if trainer.strategy.reduce_boolean_decision(finite, all=True):
            return
        last = trainer.checkpoint_callback.last_model_path if trainer.checkpoint_callback else ""
        raise FloatingPointError(
            f"training loss is not finite (this rank: {loss.detach().float().item()}) at global "
            f"step {trainer.global_step} (epoch {trainer.current_epoch}, batch "
            f"{trainer.fit_loop.epoch_loop.batch_idx}); training stopped. Last good checkpoint: "
            f"{last or 'none written yet'}"
        )
