"""Runs as a DataFrame: from the run directories (offline) and from the wandb API."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import yaml

from deblurzoo.results import load_group, load_runs
from tests.test_train import cli


def _run_dir(root, name, host, psnr, overrides):
    run = root / name
    (run / ".hydra").mkdir(parents=True)
    metrics = {
        "net": {"name": "rirn", "host": host, "irm": True},
        "val_psnr_best": psnr - 1,
        "restored": {"psnr_frame": psnr, "ssim_frame": 0.9},
        "blurry": {"psnr_frame": 25.0, "ssim_frame": 0.8},
    }
    (run / "metrics.json").write_text(json.dumps(metrics))
    (run / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))


def test_local_runs_give_net_switches_overrides_and_metrics(tmp_path) -> None:
    group = tmp_path / "logs" / "rirn_sweep"
    _run_dir(group / "multiruns" / "t", "0", "rdbn", 30.0, ["model.net.host=rdbn", "seed=0"])
    _run_dir(group / "multiruns" / "t", "1", "strcnn", 31.0, ["model.net.host=strcnn", "seed=1"])
    runs = load_group("rirn_sweep", log_dir=tmp_path / "logs")
    assert list(runs["host"]) == ["rdbn", "strcnn"] and list(runs["seed"]) == ["0", "1"]
    assert list(runs["psnr"]) == [30.0, 31.0] and list(runs["val_psnr"]) == [29.0, 30.0]
    assert runs.equals(load_runs(group))
    with pytest.raises(FileNotFoundError, match="no metrics.json"):
        load_runs(tmp_path / "empty")


def test_a_real_rirn_multirun_reads_back_with_its_switches(tmp_path, data_dir) -> None:
    """A two-job RIRN sweep through the CLI: one directory and one offline wandb run per job,
    and both readers give each run's ``host``, ``irm`` and ``atb`` (all under ``model.net``)."""
    cli("train", "-m", "model=rirn", "model.net.host=rdbn", "model.net.irm=true,false",
        "model.net.atb=false", "+model.net.n_features=4", "+model.net.n_blocks=1",
        "task_name=rirn_pair", "trainer.max_epochs=1", "gmacs_frame_size=null",
        log_dir=tmp_path, data_dir=data_dir)  # fmt: skip
    jobs = sorted((tmp_path / "rirn_pair" / "multiruns").glob("*/[0-9]"))
    assert [job.name for job in jobs] == ["0", "1"]
    offline_runs = [list((job / "wandb").glob("offline-run-*")) for job in jobs]
    assert [len(found) for found in offline_runs] == [1, 1]
    assert len({found[0].name.rsplit("-", 1)[-1] for found in offline_runs}) == 2  # two run ids
    runs = load_group("rirn_pair", log_dir=tmp_path)
    assert list(runs["host"]) == ["rdbn", "rdbn"] and list(runs["atb"]) == [False, False]
    assert sorted(runs["irm"]) == [False, True] and runs["psnr"].notna().all()

    def wandb_run(job):  # the config and summary the job sent to wandb
        config = yaml.safe_load((job / ".hydra" / "config.yaml").read_text())
        overrides = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text())
        metrics = json.loads((job / "metrics.json").read_text())
        summary = {
            f"test/{'' if stage == 'restored' else 'blurry_'}{key}": metrics[stage][key]
            for stage in ("restored", "blurry")
            for key in ("psnr_frame", "ssim_frame")
        }
        return SimpleNamespace(
            name=job.name, state="finished", summary={**summary, "val_psnr_best": None},
            config={**config, "output_dir": str(job), "overrides": overrides},
        )  # fmt: skip

    class Api:
        def runs(self, path, filters):
            return [wandb_run(job) for job in jobs]

    remote = load_group("rirn_pair", source="wandb", api=Api())
    columns = ["host", "irm", "atb", "psnr", "ssim"]
    assert remote[columns].equals(runs[columns])


def test_wandb_runs_give_the_same_columns(tmp_path) -> None:
    _run_dir(tmp_path, "0", "rdbn", 30.0, ["model.net.host=rdbn", "seed=0"])
    local = load_runs(tmp_path)
    run = SimpleNamespace(
        name="run-0",
        state="finished",
        config={
            "output_dir": str(tmp_path / "0"),
            "model": {"net": {"name": "rirn", "host": "rdbn", "irm": True}},
            "overrides": ["model.net.host=rdbn", "seed=0"],
        },
        summary={
            "val_psnr_best": 29.0,
            "test/psnr_frame": 30.0,
            "test/ssim_frame": 0.9,
            "test/blurry_psnr_frame": 25.0,
            "test/blurry_ssim_frame": 0.8,
        },
    )
    crashed = SimpleNamespace(**{**vars(run), "state": "crashed"})
    queries = []

    class Api:
        def runs(self, path, filters):
            queries.append((path, filters))
            return [run, crashed]

    remote = load_group("rirn_sweep", source="wandb", entity="lab", api=Api())
    assert queries == [("lab/deblurzoo", {"group": "rirn_sweep", "jobType": "train"})]
    assert remote.equals(local)  # the crashed run is left out
    with pytest.raises(ValueError, match="source='mlflow'"):
        load_group("rirn_sweep", source="mlflow")
