"""The geometric self-ensemble: exact transforms, equivariant nets unchanged, eval config wiring."""

from __future__ import annotations

import json
from pathlib import Path

import hydra
import pytest
import torch
from hydra.errors import InstantiationException
from torch import Tensor, nn

from deblurzoo import ensemble
from deblurzoo.ensemble import TRANSFORM_SETS, SelfEnsemble, self_ensemble
from deblurzoo.eval import evaluate
from deblurzoo.models import VideoNet, restore
from deblurzoo.train import train
from tests.conftest import compose_config

SIZES = [4, 6, 8]


def _clip(*shape: int, seed: int = 0) -> Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


class Identity(VideoNet):
    def forward(self, blur: Tensor) -> Tensor:
        return blur


class PerFrameConv(VideoNet):
    """A 2D conv applied to every frame alike; refuses sizes that are not ``spatial_multiple``s."""

    def __init__(self, weight: Tensor, spatial_multiple: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, weight.shape[-1], padding=weight.shape[-1] // 2)
        with torch.no_grad():
            self.conv.weight.copy_(weight)
            self.conv.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
        self.spatial_multiple = spatial_multiple

    def forward(self, blur: Tensor) -> Tensor:
        assert blur.shape[-2] % self.spatial_multiple == 0, blur.shape
        assert blur.shape[-1] % self.spatial_multiple == 0, blur.shape
        return self.conv(blur.flatten(0, 1)).unflatten(0, blur.shape[:2])


def _pointwise(spatial_multiple: int = 1) -> PerFrameConv:
    return PerFrameConv(_clip(3, 3, 1, 1, seed=1) - 0.5, spatial_multiple)


def _symmetric3x3() -> PerFrameConv:
    """Every 3×3 kernel is invariant under all flips and rotations (zero padding is too)."""
    kernel = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16
    return PerFrameConv(_clip(3, 3, 1, 1, seed=2) * kernel)


def _asymmetric3x3() -> PerFrameConv:
    return PerFrameConv(torch.randn(3, 3, 3, 3, generator=torch.Generator().manual_seed(3)))


class RunningMean(VideoNet):
    """A 'recurrent' net: frame t is the mean of frames 0..t, so direction matters."""

    recurrent = True

    def forward(self, blur: Tensor) -> Tensor:
        steps = torch.arange(1, blur.shape[1] + 1, dtype=blur.dtype).view(1, -1, 1, 1, 1)
        return blur.cumsum(1) / steps


class DropBorders(VideoNet):
    """Identity on the frames it restores; its first and last border frames are dropped."""

    def __init__(self, border_frames: tuple[int, int]) -> None:
        super().__init__()
        self.border_frames = border_frames

    def forward(self, blur: Tensor) -> Tensor:
        first, last = self.border_frames
        return blur[:, first : blur.shape[1] - last]


# --- the transforms -----------------------------------------------------------------------------


def test_transform_sets_have_the_documented_sizes_and_members() -> None:
    assert {size: len(ts) for size, ts in TRANSFORM_SETS.items()} == {1: 1, 4: 4, 6: 6, 8: 8}
    assert [t.name for t in TRANSFORM_SETS[1]] == ["identity"]
    # the released MLFA code (docs/reference_code.md)
    assert [t.name for t in TRANSFORM_SETS[6]] == [
        "identity",
        "hflip",
        "rot90",
        "rot180",
        "rot270",
        "vflip",
    ]
    full = set(TRANSFORM_SETS[8])
    assert set(TRANSFORM_SETS[4]) <= full and set(TRANSFORM_SETS[6]) <= full
    square = _clip(1, 2, 3, 5, 5)
    assert len({tuple(t.apply(square).flatten().tolist()) for t in full}) == 8  # all distinct


def test_transforms_do_what_their_names_say() -> None:
    x = _clip(2, 3, 3, 5, 7)
    expected = {
        "identity": x,
        "hflip": x.flip(-1),
        "vflip": x.flip(-2),
        "rot90": torch.rot90(x, 1, dims=(-2, -1)),
        "rot180": x.flip(-2).flip(-1),
        "rot270": torch.rot90(x, -1, dims=(-2, -1)),
        "transpose": x.transpose(-2, -1),
        "antitranspose": x.transpose(-2, -1).flip(-2).flip(-1),
    }
    for t in TRANSFORM_SETS[8]:
        assert torch.equal(t.apply(x), expected[t.name]), t.name


@pytest.mark.parametrize("transform", TRANSFORM_SETS[8], ids=lambda t: t.name)
def test_every_transform_is_exactly_inverted(transform) -> None:
    x = _clip(2, 3, 3, 5, 7)  # H != W
    moved = transform.apply(x)
    assert moved.shape[-2:] == ((7, 5) if transform.quarter_turns % 2 else (5, 7))
    assert torch.equal(transform.invert(moved), x)
    assert torch.equal(transform.apply(transform.invert(x)), x)


# --- equivariant nets are unchanged, others are not -----------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("temporal_reverse", [False, True])
@pytest.mark.parametrize(
    ("make_net", "shape"),
    [
        (Identity, (2, 3, 3, 6, 9)),
        (_pointwise, (2, 3, 3, 6, 9)),
        (_symmetric3x3, (1, 3, 3, 7, 5)),
        (lambda: _pointwise(spatial_multiple=4), (1, 3, 3, 6, 10)),  # padded, H/W swapped
    ],
    ids=["identity", "conv1x1", "symmetric3x3", "conv1x1-multiple4"],
)
def test_equivariant_net_is_unchanged(make_net, shape, size, temporal_reverse) -> None:
    net, x = make_net(), _clip(*shape)
    plain = restore(net, x)
    out = self_ensemble(net, x, size, temporal_reverse)
    assert out.shape == x.shape
    torch.testing.assert_close(out, plain)


@pytest.mark.parametrize("size", SIZES)
def test_non_equivariant_net_is_changed(size) -> None:
    net, x = _asymmetric3x3(), _clip(1, 2, 3, 6, 9)
    out, plain = self_ensemble(net, x, size), restore(net, x)
    assert out.shape == plain.shape
    assert (out - plain).abs().max() > 1e-2


def test_six_transforms_average_the_released_code_augmentations() -> None:
    """An independent oracle for the released MLFA code's six-transform ensemble
    (docs/reference_code.md): transform, restore, invert, average."""
    net, x = _asymmetric3x3(), _clip(1, 2, 3, 6, 9)

    def rot(clip: Tensor, k: int) -> Tensor:
        return torch.rot90(clip, k, dims=(-2, -1))

    pairs = [
        (lambda c: c, lambda c: c),
        (lambda c: c.flip(-1), lambda c: c.flip(-1)),
        (lambda c: rot(c, 1), lambda c: rot(c, -1)),
        (lambda c: rot(c, 2), lambda c: rot(c, -2)),
        (lambda c: rot(c, 3), lambda c: rot(c, -3)),
        (lambda c: c.flip(-2), lambda c: c.flip(-2)),
    ]
    expected = torch.stack([back(net(forth(x))) for forth, back in pairs]).mean(0)
    torch.testing.assert_close(self_ensemble(net, x, 6), expected)


def test_identity_set_is_one_plain_pass() -> None:
    net, x = _asymmetric3x3(), _clip(1, 2, 3, 6, 9)
    assert torch.equal(self_ensemble(net, x, 1), restore(net, x))


# --- temporal reversal --------------------------------------------------------------------------


def test_temporal_reverse_averages_the_reversed_pass_of_a_recurrent_net() -> None:
    net, x = RunningMean(), _clip(1, 5, 3, 4, 6)
    # spatially equivariant: no change without reversal
    torch.testing.assert_close(self_ensemble(net, x, 8), net(x))
    expected = (net(x) + net(x.flip(1)).flip(1)) / 2
    torch.testing.assert_close(self_ensemble(net, x, 1, temporal_reverse=True), expected)
    torch.testing.assert_close(self_ensemble(net, x, 8, temporal_reverse=True), expected)
    assert (expected - net(x)).abs().max() > 1e-2


def test_temporal_reverse_keeps_symmetric_border_frames_aligned() -> None:
    net, x = DropBorders((1, 1)), _clip(1, 6, 3, 4, 5)
    torch.testing.assert_close(self_ensemble(net, x, 8, temporal_reverse=True), x[:, 1:5])


def test_temporal_reverse_refuses_asymmetric_border_frames() -> None:
    with pytest.raises(ValueError, match=r"temporal_reverse.*\(2, 0\)"):
        self_ensemble(DropBorders((2, 0)), _clip(1, 6, 3, 4, 5), 4, temporal_reverse=True)
    assert self_ensemble(DropBorders((2, 0)), _clip(1, 6, 3, 4, 5), 4).shape[1] == 4


# --- the wrapper and invalid values -------------------------------------------------------------


def test_wrapper_exposes_the_net_contract_and_pads_like_the_net() -> None:
    net = _pointwise(spatial_multiple=4)
    net.recurrent, net.border_frames = True, (1, 1)
    wrapped = SelfEnsemble(net, 8, temporal_reverse=True)
    assert (wrapped.spatial_multiple, wrapped.recurrent, wrapped.border_frames) == (4, True, (1, 1))
    assert list(wrapped.parameters()) == list(net.parameters())
    x = _clip(1, 3, 3, 6, 10)
    torch.testing.assert_close(restore(wrapped, x), restore(net, x))
    torch.testing.assert_close(wrapped(x), self_ensemble(net, x, 8, True))


@pytest.mark.parametrize("bad", [0, 2, 5, 16, True, "8", 8.0])
def test_invalid_sizes_are_refused_with_the_allowed_values(bad) -> None:
    net = Identity()
    with pytest.raises(ValueError, match=r"self_ensemble=.*1, 4, 6, 8"):
        self_ensemble(net, _clip(1, 2, 3, 4, 4), bad)
    with pytest.raises(ValueError, match=r"transforms=.*1, 4, 6, 8"):
        SelfEnsemble(net, bad)


# --- the task and the entry points --------------------------------------------------------------


def _count_calls(net: nn.Module) -> list[int]:
    calls = [0]
    net.register_forward_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    return calls


@pytest.mark.parametrize(
    ("size", "reverse", "passes"), [(1, False, 1), (8, False, 8), (4, True, 8)]
)
def test_task_applies_the_eval_ensemble_at_test_time_only(
    size, reverse, passes, tmp_path, data_dir
) -> None:
    overrides = [f"eval.self_ensemble={size}", f"eval.temporal_reverse={str(reverse).lower()}"]
    cfg = compose_config("train", tmp_path, data_dir, overrides)
    module = hydra.utils.instantiate(cfg.model)
    assert module.hparams.protocol["self_ensemble"] == size  # kept for deblurzoo-eval
    assert module.hparams.protocol["temporal_reverse"] is reverse
    calls = _count_calls(module.net)
    blur = _clip(1, 4, 3, 30, 18)  # not multiples of the net's spatial_multiple (4)
    module.eval()
    with torch.no_grad():
        out = module(blur)
    assert out.shape == blur.shape and calls[0] == passes
    calls[0] = 0
    module.train()
    crop = _clip(1, 4, 3, 32, 16)  # training crops are multiples of 4
    module.training_step({"blur": crop, "sharp": crop}, 0)
    assert calls[0] == 1


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("eval.self_ensemble=5", r"eval\.self_ensemble=5 .*1, 4, 6, 8"),
        ("eval.temporal_reverse=3", r"eval\.temporal_reverse=3 must be true or false"),
    ],
)
def test_task_refuses_invalid_eval_keys(override, message, tmp_path, data_dir) -> None:
    cfg = compose_config("train", tmp_path, data_dir, [override])
    with pytest.raises(InstantiationException, match=message) as info:
        hydra.utils.instantiate(cfg.model)
    assert isinstance(info.value.__cause__, ValueError)


def test_eval_from_checkpoint_honours_self_ensemble(
    train_cfg, tmp_path, data_dir, monkeypatch
) -> None:
    ckpt = train(train_cfg("eval.self_ensemble=1"))["ckpt_path"]
    passes = [0]

    def counting_restore(net: VideoNet, blur: Tensor) -> Tensor:
        passes[0] += 1
        return restore(net, blur)

    monkeypatch.setattr(ensemble, "restore", counting_restore)
    runs = {}
    for size in (1, 8):
        out = tmp_path / f"eval{size}"
        overrides = ["logger=none", f"ckpt_path={ckpt}", f"eval.self_ensemble={size}"]
        passes[0] = 0
        summary = evaluate(compose_config("eval", out, data_dir, overrides))
        metrics = json.loads((Path(out) / "metrics.json").read_text())
        assert metrics["protocol"]["self_ensemble"] == size
        assert metrics["protocol"]["temporal_reverse"] is False
        runs[size] = passes[0], summary["restored"]["psnr_frame"]
    assert runs[1][0] > 0 and runs[8][0] == 8 * runs[1][0]
    assert runs[8][1] != runs[1][1]  # a trained net is not equivariant

    bad = ["logger=none", f"ckpt_path={ckpt}", "eval.self_ensemble=5"]
    passes[0] = 0
    with pytest.raises(ValueError, match=r"eval\.self_ensemble=5"):
        evaluate(compose_config("eval", tmp_path / "bad", data_dir, bad))
    assert passes[0] == 0 and not (tmp_path / "bad" / "metrics.json").exists()
