"""The registry and the first zoo model, IFI-RNN C1H1."""

from __future__ import annotations

import pytest
import torch

import deblurzoo
from deblurzoo.models.rirn import IFIRNN
from tests.recurrence import assert_causal_and_recurrent


def _conv(cin: int, cout: int, k: int) -> int:
    return cin * cout * k * k + cout


def test_registry_lists_and_creates() -> None:
    assert "ifirnn_c1h1" in deblurzoo.list_models()
    assert deblurzoo.list_models("ifi*") == [
        "ifirnn_c1h1", "ifirnn_c1h1+atb", "ifirnn_c1h1+irm", "ifirnn_c1h1+irm+atb"
    ]  # fmt: skip
    net = deblurzoo.create_model("ifirnn_c1h1", hidden=8)
    assert isinstance(net, IFIRNN) and net.hidden_channels == 8


def test_unknown_model_lists_the_valid_ones() -> None:
    with pytest.raises(KeyError, match=r"unknown model 'ifirnn'.*ifirnn_c1h1"):
        deblurzoo.create_model("ifirnn")


def test_ifirnn_parameter_count_from_table_s1() -> None:
    """Table S1's encoder (5×5: 3→20→40→60), hidden 20 → 80 channels; the reference's 6 ResBlocks,
    F_h (3×3 80→20, ResBlock(20), 3×3 20→20) and F_L (ConvT 80→40→20, 5×5 20→3)."""
    f_b = _conv(3, 20, 5) + _conv(20, 40, 5) + _conv(40, 60, 5)
    f_r = 6 * 2 * _conv(80, 80, 3)
    f_h = _conv(80, 20, 3) + 2 * _conv(20, 20, 3) + _conv(20, 20, 3)
    f_l = _conv(80, 40, 3) + _conv(40, 20, 3) + _conv(20, 3, 5)
    net = deblurzoo.create_model("ifirnn_c1h1")
    assert sum(p.numel() for p in net.parameters()) == f_b + f_r + f_h + f_l == 836_623


@pytest.mark.parametrize("residual", [False, True])
def test_ifirnn_forward_backward_shapes(residual: bool) -> None:
    net = deblurzoo.create_model(
        "ifirnn_c1h1", channels=(4, 8, 12), hidden=4, num_resblocks=1, residual=residual
    )
    blur = torch.rand(2, 3, 3, 16, 24, requires_grad=True)
    out = net(blur)
    assert out.shape == blur.shape
    out.mean().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_ifirnn_is_causal_and_recurrent() -> None:
    """Frame t depends on frames ≤ t only, and does depend on earlier frames (hidden state)."""
    torch.manual_seed(0)
    net = deblurzoo.create_model("ifirnn_c1h1", channels=(4, 8, 12), hidden=4, num_resblocks=1)
    assert_causal_and_recurrent(net)
    assert net.recurrent and net.spatial_multiple == 4
