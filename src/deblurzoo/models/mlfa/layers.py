"""Convolution layers of both stages — Brehm, Scherer & Lienhart, CVPRW 2020, Sec. 3.3 ("Other
Details").

The paper uses no feature normalisation but "a learned scaling factor for each individual feature
map", Leaky ReLU after every convolution but the output layer, and reflection padding "wherever
possible". Where it is silent the released TensorFlow code (``docs/reference_code.md``, MLFA)
decides: the convolution has no bias of its own and is followed by ``+ bias`` (init 0) and
then ``× scale`` (init 1), per output channel, i.e. ``(W ∗ x + b) · s``; the Leaky ReLU slope is
TensorFlow's default 0.2 (the paper cites Maas et al. but gives no value); a stride-2
convolution pads ``ceil(n / 2) · 2 + k − 1 − n`` pixels in total, the smaller half first.

Options that only the released code has (same document), all off by default:

* ``fused``: the learned 3×3 kernel of a stride-2 (transposed) convolution is applied as a 4×4
  kernel, the sum of its four one-pixel shifts (a 3×3 ⊛ 2×2-box convolution, StyleGAN's fused
  resampling against checkerboard artefacts), times ``fused_gain`` (0.25 in stage 2's strided
  convolutions, 1 elsewhere). The learned parameters stay 3×3.
* ``unit_norm``: "UnitNorm", every kernel divided by ``sqrt(Σ (w² + 1e-8))`` over all but its
  first dimension — per output filter for a convolution and, the code's quirk kept here, per
  *input* channel for a transposed one (whose first dimension is the input) — applied after
  rotation and fusion, the learned scale restoring the magnitude.
* ``rotations=4``: one kernel applied in its four clockwise quarter turns (0°, 90°, 180°, 270°,
  the code's channel order), the outputs concatenated: rotation-tied filters.

Initialisation follows the code too: He-normal (``std = √2 / √fan_in``, PyTorch's fan-in, which
for a transposed kernel is ``out · k²`` exactly like the code's) for custom-weight layers, Glorot
uniform for stage 1's Keras-wrapped convolutions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: Leaky ReLU slope: TensorFlow's default, used by the released code (the paper states none).
NEGATIVE_SLOPE = 0.2
INITS = ("he_normal", "glorot_uniform")


def fuse_kernel(weight: Tensor, gain: float = 1.0) -> Tensor:
    """The code's fused resampling kernel: ``weight`` (``k × k`` in its last two dimensions)
    zero-padded by one pixel and summed over its four one-pixel shifts → ``(k+1) × (k+1)``."""
    padded = F.pad(weight, (1, 1, 1, 1))
    shifts = (
        padded[..., 1:, 1:] + padded[..., :-1, 1:] + padded[..., 1:, :-1] + padded[..., :-1, :-1]
    )
    return gain * shifts


def unit_norm(weight: Tensor) -> Tensor:
    """The code's UnitNorm: divide by ``sqrt(Σ (w² + 1e-8))`` over every dimension but the first."""
    return weight / (weight.square() + 1e-8).sum(dim=(1, 2, 3), keepdim=True).sqrt()


def _init_weight(weight: Tensor, init: str) -> None:
    if init == "he_normal":
        nn.init.kaiming_normal_(weight, nonlinearity="relu")
    elif init == "glorot_uniform":
        nn.init.xavier_uniform_(weight)
    else:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")


def _bias_scale_act(y: Tensor, bias: Tensor, scale: Tensor, slope: float | None) -> Tensor:
    y = (y + bias[:, None, None]) * scale[:, None, None]
    return y if slope is None else F.leaky_relu(y, slope)


class ScaledConv2d(nn.Conv2d):
    """Reflect-padded convolution without bias → ``+ bias`` → ``× scale`` → Leaky ReLU.

    Subclasses :class:`~torch.nn.Conv2d` so that layer-wise tools (the zoo's thop-style count)
    see it; ``weight`` is the learned kernel, ``bias`` and ``scale`` are per output channel.

    Args:
        in_ch, out_ch: channels; with ``rotations=4`` the learned kernel has ``out_ch / 4``
            filters and ``out_ch`` counts all rotated copies.
        kernel: learned kernel size (odd).
        stride: 1 or 2.
        dilation: atrous rate.
        act: apply Leaky ReLU (``False`` for output layers and projection shortcuts of stage 2).
        negative_slope: Leaky ReLU slope.
        fused: code's fused 4×4 kernel (stride 2 only), scaled by ``fused_gain``.
        rotations: 1, or 4 for rotation-tied filters.
        unit_norm: code's UnitNorm on the applied kernel.
        init: ``"he_normal"`` or ``"glorot_uniform"`` for the kernel.
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel: int,
        stride: int = 1,
        dilation: int = 1,
        *,
        act: bool = True,
        negative_slope: float = NEGATIVE_SLOPE,
        fused: bool = False,
        fused_gain: float = 1.0,
        rotations: int = 1,
        unit_norm: bool = False,
        init: str = "he_normal",
    ) -> None:
        if kernel % 2 == 0 or stride not in (1, 2):
            raise ValueError(f"need an odd kernel and stride 1 or 2, got {kernel}, {stride}")
        if fused and stride != 2:
            raise ValueError("fused kernels exist for stride-2 convolutions only")
        if rotations not in (1, 4) or out_ch % rotations:
            raise ValueError(f"rotations must be 1 or 4 and divide out_ch, got {rotations}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        self.init = init
        super().__init__(in_ch, out_ch // rotations, kernel, stride, 0, dilation, bias=False)
        self.out_channels = out_ch
        self.rotations, self.fused, self.fused_gain = rotations, fused, fused_gain
        self.unit_norm = unit_norm
        self.slope = negative_slope if act else None
        self.bias = nn.Parameter(torch.zeros(out_ch))
        self.scale = nn.Parameter(torch.ones(out_ch))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if not hasattr(self, "scale"):  # nn.Conv2d.__init__ calls this before our parameters
            return
        _init_weight(self.weight, self.init)
        nn.init.zeros_(self.bias)
        nn.init.ones_(self.scale)

    def effective_weight(self) -> Tensor:
        """The kernel applied: rotated copies, then fused, then UnitNorm (the code's order)."""
        w = self.weight
        if self.rotations > 1:
            w = torch.cat([torch.rot90(w, -k, dims=(2, 3)) for k in range(self.rotations)])
        if self.fused:
            w = fuse_kernel(w, self.fused_gain)
        return unit_norm(w) if self.unit_norm else w

    def _pads(self, height: int, width: int) -> tuple[int, int, int, int]:
        span = self.dilation[0] * (self.kernel_size[0] - 1) + 1
        if self.stride[0] == 1:
            return (span // 2,) * 4
        pads = []
        for n in (width, height):
            total = -(-n // 2) * 2 + span - 1 - n
            pads += [total // 2, total - total // 2]
        return tuple(pads)

    def forward(self, x: Tensor) -> Tensor:
        pads = self._pads(*x.shape[-2:])
        if any(pads):
            x = F.pad(x, pads, mode="reflect")
        y = F.conv2d(x, self.effective_weight(), None, self.stride, 0, self.dilation)
        return _bias_scale_act(y, self.bias, self.scale, self.slope)

    def extra_repr(self) -> str:
        extra = [f"rotations={self.rotations}"] * (self.rotations > 1)
        extra += [f"fused(gain={self.fused_gain})"] * self.fused
        extra += ["unit_norm"] * self.unit_norm + [f"slope={self.slope}"]
        return ", ".join([super().extra_repr(), "reflect", *extra])


class ScaledConvTranspose2d(nn.ConvTranspose2d):
    """Stride-2 transposed convolution (exactly doubling H and W) without bias → ``+ bias`` →
    ``× scale`` → Leaky ReLU.

    A learned ``k × k`` kernel is applied as is (``padding = k // 2``, ``output_padding = 1``,
    like :func:`deblurzoo.models.blocks.deconv`) or, with ``fused``, as the code's
    ``(k+1) × (k+1)`` fused kernel (``padding = (k − 1) / 2``, TensorFlow's ``SAME``; gain 1 in
    both stages). Args as :class:`ScaledConv2d`.
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel: int = 3,
        *,
        act: bool = True,
        negative_slope: float = NEGATIVE_SLOPE,
        fused: bool = False,
        unit_norm: bool = False,
        init: str = "he_normal",
    ) -> None:
        if kernel % 2 == 0:
            raise ValueError(f"need an odd kernel, got {kernel}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        self.init = init
        padding, output_padding = ((kernel - 1) // 2, 0) if fused else (kernel // 2, 1)
        super().__init__(
            in_ch, out_ch, kernel, 2, padding, output_padding=output_padding, bias=False
        )
        self.fused, self.unit_norm = fused, unit_norm
        self.slope = negative_slope if act else None
        self.bias = nn.Parameter(torch.zeros(out_ch))
        self.scale = nn.Parameter(torch.ones(out_ch))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if not hasattr(self, "scale"):
            return
        _init_weight(self.weight, self.init)
        nn.init.zeros_(self.bias)
        nn.init.ones_(self.scale)

    def effective_weight(self) -> Tensor:
        w = fuse_kernel(self.weight) if self.fused else self.weight
        return unit_norm(w) if self.unit_norm else w

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        y = F.conv_transpose2d(
            x, self.effective_weight(), None, 2, self.padding, self.output_padding
        )
        return _bias_scale_act(y, self.bias, self.scale, self.slope)

    def extra_repr(self) -> str:
        extra = ["fused"] * self.fused + ["unit_norm"] * self.unit_norm + [f"slope={self.slope}"]
        return ", ".join([super().extra_repr(), *extra])
