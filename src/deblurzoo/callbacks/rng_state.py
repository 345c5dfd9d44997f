"""Keeps the random number generators in the checkpoints, so a resumed run draws what the
uninterrupted run would have drawn."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from lightning import Callback, LightningModule, Trainer

RNG_KEY = "deblurzoo_rng"


class RngState(Callback):
    """Stores the Python, NumPy, torch (and CUDA) generator states under
    ``checkpoint["deblurzoo_rng"]`` and restores them when training resumes.

    Lightning restores weights, optimiser, schedulers and loop counters but re-seeds the
    generators from ``seed``, so a run resumed after epoch ``k`` would shuffle and crop epoch
    ``k + 1`` differently from the run that was never stopped. With the states restored, a run
    resumed from an epoch-end checkpoint in ``trainer.deterministic=true`` mode reproduces the
    uninterrupted run (``tests/test_fault_tolerance.py``). The sanity validation that opens every
    fit leaves the generators as it found them (its loaders draw seeds), so it does not shift the
    draws of a resumed run either. Only rank 0 writes checkpoints; every rank restores its state
    (under DDP all ranks are seeded alike).
    """

    def __init__(self) -> None:
        self._before_sanity: dict[str, Any] | None = None

    def on_save_checkpoint(
        self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        checkpoint[RNG_KEY] = rng_states()

    def on_load_checkpoint(
        self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        if RNG_KEY in checkpoint:  # absent from checkpoints written before this callback
            set_rng_states(checkpoint[RNG_KEY])

    def on_sanity_check_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._before_sanity = rng_states()

    def on_sanity_check_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        set_rng_states(self._before_sanity)


def rng_states() -> dict[str, Any]:
    """The global generators' states, in types ``torch.load(weights_only=True)`` accepts."""
    name, keys, *rest = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": (
            name,
            keys.tolist(),
            *(r.item() if isinstance(r, np.generic) else r for r in rest),
        ),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
    }


def set_rng_states(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_states` captured."""
    random.setstate(state["python"])
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), *rest))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
