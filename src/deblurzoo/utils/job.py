"""What the train and eval entry points share: composing a config, a device check, testing with a
report, teardown."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from lightning import LightningDataModule, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf, open_dict

from deblurzoo.conf import CONFIG_DIR
from deblurzoo.errors import ConfigError
from deblurzoo.utils.ddp import end_distributed_job
from deblurzoo.utils.report import log_results, print_summary, summarize, write_metrics


def compose_config(config_name: str, overrides: list[str], output_dir: str | Path) -> DictConfig:
    """Compose ``conf/<config_name>.yaml`` with ``overrides`` as the CLI would, for a run in
    Python (a notebook, a test) that writes to ``output_dir``."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(config_name, overrides=list(overrides), return_hydra_config=True)
    HydraConfig().set_config(cfg)
    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
        del cfg.hydra
    GlobalHydra.instance().clear()
    return cfg


def test_and_report(
    trainer: Trainer,
    model: LightningModule,
    datamodule: LightningDataModule,
    cfg: DictConfig,
    ckpt_path: str | Path | None,
    *,
    restore: bool = True,
    **context: Any,
) -> dict[str, Any]:
    """Score the test split (restored and blurry input) with the weights of ``ckpt_path``, write
    ``metrics.json`` (which records ``ckpt_path``) and ``metrics_per_sequence.csv`` to the run's
    output directory and log the per-sequence table; ``context`` adds entries to the summary
    (e.g. the best validation PSNR). Lightning restores ``ckpt_path`` into ``model`` with
    ``weights_only=True`` unless ``restore`` is false: ``model`` holds its weights already
    (``deblurzoo-eval`` loads them from the one read of the file)."""
    restored_from = ckpt_path if restore else None
    trainer.test(
        model,
        datamodule=datamodule,
        ckpt_path=restored_from,
        weights_only=True,
        verbose=cfg.verbose,
    )
    summary = summarize(
        model.test_results,
        datamodule.sequence_names("test"),
        dataset=str(datamodule.root),
        split="test",
        ckpt_path=str(ckpt_path or ""),
        protocol=dict(model.hparams.protocol),
        net=dict(model.hparams.net),
        **context,
    )
    if trainer.is_global_zero:
        write_metrics(cfg.paths.output_dir, summary)
        log_results(trainer.loggers, summary)
    return summary


def check_device(cfg: DictConfig) -> None:
    """Refuse a trainer that asks for CUDA (``trainer=gpu``, ``trainer=ddp``, the paper recipes
    of ``experiment=...``) on a machine without it, naming the config that asks and how to run
    on the CPU instead (Lightning would only say ``No supported gpu backend found!``)."""
    accelerator = OmegaConf.select(cfg, "trainer.accelerator")
    if accelerator not in ("gpu", "cuda") or torch.cuda.is_available():
        return
    hydra_cfg = HydraConfig.get() if HydraConfig.initialized() else None
    choices = hydra_cfg.runtime.choices if hydra_cfg else {}
    overrides = hydra_cfg.overrides.task if hydra_cfg else []
    trainer, experiment = choices.get("trainer"), choices.get("experiment")
    asked = (
        f"trainer={trainer} (conf/trainer/{trainer}.yaml: accelerator={accelerator})"
        if trainer in ("gpu", "ddp")
        else f"trainer.accelerator={accelerator}"
    )
    mine = ("trainer=", "trainer.accelerator=")  # the command line chose, not the recipe
    by_recipe = experiment and not any(o.startswith(mine) for o in overrides)
    who = f"experiment={experiment} (conf/experiment/{experiment}.yaml)" if by_recipe else "the run"
    raise ConfigError(
        f"{who} asks for {asked}, but this machine has no CUDA device. To run on the CPU, give "
        "trainer=cpu, perhaps with a smaller data.batch_size than its "
        f"{OmegaConf.select(cfg, 'data.batch_size')}: a CPU trains far slower."
    )


@contextmanager
def _lightning_info(shown: bool) -> Iterator[None]:
    """Lightning's info lines (devices, seed, restored checkpoint) shown, or not, in the block."""
    loggers = [logging.getLogger(name) for name in ("lightning.pytorch", "lightning.fabric")]
    levels = [logger.level for logger in loggers]
    if not shown:
        for logger in loggers:
            logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def run_job(
    job: Callable[[DictConfig], dict[str, Any] | None], cfg: DictConfig
) -> dict[str, Any] | None:
    """Run ``job`` once :func:`check_device` passes; always close the wandb run (one run per
    Hydra job) and the job's DDP process group, then print the table. ``cfg.verbose = false``
    leaves out the table and Lightning's info lines (devices, seed, restored checkpoint)."""
    check_device(cfg)
    try:
        with _lightning_info(cfg.verbose):
            summary = job(cfg)
    finally:
        import wandb

        if wandb.run is not None:
            wandb.finish()
        end_distributed_job()
    if summary is not None and cfg.verbose:
        rank_zero_only(print_summary)(summary)
    return summary
