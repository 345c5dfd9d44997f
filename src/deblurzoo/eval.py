"""``deblurzoo-eval``: score a checkpoint on a dataset's test split.

Writes ``metrics.json`` and ``metrics_per_sequence.csv`` into the run directory and, with
``save_frames=true``, the restored frames as PNG. The task (its class is stored in the
checkpoint: video restoration or kernel-space encoding) and its network are rebuilt from the
checkpoint unless ``model=`` is given::

    deblurzoo-eval ckpt_path=logs/train/runs/<date>/checkpoints/last.ckpt data=gopro data.root=...

The checkpoint is read once (:func:`deblurzoo.models.loading.read_checkpoint`, which refuses a
file holding anything but tensors and plain containers): the task is built from its stored
class and hyper-parameters, its net without the files it would load initial weights from
(:func:`~deblurzoo.models.loading.rebuild_config`), and given the checkpoint's weights.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from deblurzoo.callbacks import FrameWriter, RestoredClip
from deblurzoo.errors import ConfigError
from deblurzoo.fast import check_compile
from deblurzoo.models import model_spec
from deblurzoo.models.loading import (
    Checkpoint,
    CheckpointError,
    load_weights,
    read_checkpoint,
    rebuild_config,
)
from deblurzoo.tasks import VideoRestorationModule
from deblurzoo.utils.checkpoints import resolve_ckpt_path
from deblurzoo.utils.instantiate import instantiate_loggers
from deblurzoo.utils.job import run_job, test_and_report
from deblurzoo.utils.provenance import log_provenance, run_tags


def stored_task(checkpoint: Checkpoint) -> type[VideoRestorationModule]:
    """The task class :class:`deblurzoo.callbacks.RunInfo` stored in ``checkpoint`` (older
    checkpoints store none: video restoration). Only the zoo's own tasks are built, so the file
    cannot name other code to run."""
    name = checkpoint.run_info.get("task")
    if name is None:
        return VideoRestorationModule
    tasks = {
        f"{task.__module__}.{task.__qualname__}": task
        for task in (VideoRestorationModule, *VideoRestorationModule.__subclasses__())
    }
    if name not in tasks:
        raise CheckpointError(
            f"{checkpoint.path}: stored task {name!r} is none of the zoo's ({', '.join(tasks)})"
        )
    return tasks[name]


def build_task(cfg: DictConfig, checkpoint: Checkpoint) -> VideoRestorationModule:
    """The task ``cfg.model`` configures, else the one stored in ``checkpoint`` under the eval
    protocol ``cfg.eval``; its net rebuilt without weight files, given the checkpoint's weights
    and run as ``cfg.fast`` and ``cfg.compile`` say (:mod:`deblurzoo.fast`)."""
    if cfg.get("model"):
        task = cfg.model.copy()
        task.net = rebuild_config(OmegaConf.to_container(cfg.model.net, resolve=True))
        model = hydra.utils.instantiate(task, fast=cfg.fast, compile=cfg.compile)
    else:
        if checkpoint.config is None:
            raise CheckpointError(
                f"{checkpoint.path}: a bare state dict stores no task; name the model "
                "(e.g. model=ifirnn_c1h1)"
            )
        net = rebuild_config(checkpoint.config)
        model = stored_task(checkpoint)(
            **{**checkpoint.hyper_parameters, "net": net, "protocol": cfg.eval},
            fast=cfg.fast,
            compile=cfg.compile,
        )
    load_weights(model.net, checkpoint, model.hparams.net["name"])
    return model


def published_score(name: str, source: str, dataset: str | None = None) -> dict[str, Any]:
    """The score its spec publishes for the registered model ``name`` from ``source`` (a paper
    table, e.g. ``"Table 1"``) on ``dataset`` (needed where the table scores several), as the
    entry ``published`` of the eval summary."""
    published = model_spec(name).published.get(name)
    scores = published.scores if published else ()
    found = [s for s in scores if s.source == source and dataset in (None, s.dataset)]
    if len(found) != 1:
        given = f"published={source!r}" + (f" published_dataset={dataset!r}" if dataset else "")
        listed = "; ".join(f"{s.source!r} on {s.dataset!r}" for s in scores) or "none"
        problem = "several scores fit: set published_dataset" if found else "no score fits"
        raise ConfigError(f"{given}: {problem} (model {name!r} publishes: {listed})")
    return asdict(found[0])


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Test ``cfg.ckpt_path`` on ``cfg.data`` under the protocol ``cfg.eval``; with
    ``cfg.published`` (a paper table), the score that table gives the model is reported beside
    ours."""
    ckpt_path = resolve_ckpt_path(cfg.ckpt_path, Path(cfg.paths.log_dir) / "train")
    check_compile(cfg.fast, cfg.compile)
    model = build_task(cfg, read_checkpoint(ckpt_path))
    name = model.hparams.net["name"]
    context = {}
    if cfg.get("published"):
        context["published"] = published_score(name, cfg.published, cfg.get("published_dataset"))
    datamodule = hydra.utils.instantiate(cfg.data)
    net = model.hparams.net
    loggers = instantiate_loggers(cfg.get("logger"), tags=run_tags(cfg, net))
    callbacks = [RestoredClip(cfg.paths.output_dir)]
    if cfg.save_frames:
        callbacks.append(FrameWriter(Path(cfg.paths.output_dir) / "frames"))
    trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    log_provenance(loggers, cfg, model, net)
    return test_and_report(trainer, model, datamodule, cfg, ckpt_path, restore=False, **context)


def main(cfg: DictConfig) -> float:
    return run_job(evaluate, cfg)["restored"]["psnr_frame"]


if __name__ == "__main__":  # python -m deblurzoo.eval
    from deblurzoo import commands

    commands.evaluate()
