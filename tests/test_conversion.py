"""deblurzoo-convert's machinery (src/deblurzoo/conversion.py) on a made-up authors' format: a
family whose converter renames ``module.``-prefixed keys of a ``{"model": ..., "epoch": ...}``
file. The families' own formats are tested with their fixtures."""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

import pytest
import torch

import deblurzoo
from deblurzoo.commands import convert as convert_command
from deblurzoo.conversion import convert
from deblurzoo.models import Converted, Converter, ModelSpec, create_model, registry
from deblurzoo.models.channel_order import bgr_input, bgr_output
from deblurzoo.models.loading import CheckpointError, load_net, read_checkpoint
from deblurzoo.models.rirn.ifirnn import IFIRNN


def _is_toy(content) -> bool:
    return isinstance(content.get("model"), dict) and "epoch" in content


def _convert_toy(content, model: str | None) -> Converted:
    state = {key.removeprefix("module."): value for key, value in content["model"].items()}
    if "head.weight" in state:
        raise ValueError("expected no 'head.weight' (a checkpoint of another config)")
    return Converted("toy_ifirnn", {"hidden": 4}, state)


TOY = Converter(
    "toy", "made up for this test: {'model': {'module.*'}, 'epoch'}", _is_toy, _convert_toy
)


@pytest.fixture()
def toy_family(monkeypatch):
    """A family with one model and the toy format, registered for one test."""
    monkeypatch.setattr(registry, "_MODELS", dict(registry._MODELS))
    monkeypatch.setattr(registry, "_SPECS", dict(registry._SPECS))
    factory = partial(IFIRNN, channels=[4, 8, 12], num_resblocks=1)
    registry.register_family(
        ModelSpec("toy", "Toy", "", {"toy_ifirnn": factory}, converters=(TOY,))
    )
    torch.manual_seed(0)
    return factory(hidden=4).eval()


def _official(path: Path, net, **extra) -> Path:
    state = {f"module.{key}": value for key, value in net.state_dict().items()}
    torch.save({"model": state, "epoch": 7, **extra}, path)
    return path


def _same_output(a, b) -> None:
    clip = torch.rand(1, 3, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(a(clip), b(clip))


def test_an_authors_file_converts_and_loads_everywhere(toy_family, tmp_path) -> None:
    source = _official(tmp_path / "authors.pth.tar", toy_family)
    out = tmp_path / "toy.safetensors"
    converted = convert(source, out)
    assert (converted.name, dict(converted.options)) == ("toy_ifirnn", {"hidden": 4})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["authors.pth.tar", "toy.safetensors"]
    stored = read_checkpoint(out)
    assert stored.config == {"name": "toy_ifirnn", "hidden": 4}
    for net in (
        deblurzoo.load_model(out),
        create_model("toy_ifirnn", pretrained=out),
        load_net(out),  # what deblurzoo-eval and deblurzoo-infer do with ckpt_path
    ):
        assert not net.training
        _same_output(net, toy_family)
    with pytest.raises(CheckpointError, match="holds weights of model 'toy_ifirnn', not 'rdbn'"):
        create_model("rdbn", pretrained=out)


def test_the_command_line(toy_family, tmp_path, capsys) -> None:
    source = _official(tmp_path / "authors.pth.tar", toy_family)
    convert_command([str(source), str(tmp_path / "toy.safetensors")])
    assert capsys.readouterr().out.strip().endswith("toy.safetensors: toy_ifirnn hidden=4")
    with pytest.raises(SystemExit) as exit_:
        convert_command([str(source), str(tmp_path / "toy.safetensors")])
    assert exit_.value.code == 1
    assert "exists; pass --overwrite" in capsys.readouterr().err
    convert_command(
        [str(source), str(tmp_path / "toy.safetensors"), "--overwrite", "--model", "toy_ifirnn"]
    )


def test_wrong_files_are_refused_naming_them_and_nothing_is_written(toy_family, tmp_path) -> None:
    out = tmp_path / "out.safetensors"
    with pytest.raises(FileNotFoundError, match="nowhere.pth: no such checkpoint file"):
        convert(tmp_path / "nowhere.pth", out)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(_official(tmp_path / "whole.pth", toy_family).read_bytes()[:500])
    with pytest.raises(CheckpointError, match="truncated.pth: truncated or not a PyTorch"):
        convert(truncated, out)
    legacy = tmp_path / "legacy.pth"
    torch.save(toy_family.state_dict(), legacy, _use_new_zipfile_serialization=False)
    truncated.write_bytes(legacy.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="truncated.pth: truncated or not a PyTorch"):
        convert(truncated, out)
    truncated.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="truncated.pth: truncated or not a PyTorch"):
        convert(truncated, out)
    other = tmp_path / "other.pth"
    torch.save({"params": {"conv.weight": torch.zeros(1)}}, other)
    with pytest.raises(
        CheckpointError,
        match=r"other.pth: no known checkpoint format has its "
        r"keys \{'params': \{'conv.weight', ...\}\}; the formats: .*toy \(made up",
    ):
        convert(other, out)
    with pytest.raises(CheckpointError, match="no known checkpoint format of model 'rdbn'"):
        convert(tmp_path / "whole.pth", out, model="rdbn")
    head = dict(toy_family.state_dict(), **{"head.weight": torch.zeros(1)})
    torch.save({"model": head, "epoch": 1}, other)
    with pytest.raises(CheckpointError, match="other.pth \\(toy format\\): expected no 'head"):
        convert(other, out)
    torch.save({"model": {"module.x": torch.zeros(1)}, "epoch": 1}, other)
    with pytest.raises(
        CheckpointError,
        match=r"other.pth does not match model 'toy_ifirnn': "
        r"missing \(\d+\): .*unexpected \(1\): x",
    ):
        convert(other, out)
    assert not out.exists() and not list(tmp_path.glob(".out.safetensors*"))


def test_pickled_objects_are_refused_unless_trusted(toy_family, tmp_path) -> None:
    source = _official(tmp_path / "args.pth", toy_family, args=argparse.Namespace(lr=1e-4))
    out = tmp_path / "out.safetensors"
    with pytest.raises(
        CheckpointError,
        match="args.pth holds Python objects beyond tensors "
        r"\(argparse.Namespace\).*--trust argparse.Namespace",
    ):
        convert(source, out)
    assert not out.exists()
    with pytest.raises(ValueError, match="--trust argparse.Nope: no such object"):
        convert(source, out, trust=["argparse.Nope"])
    with pytest.raises(ValueError, match="--trust Namespace: name an object as module.qualname"):
        convert(source, out, trust=["Namespace"])
    convert(source, out, trust=["argparse.Namespace"])
    _same_output(deblurzoo.load_model(out), toy_family)


def test_a_legacy_pickle_is_read_and_its_objects_refused_too(toy_family, tmp_path) -> None:
    """Files written before torch 1.6's zip format (``_use_new_zipfile_serialization=False``)."""
    state = {f"module.{key}": value for key, value in toy_family.state_dict().items()}
    legacy = tmp_path / "legacy.pth"
    torch.save({"model": state, "epoch": 1}, legacy, _use_new_zipfile_serialization=False)
    convert(legacy, tmp_path / "plain.safetensors")
    _same_output(deblurzoo.load_model(tmp_path / "plain.safetensors"), toy_family)
    content = {"model": state, "epoch": 1, "args": argparse.Namespace(lr=1e-4)}
    torch.save(content, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(
        CheckpointError,
        match="legacy.pth holds Python objects beyond tensors "
        r"\(argparse.Namespace\).*--trust argparse.Namespace",
    ):
        convert(legacy, tmp_path / "args.safetensors")
    convert(legacy, tmp_path / "args.safetensors", trust=["argparse.Namespace"])


def test_a_truncated_weights_file_is_named(toy_family, tmp_path) -> None:
    out = tmp_path / "toy.safetensors"
    convert(_official(tmp_path / "authors.pth", toy_family), out)
    out.write_bytes(out.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="toy.safetensors: truncated or corrupted weights"):
        deblurzoo.load_model(out)


def test_bgr_folds_into_the_first_and_last_convolutions() -> None:
    """A net of BGR frames, its convolutions folded, gives the same RGB frames on RGB input."""
    torch.manual_seed(0)
    first, last = torch.nn.Conv2d(6, 4, 3), torch.nn.Conv2d(4, 3, 3)
    rgb = torch.rand(1, 6, 9, 9, dtype=torch.float64)  # two frames, the first is read as a frame
    bgr = torch.cat([rgb[:, :3].flip(1), rgb[:, 3:]], dim=1)
    first, last = first.double(), last.double()
    authors = last(first(bgr)).flip(1)  # their BGR output, as RGB
    folded = torch.nn.functional.conv2d(
        torch.nn.functional.conv2d(rgb, bgr_input(first.weight), first.bias),
        bgr_output(last.weight),
        bgr_output(last.bias),
    )
    assert torch.allclose(folded, authors, atol=1e-12)
