"""The authors' blur-kernel-space checkpoints (``KernelWizard`` state dicts of
VinAIResearch/blur-kernel-space-exploring) through ``deblurzoo-convert``: the converted net
reproduces the authors' eval-mode outputs recorded by ``tools/kernel_space_fixture.py``
(``tests/fixtures/kernel_space/``), without, and with, the VAE head."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from deblurzoo.conversion import convert, read_official
from deblurzoo.kernel_space import load_kernel_space
from deblurzoo.kernel_space.checkpoint import read_warmup_kernel
from deblurzoo.models import create_model
from deblurzoo.models.kernel_space.convert import CONVERTER, matches
from deblurzoo.models.loading import CheckpointError, read_checkpoint
from tests.fixtures.authors_weights import authors_state_dict, read_keys

FIXTURES = Path(__file__).parent / "fixtures" / "kernel_space"
TOLERANCE = 1e-5


def _frames() -> tuple[torch.Tensor, torch.Tensor]:
    """The fixture's 256×256 pair: its uint8 64×64 images repeated 4× along each axis, / 255."""
    images = load_file(FIXTURES / "input.safetensors")
    sharp, blurry = (
        images[k].float().div(255).repeat_interleave(4, -2).repeat_interleave(4, -1)
        for k in ("sharp", "blurry")
    )
    return sharp, blurry


def _authors_file(config: str, path: Path) -> Path:
    """The authors' checkpoint as they save it: a bare state dict of CPU tensors."""
    torch.save(authors_state_dict(read_keys(FIXTURES / config / "keys.json")), path)
    return path


def _compare(net, config: str) -> dict[str, float]:
    """Max abs differences of ``net``'s eval-mode outputs from the authors' (and assert them)."""
    expected = load_file(FIXTURES / config / "expected.safetensors")
    sharp, blurry = _frames()
    net.eval()
    with torch.no_grad():
        out = net(sharp, blurry)
    stride = 4
    blurred = out.blurry.double()
    diffs = {
        "blurred": (out.blurry[..., ::stride, ::stride] - expected["blurred"]).abs().max(),
        "kernel": (out.kernel - expected["kernel"]).abs().max(),
        "sums": (
            (
                torch.stack([blurred.sum((0, 2, 3)), blurred.square().sum((0, 2, 3))])
                - expected["sums"]
            )
            / blurred[0, 0].numel()
        )
        .abs()
        .max(),
    }
    if "sigma" in expected:  # the released head's σ, read as log(σ² + 1e-8)
        diffs["sigma²"] = (out.code.logvar.exp() - expected["sigma"].square() - 1e-8).abs().max()
    else:
        assert out.code.logvar is None
    diffs = {key: float(value) for key, value in diffs.items()}
    assert all(value <= TOLERANCE for value in diffs.values()), diffs
    return diffs


def test_wovae_converts_loads_and_matches_the_authors_output(tmp_path) -> None:
    source = _authors_file("woVAE", tmp_path / "GOPRO_woVAE.pth")
    out = tmp_path / "gopro_wovae.safetensors"
    converted = convert(source, out)
    assert (converted.name, dict(converted.options)) == (
        "kernel_space",
        {"variant": "released", "vae": False},
    )
    assert read_checkpoint(out).config == {
        "name": "kernel_space",
        "variant": "released",
        "vae": False,
    }
    print("woVAE max abs differences:", _compare(load_kernel_space(out), "woVAE"))


def test_wvae_converts_and_matches_the_authors_mean_path() -> None:
    keys = read_keys(FIXTURES / "wVAE" / "keys.json")
    # their loader strips a DataParallel prefix; a file saved with it converts too
    content = {f"module.{key}": value for key, value in authors_state_dict(keys).items()}
    assert matches(content)
    converted = CONVERTER.convert(content, None)
    assert dict(converted.options) == {"variant": "released", "vae": True}
    with torch.device("meta"):  # 115 M parameters: skip their random init
        net = create_model(converted.name, **converted.options)
    net.load_state_dict(converted.state_dict, strict=True, assign=True)
    print("wVAE max abs differences:", _compare(net, "wVAE"))


def test_another_models_checkpoint_is_refused_naming_keys(tmp_path) -> None:
    other = create_model("ifirnn_c1h1").state_dict()
    source = tmp_path / "other.pth"
    torch.save(other, source)
    assert not matches(read_official(source))
    with pytest.raises(CheckpointError, match="no known checkpoint format of model 'kernel_space'"):
        convert(source, tmp_path / "out.safetensors", model="kernel_space")
    # a KernelWizard file with layers of another net, or asked to be another model
    state = {
        name: torch.zeros(entry["shape"])
        for name, entry in read_keys(FIXTURES / "woVAE" / "keys.json").items()
    }
    with pytest.raises(ValueError, match=r"no counterpart.*'head\.weight'"):
        CONVERTER.convert({**state, "head.weight": torch.zeros(1)}, None)
    with pytest.raises(ValueError, match="kernel_space.*not 'ifirnn_c1h1'"):
        CONVERTER.convert(state, "ifirnn_c1h1")


def test_the_authors_warmup_kernel_reads_as_a_kernel(tmp_path) -> None:
    # experiments/pretrained/kernel.pth: a bare [1, 512, 2, 2] tensor (saved on the GPU)
    kernel = torch.randn(1, 512, 2, 2)
    torch.save(kernel, tmp_path / "kernel.pth")
    read = read_warmup_kernel(tmp_path / "kernel.pth")
    assert torch.equal(read, kernel[0])
    # a 720×1280 frame's 6×10 grid: each of the 2×2 cells spread over its quarter
    spread = read_warmup_kernel(tmp_path / "kernel.pth", grid=(6, 10))
    assert spread.shape == (512, 6, 10)
    assert torch.equal(spread[:, :3, :5], kernel[0, :, :1, :1].expand(512, 3, 5))
    torch.save({"k": kernel}, tmp_path / "dict.pth")
    with pytest.raises(CheckpointError, match="not a kernel tensor"):
        read_warmup_kernel(tmp_path / "dict.pth")


def test_fixture_is_small() -> None:
    size = sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file())
    assert size < 400_000
    assert json.loads((FIXTURES / "woVAE" / "keys.json").read_text())["generator"]
