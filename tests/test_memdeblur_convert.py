"""MemDeblur's official checkpoints through deblurzoo-convert (src/deblurzoo/models/memdeblur/
convert.py), against the authors' own network.

``tests/fixtures/memdeblur`` holds what ``tools/memdeblur_fixture.py`` measured on a checkout of
jibo27/MemDeblur: the key list of their state dict, a short BGR clip and their evaluation-mode
output on it, their network filled with the deterministic weights of
``tests/fixtures/authors_weights.py``. Here the same weights are put back into their checkpoint
format, converted, and our net (RGB) must give their output (BGR, centred) to 1e-5. Their two
released configurations (``memdeblur_gopro_ds``, ``memdeblur_gopro_ori``) build the same network,
so one fixture covers both files.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import torch

import deblurzoo
from deblurzoo.conversion import convert
from deblurzoo.models.loading import CheckpointError
from deblurzoo.models.memdeblur.convert import RELEASED_OPTIONS, matches
from tests.fixtures.authors_weights import authors_state_dict

FIXTURE = Path(__file__).parent / "fixtures" / "memdeblur"
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def layout() -> dict:
    return json.loads((FIXTURE / "keys.json").read_text())


@pytest.fixture(scope="module")
def authors_state(layout) -> dict:
    """Their state dict with the fixture's weights (the tool loaded the same into their net)."""
    return authors_state_dict(layout["state_dict"])


def _authors_file(path: Path, state: dict) -> Path:
    """A checkpoint as their training loop saves it (train/dp.py): the state dict with the
    epoch, the model's name, the metrics register, Adam's and MultiStepLR's states (whose
    milestones are a ``Counter``)."""
    torch.save(
        {
            "epoch": 600,
            "model": "memdeblur",
            "state_dict": state,
            "register_dict": {"PSNR_valid": {600: 31.0, "max": 31.0, "min": 30.0}},
            "optimizer": {"state": {}, "param_groups": [{"lr": 3.125e-5, "params": [0, 1]}]},
            "scheduler": {"milestones": Counter([200, 350, 450, 500]), "last_epoch": 600},
        },
        path,
    )
    return path


def test_a_converted_checkpoint_restores_as_the_authors_network(
    layout, authors_state, tmp_path
) -> None:
    # the tool checked that both released configurations build this one network
    assert layout["configs"] == ["memdeblur_gopro_ds.yml", "memdeblur_gopro_ori.yml"]
    assert sorted(layout["top_level"]) == [
        "epoch",
        "model",
        "optimizer",
        "register_dict",
        "scheduler",
        "state_dict",
    ]
    source = _authors_file(tmp_path / "memdeblur_gopro_ds.pth.tar", authors_state)
    out = tmp_path / "memdeblur_gopro_ds.safetensors"
    converted = convert(source, out)
    assert converted.name == "memdeblur"
    assert dict(converted.options) == RELEASED_OPTIONS

    net = deblurzoo.load_model(out)
    assert not net.training
    frames = torch.load(FIXTURE / "input.pt")  # [T, 3, H, W] uint8, BGR
    expected = torch.load(FIXTURE / "output.pt")  # their output: BGR, centred
    with torch.no_grad():
        restored = net(frames.flip(1)[None].float() / 255)[0]
    difference = (restored - (expected.flip(1) + 0.5)).abs().max().item()
    assert difference <= TOLERANCE, f"max abs difference {difference:.3g}"


def test_a_checkpoint_of_another_configuration_is_refused_naming_the_keys(
    authors_state, tmp_path
) -> None:
    state = dict(authors_state)
    # a 29-block F_f, and a key the released network does not have
    del state["model.forward_resblocks.main.0.29.conv2.weight"]
    state["model.memory.key_norm.weight"] = torch.ones(64)
    out = tmp_path / "other.safetensors"
    with pytest.raises(
        CheckpointError,
        match=r"other.pth.tar \(memdeblur format\): not the released MemDeblur configuration"
        r".*expected 489 keys.*found 489; "
        r"missing \(1\): model.forward_resblocks.main.0.29.conv2.weight; "
        r"unexpected \(1\): model.memory.key_norm.weight",
    ):
        convert(_authors_file(tmp_path / "other.pth.tar", state), out)
    assert not out.exists()
    with pytest.raises(CheckpointError, match="full model 'memdeblur', not 'memdeblur_slim'"):
        convert(_authors_file(tmp_path / "ds.pth.tar", authors_state), out, model="memdeblur_slim")
    assert not out.exists()


def test_the_format_is_told_by_the_memory_branch_keys(authors_state) -> None:
    assert matches({"epoch": 600, "state_dict": authors_state})
    assert matches({"state_dict": {f"module.{k}": v for k, v in authors_state.items()}})
    assert matches(authors_state)  # a bare state dict
    without_memory = {k: v for k, v in authors_state.items() if ".memory." not in k}
    assert not matches({"epoch": 600, "state_dict": without_memory})
    assert not matches({"epoch": 600, "state_dict": [1, 2]})
