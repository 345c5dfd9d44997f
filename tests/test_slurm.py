"""SLURM through hydra-submitit-launcher: the composed launcher config, a sweep through submitit's
local executor, and a requeued job continuing from its own last.ckpt and wandb run."""

from __future__ import annotations

import json

import torch
from hydra import compose, initialize_config_dir

from deblurzoo.models.loading import read_checkpoint
from deblurzoo.utils.job import CONFIG_DIR
from tests.test_fault_tolerance import KILLER
from tests.test_train import cli


def test_slurm_launcher_gives_one_task_per_gpu() -> None:
    overrides = ["hydra/launcher=slurm", "hydra.launcher.partition=gpu", "trainer=ddp",
                 "trainer.devices=4", "trainer.num_nodes=2"]  # fmt: skip
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("submitit_launcher.SlurmLauncher")
    assert launcher.tasks_per_node == launcher.gpus_per_node == cfg.trainer.devices == 4
    assert launcher.nodes == cfg.trainer.num_nodes == 2
    assert launcher.partition == "gpu" and launcher.max_num_timeout > 0
    assert launcher.cpus_per_task and launcher.mem_gb and launcher.timeout_min


def test_submitit_local_executor_runs_a_sweep(tmp_path, data_dir) -> None:
    cli("train", "-m", "hydra/launcher=local", "seed=0,1", "trainer.max_epochs=1", "logger=none",
        log_dir=tmp_path, data_dir=data_dir)  # fmt: skip
    (sweep,) = (tmp_path / "train" / "multiruns").iterdir()
    for job in ("0", "1"):
        assert json.loads((sweep / job / "metrics.json").read_text())["num_frames"] == 20
    assert len(list((sweep / ".submitit").glob("*/*_result.pkl"))) == 2  # run by submitit


def test_requeued_job_continues_its_checkpoint_and_wandb_run(tmp_path, data_dir) -> None:
    """A requeued job runs the same command again in the same output directory."""
    job = ["trainer.max_epochs=2", "logger=wandb", "hydra.run.dir=job"]
    cli("train", *job, KILLER, "+callbacks.kill.epoch=1", log_dir=tmp_path, data_dir=data_dir,
        check=False)  # fmt: skip
    last = tmp_path / "job" / "checkpoints" / "last.ckpt"
    wandb_id = read_checkpoint(last).run_info["wandb_id"]
    cli("train", *job, log_dir=tmp_path, data_dir=data_dir)
    state = torch.load(last, weights_only=True)
    assert state["epoch"] == 1 and state["global_step"] == 2 * 7  # epoch 0 was not redone
    assert read_checkpoint(last).run_info["wandb_id"] == wandb_id
    runs = {p.name.rsplit("-", 1)[-1] for p in (tmp_path / "job" / "wandb").glob("offline-run-*")}
    assert runs == {wandb_id}  # both attempts logged to the same wandb run
