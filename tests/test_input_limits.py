"""Declared input limits (``VideoNet.min_frames``, ``min_size``, ``batch_norm_stride`` and
``spatial_multiple``): every registered model, built tiny, takes its smallest clip in eval and
train mode, and refuses one frame fewer or frames one ``spatial_multiple`` step smaller with a
ValueError naming the net and the limit, before torch fails inside a layer."""

from __future__ import annotations

import re

import pytest
import torch

from deblurzoo.ensemble import SelfEnsemble
from deblurzoo.models import MultiScaleFrames, VideoNet, create_model, list_models, restore
from deblurzoo.models.kernel_space import KernelSpace

TINY_GATED = {"channels": [4, 8, 12], "hidden": 4}
TINY_IFIRNN = {**TINY_GATED, "num_resblocks": 1}
TINY_MEMDEBLUR = {
    "mid_channels": 8,
    "num_blocks_forward": 1,
    "num_blocks_backward": 1,
    "backbone": "resnet18",
    "key_dim": 8,
}
TINY_STAGE1 = {"width": 4, "num_blocks": 2, "atrous_width": 4, "block_width": 8}
TINY_STAGE2 = {"width": 4, "num_blocks": 1}
#: Tiny widths by registered name, RIRN variants by their host (the name before any ``+add-on``;
#: ``rirn`` builds IFI-RNN by default); a model not listed is built with its defaults.
TINY = {
    "ifirnn_c1h1": TINY_IFIRNN,
    "rirn": TINY_IFIRNN,
    "conv_gru": TINY_GATED,
    "conv_lstm": TINY_GATED,
    "strcnn": {"channels": 8, "feedback": 4, "num_blocks": 1},
    "rdbn": {"n_features": 4, "n_blocks": 2, "n_layers": 2},
    "memdeblur": TINY_MEMDEBLUR,
    "memdeblur_slim": TINY_MEMDEBLUR,
    "mlfa_stage1": TINY_STAGE1,
    "mlfa_stage1_plain": {"width": 4, "num_blocks": 1, "block_width": 8},
    "mlfa_stage2": TINY_STAGE2,
    "mlfa_stage2_single": TINY_STAGE2,
    "mlfa": {"stage1": TINY_STAGE1, "stage2": TINY_STAGE2},
    "estrnn": {"n_features": 2, "n_blocks": 1},
    "estrnn_b9c80": {"n_features": 2, "n_blocks": 1},
    "estrnn_b9c90": {"n_features": 2, "n_blocks": 1},
    "kernel_space": {
        "channels": 4, "kernel_dim": 8, "front_blocks": 1, "back_blocks": 1, "extractor_blocks": 1
    },
}  # fmt: skip


def _tiny(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model(name, **TINY.get(name.split("+")[0], {}))


def _round_up(side: int, multiple: int) -> int:
    return -(-side // multiple) * multiple


def _smallest_side(net: VideoNet, batch: int) -> int:
    """The smallest square frame ``net`` takes in its current mode for ``batch`` clips."""
    side = _round_up(max(net.min_size), net.spatial_multiple)
    if net.training and net.batch_norm_stride and batch == 1:
        side = max(side, _round_up(net.batch_norm_stride + 1, net.spatial_multiple))
    return side


def _restores(net: VideoNet, batch: int, frames: int, side: int) -> None:
    with torch.no_grad():
        out = net(torch.rand(batch, frames, 3, side, side))
    restored = out.frames if isinstance(out, MultiScaleFrames) else out
    assert restored.shape == (batch, frames - sum(net.border_frames), 3, side, side)


def _refused(net: VideoNet, frames: int, side: int, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(type(net).__name__)} {message}"):
        net(torch.rand(1, frames, 3, side, side))


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
def test_the_smallest_clip_works_and_anything_smaller_is_refused(name: str, training: bool):
    net = _tiny(name).train(training)
    if not isinstance(net, VideoNet):
        # the blur-kernel encoder takes sharp/blurry pairs [..., 3, H, W], not clips, and pads
        # them to its 128-pixel kernel grid itself: any frame size, down to 1×1, works
        assert isinstance(net, KernelSpace)
        pair = torch.rand(2, 1, 3, 1, 1)
        assert net(pair, pair).blurry.shape == pair.shape
        return
    frames, side, step = net.min_frames, _smallest_side(net, batch=1), net.spatial_multiple
    _restores(net, 1, frames, side)
    _refused(net, frames - 1, side, f"needs clips of at least {frames} frames, got {frames - 1}")
    below = side - step
    if training and side > _round_up(max(net.min_size), step):  # BatchNorm's limit binds
        stride = net.batch_norm_stride
        _refused(net, frames, below, f"in train mode needs frames larger than {stride} pixels")
        _restores(net, 2, frames, below)  # two clips give BatchNorm two values per channel
    else:
        _refused(net, frames, below, f"needs frames of at least {side}×{side}, got {below}×")


def test_limits_follow_the_options_that_set_them() -> None:
    """Border frames (STRCNN's window), resolution levels and reflection pads (MLFA), scales and
    the memory branch's BatchNorm (MemDeblur)."""
    assert create_model("strcnn", window=3).min_frames == 3
    assert create_model("mlfa_stage2", num_levels=2).min_size == (8, 8)
    stage1 = create_model("mlfa_stage1", **{**TINY_STAGE1, "dilations": (1,)})
    assert stage1.min_size == (5, 5)  # the 9×9 conv's pad of 4, and 5 rounds up to 6:
    with pytest.raises(ValueError, match="AtrousDeblurNet needs frames of at least 6×6, got 4×6"):
        stage1(torch.rand(1, 1, 3, 4, 6))
    assert create_model("memdeblur_slim", **TINY_MEMDEBLUR).batch_norm_stride == 16
    assert create_model("memdeblur", memory=False, **TINY_MEMDEBLUR).batch_norm_stride == 0


def test_restore_pads_to_the_multiple_but_not_to_the_minimum() -> None:
    net = _tiny("mlfa_stage2").eval()
    with torch.no_grad():
        assert restore(net, torch.rand(1, 2, 3, 20, 30)).shape == (1, 2, 3, 20, 30)  # → 32×32
    with pytest.raises(ValueError, match="MLFANet needs frames of at least 32×32, got 16×16"):
        restore(net, torch.rand(1, 2, 3, 16, 16))


def test_the_clip_is_checked_when_passed_by_keyword_too() -> None:
    net = _tiny("strcnn").eval()
    with pytest.raises(ValueError, match="STRCNN needs clips of at least 5 frames, got 4"):
        net(blur=torch.rand(1, 4, 3, 8, 8))


def test_self_ensemble_leaves_the_checks_to_its_net() -> None:
    """The wrapper pads every pass itself, so it takes a clip off the spatial multiple; its net
    still refuses a clip too short."""
    wrapped = SelfEnsemble(_tiny("strcnn").eval(), 4)
    with torch.no_grad():
        assert wrapped(torch.rand(1, 5, 3, 7, 9)).shape == (1, 1, 3, 7, 9)
    with pytest.raises(ValueError, match="STRCNN needs clips of at least 5 frames, got 4"):
        wrapped(torch.rand(1, 4, 3, 8, 8))
