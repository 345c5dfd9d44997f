"""The inference fast path (src/deblurzoo/fast.py) gives the eager outputs to 1e-4, for every
registered video net, and the commands take ``fast=false`` to turn it off."""

from __future__ import annotations

import pytest
import torch

from deblurzoo.ensemble import SelfEnsemble
from deblurzoo.fast import fast_net, no_grad
from deblurzoo.models import MultiScaleFrames, VideoNet, list_models, restore
from deblurzoo.restoration import restore_frames
from tests.test_input_limits import _smallest_side, _tiny

TOLERANCE = 1e-4


def _frames(out):
    return out.frames if isinstance(out, MultiScaleFrames) else out


@pytest.mark.parametrize("name", list_models())
def test_fast_outputs_are_the_eager_outputs(name: str) -> None:
    eager = _tiny(name).eval()
    if not isinstance(eager, VideoNet):
        pytest.skip(f"{name} is no video net: the fast path restores clips")
    side = max(16, _smallest_side(eager, batch=1))
    clip = torch.rand(1, eager.min_frames, 3, side, side)
    with torch.no_grad():
        expected = _frames(restore(eager, clip))
    fast = fast_net(_tiny(name).eval())
    weight = next(p for p in fast.parameters() if p.ndim == 4)
    assert weight.is_contiguous(memory_format=torch.channels_last) == eager.channels_last
    with no_grad(fast=True):
        out = _frames(restore(fast, clip))
    assert (out - expected).abs().max().item() <= TOLERANCE


def test_restore_frames_fast_and_eager_agree_and_yield_plain_tensors() -> None:
    net = _tiny("strcnn").eval()
    frames = torch.rand(12, 3, 32, 32)
    eager = dict(restore_frames(net, frames, 6, 4, fast=False))
    fast = dict(restore_frames(net, frames, 6, 4))  # fast by default
    assert eager.keys() == fast.keys() == set(range(2, 10))
    for index, frame in fast.items():
        assert not frame.is_inference() and frame.is_contiguous()
        assert (frame - eager[index]).abs().max().item() <= TOLERANCE


def test_a_net_that_declines_channels_last_keeps_its_layout() -> None:
    """RDBN (and ESTRNN, its subclass) measured no faster in channels_last layout."""
    assert not _tiny("rdbn+irm+atb").channels_last and not _tiny("estrnn").channels_last
    wrapped = SelfEnsemble(_tiny("rdbn").eval(), 4)
    fast_net(wrapped)
    assert all(p.is_contiguous() for p in wrapped.parameters())


def test_no_grad_is_inference_mode_on_the_fast_path() -> None:
    with no_grad(fast=True):
        assert torch.is_inference_mode_enabled()
    with no_grad(fast=False):
        assert not torch.is_inference_mode_enabled() and not torch.is_grad_enabled()


@pytest.mark.slow  # torch.compile takes tens of seconds
def test_compiled_fast_path_gives_the_eager_outputs() -> None:
    eager = _tiny("strcnn").eval()
    clip = torch.rand(1, 6, 3, 16, 16)
    with torch.no_grad():
        expected = restore(eager, clip)
    compiled = fast_net(_tiny("strcnn").eval(), compile=True)
    with no_grad(fast=True):
        out = restore(compiled, clip)
    assert (out - expected).abs().max().item() <= TOLERANCE
