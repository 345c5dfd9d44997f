"""RIRN: the twenty host × add-on models, the add-ons' sizes from Tables S3/S4, the shared loop."""

from __future__ import annotations

import itertools

import pytest
import torch

import deblurzoo
from deblurzoo.models import restore
from deblurzoo.models.rirn import HOSTS, attach_addons, variant_name

VARIANTS = [
    variant_name(h, i, a) for h, i, a in itertools.product(HOSTS, (False, True), (False, True))
]

# (state channels c of h_t, feature channels c of f_t) of each host at its paper configuration.
HOST_CHANNELS = {
    "ifirnn_c1h1": (20, 80),  # Table S1 hidden 20; F_R width 60 + 20
    "strcnn": (32, 64),  # fed-back f_n 32; decoder features 64
    "rdbn": (16, 80),  # ESTRNN B15C80: hidden 16, trunk 80
    "conv_gru": (20, 60),  # Table S2 outputs h_t 20, f_t 60
    "conv_lstm": (40, 60),  # Table S1 h_t 20 plus cell memory 20; f_t 60
}


def _params(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def _irm_params(c: int) -> int:
    """Table S3: three 3×3 convs 2c→2c, ResBlock(2c), 3×3 conv 2c→c, ResBlock(c)."""
    conv = lambda cin, cout, k: cin * cout * k * k + cout  # noqa: E731
    return (
        3 * conv(2 * c, 2 * c, 3)
        + 2 * conv(2 * c, 2 * c, 3)
        + conv(2 * c, c, 3)
        + 2 * conv(c, c, 3)
    )


def _atb_params(c: int) -> int:
    """Table S4: 3×3 conv 2c→2c, then two paths of 3×3 conv c→c and 1×1 conv c→c."""
    conv = lambda cin, cout, k: cin * cout * k * k + cout  # noqa: E731
    return conv(2 * c, 2 * c, 3) + 2 * (conv(c, c, 3) + conv(c, c, 1))


def test_all_twenty_variants_are_registered() -> None:
    assert len(VARIANTS) == 20
    assert set(VARIANTS) <= set(deblurzoo.list_models())
    assert "rdbn+irm+atb" in VARIANTS and "conv_lstm+atb" in VARIANTS


@pytest.mark.parametrize("host", HOSTS)
def test_addon_overhead_matches_tables_s3_s4(host: str) -> None:
    hidden, features = HOST_CHANNELS[host]
    with torch.device("meta"):
        base = _params(deblurzoo.create_model(host))
        irm = _params(deblurzoo.create_model(f"{host}+irm"))
        atb = _params(deblurzoo.create_model(f"{host}+atb"))
        both = _params(deblurzoo.create_model(f"{host}+irm+atb"))
    assert irm - base == _irm_params(hidden) == 216 * hidden**2 + 13 * hidden
    assert atb - base == _atb_params(features) == 56 * features**2 + 6 * features
    assert both - base == _irm_params(hidden) + _atb_params(features)


def test_rirn_switches_build_the_same_model_as_the_name() -> None:
    by_name = deblurzoo.create_model("strcnn+irm")
    by_switch = deblurzoo.create_model("rirn", host="strcnn", irm=True, atb=False)
    assert by_switch.atb is None and by_switch.irm is not None
    assert _params(by_name) == _params(by_switch)
    with pytest.raises(KeyError, match="unknown RIRN host 'gru'"):
        deblurzoo.create_model("rirn", host="gru")


@pytest.mark.parametrize("name", VARIANTS)
def test_every_variant_restores_recurrently_at_any_size(name: str) -> None:
    """Forward/backward on a 18×22 clip (not a multiple of 4: padded and cropped generically);
    the last restored frame depends on frame 0 only through the carried state."""
    torch.manual_seed(0)
    net = deblurzoo.create_model(name)
    clip = torch.rand(1, 6, 3, 18, 22)
    out = restore(net, clip)
    first, last = net.border_frames
    assert out.shape == (1, 6 - first - last, 3, 18, 22)
    out.mean().backward()
    net.eval()
    changed = clip.clone()
    changed[:, 0] = torch.rand(1, 3, 18, 22)
    with torch.no_grad():
        assert not torch.equal(restore(net, clip)[:, -1], restore(net, changed)[:, -1])


def test_atb_can_amplify_and_attenuate() -> None:
    """Two independent sigmoid maps: the blend of two equal inputs is not confined to them."""
    torch.manual_seed(0)
    net = attach_addons(
        deblurzoo.create_model("ifirnn_c1h1", channels=(4, 8, 12), hidden=4), False, True
    )
    features = torch.ones(1, net.feature_channels, 4, 4)
    for bias, gain in ((10.0, 2.0), (-10.0, 0.0)):  # both maps open: amplify; both shut: attenuate
        with torch.no_grad():
            net.atb.current[-2].bias.fill_(bias)
            net.atb.previous[-2].bias.fill_(bias)
        assert torch.allclose(net.atb(features, features), gain * features, atol=1e-3)


@pytest.mark.parametrize("host", HOSTS)
def test_residual_hosts_start_as_the_identity(host: str) -> None:
    """``residual=True`` adds the blurry frame and zeroes the decoder's last layer, so every
    untrained host returns its input frames; without it the output is offset by 0.5."""
    clip = torch.rand(1, 6, 3, 16, 16)
    first, last = deblurzoo.create_model(host).border_frames
    with torch.no_grad():
        residual = deblurzoo.create_model(host, residual=True).eval()(clip)
        plain = deblurzoo.create_model(host).eval()(clip)
    assert torch.equal(residual, clip[:, first : clip.shape[1] - last])
    assert not torch.allclose(plain, residual)
