"""IRM, the inner-recurrence module of RIRN (Park, Nah & Lee, BMVC 2022; supplementary S2.2,
Fig. S1b, Table S3).

IRM takes the host's new state ``h_t`` and its own previous output ``h̃_{t-1}`` and returns
``h̃_t``, the state the host carries to the next frame, so the host's memory gains a recurrence of
its own. Table S3, with ``c`` the host's state channels: concat (2c) → three 3×3 convs (2c) →
ResBlock (2c) → 3×3 conv (c) → ResBlock (c). The table lists no activation outside the
residual blocks (Table S4 does list its ReLUs), so none is added.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deblurzoo.models.blocks import ResBlock, conv


class IRM(nn.Module):
    """``h̃_t = IRM(h_t, h̃_{t-1})`` for a host state of ``channels`` channels (Table S3)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        wide = 2 * channels
        self.body = nn.Sequential(
            conv(wide, wide, 3),
            conv(wide, wide, 3),
            conv(wide, wide, 3),
            ResBlock(wide),
            conv(wide, channels, 3),
            ResBlock(channels),
        )

    def forward(self, hidden: Tensor, previous: Tensor) -> Tensor:
        return self.body(torch.cat([hidden, previous], dim=1))
