"""``deblurzoo-eval``: score a checkpoint on a dataset's test split.

Writes ``metrics.json`` and ``metrics_per_sequence.csv`` into the run directory and, with
``save_frames=true``, the restored frames as PNG. The task (its class is stored in the
checkpoint: video restoration or kernel-space encoding) and its network are rebuilt from the
checkpoint unless ``model=`` is given::

    deblurzoo-eval ckpt_path=logs/train/runs/<date>/checkpoints/last.ckpt data=gopro data.root=...
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig

from deblurzoo.callbacks import FrameWriter, RestoredClip
from deblurzoo.models.loading import read_net_checkpoint, rebuild_config
from deblurzoo.tasks import VideoRestorationModule
from deblurzoo.utils.checkpoints import resolve_ckpt_path, stored_run_info
from deblurzoo.utils.instantiate import instantiate_loggers
from deblurzoo.utils.job import CONFIG_DIR, run_job, test_and_report
from deblurzoo.utils.provenance import log_provenance, run_tags


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Test ``cfg.ckpt_path`` on ``cfg.data`` under the protocol ``cfg.eval``."""
    ckpt_path = resolve_ckpt_path(cfg.ckpt_path, Path(cfg.paths.log_dir) / "train")
    datamodule = hydra.utils.instantiate(cfg.data)
    if cfg.get("model"):
        model = hydra.utils.instantiate(cfg.model)
    else:
        task = stored_run_info(ckpt_path).get("task")  # absent from older checkpoints
        task_class = hydra.utils.get_class(task) if task else VideoRestorationModule
        model = task_class.load_from_checkpoint(
            ckpt_path,
            map_location="cpu",
            weights_only=False,
            protocol=cfg.eval,
            net=rebuild_config(read_net_checkpoint(ckpt_path).config),
        )
    net = model.hparams.net
    loggers = instantiate_loggers(cfg.get("logger"), tags=run_tags(cfg, net))
    callbacks = [RestoredClip(cfg.paths.output_dir)]
    if cfg.save_frames:
        callbacks.append(FrameWriter(Path(cfg.paths.output_dir) / "frames"))
    trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    log_provenance(loggers, cfg, model, net)
    return test_and_report(trainer, model, datamodule, cfg, ckpt_path)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="eval")
def main(cfg: DictConfig) -> float:
    return run_job(evaluate, cfg)["restored"]["psnr_frame"]


if __name__ == "__main__":
    main()
