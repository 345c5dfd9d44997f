"""STRCNN's ``dtb="released"`` (ESTRNN's ``model/STRCNN.py`` port of DTB) against a direct
re-statement of its formula: an unpadded 5×5 correlation ``d``, ``w = 2|σ(d) − ½|``, which is
``|tanh(d/2)|``, zero on the 2-pixel border, ``h̃ = w·h + (1 − w)·h̃_prev``."""

from __future__ import annotations

import math

import pytest
import torch

from deblurzoo.models.rirn.strcnn import DTB, STRCNN, ReleasedDTB


def _oracle(weight, bias, current, previous):
    """Element by element in float64: for every output channel and every position whose 5×5
    window lies inside the map, the correlation with the concatenated (current, previous)."""
    x = torch.cat([current, previous], dim=1)[0].double().tolist()
    w, b = weight.double().tolist(), bias.double().tolist()
    channels, height, width = current.shape[1:]
    out = [[[0.0] * width for _ in range(height)] for _ in range(channels)]
    for c in range(channels):
        for y in range(2, height - 2):
            for z in range(2, width - 2):
                d = b[c] + sum(
                    w[c][k][i][j] * x[k][y - 2 + i][z - 2 + j]
                    for k in range(2 * channels)
                    for i in range(5)
                    for j in range(5)
                )
                blend = abs(math.tanh(d / 2))  # 2|σ(d) − ½| = |tanh(d/2)|
                cur, prev = current[0, c, y, z].item(), previous[0, c, y, z].item()
                out[c][y][z] = blend * cur + (1 - blend) * prev
        for y in range(height):
            for z in range(width):
                if not (2 <= y < height - 2 and 2 <= z < width - 2):  # w = 0: the previous
                    out[c][y][z] = previous[0, c, y, z].item()
    return torch.tensor(out, dtype=torch.float64)[None]


def test_released_dtb_matches_the_formula() -> None:
    torch.manual_seed(0)
    dtb = ReleasedDTB(2)
    with torch.no_grad():
        dtb.filter.weight.mul_(4)  # blends spread over (0, 1)
    current, previous = torch.randn(1, 2, 7, 8), torch.randn(1, 2, 7, 8)
    with torch.no_grad():
        ours = dtb(current, previous)
    expected = _oracle(dtb.filter.weight, dtb.filter.bias, current, previous)
    assert (ours.double() - expected).abs().max().item() < 1e-5
    assert torch.equal(ours[..., :2, :], previous[..., :2, :])  # the border never updates


def test_released_dtb_in_strcnn() -> None:
    net = STRCNN(dtb="released")
    assert isinstance(net.dtb, ReleasedDTB) and "dtb.filter.weight" in net.state_dict()
    assert "dtb.beta" not in net.state_dict()  # the port's β: a constant 0, never trained
    # ESTRNN's port measures 0.926 M, its β not a parameter (docs/reference_code.md)
    assert sum(p.numel() for p in net.parameters()) == 926_083
    assert net.min_size == (10, 10) and net.hidden_channels == 32 + 64
    tiny = STRCNN(channels=8, feedback=4, num_blocks=1, dtb="released").eval()
    with torch.no_grad():
        assert tiny(torch.rand(1, 6, 3, 10, 12)).shape == (1, 2, 3, 10, 12)
    with pytest.raises(ValueError, match="at least 10×10"):
        tiny(torch.rand(1, 6, 3, 8, 12))


def test_defaults_unchanged() -> None:
    assert STRCNN().dtb is None and STRCNN().min_size == (1, 1)
    assert type(STRCNN(dtb=True).dtb) is DTB
    with pytest.raises(ValueError, match="dtb must be"):
        STRCNN(dtb="simdeblur")
