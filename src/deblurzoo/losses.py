"""Reconstruction losses shared by the zoo's training tasks."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurzoo.errors import ConfigError
from deblurzoo.models.video_net import MultiScaleFrames


def charbonnier(pred: Tensor, target: Tensor, eps: float = 1e-3) -> Tensor:
    """Charbonnier loss ``mean(sqrt((pred - target)^2 + eps^2))``, a smooth L1."""
    return torch.sqrt((pred - target).square() + eps * eps).mean()


def resize_clip(clip: Tensor, size: tuple[int, int]) -> Tensor:
    """Bilinearly resize a clip ``[B, T, C, H, W]`` to ``size`` = (h, w)."""
    b, t = clip.shape[:2]
    frames = F.interpolate(clip.flatten(0, 1), size=size, mode="bilinear", align_corners=False)
    return frames.unflatten(0, (b, t))


class MultiScaleLoss(nn.Module):
    """A per-pixel distance (:meth:`distance`) over the full-resolution frames and, for a
    :class:`MultiScaleFrames` output, over every coarse prediction against the bilinearly
    down-sampled target.

    Args:
        coarse_weights: weight of each coarse scale, finest first; missing entries weigh 1.
        average_scales: divide the sum over scales by their number.
        trim_frames: frames left out of the loss at each end of the clip ``[B, T, ...]`` (0:
            none), for a net whose outer frames see clamped neighbours in training but not at
            test time.
    """

    def __init__(
        self,
        coarse_weights: Sequence[float] = (),
        average_scales: bool = False,
        trim_frames: int = 0,
    ) -> None:
        super().__init__()
        if trim_frames < 0:
            raise ConfigError(f"trim_frames must be >= 0, got {trim_frames}")
        self.coarse_weights = tuple(coarse_weights)
        self.average_scales = average_scales
        self.trim_frames = trim_frames

    def distance(self, pred: Tensor, target: Tensor) -> Tensor:
        """The loss of one scale."""
        raise NotImplementedError

    def _trim(self, clip: Tensor) -> Tensor:
        n = self.trim_frames
        if clip.shape[1] <= 2 * n:
            raise ConfigError(
                f"trim_frames={n} leaves no frame of a {clip.shape[1]}-frame clip to score"
            )
        return clip[:, n : clip.shape[1] - n]

    def forward(self, pred: Tensor | MultiScaleFrames, target: Tensor) -> Tensor:
        if self.trim_frames:
            target = self._trim(target)
            if isinstance(pred, MultiScaleFrames):
                pred = MultiScaleFrames(
                    self._trim(pred.frames), tuple(map(self._trim, pred.coarse))
                )
            else:
                pred = self._trim(pred)
        if not isinstance(pred, MultiScaleFrames):
            return self.distance(pred, target)
        loss = self.distance(pred.frames, target)
        for i, coarse in enumerate(pred.coarse):
            weight = self.coarse_weights[i] if i < len(self.coarse_weights) else 1.0
            loss = loss + weight * self.distance(coarse, resize_clip(target, coarse.shape[-2:]))
        return loss / (1 + len(pred.coarse)) if self.average_scales else loss


class CharbonnierLoss(MultiScaleLoss):
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
        super().__init__(coarse_weights, average_scales)
        self.eps = eps

    def distance(self, pred: Tensor, target: Tensor) -> Tensor:
        return charbonnier(pred, target, self.eps)


class L1Loss(MultiScaleLoss):
    """Mean absolute error, ``mean(|pred − target|)`` — Brehm et al.'s "pixel-wise absolute
    error in RGB-Space" (CVPRW 2020, Sec. 3.3) — over the full-resolution frames and, for a
    :class:`MultiScaleFrames` output, over every coarse prediction against the bilinearly
    down-sampled target.

    Args:
        coarse_weights: weight of each coarse scale, finest first; missing entries weigh 1.
        average_scales: divide the sum over scales by their number.
        trim_frames: frames left out at each end of the clip; 1 with 3-frame clips scores only
            the centre frame, whose t−1 and t+1 are real frames (MLFA's stage 2, whose released
            training samples are three frames around one sharp target).
    """

    def distance(self, pred: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(pred, target)
