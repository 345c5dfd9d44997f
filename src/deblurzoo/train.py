"""``deblurzoo-train``: train a zoo model on a dataset, then score it on the test split.

Examples::

    deblurzoo-train                                   # the CPU quick-start on synthetic data
    deblurzoo-train model=ifirnn_c1h1 data=gopro data.root=/data/GOPRO_Large trainer=gpu
    deblurzoo-train ckpt_path=last                    # resume this task's newest run of this net
    deblurzoo-train trainer=ddp trainer.devices=2     # 2 GPUs, data.batch_size per GPU

A job that finds ``checkpoints/last.ckpt`` in its own output directory (a SLURM job requeued
after its time limit) continues from it and from its wandb run. The checkpoint resumed from is
read by :func:`deblurzoo.models.loading.read_checkpoint` (which refuses a file holding anything
but tensors and plain containers) for the wandb run, then restored by Lightning, which unpickles
it with ``weights_only=True`` too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hydra
import lightning as L
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig

from deblurzoo.callbacks import RestoredClip, RngState, RunInfo
from deblurzoo.models.loading import read_checkpoint
from deblurzoo.utils.checkpoints import resolve_ckpt_path, run_identity
from deblurzoo.utils.instantiate import instantiate_callbacks, instantiate_loggers
from deblurzoo.utils.job import run_job, test_and_report
from deblurzoo.utils.provenance import log_provenance, run_tags


def train(cfg: DictConfig) -> dict[str, Any] | None:
    """Fit ``cfg.model`` on ``cfg.data`` (resuming from ``cfg.ckpt_path``), then test the best
    checkpoint. Returns the test summary (with the best validation PSNR, ``val_psnr_best``), or
    ``None`` when ``cfg.test`` is false."""
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True)
    identity = run_identity(cfg)
    ckpt_path = resolve_ckpt_path(
        cfg.get("ckpt_path"),
        Path(cfg.paths.log_dir) / cfg.task_name,
        own_dir=cfg.paths.output_dir,
        required=False,
        identity=identity,
    )
    wandb_id = read_checkpoint(ckpt_path).run_info.get("wandb_id") if ckpt_path else None
    datamodule = hydra.utils.instantiate(cfg.data)
    if cfg.train and rank_zero_only.rank == 0:
        # index the training data before anything is written, so a run that cannot train stops
        # here; the other ranks of a DDP job index theirs as Lightning sets them up
        datamodule.prepare_data()
        datamodule.setup("fit")
    model = hydra.utils.instantiate(cfg.model)
    net = model.hparams.net
    loggers = instantiate_loggers(cfg.get("logger"), wandb_id, tags=run_tags(cfg, net))
    callbacks = instantiate_callbacks(cfg.get("callbacks"), with_logger=bool(loggers))
    callbacks += [RunInfo(identity["data"]), RngState(), RestoredClip(cfg.paths.output_dir)]
    trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    log_provenance(loggers, cfg, model, net)
    if cfg.train:
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
    if not cfg.test:
        return None
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    return test_and_report(
        trainer,
        model,
        datamodule,
        cfg,
        best or (None if cfg.train else ckpt_path),
        val_psnr_best=best_val_psnr(trainer),
    )


def best_val_psnr(trainer: L.Trainer) -> float | None:
    """The best validation PSNR of the fit (the checkpoint callback's best score, else the last
    ``val/psnr``), or None when nothing was validated."""
    callback = trainer.checkpoint_callback
    score = callback.best_model_score if callback is not None else None
    if score is None:
        score = trainer.callback_metrics.get("val/psnr")
    return None if score is None else float(score)


def main(cfg: DictConfig) -> float | None:
    """Train; return the best validation PSNR, the objective of sweepers (Optuna)."""
    summary = run_job(train, cfg)
    return summary["val_psnr_best"] if summary else None


if __name__ == "__main__":  # python -m deblurzoo.train
    from deblurzoo import commands

    commands.train()
