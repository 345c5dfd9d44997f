"""The debug presets (``conf/debug/``) write what their comments say: ``fdr`` no checkpoint and no
logger, ``limit`` checkpoints and a CSV log, ``overfit`` a CSV log only; none starts a wandb
run."""

from __future__ import annotations

from pathlib import Path

import pytest

from deblurzoo.train import train
from tests.conftest import TINY_MODEL, compose_config

#: the files each preset writes to its run directory (Hydra's .hydra/ and train.log aside)
WRITES = {
    "fdr": {"metrics.json", "metrics_per_sequence.csv"},
    "limit": {
        "checkpoints/epoch_000.ckpt", "checkpoints/last.ckpt", "csv/version_0/hparams.yaml",
        "csv/version_0/metrics.csv", "metrics.json", "metrics_per_sequence.csv",
    },
    "overfit": {
        "csv/version_0/hparams.yaml", "csv/version_0/metrics.csv", "metrics.json",
        "metrics_per_sequence.csv",
    },
}  # fmt: skip
#: shorter runs of the same kind (what is written does not depend on the number of batches)
SHORTER = {
    "fdr": [],
    "limit": ["trainer.max_epochs=1", "trainer.limit_train_batches=1"],
    "overfit": ["trainer.max_epochs=1", "trainer.overfit_batches=1"],
}


@pytest.mark.parametrize("preset", WRITES)
def test_debug_presets_write_what_they_say(preset: str, tmp_path: Path, data_dir: Path) -> None:
    out = tmp_path / "run"
    overrides = [f"debug={preset}", *SHORTER[preset], *TINY_MODEL, "callbacks.progress_bar=null"]
    train(compose_config("train", out, data_dir, overrides))
    written = {str(path.relative_to(out)) for path in out.rglob("*") if path.is_file()}
    assert written == WRITES[preset]
    assert not (out / "wandb").exists()
