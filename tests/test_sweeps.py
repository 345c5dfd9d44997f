"""Optuna through Hydra (``hparams_search=optuna``): trials maximise the best validation PSNR."""

from __future__ import annotations

import json

import yaml

from tests.test_train import cli


def test_two_trial_optuna_search_maximises_validation_psnr(tmp_path, data_dir) -> None:
    cli("train", "hparams_search=optuna", "hydra.sweeper.n_trials=2", "task_name=lr_search",
        "trainer.max_epochs=1", "logger=none", log_dir=tmp_path, data_dir=data_dir)  # fmt: skip
    (sweep,) = (tmp_path / "lr_search" / "multiruns").iterdir()
    trials = {}
    for job in ("0", "1"):
        overrides = yaml.safe_load((sweep / job / ".hydra" / "overrides.yaml").read_text())
        lr = next(o for o in overrides if o.startswith("model.optimizer.lr="))
        trials[lr] = json.loads((sweep / job / "metrics.json").read_text())["val_psnr_best"]
    assert len(trials) == 2  # two different learning rates were tried
    results = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert results["best_value"] == max(trials.values())
    best_lr = f"model.optimizer.lr={results['best_params']['model.optimizer.lr']}"
    assert trials[best_lr] == results["best_value"]
