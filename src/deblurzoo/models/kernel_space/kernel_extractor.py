"""The kernel extractor — Tran et al. (CVPR 2021), supplementary Sec. 2.2, Table 3.

The supplementary calls it 𝒢 ("We use 𝒢 to extract the blur kernel k from a given sharp-blur
pair of images x, y"); the released code's comments call the same network F
(``docs/reference_code.md``, blur-kernel space), so the zoo names it by role: (sharp, blurry) →
kernel.
Its input is the concatenation of the pre-processed sharp and blurry frames (2 × 64 channels at
H/4), then Conv(128, 64, 7), five stride-2 Conv 3×3 (64 → 128 → 256 → 512 → 512 → 512), each
followed by LeakyReLU(0.1), and four ResBlock(512): the kernel k is 512 × H/128 × W/128, a
spatially varying code on a grid of 128-pixel cells. (Table 3 prints the 7×7 convolution with
padding 1; its output size H/4 needs padding 3.)

Variants (``variant``):
    ``"paper"``: Table 3 as printed, convolutions with bias, zero padding.
    ``"released"``: the released code's ``KernelExtractor`` (``norm: none``): reflection padding
        before the 7×7 convolution and inside the ResBlocks, ReLU instead of LeakyReLU, and no
        convolution bias (the code drops biases whenever the norm is not instance norm).

The VAE head (``vae=True``, released-code option; the supplementary does not describe it) turns
the code into a distribution: ``"paper"`` adds a 1×1 convolution to 2 × ``kernel_dim`` channels
read as (mean, log-variance); ``"released"`` widens the last layers to 2 × ``kernel_dim`` channels
as the code does (115.3 M parameters in all) and reads them as (mean, σ), σ² floored at 1e-8.

The same network fed a noise tensor is the kernel's deep image prior (Sec. 2.4: "We adopt the
architecture of 𝒢 for the network of DIP of the blur kernel"), see
:class:`~deblurzoo.models.kernel_space.KernelDIP`.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurzoo.errors import ConfigError

VARIANTS = ("paper", "released")
#: Stride-2 convolutions: the extractor's grid is 1/32 of its input's, 1/128 of the image's.
NUM_DOWNSAMPLINGS = 5


def check_variant(variant: str) -> str:
    """Refuse an unknown ``variant`` naming the valid ones."""
    if variant not in VARIANTS:
        raise ConfigError(f"variant must be one of {VARIANTS}, got {variant!r}")
    return variant


class KernelCode(NamedTuple):
    """The extractor's output: the kernel (the mean, with a VAE head) and its log-variance
    (``None`` without the VAE head)."""

    mean: Tensor
    logvar: Tensor | None


class ResnetBlock(nn.Module):
    """conv 3×3 – activation – conv 3×3 plus identity, with the padding and bias of a variant.

    ``padding_mode`` is ``"zeros"`` or ``"reflect"``; reflection falls back to replication on a
    one-cell grid (images of at most 128 pixels along an axis), where reflecting is undefined
    (the released code cannot run there)."""

    def __init__(self, channels: int, bias: bool, padding_mode: str, act: nn.Module) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, bias=bias)
        self.act = act
        self.conv2 = nn.Conv2d(channels, channels, 3, bias=bias)
        self.padding_mode = padding_mode

    def _pad(self, x: Tensor) -> Tensor:
        if self.padding_mode == "zeros":
            return F.pad(x, (1, 1, 1, 1))
        return F.pad(x, (1, 1, 1, 1), mode="reflect" if min(x.shape[-2:]) > 1 else "replicate")

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(self._pad(self.act(self.conv1(self._pad(x)))))


class KernelExtractor(nn.Module):
    """Features ``[N, in_channels, H/4, W/4]`` → :class:`KernelCode` of ``[N, kernel_dim, H/128,
    W/128]`` (Table 3 after its pre-processing block).

    Args:
        in_channels: input width: 2 × ``channels`` for cat(PrB(x), PrB(y)); the kernel prior
            feeds ``channels`` noise maps.
        channels: width of the 7×7 convolution (64); the stride-2 ladder doubles it up to
            ``kernel_dim``.
        kernel_dim: channels of the kernel (512).
        num_blocks: ResBlocks at the end (4 in Table 3; the code's kernel prior uses 6).
        vae: output a distribution (mean, log-variance) instead of a point.
        variant: ``"paper"`` or ``"released"`` (module docstring).
    """

    def __init__(
        self,
        in_channels: int = 128,
        channels: int = 64,
        kernel_dim: int = 512,
        num_blocks: int = 4,
        vae: bool = False,
        variant: str = "paper",
    ) -> None:
        super().__init__()
        released = check_variant(variant) == "released"
        self.vae, self.released_vae = vae, vae and released
        width = 2 * kernel_dim if self.released_vae else kernel_dim
        bias = not released
        padding_mode = "reflect" if released else "zeros"

        def act() -> nn.Module:
            return nn.ReLU(inplace=True) if released else nn.LeakyReLU(0.1, inplace=True)

        widths = [channels] + [
            min(channels * 2 ** (i + 1), width) for i in range(NUM_DOWNSAMPLINGS)
        ]
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, channels, 7, padding=3, bias=bias, padding_mode=padding_mode),
            act(),
        ]
        for cin, cout in zip(widths, widths[1:], strict=False):
            layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=bias), act()]
        layers += [ResnetBlock(widths[-1], bias, padding_mode, act()) for _ in range(num_blocks)]
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(width, 2 * width, 1) if vae and not released else None
        self.kernel_dim = kernel_dim

    def forward(self, features: Tensor) -> KernelCode:
        out = self.body(features)
        if not self.vae:
            return KernelCode(out, None)
        if self.head is not None:
            mean, logvar = self.head(out).chunk(2, dim=1)
            return KernelCode(mean, logvar)
        mean, sigma = out.chunk(2, dim=1)  # the released code's σ, a raw network output
        return KernelCode(mean, torch.log(sigma.square() + 1e-8))
