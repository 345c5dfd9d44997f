"""ATB, adaptive temporal blending of RIRN (Park, Nah & Lee, BMVC 2022; supplementary S2.3,
Table S4).

ATB blends the host's features ``f_t`` with the previous blended features ``f̃_{t-1}``:
concat (2c) → 3×3 conv (2c) → split in two halves; each half → 3×3 conv → ReLU → 1×1 conv →
sigmoid gives one attention map, ``w_t`` (upper path) and ``w̃_{t-1}`` (lower path), and
``f̃_t = w_t · f_t + w̃_{t-1} · f̃_{t-1}``. The two maps are independent sigmoids, not a convex
pair, so a pixel's blend can attenuate (sum < 1) or amplify (sum > 1) — unlike STRCNN's DTB.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deblurzoo.models.blocks import conv


def _attention(channels: int) -> nn.Sequential:
    """One path of Table S4: 3×3 conv, ReLU, 1×1 conv, sigmoid."""
    return nn.Sequential(
        conv(channels, channels, 3),
        nn.ReLU(inplace=True),
        conv(channels, channels, 1),
        nn.Sigmoid(),
    )


class ATB(nn.Module):
    """``f̃_t = ATB(f_t, f̃_{t-1})`` for features of ``channels`` channels (Table S4)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.fuse = conv(2 * channels, 2 * channels, 3)
        self.current = _attention(channels)  # upper path → w_t
        self.previous = _attention(channels)  # lower path → w̃_{t-1}

    def forward(self, features: Tensor, previous: Tensor) -> Tensor:
        upper, lower = self.fuse(torch.cat([features, previous], dim=1)).chunk(2, dim=1)
        return self.current(upper) * features + self.previous(lower) * previous
