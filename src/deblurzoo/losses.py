"""Reconstruction losses shared by the zoo's training tasks."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurzoo.models.video_net import MultiScaleFrames


def charbonnier(pred: Tensor, target: Tensor, eps: float = 1e-3) -> Tensor:
    """Charbonnier loss ``mean(sqrt((pred - target)^2 + eps^2))``, a smooth L1."""
    return torch.sqrt((pred - target).square() + eps * eps).mean()


def resize_clip(clip: Tensor, size: tuple[int, int]) -> Tensor:
    """Bilinearly resize a clip ``[B, T, C, H, W]`` to ``size`` = (h, w)."""
    b, t = clip.shape[:2]
    frames = F.interpolate(clip.flatten(0, 1), size=size, mode="bilinear", align_corners=False)
    return frames.unflatten(0, (b, t))


class CharbonnierLoss(nn.Module):
    """Charbonnier loss over the full-resolution frames and, for a :class:`MultiScaleFrames`
    output, over every coarse prediction against the bilinearly down-sampled target.

    Args:
        eps: the Charbonnier epsilon (1e-3 in ESTRNN and MemDeblur).
        coarse_weights: weight of each coarse scale, finest first; missing entries weigh 1.
        average_scales: divide the sum over scales by their number, the ``1/S`` of MemDeblur's
            multi-scale loss (supplementary Eq. 1); its released code sums them instead.
    """

    def __init__(
        self, eps: float = 1e-3, coarse_weights: Sequence[float] = (), average_scales: bool = False
    ) -> None:
        super().__init__()
        self.eps = eps
        self.coarse_weights = tuple(coarse_weights)
        self.average_scales = average_scales

    def forward(self, pred: Tensor | MultiScaleFrames, target: Tensor) -> Tensor:
        if not isinstance(pred, MultiScaleFrames):
            return charbonnier(pred, target, self.eps)
        loss = charbonnier(pred.frames, target, self.eps)
        for i, coarse in enumerate(pred.coarse):
            weight = self.coarse_weights[i] if i < len(self.coarse_weights) else 1.0
            loss = loss + weight * charbonnier(
                coarse, resize_clip(target, coarse.shape[-2:]), self.eps
            )
        return loss / (1 + len(pred.coarse)) if self.average_scales else loss
