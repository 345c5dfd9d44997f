"""The gated RIRN hosts built from IFI-RNN C1H1: ConvGRU (Table S2) and ConvLSTM (Table S1)."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from deblurzoo.models.rirn.conv_gru import ConvGRU
from deblurzoo.models.rirn.conv_lstm import ConvLSTM
from tests.recurrence import assert_causal_and_recurrent

HOSTS = [ConvGRU, ConvLSTM]
TINY = {"channels": (4, 8, 12), "hidden": 4}


def _conv(cin: int, cout: int, k: int) -> int:
    return cin * cout * k * k + cout


def _count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def _tiny(cls, seed: int = 0, **kwargs):
    torch.manual_seed(seed)
    return cls(**TINY, **kwargs).eval()


def _force_gate(gates: nn.Conv2d, channels: slice, open_: bool) -> None:
    """Pin the gate computed from ``channels`` of ``gates`` to exactly 1 (open) or 0 (closed)."""
    with torch.no_grad():
        gates.weight[channels] = 0
        gates.bias[channels] = 1e4 if open_ else -1e4  # sigmoid(±1e4) is exactly 1 / 0


def _outputs_with_frame0_changed(net: nn.Module, frames: int = 3) -> tuple[Tensor, Tensor]:
    torch.manual_seed(1)
    blur = torch.rand(1, frames, 3, 16, 16)
    changed = blur.clone()
    changed[:, 0] = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        return net(blur), net(changed)


# --- parameter counts, from the tables' rows ------------------------------------------------------

ENCODER = _conv(3, 20, 5) + _conv(20, 40, 5) + _conv(40, 60, 5)  # 5×5: 3→20→40→60
DECODER = _conv(60, 40, 3) + _conv(40, 20, 3) + _conv(20, 3, 5)  # IFI-RNN's F_L from 60 channels


def test_conv_gru_parameter_count_from_table_s2() -> None:
    gates = _conv(80, 80, 5)  # concat 80 → conv 5×5 80 → split 60 (update) + 20 (reset)
    candidate = _conv(80, 60, 5)  # concat [e_t, r ⊙ h] 80 → conv 5×5 60, tanh
    f_h = _conv(60, 20, 3) + 2 * _conv(20, 20, 3) + _conv(20, 20, 3)  # conv, ResBlock, conv
    assert _count(ConvGRU()) == ENCODER + gates + candidate + f_h + DECODER == 413_803


def test_conv_lstm_parameter_count_from_table_s1() -> None:
    gates = _conv(80, 80, 5)  # concat 80 → conv 5×5 80 → split 4 × 20
    to_features = _conv(20, 60, 3)  # h_t → f_t (60): the one layer Table S1 does not list
    assert _count(ConvLSTM()) == ENCODER + gates + to_features + DECODER == 282_923


# --- the protocol ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", HOSTS)
def test_default_widths_match_the_tables(cls) -> None:
    net = cls()
    assert net.feature_channels == 60
    assert net.hidden_channels == (20 if cls is ConvGRU else 40)  # LSTM carries cat(h, c)
    assert net.spatial_multiple == 4 and net.border_frames == (0, 0) and net.recurrent


@pytest.mark.parametrize("cls", HOSTS)
def test_protocol_attributes_match_step_shapes(cls) -> None:
    net = _tiny(cls)
    clip = torch.rand(2, 3, 3, 16, 24)
    hidden = net.initial_hidden(clip)
    assert hidden.shape == (2, net.hidden_channels, 4, 6) and not hidden.any()
    with torch.no_grad():
        for t in range(clip.shape[1]):
            features, hidden = net.step(clip, t, hidden)
            assert features.shape == (2, net.feature_channels, 4, 6)
            assert hidden.shape == (2, net.hidden_channels, 4, 6)
            assert net.decode(features).shape == (2, 3, 16, 24)


class _Average(nn.Module):
    """Stands in for ATB / IRM: any module mapping (new, previous) to new's shape."""

    def forward(self, new: Tensor, previous: Tensor) -> Tensor:
        return 0.5 * (new + previous)


@pytest.mark.parametrize("cls", HOSTS)
def test_runs_with_addon_hooks(cls) -> None:
    net = _tiny(cls)
    net.atb, net.irm = _Average(), _Average()
    blur = torch.rand(1, 3, 3, 16, 16)
    with torch.no_grad():
        assert net(blur).shape == blur.shape


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("cls", HOSTS)
def test_forward_backward(cls, residual: bool) -> None:
    net = cls(**TINY, residual=residual)
    blur = torch.rand(2, 3, 3, 16, 24, requires_grad=True)
    out = net(blur)
    assert out.shape == blur.shape
    if residual:  # the decoder's last layer starts at zero: the untrained net is the identity
        assert torch.equal(out, blur)
    out.mean().backward()
    assert all(p.grad is not None for p in net.parameters())
    assert blur.grad is not None


@pytest.mark.parametrize("cls", HOSTS)
def test_causal_and_recurrent(cls) -> None:
    """Frame t depends on frames ≤ t only, and on earlier frames through the state."""
    assert_causal_and_recurrent(_tiny(cls), seed=1)


# --- the gates sit where the tables put them ------------------------------------------------


def test_gru_update_gate_closed_passes_the_encoder_features() -> None:
    """z = 0: f_t = e_t exactly, so the output is frame-wise (the past enters only via z)."""
    net = _tiny(ConvGRU)
    _force_gate(net.gates, slice(0, 12), open_=False)  # update gate: first 60 (here 12) channels
    clip = torch.rand(1, 2, 3, 16, 16)
    with torch.no_grad():
        features, _ = net.step(clip, 1, torch.randn(1, 4, 4, 4))
        assert torch.equal(features, net.f_b(clip[:, 1] - 0.5))
    a, b = _outputs_with_frame0_changed(net)
    assert torch.equal(a[:, 1:], b[:, 1:])


@pytest.mark.parametrize("reset_open", [False, True])
def test_gru_reset_gate_controls_the_candidates_access_to_the_state(reset_open: bool) -> None:
    """z = 1: f_t is the candidate tanh(conv[e_t, r ⊙ h_{t-1}]); with r = 0 it ignores the past."""
    net = _tiny(ConvGRU)
    _force_gate(net.gates, slice(0, 12), open_=True)
    _force_gate(net.gates, slice(12, 16), open_=reset_open)  # reset gate: last 20 (here 4)
    clip = torch.rand(1, 1, 3, 16, 16)
    with torch.no_grad():
        features, _ = net.step(clip, 0, torch.randn(1, 4, 4, 4))
    assert features.abs().max() <= 1  # tanh candidate
    a, b = _outputs_with_frame0_changed(net)
    assert torch.equal(a[:, 1:], b[:, 1:]) != reset_open


def _lstm_gates(net: ConvLSTM, **gates: bool) -> None:
    """Pin Table S1's gates by name, in its split order: forget, input (tanh), output, reset."""
    order = ["forget", "input", "output", "reset"]
    n = net.hidden_channels // 2
    for name, open_ in gates.items():
        i = order.index(name)
        _force_gate(net.gates, slice(i * n, (i + 1) * n), open_)


def _lstm_step(net: ConvLSTM, h: Tensor, c: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    torch.manual_seed(2)
    clip = torch.rand(1, 1, 3, 16, 16)
    with torch.no_grad():
        features, state = net.step(clip, 0, torch.cat([h, c], dim=1))
    new_h, new_c = state.chunk(2, dim=1)
    return features, new_h, new_c


def test_lstm_forget_open_and_reset_closed_keep_the_cell_memory() -> None:
    """f = 1, i = 0 (the table's "reset gate"): c_t = c_{t-1} exactly."""
    net = _tiny(ConvLSTM)
    _lstm_gates(net, forget=True, reset=False)
    h, c = torch.randn(1, 4, 4, 4), torch.randn(1, 4, 4, 4)
    _, new_h, new_c = _lstm_step(net, h, c)
    assert torch.equal(new_c, c)
    assert (new_h.abs() <= torch.tanh(c).abs()).all()  # h_t = o ⊙ tanh(c_t), o in (0, 1)


def test_lstm_forget_closed_drops_the_cell_memory() -> None:
    """f = 0: c_t = i ⊙ g no longer depends on c_{t-1}; with i = 1 it is the tanh candidate."""
    net = _tiny(ConvLSTM)
    _lstm_gates(net, forget=False, reset=True)
    h = torch.randn(1, 4, 4, 4)
    f1, h1, c1 = _lstm_step(net, h, torch.randn(1, 4, 4, 4))
    f2, h2, c2 = _lstm_step(net, h, torch.randn(1, 4, 4, 4))
    assert torch.equal(c1, c2) and torch.equal(h1, h2) and torch.equal(f1, f2)
    assert c1.abs().max() <= 1 and c1.min() < 0  # Table S1's "input gate" is a tanh


def test_lstm_output_gate_closed_hides_the_memory() -> None:
    """o = 0: h_t = 0, f_t = e_t + bias, and the decoded frames are frame-wise."""
    net = _tiny(ConvLSTM)
    _lstm_gates(net, output=False)
    features, new_h, new_c = _lstm_step(net, torch.randn(1, 4, 4, 4), torch.randn(1, 4, 4, 4))
    assert not new_h.any() and new_c.any()
    torch.manual_seed(2)
    encoded = net.f_b(torch.rand(1, 1, 3, 16, 16)[:, 0] - 0.5)
    assert torch.allclose(features, encoded + net.to_features.bias.view(1, -1, 1, 1))
    a, b = _outputs_with_frame0_changed(net)
    assert torch.equal(a[:, 1:], b[:, 1:])
