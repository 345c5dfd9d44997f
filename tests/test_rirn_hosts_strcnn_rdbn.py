"""The STRCNN (w/o DTB) and RDBN hosts of RIRN (supplementary Sec. S2.1)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from deblurzoo.models.rirn.rdbn import RDBN
from deblurzoo.models.rirn.recurrent_host import RecurrentHost
from deblurzoo.models.rirn.strcnn import STRCNN
from tests.recurrence import assert_causal_and_recurrent

TINY_STRCNN = dict(channels=8, feedback=4, num_blocks=1, window=5)
TINY_RDBN = dict(n_features=4, n_blocks=2, n_layers=2)


def _conv(cin: int, cout: int, k: int) -> int:
    return cin * cout * k * k + cout


def _rdb(c: int, growth: int, layers: int = 3) -> int:
    """Dense 3×3 convs each adding ``growth`` channels, then 1×1 back to ``c``."""
    return sum(_conv(c + i * growth, growth, 3) for i in range(layers)) + _conv(
        c + layers * growth, c, 1
    )


def _count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


# ---------------------------------------------------------------------------------------- STRCNN


def _strcnn_count(dtb: bool) -> int:
    """ESTRNN's port (docs/reference_code.md, RIRN hosts): 5×5 15→64, 3×3 64→32 s2; 4 + 4 BN
    ResBlocks(64); f_n 3×3 64→32; ConvT 4×4 64→64, 3×3 64→3; DTB = 5×5 128→64 and a scalar β."""
    encoder = _conv(15, 64, 5) + _conv(64, 32, 3)
    bn_resblock = 2 * _conv(64, 64, 3) + 2 * (2 * 64)  # two convs, two BNs (weight + bias)
    blocks = 8 * bn_resblock
    decoder = _conv(64, 32, 3) + _conv(64, 64, 4) + _conv(64, 3, 3)
    dtb_params = _conv(128, 64, 5) + 1 if dtb else 0
    return encoder + blocks + decoder + dtb_params


def test_strcnn_parameter_count() -> None:
    assert _count(STRCNN()) == _strcnn_count(dtb=False) == 721_219
    assert _count(STRCNN(dtb=True)) == _strcnn_count(dtb=True) == 926_084
    # ESTRNN's port measures 0.926 M with DTB, its β not being a parameter (docs/reference_code.md)
    assert round((_count(STRCNN(dtb=True)) - 1) / 1e6, 3) == 0.926


@pytest.mark.parametrize("dtb", [False, True])
def test_strcnn_forward_backward_shapes(dtb: bool) -> None:
    net = STRCNN(**TINY_STRCNN, dtb=dtb)
    assert isinstance(net, RecurrentHost) and net.recurrent
    assert net.border_frames == (2, 2) and net.spatial_multiple == 2
    blur = torch.rand(2, 6, 3, 16, 24, requires_grad=True)
    out = net(blur)
    assert out.shape == (2, 2, 3, 16, 24)  # T − 4 frames
    out.mean().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_strcnn_dtb_beta_is_a_learnable_parameter() -> None:
    net = STRCNN(**TINY_STRCNN, dtb=True)
    names = dict(net.named_parameters())
    assert "dtb.beta" in names and names["dtb.beta"].shape == (1,)
    assert names["dtb.beta"].item() == 0.0
    assert "dtb.beta" in net.state_dict()
    net(torch.rand(1, 6, 3, 16, 16)).mean().backward()
    assert names["dtb.beta"].grad is not None
    assert STRCNN(**TINY_STRCNN).dtb is None  # the RIRN host: no DTB


@pytest.mark.parametrize("dtb", [False, True])
def test_strcnn_is_online_and_recurrent(dtb: bool) -> None:
    """Output n (frame n + 2) sees frames n..n+4 directly; frame 0 reaches output 1 (window 1..5)
    only through the fed-back state; frame 5 cannot reach output 0."""
    torch.manual_seed(0)
    net = STRCNN(**TINY_STRCNN, dtb=dtb).eval()
    blur = torch.rand(1, 6, 3, 16, 16)
    first, last = blur.clone(), blur.clone()
    first[:, 0] = torch.rand(1, 3, 16, 16)
    last[:, 5] = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        a, b, c = net(blur), net(first), net(last)
    assert not torch.allclose(a[:, 1], b[:, 1])  # through the recurrence only
    assert torch.equal(a[:, 0], c[:, 0])
    assert not torch.allclose(a[:, 1], c[:, 1])


def test_strcnn_rejects_even_window() -> None:
    with pytest.raises(ValueError, match="odd"):
        STRCNN(window=4)


# ------------------------------------------------------------------------------------------ RDBN


def test_rdbn_parameter_count_b15c80() -> None:
    """ESTRNN's layers (docs/reference_code.md, RIRN hosts) with n_features 16: F_B, F_R (15
    RDBs at 80, growth 32), F_h, reconstructor 80→32→16→3."""
    f_b = (
        _conv(3, 16, 5)
        + _rdb(16, 16) + _conv(16, 32, 5)
        + _rdb(32, 24) + _conv(32, 64, 5)
    )  # fmt: skip
    f_r = 15 * _rdb(80, 32) + _conv(1200, 80, 1) + _conv(80, 80, 3)
    f_h = _conv(80, 16, 3) + _rdb(16, 16) + _conv(16, 16, 3)
    reconstructor = _conv(80, 32, 3) + _conv(32, 16, 3) + _conv(16, 3, 5)
    expected = f_b + f_r + f_h + reconstructor
    assert _count(RDBN()) == expected == 1_996_731
    # adding GSA back (two Linears, three 1×1 convs, the 400→400 fusion) and widening the first
    # ConvT to 400 inputs gives ESTRNN B15C80's measured 2.468 M (docs/reference_code.md)
    gsa = (160 * 320 + 320) + (320 * 160 + 160) + _conv(160, 320, 1) + _conv(320, 160, 1)
    gsa += _conv(160, 80, 1) + _conv(400, 400, 1)
    assert round((expected + gsa + (400 - 80) * 32 * 9) / 1e6, 3) == 2.468


def test_rdbn_forward_backward_shapes() -> None:
    net = RDBN(**TINY_RDBN)
    assert isinstance(net, RecurrentHost) and net.recurrent
    assert net.border_frames == (0, 0) and net.spatial_multiple == 4
    blur = torch.rand(2, 3, 3, 16, 24, requires_grad=True)
    out = net(blur)
    assert out.shape == blur.shape
    out.mean().backward()
    assert all(p.grad is not None for p in net.parameters())


@pytest.mark.parametrize(
    ("make", "channels", "t", "scale"),
    [
        (lambda: STRCNN(**TINY_STRCNN), (8, 4), 2, 2),
        (lambda: STRCNN(**TINY_STRCNN, dtb=True), (8, 4 + 8), 2, 2),
        (lambda: RDBN(**TINY_RDBN), (20, 4), 0, 4),
    ],
    ids=["strcnn", "strcnn+dtb", "rdbn"],
)
def test_protocol_channels_match_step(make, channels, t: int, scale: int) -> None:
    net = make().eval()
    assert (net.feature_channels, net.hidden_channels) == channels
    clip = torch.rand(1, 5, 3, 16, 16)
    hidden = net.initial_hidden(clip)
    assert hidden.shape == (1, net.hidden_channels, 16 // scale, 16 // scale) and not hidden.any()
    with torch.no_grad():
        features, new_hidden = net.step(clip, t, hidden)
        frame = net.decode(features)
    assert features.shape == (1, net.feature_channels, 16 // scale, 16 // scale)
    assert new_hidden.shape == hidden.shape
    assert frame.shape == (1, 3, 16, 16)


def test_rdbn_is_causal_and_recurrent() -> None:
    torch.manual_seed(0)
    net = RDBN(**TINY_RDBN).eval()
    blur = torch.rand(1, 4, 3, 16, 16)
    first = blur.clone()
    first[:, 0] = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert not torch.allclose(net(blur)[:, 2], net(first)[:, 2])  # frame 0 reaches frame 2
    assert_causal_and_recurrent(net)


def test_rdbn_activation_choice() -> None:
    assert any(isinstance(m, nn.GELU) for m in RDBN(**TINY_RDBN).modules())
    relu = RDBN(**TINY_RDBN, activation="relu")
    assert any(isinstance(m, nn.ReLU) for m in relu.modules())
    assert not any(isinstance(m, nn.GELU) for m in relu.modules())
    with pytest.raises(ValueError, match="activation"):
        RDBN(activation="swish")
