"""Spatial tiling (deblurzoo.tiling): tile layout, blended seams, and equality with the direct
restoration where the frame fits in one tile or the net sees one pixel at a time."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from deblurzoo.models import VideoNet, create_model, restore
from deblurzoo.tiling import Tiling, restore_tiled, tile_starts

TINY_IFIRNN = {"channels": [4, 8, 12], "hidden": 4, "num_resblocks": 1}


class PixelNet(VideoNet):
    """A 1×1 convolution per frame: every output pixel depends on its input pixel only."""

    spatial_multiple = 4

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, blur: Tensor) -> Tensor:
        self.check_size(blur)
        return self.conv(blur.flatten(0, 1)).unflatten(0, blur.shape[:2])


@pytest.mark.parametrize(("length", "tile", "overlap"), [(50, 16, 4), (48, 16, 0), (10, 16, 4)])
def test_tiles_cover_the_axis_and_end_at_its_edge(length, tile, overlap) -> None:
    starts = tile_starts(length, tile, overlap)
    covered = {x for s in starts for x in range(s, min(s + tile, length))}
    assert covered == set(range(length))
    assert starts[0] == 0 and min(starts[-1] + tile, length) == length
    assert all(b - a <= tile - overlap for a, b in zip(starts, starts[1:], strict=False))


def test_a_frame_that_fits_one_tile_is_restored_exactly_as_directly() -> None:
    torch.manual_seed(0)
    net = create_model("ifirnn_c1h1", **TINY_IFIRNN).eval()
    blur = torch.rand(1, 3, 3, 30, 46)  # not a multiple of 4: padded like the direct call
    with torch.no_grad():
        tiled = restore_tiled(net, blur, Tiling((32, 48), overlap=0))
        assert torch.equal(tiled, restore(net, blur))


@pytest.mark.parametrize("batch", [1, 4])
def test_blended_tiles_equal_the_direct_output_of_a_pointwise_net(batch: int) -> None:
    torch.manual_seed(0)
    net = PixelNet().eval()
    blur = torch.rand(2, 2, 3, 37, 61)
    with torch.no_grad():
        tiled = restore_tiled(net, blur, Tiling((18, 22), overlap=6, batch=batch))
        direct = restore(net, blur)
    assert tiled.shape == direct.shape
    assert torch.allclose(tiled, direct, atol=1e-6)  # a weighted mean of equal values


def test_seams_are_blended_for_a_net_with_a_receptive_field() -> None:
    """With a real net, tiles disagree near their edges: butted tiles (no overlap) leave a seam,
    blended ones come much closer to the direct result, and closer with a wider overlap."""
    torch.manual_seed(0)
    net = create_model("ifirnn_c1h1", **TINY_IFIRNN).eval()
    blur = torch.rand(1, 2, 3, 64, 64)
    with torch.no_grad():
        direct = restore(net, blur)
        errors = [  # tiles at 0 and 32, 24 and 16: overlaps 0, 8 and 32 pixels
            (restore_tiled(net, blur, Tiling(size, overlap)) - direct).abs().mean()
            for size, overlap in ((32, 0), (40, 8), (48, 16))
        ]
    assert errors[2] < errors[1] < errors[0] / 4


def test_bad_tiles_are_refused_before_any_forward() -> None:
    net = create_model("ifirnn_c1h1", **TINY_IFIRNN).eval()  # spatial multiple 4
    blur = torch.rand(1, 1, 3, 64, 64)
    with pytest.raises(ValueError, match="smaller than the net's spatial multiple 4"):
        restore_tiled(net, blur, Tiling(3))
    with pytest.raises(ValueError, match="overlap 16 must be smaller than the tile 16×16"):
        restore_tiled(net, blur, Tiling(18, overlap=16))
    with pytest.raises(ValueError, match="tile batch >= 1"):
        Tiling(16, batch=0)
