"""Chunked (and tiled) restoration, deblurzoo.restoration: every frame kept once, chunked output
equal to whole-sequence output (exactly for non-recurrent nets, within a stated tolerance for
recurrent ones)."""

from __future__ import annotations

import pytest
import torch

from deblurzoo.chunking import plan_chunks
from deblurzoo.models import create_model, restore
from deblurzoo.restoration import ReplicatedEnds, restore_frames
from deblurzoo.tiling import Tiling

TINY_GRU = {"channels": [4, 8, 12], "hidden": 4}
TINY_IFIRNN = {"channels": [4, 8, 12], "hidden": 4, "num_resblocks": 1}
TINY_MLFA2 = {"width": 4, "num_levels": 2, "num_blocks": 1}
#: Chunked vs whole restoration of a recurrent net: the largest difference allowed, half an 8-bit
#: level. Measured on the tiny random nets below: 1.2e-5 (IFI-RNN, 6 frames of overlap).
RECURRENT_TOLERANCE = 0.5 / 255


def _restore_all(net, frames, *args, **kwargs) -> torch.Tensor:
    """Every frame, eager: chunking and tiling are compared with whole passes bit for bit (the
    fast path's own tolerance is tests/test_fast.py's)."""
    restored = dict(restore_frames(net, frames, *args, fast=False, **kwargs))
    assert sorted(restored) == list(range(len(frames)))
    return torch.stack([restored[i] for i in range(len(frames))])


def test_chunks_keep_every_restorable_frame_once() -> None:
    chunks = plan_chunks(23, 8, 4, (2, 2))
    kept = [i for c in chunks for i in range(c.keep_from, c.keep_to)]
    assert kept == list(range(2, 21))
    assert all(c.stop - c.start == 8 for c in chunks) and chunks[-1].stop == 23


def test_whole_sequence_chunk_matches_one_forward() -> None:
    net = create_model("conv_gru", **TINY_GRU).eval()
    frames = torch.rand(7, 3, 20, 28)
    restored = dict(restore_frames(net, frames, chunk_len=None))
    with torch.no_grad():
        whole = restore(net, frames[None])[0]
    assert sorted(restored) == list(range(7))
    assert torch.allclose(torch.stack([restored[i] for i in range(7)]), whole)


def test_chunked_restoration_of_a_windowed_net_skips_only_the_border_frames() -> None:
    net = create_model("strcnn", channels=8, feedback=4, num_blocks=1).eval()
    frames = torch.rand(12, 3, 16, 16)
    indices = [i for i, frame in restore_frames(net, frames, chunk_len=7, overlap=4)]
    assert indices == list(range(2, 10))


def test_later_chunks_restore_after_their_warm_up_frames() -> None:
    """A frame kept from a later chunk is that chunk's own output: the recurrent state was
    warmed up on the chunk's first frames, not carried over from the previous chunk."""
    net = create_model("conv_gru", **TINY_GRU).eval()
    frames = torch.rand(12, 3, 16, 16)
    restored = dict(restore_frames(net, frames, chunk_len=6, overlap=4))
    second = plan_chunks(12, 6, 4)[1]
    with torch.no_grad():
        direct = restore(net, frames[None, second.start : second.stop])[0]
    for i in range(second.keep_from, second.keep_to):
        assert torch.allclose(restored[i], direct[i - second.start])


def test_lookahead_moves_each_seam_before_the_end_of_a_chunk() -> None:
    chunks = plan_chunks(14, 6, 3, lookahead=1)
    kept = [(c.start, c.keep_from, c.keep_to) for c in chunks]
    assert kept == [(0, 0, 5), (3, 5, 8), (6, 8, 11), (8, 11, 14)]
    with pytest.raises(ValueError, match="need 3 <= overlap"):
        plan_chunks(14, 6, 2, (1, 1), lookahead=1)


def test_chunked_output_equals_whole_output_for_a_windowed_net() -> None:
    """MLFA's stage 2 sees frames t−1, t, t+1 (clamped at the clip's ends): with one frame of
    lookahead chunked restoration is exactly the whole-sequence one; without, the last kept
    frame of a chunk misses its t+1."""
    torch.manual_seed(0)
    net = create_model("mlfa_stage2", **TINY_MLFA2).eval()
    frames = torch.rand(14, 3, 16, 24)
    with torch.no_grad():
        whole = restore(net, frames[None])[0]
    assert torch.equal(_restore_all(net, frames, 6, 2, lookahead=1), whole)
    assert not torch.allclose(_restore_all(net, frames, 6, 2, lookahead=0), whole, atol=1e-3)


def test_chunked_and_tiled_output_equals_direct_output_when_the_frame_fits() -> None:
    torch.manual_seed(0)
    net = create_model("mlfa_stage1", width=4, num_blocks=1, atrous_width=8, block_width=8).eval()
    frames = torch.rand(7, 3, 18, 26)
    with torch.no_grad():
        whole = restore(net, frames[None])[0]
    assert torch.equal(_restore_all(net, frames, 3, 1, tiling=Tiling(32, overlap=8)), whole)


def test_chunked_output_of_a_recurrent_net_is_within_tolerance() -> None:
    torch.manual_seed(0)
    net = create_model("ifirnn_c1h1", **TINY_IFIRNN).eval()
    frames = torch.rand(20, 3, 16, 24)
    with torch.no_grad():
        whole = restore(net, frames[None])[0]
    chunked = _restore_all(net, frames, 8, 6, lookahead=2)
    assert (chunked - whole).abs().max() < RECURRENT_TOLERANCE


def test_padded_ends_restore_every_frame_of_a_windowed_net() -> None:
    net = create_model("strcnn", channels=8, feedback=4, num_blocks=1).eval()  # 2 + 2 border
    frames = torch.rand(9, 3, 16, 16)
    padded = ReplicatedEnds(frames, 2, 2)
    assert torch.equal(padded[0:4], frames[[0, 0, 0, 1]])
    assert torch.equal(padded[9:13], frames[[7, 8, 8, 8]])
    restored = _restore_all(net, frames, 7, 4, pad_ends=True)
    assert restored.shape == frames.shape


def test_bf16_autocast_yields_float32_frames_close_to_fp32() -> None:
    torch.manual_seed(0)
    net = create_model("ifirnn_c1h1", **TINY_IFIRNN).eval()
    frames = torch.rand(4, 3, 16, 16)
    fp32 = _restore_all(net, frames, None)
    bf16 = _restore_all(net, frames, None, autocast=torch.bfloat16)
    assert bf16.dtype == torch.float32
    assert (bf16 - fp32).abs().mean() < 0.02 and not torch.equal(bf16, fp32)
