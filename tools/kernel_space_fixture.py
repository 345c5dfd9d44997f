"""Write the blur-kernel-space conversion fixture (``tests/fixtures/kernel_space/``) from the
authors' own code.

::

    git --git-dir=<mirror of VinAIResearch/blur-kernel-space-exploring> archive HEAD \\
        | tar -x -C /tmp/bkse
    .venv/bin/python tools/kernel_space_fixture.py /tmp/bkse [--checkpoints /tmp/bkse_ckpt]

For the released configurations ``options/kernel_encoding/GOPRO/woVAE.yml`` and ``wVAE.yml`` it
builds the authors' ``KernelWizard`` from their checkout (imported at run time from the path
given, never part of deblurzoo; it needs nothing beyond torch and PyYAML), fills every tensor with
:func:`tests.fixtures.authors_weights.authors_weight` of its name and shape, and runs their
eval-mode forward on a fixed 256×256 pair (the smallest size their net runs at: their reflection
padding needs a kernel grid of at least 2×2): the kernel k = F(x, y) (``forward``; with the VAE
head the mean and σ, a deterministic output) and the sharp image blurred with it,
``adaptKernel(x, k)``. It writes, all of them small:

* ``input.safetensors``: the pair as uint8 64×64 images (``sharp``, ``blurry``); the frames are
  them repeated 4× along each axis, divided by 255;
* ``<config>/keys.json``: the authors' state-dict keys with shapes, dtypes and gains, which rebuild
  their checkpoint (``authors_state_dict``);
* ``<config>/expected.safetensors``: ``blurred`` (their output at every 4th row and column,
  float32), ``sums`` (per-channel sums of the whole output and of its square, float64),
  ``kernel`` (the kernel, their mean with the VAE head) and, with it, ``sigma``.

``--checkpoints DIR`` also saves the filled networks as the authors save them (a bare state dict
of CPU tensors, ``torch.save``), e.g. to try ``deblurzoo-convert`` on them.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import contextmanager
from pathlib import Path

import torch
import yaml
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.authors_weights import authors_state_dict, describe  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "kernel_space"
CONFIGS = {
    "woVAE": "options/kernel_encoding/GOPRO/woVAE.yml",
    "wVAE": "options/kernel_encoding/GOPRO/wVAE.yml",
}
#: Stored images are SIZE × SIZE, the frames UPSCALE times larger; outputs kept at every STRIDE.
SIZE, UPSCALE, STRIDE = 64, 4, 4


def gain(name: str) -> float:
    """Residual branches damped by 0.1 (as the authors' ``ResidualBlock_noBN`` init does), so the
    30 residual blocks of PrB and PoB keep activations of order one."""
    return 0.1 if name.endswith("conv2.weight") or ".conv_block.5." in name else 1.0


def make_input() -> dict[str, torch.Tensor]:
    """A fixed sharp/blurry pair, uint8 ``[1, 3, SIZE, SIZE]``: smooth colour gradients with
    noise, and their average over a 3-pixel diagonal motion."""
    gen = torch.Generator().manual_seed(2021)
    y, x = torch.meshgrid(torch.linspace(0, 1, SIZE), torch.linspace(0, 1, SIZE), indexing="ij")
    base = torch.stack([x, y, (x + y) / 2]) * 0.6 + 0.2
    sharp = (base + 0.15 * torch.randn(3, SIZE, SIZE, generator=gen)).clamp(0, 1)
    shifted = [torch.roll(sharp, (s, s), dims=(1, 2)) for s in range(3)]
    blurry = torch.stack(shifted).mean(0)
    return {
        k: (v[None] * 255).round().to(torch.uint8)
        for k, v in (("sharp", sharp), ("blurry", blurry))
    }


def frames(images: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """The 256×256 float frames of the stored uint8 pair (the tests do the same)."""
    up = [
        images[k].float().div(255).repeat_interleave(UPSCALE, -2).repeat_interleave(UPSCALE, -1)
        for k in ("sharp", "blurry")
    ]
    return up[0], up[1]


@contextmanager
def cpu_only():
    """Their woVAE ``KernelExtractor.forward`` returns ``torch.zeros_like(output).cuda()``: make
    ``Tensor.cuda`` a no-op while their code runs, so it runs on a CPU machine."""
    original = torch.Tensor.cuda
    torch.Tensor.cuda = lambda self, *args, **kwargs: self
    try:
        yield
    finally:
        torch.Tensor.cuda = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkout", type=Path, help="a checkout of the authors' repository")
    parser.add_argument("--out", type=Path, default=OUT, help="fixture folder")
    parser.add_argument("--checkpoints", type=Path, help="also save the filled networks here")
    args = parser.parse_args()
    sys.path.insert(0, str(args.checkout.resolve()))
    from models.kernel_encoding.kernel_wizard import KernelWizard  # the authors' code

    args.out.mkdir(parents=True, exist_ok=True)
    images = make_input()
    save_file(images, args.out / "input.safetensors")
    sharp, blurry = frames(images)
    for config, yml in CONFIGS.items():
        opt = yaml.safe_load((args.checkout / yml).read_text())["KernelWizard"]
        net = KernelWizard(opt).eval()
        keys = describe(net.state_dict(), gain)
        state = authors_state_dict(keys)
        net.load_state_dict(state, strict=True)
        if args.checkpoints:
            args.checkpoints.mkdir(parents=True, exist_ok=True)
            torch.save(state, args.checkpoints / f"GOPRO_{config}.pth")
        with torch.no_grad(), cpu_only():
            kernel, sigma = net(sharp, blurry)
            blurred = net.adaptKernel(sharp, kernel)
        expected = {
            "blurred": blurred[..., ::STRIDE, ::STRIDE].contiguous(),
            "sums": torch.stack(
                [blurred.double().sum((0, 2, 3)), blurred.double().square().sum((0, 2, 3))]
            ),
            "kernel": kernel.contiguous(),
        }
        if opt["use_vae"]:
            expected["sigma"] = sigma.contiguous()
        folder = args.out / config
        folder.mkdir(exist_ok=True)
        save_file(expected, folder / "expected.safetensors", {"stride": str(STRIDE)})
        meta = {
            "source": f"VinAIResearch/blur-kernel-space-exploring {yml}: KernelWizard",
            "generator": "tools/kernel_space_fixture.py",
            "state_dict": keys,
        }
        (folder / "keys.json").write_text(json.dumps(meta, indent=1) + "\n")
        residual = (blurred - sharp).abs()
        print(
            f"{config}: {len(keys)} tensors; |B(x, k) - x| mean {residual.mean():.4f} "
            f"max {residual.max():.4f}; |k| mean {kernel.abs().mean():.4f}"
        )


if __name__ == "__main__":
    main()
