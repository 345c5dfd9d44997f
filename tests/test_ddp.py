"""DDP through Hydra on two CPU processes (``trainer=ddp_cpu``, gloo): one output directory per
job, the batch size per device, and evaluation equal to a single process's."""

from __future__ import annotations

import json
import math
from pathlib import Path

import hydra
import pytest
import torch

from tests.conftest import compose_config
from tests.test_train import cli


def _metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())


def test_ddp_multirun_keeps_one_directory_per_job(tmp_path, data_dir) -> None:
    cli("train", "-m", "seed=0,1", "trainer=ddp_cpu", "trainer.max_epochs=1",
        log_dir=tmp_path, data_dir=data_dir)  # fmt: skip
    assert not (tmp_path / "train" / "runs").exists()  # no rank made a directory of its own
    (sweep,) = (tmp_path / "train" / "multiruns").iterdir()
    assert sorted(p.name for p in sweep.iterdir()) == ["0", "1", "multirun.yaml"]
    for job in ("0", "1"):
        run_dir = sweep / job
        assert (run_dir / "train_rank1.log").is_file()  # rank 1 ran this job, in its directory
        assert _metrics(run_dir)["num_frames"] == 20  # every test frame once, padding dropped
        assert len(list((run_dir / "wandb").glob("offline-run-*"))) == 1  # rank 0 logs alone


@pytest.mark.slow
def test_batch_size_is_per_device_and_ddp_eval_equals_one_process(tmp_path, data_dir) -> None:
    logs = tmp_path / "logs"
    cli("train", "trainer=ddp_cpu", "trainer.max_epochs=1", "logger=none", "test=false",
        "hydra.run.dir=ddp_train", log_dir=logs, data_dir=data_dir)  # fmt: skip
    ckpt = logs / "ddp_train" / "checkpoints" / "last.ckpt"
    cfg = compose_config("train", tmp_path / "cfg", data_dir)
    datamodule = hydra.utils.instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    per_rank = math.ceil(len(datamodule.train_clips) / 2)  # DistributedSampler's share
    expected_steps = per_rank // cfg.data.batch_size  # data.batch_size clips per device
    assert torch.load(ckpt, weights_only=True)["global_step"] == expected_steps

    # Evaluation on 3 test sequences in 3 chunks each: 9 chunks, so the sampler of 2 processes
    # pads with a repeated chunk, whose frames must not count twice.
    eval_data = tmp_path / "eval_data"
    odd = ["data.layout.config.num_test=3", "data.eval_chunk_len=4", "data.eval_chunk_overlap=1"]
    cfg = compose_config("eval", tmp_path / "cfg", eval_data, odd)
    datamodule = hydra.utils.instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("test")
    assert len(datamodule.eval_chunks("test")) % 2 == 1

    for trainer in ("cpu", "ddp_cpu"):
        cli("eval", f"ckpt_path={ckpt}", f"trainer={trainer}", "logger=none", *odd,
            f"hydra.run.dir=eval_{trainer}", log_dir=logs, data_dir=eval_data)  # fmt: skip
    single, ddp = _metrics(logs / "eval_cpu"), _metrics(logs / "eval_ddp_cpu")
    assert single["num_frames"] == 30
    for key in ("restored", "blurry", "per_sequence", "num_frames"):
        assert ddp[key] == single[key]  # exactly: each (sequence, frame) scored once
