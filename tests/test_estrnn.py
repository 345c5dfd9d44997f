"""ESTRNN (src/deblurzoo/models/estrnn/) against the authors' code, through its converter.

The fixtures (tests/fixtures/estrnn/, made by tools/estrnn_fixture.py from zzh-tech/ESTRNN)
hold the key list of the authors' checkpoint and their eval-mode output on a 7-frame clip of
0–255 BGR frames; the test rebuilds the checkpoint in their format from the key list, converts
it with ``deblurzoo-convert``'s machinery, loads it and runs our net on the RGB [0, 1] clip.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import deblurzoo
from deblurzoo.commands import convert as convert_command
from deblurzoo.conversion import convert
from deblurzoo.models import create_model, list_models, model_spec
from deblurzoo.models.estrnn import ESTRNN
from deblurzoo.models.estrnn.convert import CONVERTER, configuration
from deblurzoo.models.loading import CheckpointError
from tests.fixtures.authors_weights import authors_state_dict, read_keys

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "estrnn"
#: fixture → (registered model the converter picks, its options)
CASES = {"b9c80": ("estrnn_b9c80", {}), "b15c80": ("estrnn", {})}


def _authors_checkpoint(config: str, path: Path) -> Path:
    """The checkpoint in the authors' format (train/dp.py) that the fixture's model held."""
    state = authors_state_dict(read_keys(FIXTURES / f"{config}_keys.json"))
    torch.save(
        {
            "epoch": 1,
            "model": "ESTRNN",
            "state_dict": state,
            "register_dict": {"PSNR_valid": {1: 20.0, "max": 20.0, "min": 20.0}},
            "optimizer": {"state": {}, "param_groups": [{"lr": 5e-4, "params": [0, 1]}]},
            "scheduler": {"T_max": 500, "eta_min": 1e-8, "last_epoch": 0},
        },
        path,
    )
    return path


@pytest.mark.parametrize("config", list(CASES))
def test_converted_official_checkpoint_matches_the_authors_output(config, tmp_path) -> None:
    source = _authors_checkpoint(config, tmp_path / f"ESTRNN_{config}.tar")
    out = tmp_path / f"{config}.safetensors"
    converted = convert(source, out)
    assert (converted.name, dict(converted.options)) == CASES[config]
    net = deblurzoo.load_model(out)
    assert isinstance(net, ESTRNN) and not net.training
    io = load_file(str(FIXTURES / f"{config}_io.safetensors"))
    rgb = io["input"].flip(2).float() / 255  # their 0–255 BGR frames as our RGB [0, 1]
    with torch.no_grad():
        ours = net(rgb)
    expected = io["output"]  # theirs: BGR, restored/255 − 0.5
    assert ours.shape == (1, 3, 3, 32, 32) == expected.shape
    diff = (ours.flip(2) - 0.5 - expected).abs().max().item()
    assert diff <= 1e-5, diff


def test_the_cli_converts_and_names_the_model(tmp_path, capsys) -> None:
    source = _authors_checkpoint("b15c80", tmp_path / "ESTRNN_C80B15_BSD_2ms16ms.tar")
    convert_command([str(source), str(tmp_path / "estrnn.safetensors")])
    assert capsys.readouterr().out.strip().endswith("estrnn.safetensors: estrnn")
    # a model named explicitly whose defaults differ gets the checkpoint's options
    convert_command([str(source), str(tmp_path / "b9.safetensors"), "--model", "estrnn_b9c80"])
    assert "estrnn_b9c80 n_blocks=15" in capsys.readouterr().out
    net = deblurzoo.load_model(tmp_path / "b9.safetensors")
    assert len(net.f_r.blocks) == 15


def test_converter_reads_the_configuration_and_refuses_other_nets(tmp_path) -> None:
    keys = read_keys(FIXTURES / "b9c80_keys.json")
    state = {k.removeprefix("module.model."): v for k, v in authors_state_dict(keys).items()}
    assert configuration(state) == {
        "n_features": 16, "n_blocks": 9, "past_frames": 2, "future_frames": 2
    }  # fmt: skip
    assert CONVERTER.matches({"state_dict": state}) and CONVERTER.matches(state)
    raw = {k.replace("cell.F_B0.", "cell.F_B0.0."): v for k, v in state.items()}  # ESTRNN-RAW
    assert not CONVERTER.matches({"state_dict": raw})
    with pytest.raises(ValueError, match="not 'rdbn'"):
        CONVERTER.convert({"state_dict": state}, "rdbn")
    torch.save({"state_dict": {**state, "cell.extra.weight": torch.zeros(1)}}, tmp_path / "x.tar")
    with pytest.raises(CheckpointError, match="no counterpart in ESTRNN"):
        convert(tmp_path / "x.tar", tmp_path / "x.safetensors")


def test_registry_and_configurations() -> None:
    assert {"estrnn", "estrnn_b9c80", "estrnn_b9c90"} <= set(list_models())
    spec = model_spec("estrnn")
    assert spec.family == "estrnn" and "ECCV 2020" in spec.paper
    assert spec.options("estrnn")["n_blocks"] == 15 and spec.options("estrnn")["n_features"] == 16
    assert spec.options("estrnn_b9c90") == {
        "n_features": 18, "n_blocks": 9, "activation": "gelu", "past_frames": 2,
        "future_frames": 2,
    }  # fmt: skip
    # the authors' model/ESTRNN.py measures 2,467,931 parameters for B15C80 (the fixture tool)
    assert spec.published["estrnn"].params == sum(
        p.numel() for p in create_model("estrnn").parameters()
    )
    # GSA's fusion is 5·C wide; the first ConvT takes it
    net = create_model("estrnn_b9c90")
    assert net.fusion.fuse.weight.shape[:2] == (450, 450)
    assert net.reconstruct[0].weight.shape[:2] == (450, 36)


def test_input_limits_and_border_frames() -> None:
    torch.manual_seed(0)
    net = ESTRNN(n_features=2, n_blocks=1).eval()
    assert net.recurrent and net.spatial_multiple == 4
    assert net.border_frames == (2, 2) and net.min_frames == 5
    with torch.no_grad():
        assert net(torch.rand(1, 5, 3, 4, 8)).shape == (1, 1, 3, 4, 8)
        assert net(torch.rand(2, 8, 3, 8, 8)).shape == (2, 4, 3, 8, 8)
    with pytest.raises(ValueError, match="at least 5 frames"):
        net(torch.rand(1, 4, 3, 8, 8))
    with pytest.raises(ValueError, match="divisible by 4"):
        net(torch.rand(1, 5, 3, 6, 8))
    one_sided = ESTRNN(n_features=2, n_blocks=1, past_frames=1, future_frames=0)
    assert one_sided.border_frames == (1, 0) and one_sided.min_frames == 2
    assert one_sided(torch.rand(1, 3, 3, 4, 4)).shape == (1, 2, 3, 4, 4)


def test_output_is_causal_in_the_past_and_uses_two_future_frames() -> None:
    """Frame t's output depends on frames ≤ t + 2 (GSA's future window), not on later ones."""
    torch.manual_seed(0)
    net = ESTRNN(n_features=2, n_blocks=1).eval()
    clip = torch.rand(1, 8, 3, 8, 8)
    changed = clip.clone()
    changed[:, 6] += 0.5
    with torch.no_grad():
        a, b = net(clip), net(changed)
    # outputs are frames 2..5; frame 6 enters the windows of outputs 4 and 5 only
    assert torch.equal(a[:, :2], b[:, :2])
    assert not torch.allclose(a[:, 2:], b[:, 2:])
