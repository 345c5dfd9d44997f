"""Sequence-consistent geometric augmentation for paired video clips.

One random draw per clip is applied identically to every frame and to the blurry and the sharp
clip alike (they are transformed as one stacked tensor), so the net never sees a blur/target
misalignment. The transforms are the dihedral group of the square crop (flips, 90° rotations)
and temporal reversal, as in ESTRNN, SimDeblur and BasicSR's video pipelines.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class ClipAugment:
    """Random flips, 90° rotations and time reversal of clips shaped ``[..., T, C, H, W]``."""

    hflip: bool = True
    vflip: bool = True
    rot90: bool = True
    reverse: bool = True

    def __call__(self, clips: Tensor, generator: torch.Generator | None = None) -> Tensor:
        draw = torch.rand(4, generator=generator)
        if self.hflip and draw[0] < 0.5:
            clips = clips.flip(-1)
        if self.vflip and draw[1] < 0.5:
            clips = clips.flip(-2)
        if self.rot90 and draw[2] < 0.5:
            if clips.shape[-1] != clips.shape[-2]:
                raise ValueError(f"rot90 needs square crops, got {tuple(clips.shape[-2:])}")
            clips = clips.rot90(1, dims=(-2, -1))
        if self.reverse and draw[3] < 0.5:
            clips = clips.flip(-4)
        return clips
