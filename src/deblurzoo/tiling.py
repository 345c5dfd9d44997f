"""Spatial tiling with overlap and blended seams, for frames too large to restore at once.

A frame is cut into tiles of ``size`` pixels (rounded down to the net's ``spatial_multiple``, so
no tile needs padding) that overlap by ``overlap`` pixels, the last row and column of tiles
aligned to the frame's edge (the positions are :func:`deblurzoo.chunking.plan_chunks`' starts,
one plan per axis). Every tile is restored as a clip through :func:`deblurzoo.models.restore`,
several tiles stacked along the batch when ``batch > 1``, and the restored tiles are blended
with weights that ramp linearly across each overlap towards the tile's inner edges (the
weighted accumulation of Restormer's ``demo.py --tile --tile_overlap``, with ramps instead of
flat weights so no seam shows) and divided by the summed weights. Weights are 1 along the
frame's own edges and everywhere a tile has no neighbour, so a frame that fits in one tile is
restored by a single plain :func:`~deblurzoo.models.restore` call: tiled output then *equals*
the direct output. With several tiles a pixel's result differs from the direct one where the
net's receptive field crosses a tile edge; the ramps fade those pixels out.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from deblurzoo.chunking import plan_chunks
from deblurzoo.errors import ConfigError
from deblurzoo.models import VideoNet, restore


@dataclass(frozen=True)
class Tiling:
    """How to tile: tiles of ``size`` = ``(height, width)`` pixels overlapping by ``overlap``
    pixels, ``batch`` tiles per forward pass."""

    size: tuple[int, int]
    overlap: int = 32
    batch: int = 1

    def __post_init__(self) -> None:
        size = tuple(self.size) if not isinstance(self.size, int) else (self.size, self.size)
        if len(size) != 2 or min(size) < 1:
            raise ConfigError(f"tile size must be two positive sides (H, W), got {self.size!r}")
        if self.overlap < 0 or self.batch < 1:
            raise ConfigError(
                f"need tile overlap >= 0 and tile batch >= 1, got {self.overlap}, {self.batch}"
            )
        object.__setattr__(self, "size", size)


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of ``tile`` pixels along an axis of ``length`` pixels."""
    if tile >= length:
        return [0]
    if overlap >= tile:
        raise ConfigError(f"tile overlap {overlap} must be smaller than the tile ({tile} pixels)")
    return [chunk.start for chunk in plan_chunks(length, tile, overlap)]


def _ramp(starts: list[int], tile: int, length: int) -> list[Tensor]:
    """Per tile along one axis: weight 1, ramping linearly down to ``1 / (n + 1)`` across the
    ``n`` pixels it shares with each neighbour."""
    weights = []
    for k, start in enumerate(starts):
        size = min(tile, length)
        weight = torch.ones(size)
        if k > 0:  # shared with the previous tile: rising from the tile's first pixel
            shared = starts[k - 1] + size - start
            weight[:shared] = torch.arange(1, shared + 1) / (shared + 1)
        if k < len(starts) - 1:  # shared with the next tile: falling to the tile's last pixel
            shared = start + size - starts[k + 1]
            weight[size - shared :] = torch.minimum(
                weight[size - shared :], torch.arange(shared, 0, -1) / (shared + 1)
            )
        weights.append(weight)
    return weights


def effective_tile(tiling: Tiling, multiple: int) -> tuple[int, int]:
    """The tile size rounded down to ``multiple`` (so tiles need no padding)."""
    height, width = (side // multiple * multiple for side in tiling.size)
    if not height or not width:
        raise ConfigError(
            f"tile size {tiling.size} is smaller than the net's spatial multiple {multiple}"
        )
    if tiling.overlap >= min(height, width):
        raise ConfigError(
            f"tile overlap {tiling.overlap} must be smaller than the tile {height}×{width} "
            f"(tile size rounded down to the net's spatial multiple {multiple})"
        )
    return height, width


def restore_tiled(net: VideoNet, blur: Tensor, tiling: Tiling) -> Tensor:
    """Restore ``blur`` ``[B, T, 3, H, W]`` tile by tile (see the module docstring).

    Returns the restored clip like :func:`~deblurzoo.models.restore`: ``[B, T', 3, H, W]`` with
    ``T' = T − sum(net.border_frames)``, float32, on ``blur``'s device. Only the tiles of one
    forward pass are moved to the net's device, so ``blur`` may stay in host memory.
    """
    height, width = blur.shape[-2:]
    tile_h, tile_w = effective_tile(tiling, net.spatial_multiple)
    rows = tile_starts(height, tile_h, tiling.overlap)
    cols = tile_starts(width, tile_w, tiling.overlap)
    device = next(net.parameters()).device
    if len(rows) == len(cols) == 1:
        return restore(net, blur.to(device)).float().to(blur.device)
    tile_h, tile_w = min(tile_h, height), min(tile_w, width)
    row_weights, col_weights = _ramp(rows, tile_h, height), _ramp(cols, tile_w, width)
    tiles = [(i, j) for i in range(len(rows)) for j in range(len(cols))]
    total = weight_sum = None
    for first in range(0, len(tiles), tiling.batch):
        group = tiles[first : first + tiling.batch]
        clip = torch.cat(
            [blur[..., rows[i] : rows[i] + tile_h, cols[j] : cols[j] + tile_w] for i, j in group]
        ).to(device)
        restored = restore(net, clip).float().to(blur.device).split(blur.shape[0])
        for (i, j), out in zip(group, restored, strict=True):
            if total is None:
                total = out.new_zeros(*out.shape[:-2], height, width)
                weight_sum = out.new_zeros(height, width)
            weight = (row_weights[i][:, None] * col_weights[j][None, :]).to(blur.device)
            window = (..., slice(rows[i], rows[i] + tile_h), slice(cols[j], cols[j] + tile_w))
            total[window] += out * weight
            weight_sum[window] += weight
        del restored, clip
    return total / weight_sum
