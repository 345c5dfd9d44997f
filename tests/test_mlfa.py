"""Brehm, Scherer & Lienhart (CVPRW 2020), stage 1 (atrous net), stage 2 (MLFA) and the dual-stage
model: shapes, the atrous block's 11×11 receptive field, the layers' conventions, stage 2's
neighbour frames and border clamping, the frozen stage 1, checkpoints and parameter counts."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurzoo import create_model, list_models
from deblurzoo.models import restore
from deblurzoo.models.mlfa import AtrousBlock, PlainBlock, ScaledConv2d, ScaledConvTranspose2d
from deblurzoo.models.mlfa import stage1 as stage1_module
from deblurzoo.models.mlfa import stage2 as stage2_module
from deblurzoo.models.mlfa.layers import fuse_kernel

TINY1 = dict(width=4, num_blocks=2, atrous_width=4, block_width=8)
TINY2 = dict(width=4, num_blocks=1)
TINY = {
    "mlfa_stage1": TINY1,
    "mlfa_stage1_plain": dict(width=4, num_blocks=2, block_width=16),
    "mlfa_stage2": TINY2,
    "mlfa_stage2_single": TINY2,
    "mlfa": dict(stage1=TINY1, stage2=TINY2),
}
CODE1, CODE2 = stage1_module.CODE_OPTIONS, stage2_module.CODE_OPTIONS
CODE_VARIANTS = {
    "mlfa_stage1+code": ("mlfa_stage1", {**TINY1, **CODE1}),
    "mlfa_stage2+code": ("mlfa_stage2", {**TINY2, **CODE2}),
    "mlfa+code": (
        "mlfa",
        dict(stage1={**TINY1, **CODE1}, stage2={**TINY2, **CODE2}, quantize_stage1=False),
    ),
}
CASES = {**{name: (name, kwargs) for name, kwargs in TINY.items()}, **CODE_VARIANTS}


def _tiny(name: str, seed: int = 0, **kwargs) -> nn.Module:
    torch.manual_seed(seed)
    return create_model(name, **{**TINY[name], **kwargs})


def _params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def _conv(cin: int, cout: int, k: int) -> int:
    """One layer of either stage: kernel, bias and learned scale (Sec. 3.3)."""
    return cin * cout * k * k + 2 * cout


# --- shapes and the padding contract -------------------------------------------------------------


def test_registry_lists_the_family() -> None:
    assert list_models("mlfa*") == sorted(TINY)


@pytest.mark.parametrize("case", sorted(CASES))
def test_shapes_and_gradients(case: str) -> None:
    name, kwargs = CASES[case]
    torch.manual_seed(0)
    net = create_model(name, **kwargs)
    assert not net.recurrent and tuple(net.border_frames) == (0, 0)
    blur = torch.rand(2, 3, 3, 32, 48)
    out = net(blur)
    assert out.shape == blur.shape
    out.mean().backward()
    trainable = [p for p in net.parameters() if p.requires_grad]
    assert trainable and all(p.grad is not None for p in trainable)


@pytest.mark.parametrize("name", sorted(TINY))
def test_restore_pads_sizes_off_the_spatial_multiple(name: str) -> None:
    """35×50 is no multiple of 2, 8 or 16: the net refuses it, ``restore`` pads and crops."""
    net = _tiny(name).eval()
    expected = {"mlfa_stage1": 2, "mlfa_stage1_plain": 8}.get(name, 16)
    assert net.spatial_multiple == expected
    clip = torch.rand(1, 3, 3, 35, 50)
    with pytest.raises(ValueError, match=f"divisible by {expected}"):
        net(clip)
    with torch.no_grad():
        assert restore(net, clip).shape == clip.shape


# --- layers --------------------------------------------------------------------------------------


def test_conv_adds_bias_then_scales_and_pads_by_reflection() -> None:
    conv = ScaledConv2d(1, 1, 3, act=False)
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.fill_(1.0)
        conv.scale.fill_(2.0)
    assert torch.equal(conv(torch.zeros(1, 1, 5, 5)), torch.full((1, 1, 5, 5), 2.0))  # (0+1)·2
    with torch.no_grad():
        conv.weight.fill_(1.0)
        conv.bias.zero_()
        conv.scale.fill_(1.0)
    # A constant image stays constant under reflection (zero padding would darken the border).
    assert torch.equal(conv(torch.ones(1, 1, 5, 5)), torch.full((1, 1, 5, 5), 9.0))
    leaky = ScaledConv2d(1, 1, 1)
    with torch.no_grad():
        leaky.weight.fill_(1.0)
    assert leaky(-torch.ones(1, 1, 2, 2)).flatten()[0].item() == pytest.approx(-0.2)


def test_fused_kernels_are_the_3x3_blurred_by_a_2x2_box() -> None:
    weight = torch.randn(2, 3, 3, 3, dtype=torch.float64)
    box = torch.ones(1, 1, 2, 2, dtype=torch.float64)
    full = F.conv2d(weight.reshape(6, 1, 3, 3), box, padding=1).reshape(2, 3, 4, 4)
    assert torch.allclose(fuse_kernel(weight, 0.25), 0.25 * full)
    for fused in (False, True):
        down = ScaledConv2d(3, 5, 3, stride=2, fused=fused, fused_gain=0.25)
        up = ScaledConvTranspose2d(5, 3, 3, fused=fused)
        x = torch.rand(1, 3, 12, 20)
        assert down(x).shape == (1, 5, 6, 10) and up(down(x)).shape == x.shape
    assert ScaledConv2d(3, 5, 3, stride=2, fused=True).effective_weight().shape[-2:] == (4, 4)


def test_unit_norm_normalises_filters_and_transposed_input_channels() -> None:
    conv = ScaledConv2d(3, 5, 3, stride=2, fused=True, unit_norm=True)
    norms = conv.effective_weight().flatten(1).norm(dim=1)  # per output filter
    assert torch.allclose(norms, torch.ones(5), atol=1e-4)
    deconv = ScaledConvTranspose2d(5, 3, 3, fused=True, unit_norm=True)
    norms = deconv.effective_weight().flatten(1).norm(dim=1)  # per *input* channel, as the code
    assert norms.shape == (5,) and torch.allclose(norms, torch.ones(5), atol=1e-4)


def test_rotation_tied_stem_is_rotation_equivariant() -> None:
    """Four quarter turns of one kernel: rotating the image rotates the output and moves each
    rotation's channels to the next block."""
    torch.manual_seed(0)
    stem = ScaledConv2d(3, 8, 7, rotations=4).double()
    assert stem.weight.shape == (2, 3, 7, 7) and stem.bias.shape == (8,)
    x = torch.rand(1, 3, 16, 16, dtype=torch.float64)
    turned = stem(torch.rot90(x, -1, dims=(2, 3)))
    expected = torch.rot90(stem(x), -1, dims=(2, 3)).roll(2, dims=1)
    assert torch.allclose(turned, expected)


# --- stage 1 --------------------------------------------------------------------------------------


def _footprint(module: nn.Module, size: int) -> Tensor:
    """Input pixels whose gradient is non-zero for the centre output pixel (all channels)."""
    x = torch.rand(1, 3, size, size, dtype=torch.float64, requires_grad=True)
    module(x)[0, :, size // 2, size // 2].sum().backward()
    return x.grad.abs().sum(dim=(0, 1)) > 0


def test_atrous_block_sees_11x11_pixels() -> None:
    """Fig. 3: 3×3 kernels at rates 1–4, then a 3×3 conv — an 11×11 square short of 8 pixels
    (offsets a + b·d per axis, a, b ∈ {−1, 0, 1}, the same d for both axes); two blocks 21×21."""
    torch.manual_seed(0)
    block = AtrousBlock(3, 3, branch_width=2).double()
    seen = _footprint(block, 15)
    offsets = {
        (a1 + b1 * d, a2 + b2 * d)
        for d in (1, 2, 3, 4)
        for a1 in (-1, 0, 1) for a2 in (-1, 0, 1) for b1 in (-1, 0, 1) for b2 in (-1, 0, 1)
    }  # fmt: skip
    expected = torch.zeros(15, 15, dtype=torch.bool)
    for dy, dx in offsets:
        expected[7 + dy, 7 + dx] = True
    assert torch.equal(seen, expected) and int(seen.sum()) == 113
    rows, cols = seen.nonzero().unbind(1)
    assert (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) == (11, 11)
    rows, cols = _footprint(nn.Sequential(block, AtrousBlock(3, 3, 2).double()), 25).nonzero().T
    assert (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) == (21, 21)


def test_stage1_layouts_at_paper_size() -> None:
    """Fig. 4: one stride-2 conv, 20 atrous blocks at rates 1–4, one deconvolution, 9×9 first
    conv. Table 2's baseline: three stride-2 convs and deconvolutions, 12 blocks of 512 filters
    at rate 1, and more parameters than the atrous net (Sec. 4)."""
    with torch.device("meta"):
        atrous, plain = create_model("mlfa_stage1"), create_model("mlfa_stage1_plain")
    for net, downs, block_type, blocks in (
        (atrous, 1, AtrousBlock, 20),
        (plain, 3, PlainBlock, 12),
    ):
        convs = [m for m in net.modules() if isinstance(m, ScaledConv2d)]
        assert sum(c.stride == (2, 2) for c in convs) == downs
        assert sum(isinstance(m, ScaledConvTranspose2d) for m in net.modules()) == downs
        assert [type(b) for b in net.blocks] == [block_type] * blocks
        assert net.head.kernel_size == (9, 9)
    assert [c.dilation[0] for c in atrous.blocks[5].branches] == [1, 2, 3, 4]
    assert atrous.blocks[5].fuse.in_channels == 512 and atrous.blocks[5].fuse.out_channels == 256
    assert {c.dilation for c in plain.modules() if isinstance(c, ScaledConv2d)} == {(1, 1)}
    assert {b.body[1].out_channels for b in plain.blocks} == {512}
    assert _params(plain) > _params(atrous)


@pytest.mark.parametrize("name", ["mlfa_stage1", "mlfa_stage2"])
def test_global_residual_in_the_unit_range(name: str) -> None:
    """With a zero output layer the net returns its input: the [−1, 1] mapping is inverted."""
    net = _tiny(name)
    last = net.tail[-1] if name == "mlfa_stage1" else net.output
    with torch.no_grad():
        last.weight.zero_()
    clip = torch.rand(1, 2, 3, 32, 32)
    assert torch.allclose(net(clip), clip, atol=1e-6)


# --- stage 2 -------------------------------------------------------------------------------------


def test_stage2_uses_frames_t_minus_1_and_t_plus_1_only() -> None:
    net = _tiny("mlfa_stage2").double()
    clip = torch.rand(1, 5, 3, 32, 32, dtype=torch.float64)
    changed = clip.clone()
    changed[:, 3] += 0.5  # frame 3 is t+1 of output 2, t−1 of output 4, t+2 of output 1
    with torch.no_grad():
        diff = (net(clip) - net(changed)).abs().amax(dim=(0, 2, 3, 4))
    assert diff[2] > 1e-6 and diff[3] > 1e-6 and diff[4] > 1e-6
    assert diff[0] == 0 and diff[1] == 0
    single = _tiny("mlfa_stage2_single").double()
    with torch.no_grad():
        diff = (single(clip) - single(changed)).abs().amax(dim=(0, 2, 3, 4))
    assert diff[3] > 1e-6 and torch.count_nonzero(diff) == 1


def test_stage2_clamps_neighbours_at_the_clip_borders() -> None:
    """Every frame is restored; frame 0 is its own t−1 and the last frame its own t+1."""
    net = _tiny("mlfa_stage2").double()
    f = torch.rand(1, 4, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        out = net(f)
        first = net(f[:, [0, 0, 1]])[:, 1]
        middle = net(f[:, [1, 2, 3]])[:, 1]
        last = net(f[:, [2, 3, 3]])[:, 1]
    assert torch.allclose(out[:, 0], first) and torch.allclose(out[:, 2], middle)
    assert torch.allclose(out[:, 3], last)
    assert not torch.allclose(out[:, 0], net(f[:, [1, 0, 1]])[:, 1])


def test_stage2_fuses_unit_features_reweighted_by_cosine_similarity() -> None:
    """At every level the fusion conv sees [u₋·s₋, u, u₊·s₊] with unit u and s = u₋·u, hence
    ‖u‖ = 1 and u₋s₋ · u = s₋² = ‖u₋s₋‖² per pixel (Sec. 3.2, Eq. 1)."""
    net = _tiny("mlfa_stage2").double()
    seen = []
    for fusion in net.fusion:
        fusion.register_forward_pre_hook(lambda _, args: seen.append(args[0]))
    with torch.no_grad():
        net(torch.rand(1, 3, 3, 32, 32, dtype=torch.float64))
    assert len(seen) == 4
    for features in seen:
        before, centre, after = features.chunk(3, dim=1)
        assert torch.allclose(centre.norm(dim=1), torch.ones((), dtype=torch.float64))
        for other in (before, after):
            assert torch.allclose((other * centre).sum(dim=1), other.square().sum(dim=1))
        assert not torch.allclose(before.norm(dim=1), torch.ones((), dtype=torch.float64))


# --- the dual-stage model ------------------------------------------------------------------------


def test_stage1_stays_frozen_while_stage2_trains() -> None:
    net = _tiny("mlfa").train()
    assert net.training and net.stage2.training
    assert not any(m.training for m in net.stage1.modules())
    assert not any(p.requires_grad for p in net.stage1.parameters())
    frozen = {k: v.clone() for k, v in net.stage1.state_dict().items()}
    trained = [p.clone() for p in net.stage2.parameters()]
    # Every parameter, as VideoRestorationModule.configure_optimizers passes them.
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-2, weight_decay=0.1)
    blur, sharp = torch.rand(2, 3, 3, 32, 32), torch.rand(2, 3, 3, 32, 32)
    (net(blur) - sharp).abs().mean().backward()
    optimizer.step()
    assert all(p.grad is None for p in net.stage1.parameters())
    assert all(torch.equal(v, frozen[k]) for k, v in net.stage1.state_dict().items())
    assert any(not torch.equal(p, q) for p, q in zip(net.stage2.parameters(), trained, strict=True))
    assert not net.stage1.training and not net.train(True).stage1.training


@pytest.mark.parametrize("quantize", [True, False])
def test_stage2_sees_clipped_stage1_frames(quantize: bool) -> None:
    net = _tiny("mlfa", quantize_stage1=quantize)
    seen = []
    net.stage2.register_forward_pre_hook(lambda _, args: seen.append(args[0]))
    blur = torch.rand(1, 3, 3, 32, 32)
    with torch.no_grad():
        net(blur)
        expected = net.stage1(blur).clamp(0, 1)
    levels = seen[0] * 255
    assert seen[0].min() >= 0 and seen[0].max() <= 1
    if quantize:
        assert torch.allclose(levels, levels.round(), atol=1e-4)
        assert torch.allclose(seen[0], expected, atol=0.5 / 255 + 1e-6)
    else:
        assert torch.equal(seen[0], expected)
        assert not torch.allclose(levels, levels.round(), atol=1e-4)


def test_stage1_checkpoints_load_in_both_formats(tmp_path) -> None:
    trained = _tiny("mlfa_stage1", seed=1)
    state = trained.state_dict()
    plain = tmp_path / "stage1.pt"
    torch.save(state, plain)
    lightning = tmp_path / "stage1.ckpt"
    torch.save(
        {
            "state_dict": {**{f"net.{k}": v for k, v in state.items()}, "loss.eps": torch.ones(1)},
            "hyper_parameters": {"net": {"name": "mlfa_stage1", **TINY1}},
            "epoch": 3,
        },
        lightning,
    )
    assert not torch.equal(_tiny("mlfa").stage1.head.weight, trained.head.weight)
    for path in (plain, lightning):
        net = _tiny("mlfa", stage1_checkpoint=str(path))
        loaded = net.stage1.state_dict()
        assert loaded.keys() == state.keys()
        assert all(torch.equal(loaded[k], v) for k, v in state.items())
        assert not any(p.requires_grad for p in net.stage1.parameters())
    missing = tmp_path / "no" / "stage1.ckpt"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        _tiny("mlfa", stage1_checkpoint=str(missing))


# --- parameter counts -----------------------------------------------------------------------------


def _stage1_code_params() -> tuple[int, int]:
    """docs/reference_code.md (MLFA, stage 1), layer by layer (the transposed conv counts alike)."""

    def atrous(cin: int) -> int:  # four 3×3 branches of 128, then 3×3 512 → 256
        return 4 * _conv(cin, 128, 3) + _conv(512, 256, 3)

    blocks = atrous(128) + _conv(128, 256, 1) + 19 * atrous(256)  # first block: 1×1 projection
    total = (
        _conv(3, 64, 7)  # first conv, 7×7 in the code
        + _conv(64, 128, 3)  # stride-2 conv
        + blocks
        + _conv(256 + 128, 128, 3)  # deconvolution of [blocks, stride-2 skip]
        + _conv(128, 64, 3)
        + _conv(64, 3, 3)
    )
    return total, blocks


def _stage2_code_params(frames: int = 3) -> int:
    """docs/reference_code.md (MLFA, stage 2), layer by layer."""

    def level(c: int) -> int:  # c: the level's encoder width
        fusion = _conv(frames * c, 2 * c, 3)
        first_block = _conv(2 * c, c, 3) + _conv(c, c, 3) + _conv(2 * c, c, 1)  # + projection
        return fusion + first_block + 2 * 2 * _conv(c, c, 3) + _conv(c, c, 3)  # 2 blocks, deconv

    stem = 16 * 3 * 7 * 7 + 2 * 64  # one 16-filter kernel in 4 rotations → 64 channels
    encoder = _conv(64, 64, 3) + _conv(64, 128, 3) + _conv(128, 256, 3) + _conv(256, 512, 3)
    return stem + encoder + sum(level(c) for c in (512, 256, 128, 64)) + _conv(64, 3, 3)


def test_parameter_counts_match_the_released_code_and_the_paper() -> None:
    code1, code1_blocks = _stage1_code_params()
    code2 = _stage2_code_params()
    assert (code1, code1_blocks, code2) == (47_261_830, 46_660_096, 46_174_966)
    assert _conv(3 * 512, 1024, 3) == 14_157_824  # the 1/16 fusion conv, "14.2 M"
    # The paper: 9×9 first conv; stage 2 without the stem, its first stride-2 conv on RGB.
    paper1 = code1 + (9 * 9 - 7 * 7) * 3 * 64
    paper2 = code2 - (16 * 3 * 7 * 7 + 2 * 64) - _conv(64, 64, 3) + _conv(3, 64, 3)
    single2 = paper2 - (_stage2_code_params(3) - _stage2_code_params(1))
    with torch.device("meta"):
        counts = {
            "code1": _params(create_model("mlfa_stage1", **CODE1)),
            "code2": _params(create_model("mlfa_stage2", **CODE2)),
            "paper1": _params(create_model("mlfa_stage1")),
            "paper2": _params(create_model("mlfa_stage2")),
            "single2": _params(create_model("mlfa_stage2_single")),
            "mlfa": _params(create_model("mlfa")),
        }
    assert counts == {
        "code1": code1,
        "code2": code2,
        "paper1": paper1,
        "paper2": paper2,
        "single2": single2,
        "mlfa": paper1 + paper2,
    }
    assert (round(code1 / 1e6, 2), round(code2 / 1e6, 2)) == (47.26, 46.17)  # reference_code.md
    assert (paper1, paper2, single2) == (47_267_974, 46_137_350, 33_603_590)
