"""What the train and eval entry points share: config location, testing with a report, teardown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from lightning import LightningDataModule, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, open_dict

from deblurzoo.utils.ddp import end_distributed_job
from deblurzoo.utils.report import log_results, print_summary, summarize, write_metrics

CONFIG_DIR = str(Path(__file__).resolve().parents[3] / "conf")


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
    trainer.test(model, datamodule=datamodule, ckpt_path=restored_from, weights_only=True)
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


def run_job(
    job: Callable[[DictConfig], dict[str, Any] | None], cfg: DictConfig
) -> dict[str, Any] | None:
    """Run ``job``; always close the wandb run (one run per Hydra job) and the job's DDP process
    group, then print the table."""
    try:
        summary = job(cfg)
    finally:
        import wandb

        if wandb.run is not None:
            wandb.finish()
        end_distributed_job()
    if summary is not None:
        rank_zero_only(print_summary)(summary)
    return summary
