"""The atrous residual block of stage 1 (Sec. 3.1, Figs. 2–3) and the standard residual block of
Table 2's baseline without atrous convolution (Sec. 4, "Ablation Study") — Brehm, Scherer &
Lienhart, CVPRW 2020.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from deblurzoo.models.mlfa.layers import NEGATIVE_SLOPE, ScaledConv2d

#: Stage 1's convolutions wrap Keras' ``Conv2D``, whose default init is Glorot uniform.
STAGE1_INIT = "glorot_uniform"


def _projection(in_ch: int, out_ch: int, slope: float) -> nn.Module:
    """Shortcut: identity, or a 1×1 projection (with bias, scale and Leaky ReLU — "all convolution
    layers" are activated, Sec. 3.3, as in the released code) where the widths differ."""
    if in_ch == out_ch:
        return nn.Identity()
    return ScaledConv2d(in_ch, out_ch, 1, negative_slope=slope, init=STAGE1_INIT)


class AtrousBlock(nn.Module):
    """Fig. 2: four parallel 3×3 convolutions with ``branch_width`` filters and atrous rates
    ``dilations`` (128 and 1, 2, 3, 4), concatenated (512), a 3×3 convolution to ``out_ch``
    (256), plus the input. Every convolution is followed by bias, scale and Leaky ReLU; nothing
    follows the addition. A block sees 11×11 input pixels (Fig. 3b: an almost filled square, 8
    corner-adjacent holes). The code's first block projects its 128-channel input with a 1×1
    convolution (``docs/reference_code.md``, MLFA)."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int = 256,
        branch_width: int = 128,
        dilations: Sequence[int] = (1, 2, 3, 4),
        negative_slope: float = NEGATIVE_SLOPE,
    ) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            ScaledConv2d(in_ch, branch_width, 3, dilation=d, negative_slope=negative_slope,
                         init=STAGE1_INIT)
            for d in dilations
        )  # fmt: skip
        self.fuse = ScaledConv2d(
            len(dilations) * branch_width, out_ch, 3, negative_slope=negative_slope,
            init=STAGE1_INIT,
        )  # fmt: skip
        self.shortcut = _projection(in_ch, out_ch, negative_slope)

    def forward(self, x: Tensor) -> Tensor:
        return self.shortcut(x) + self.fuse(torch.cat([branch(x) for branch in self.branches], 1))


class PlainBlock(nn.Module):
    """Table 2's "standard residual block" (Sec. 4): the atrous block with its four parallel
    convolutions replaced by a single 3×3 convolution of ``out_ch`` filters at atrous rate 1 —
    "the four parallel convolutions with less filters and different atrous rates compared to a
    single convolution" is the stated difference — i.e. conv 3×3 → conv 3×3 (512 each, Leaky
    ReLU after both) plus the input (1×1 projection where the widths differ)."""

    def __init__(self, in_ch: int, out_ch: int = 512, negative_slope: float = NEGATIVE_SLOPE):
        super().__init__()
        self.body = nn.Sequential(
            ScaledConv2d(in_ch, out_ch, 3, negative_slope=negative_slope, init=STAGE1_INIT),
            ScaledConv2d(out_ch, out_ch, 3, negative_slope=negative_slope, init=STAGE1_INIT),
        )
        self.shortcut = _projection(in_ch, out_ch, negative_slope)

    def forward(self, x: Tensor) -> Tensor:
        return self.shortcut(x) + self.body(x)
