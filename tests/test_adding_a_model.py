"""docs/adding_a_model.md works as written: its files make a family that registers, trains one
``fast_dev_run`` step through the train config and is listed in the zoo table."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

import deblurzoo.models
from deblurzoo import zoo
from deblurzoo.models import create_model, list_models, model_spec, registry
from deblurzoo.train import train
from tests.conftest import compose_config

DOC = Path(__file__).resolve().parents[1] / "docs" / "adding_a_model.md"
FILE_BLOCK = re.compile(r"^```\w+ file=(\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@pytest.fixture
def frame_cnn(tmp_path, monkeypatch):
    """The doc's files written under ``tmp_path`` and the family imported from there (the
    registry and ``sys.modules`` restored afterwards); returns the config folder."""
    files = dict(FILE_BLOCK.findall(DOC.read_text()))
    assert set(files) == {
        "src/deblurzoo/models/frame_cnn/frame_cnn.py",
        "src/deblurzoo/models/frame_cnn/spec.py",
        "src/deblurzoo/models/frame_cnn/__init__.py",
        "conf/model/frame_cnn.yaml",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(registry, "_MODELS", dict(registry._MODELS))
    monkeypatch.setattr(registry, "_SPECS", dict(registry._SPECS))
    models_path = [*deblurzoo.models.__path__, str(tmp_path / "src/deblurzoo/models")]
    monkeypatch.setattr(deblurzoo.models, "__path__", models_path)
    for module in [m for m in sys.modules if m.startswith("deblurzoo.models.frame_cnn")]:
        monkeypatch.delitem(sys.modules, module)
    importlib.import_module("deblurzoo.models.frame_cnn")
    yield tmp_path / "conf"
    for module in [m for m in sys.modules if m.startswith("deblurzoo.models.frame_cnn")]:
        del sys.modules[module]


def test_the_worked_example_registers_trains_and_is_listed(frame_cnn, tmp_path, data_dir):
    assert list_models("frame_cnn*") == ["frame_cnn", "frame_cnn_small"]
    spec = model_spec("frame_cnn_small")
    assert spec.family == "frame_cnn" and spec.options("frame_cnn_small")["channels"] == 8
    net = create_model("frame_cnn")
    assert sum(p.numel() for p in net.parameters()) == spec.published["frame_cnn"].params

    cfg = compose_config(
        "train", tmp_path / "run", data_dir,
        [f"hydra.searchpath=[file://{frame_cnn}]", "model=frame_cnn", "model.net.channels=4",
         "debug=fdr", "logger=none", "callbacks.progress_bar=null"],
    )  # fmt: skip
    summary = train(cfg)  # one training step, one validation batch, then the test split
    assert summary["net"] == {"name": "frame_cnn", "channels": 4, "num_blocks": 4}
    assert summary["num_frames"] > 0

    row = zoo.measure("frame_cnn", 64, 64)
    line = next(line for line in zoo.table([row], 64, 64).splitlines() if "`frame_cnn`" in line)
    assert "per-frame CNN" in line and "75,747" in line and "| 1.000 |" in line
