"""The RIRN ablation as one Hydra multirun: 5 hosts × IRM × ATB = 20 jobs, one wandb run each."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import TINY_DATA


@pytest.mark.slow
def test_twenty_job_multirun(tmp_path, data_dir) -> None:
    command = [
        sys.executable, "-m", "deblurzoo.train", "-m", "model=rirn",
        "model.net.host=ifirnn_c1h1,strcnn,rdbn,conv_gru,conv_lstm",
        "model.net.irm=true,false", "model.net.atb=true,false",
        "data=synthetic", "debug=fdr", "logger=wandb", "task_name=rirn_sweep",
        "callbacks.progress_bar=null",
        f"paths.data_dir={data_dir}", f"paths.log_dir={tmp_path}", *TINY_DATA,
        "data.clip_len=6", "data.eval_chunk_len=10", "data.eval_chunk_overlap=4",  # STRCNN's window
    ]  # fmt: skip
    env = {**os.environ, "WANDB_MODE": "offline"}
    subprocess.run(command, check=True, env=env, cwd=tmp_path, capture_output=True, timeout=1800)
    jobs = sorted((tmp_path / "rirn_sweep" / "multiruns").glob("*/*/metrics.json"))
    assert len(jobs) == 20
    for metrics in jobs:
        assert json.loads(metrics.read_text())["num_frames"] > 0
        assert len(list((metrics.parent / "wandb").glob("offline-run-*"))) == 1
