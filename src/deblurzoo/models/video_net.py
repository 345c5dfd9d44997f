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
    """

    spatial_multiple: int = 1
    recurrent: bool = False
    border_frames: tuple[int, int] = (0, 0)

    def check_size(self, clip: Tensor) -> None:
        """Refuse a clip whose H or W is not a multiple of ``spatial_multiple``."""
        height, width = clip.shape[-2:]
        if height % self.spatial_multiple or width % self.spatial_multiple:
            raise ValueError(
                f"{type(self).__name__} needs H and W divisible by {self.spatial_multiple}, got "
                f"{height}×{width}; pad the clip (deblurzoo.models.restore does)"
            )


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
