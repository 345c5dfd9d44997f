"""One wandb run per job with its group, job type, tags, provenance, tables and a video."""

from __future__ import annotations

import json
from pathlib import Path

import wandb

from deblurzoo.train import train


def test_wandb_run_records_what_comparisons_need(train_cfg) -> None:
    cfg = train_cfg("logger=wandb", "task_name=width_sweep", "gmacs_frame_size=[720,1280]")
    try:
        summary = train(cfg)
        run = wandb.run
        assert run.group == "width_sweep" and run.job_type == "train"
        # family, model, an option off its default (conf/model/ifirnn_c1h1_small.yaml), data
        assert set(run.tags) >= {"rirn", "ifirnn_c1h1", "residual=True", "synthetic"}
        config = run.config
        assert config["model"]["net"]["name"] == "ifirnn_c1h1"  # the resolved config
        assert config["params/total"] > 0 and config["git_revision"]
        assert config["output_dir"] == cfg.paths.output_dir
        assert config["gmacs_per_frame@720x1280"] > 0
        assert "logger=wandb" in config["overrides"]
        assert run.summary["val_psnr_best"] == summary["val_psnr_best"]
        assert run.summary["test/psnr_frame"] == summary["restored"]["psnr_frame"]
        files = Path(run.dir)
    finally:
        wandb.finish()
    (table,) = files.glob("media/table/test/per_sequence_*.table.json")
    rows = json.loads(table.read_text())
    assert rows["columns"][:2] == ["sequence", "frames"] and len(rows["data"]) == 2
    (video,) = files.glob("media/videos/test/clip_*.gif")
    assert video.read_bytes()[:6] == b"GIF89a"
    assert (Path(cfg.paths.output_dir) / "test_clip.gif").is_file()


def test_each_job_of_a_multirun_is_its_own_wandb_run_in_the_sweeps_group(tmp_path, data_dir):
    """``test_train.test_multirun_gives_one_wandb_run_and_one_directory_per_job`` runs the sweep;
    here the group of a sweep is its task name, as the wandb logger config says."""
    from tests.conftest import compose_config

    cfg = compose_config("train", tmp_path, data_dir, ["task_name=rirn_hosts"])
    assert cfg.logger.wandb.group == "rirn_hosts"
    assert cfg.logger.wandb.job_type == "train"
