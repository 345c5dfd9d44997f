"""Chunked restoration (deblurzoo.inference) and the benchmark command built on it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from deblurzoo import bench
from deblurzoo.chunking import plan_chunks
from deblurzoo.inference import restore_frames
from deblurzoo.models import create_model, restore

TINY_GRU = {"channels": [4, 8, 12], "hidden": 4}


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


def test_benchmark_measures_memory_and_time() -> None:
    result = bench.measure("conv_lstm", 4, (32, 32), "chunked", chunk_len=2, overlap=1)
    assert result["peak_mib"] >= 0 and result["ms_per_frame"] > 0


def test_benchmark_command_writes_its_table(tmp_path: Path) -> None:
    out = tmp_path / "bench.md"
    bench.main(["conv_lstm", "--frames", "2", "--size", "16", "16", "--chunk-len", "2",
                "--overlap", "1", "--net", "hidden=4", "--write", str(out)])  # fmt: skip
    text = out.read_text()
    assert "deblurzoo-bench conv_lstm --frames 2" in text
    assert "| `conv_lstm` hidden=4 | 2 |" in text


def test_benchmark_refuses_an_unknown_model_before_starting_workers() -> None:
    with pytest.raises(KeyError, match="unknown model 'nope'"):
        bench.main(["nope"])
