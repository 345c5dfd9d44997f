"""The contract every video network of the zoo fulfils (see ``docs/models.md``).

``forward(blur)`` takes a clip ``[B, T, 3, H, W]`` of RGB frames in ``[0, 1]`` and returns the
restored clip of the same shape. Colour conventions of the reference code (BGR, ``[-0.5, 0.5]``)
live inside the net. A net whose loss also needs lower-resolution predictions returns
:class:`MultiScaleFrames` while training; evaluation only ever sees ``frames``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch.nn.functional as F
from torch import Tensor, nn

from deblurzoo.errors import ConfigError


class MultiScaleFrames(NamedTuple):
    """Full-resolution frames plus coarser predictions for a multi-scale loss."""

    frames: Tensor
    coarse: tuple[Tensor, ...]


class VideoNet(nn.Module):
    """Base class declaring what generic padding, chunking and tiling need to know.

    Attributes:
        spatial_multiple: H and W must be multiples of this (inputs are padded to it).
        recurrent: the net carries state from frame to frame, so temporal chunks need warm-up.
        border_frames: (first, last) frames of a clip the net cannot restore; its output is
            shorter by their sum.
        min_frames: the shortest clip the net takes (at least ``sum(border_frames) + 1``).
        min_size: the smallest (H, W) the net takes; a frame must also be a multiple of
            ``spatial_multiple``, so the smallest frame is this rounded up to it.
        batch_norm_stride: ``s`` when the net batch-normalises features as coarse as 1/s of the
            frame (0: no BatchNorm). In train mode BatchNorm needs more than one value per
            channel, so a batch of one clip then needs frames larger than ``s`` on a side.
        channels_last: the fast path (:mod:`deblurzoo.fast`) puts the weights in channels_last
            layout; ``False`` where that was measured no faster in float32 (the fast-path
            table of ``docs/benchmarks.md``). Under bf16/fp16 autocast every net takes it.

    Every call is checked against these limits before ``forward`` runs (:meth:`check_input`, a
    forward pre-hook), so a clip the net cannot take is refused naming the limit instead of
    failing deep inside torch. Padding to ``spatial_multiple`` is :func:`restore`'s job.
    """

    spatial_multiple: int = 1
    recurrent: bool = False
    border_frames: tuple[int, int] = (0, 0)
    min_frames: int = 1
    min_size: tuple[int, int] = (1, 1)
    batch_norm_stride: int = 0
    channels_last: bool = True

    def __init__(self) -> None:
        super().__init__()
        self.register_forward_pre_hook(_check_input, with_kwargs=True)

    def check_size(self, clip: Tensor) -> None:
        """Refuse a clip whose H or W is not a multiple of ``spatial_multiple``."""
        height, width = clip.shape[-2:]
        if height % self.spatial_multiple or width % self.spatial_multiple:
            raise ValueError(
                f"{type(self).__name__} needs H and W divisible by {self.spatial_multiple}, got "
                f"{height}×{width}; pad the clip (deblurzoo.models.restore does)"
            )

    def check_input(self, clip: Tensor) -> None:
        """Refuse a clip ``[B, T, 3, H, W]`` outside the limits the net declares, naming them."""
        name, multiple = type(self).__name__, self.spatial_multiple
        batch, frames, (height, width) = clip.shape[0], clip.shape[1], clip.shape[-2:]
        if frames < self.min_frames:
            raise ConfigError(
                f"{name} needs clips of at least {self.min_frames} frames, got {frames}"
            )
        self.check_size(clip)
        min_h, min_w = (-(-side // multiple) * multiple for side in self.min_size)
        if height < min_h or width < min_w:
            raise ConfigError(
                f"{name} needs frames of at least {min_h}×{min_w}, got {height}×{width}"
            )
        stride = self.batch_norm_stride
        if self.training and stride and batch == 1 and max(height, width) <= stride:
            raise ConfigError(
                f"{name} in train mode needs frames larger than {stride} pixels on a side or a "
                f"batch of at least 2 clips (its BatchNorm sees the frame at 1/{stride} and "
                f"needs more than one value per channel), got 1 clip of {height}×{width}"
            )


def _check_input(net: VideoNet, args: tuple, kwargs: dict) -> None:
    """Forward pre-hook of every :class:`VideoNet`: check the clip, its first argument."""
    net.check_input((*args, *kwargs.values())[0])


def restore(net: VideoNet, blur: Tensor) -> Tensor:
    """Run ``net`` on a clip padded (replicate) to its ``spatial_multiple``; crop back."""
    height, width = blur.shape[-2:]
    multiple = net.spatial_multiple
    pad_h, pad_w = -height % multiple, -width % multiple
    if pad_h or pad_w:
        padded = F.pad(blur.flatten(0, 1), (0, pad_w, 0, pad_h), mode="replicate")
        blur = padded.unflatten(0, blur.shape[:2])
    out = net(blur)
    frames = out.frames if isinstance(out, MultiScaleFrames) else out
    return frames[..., :height, :width]
