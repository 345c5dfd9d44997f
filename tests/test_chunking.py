"""Temporal chunks of sequences no longer than a chunk's overlap (deblurzoo.chunking): one chunk
takes the sequence whole, down to a single frame, through planning, evaluation and inference.
Longer sequences are covered by tests/test_restoration.py and tests/test_clips.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from deblurzoo.chunking import Chunk, plan_chunks
from deblurzoo.data.clips import EvalChunks
from deblurzoo.data.frames import write_frame
from deblurzoo.data.sequence import VideoSequence
from deblurzoo.models import create_model, restore
from deblurzoo.restoration import restore_frames
from deblurzoo.tasks import VideoRestorationModule

TINY_IFIRNN = {"channels": [4, 8, 12], "hidden": 4, "num_resblocks": 1}
TINY_STRCNN = {"channels": 8, "feedback": 4, "num_blocks": 1}  # border frames (2, 2)


@pytest.mark.parametrize("length", [1, 2, 4])
@pytest.mark.parametrize("chunk_len", [6, None])
def test_a_sequence_no_longer_than_the_overlap_is_one_whole_chunk(length, chunk_len) -> None:
    assert plan_chunks(length, chunk_len, 4) == [Chunk(0, length, 0, length)]


@pytest.mark.parametrize("length", [5, 6])
def test_a_short_sequence_keeps_the_frames_a_windowed_net_restores(length) -> None:
    assert plan_chunks(length, 8, 6, (2, 2)) == [Chunk(0, length, 2, length - 2)]


@pytest.mark.parametrize("length", [0, 1, 4])
def test_a_sequence_without_restorable_frames_gets_no_chunk(length) -> None:
    assert plan_chunks(length, 8, 4, (2, 2)) == []


def test_restore_frames_yields_every_frame_of_a_sequence_shorter_than_the_overlap() -> None:
    torch.manual_seed(0)
    net = create_model("ifirnn_c1h1", **TINY_IFIRNN).eval()
    frames = torch.rand(3, 3, 8, 12)
    restored = dict(restore_frames(net, frames, chunk_len=6, overlap=4))
    with torch.no_grad():
        whole = restore(net, frames[None])[0]
    assert sorted(restored) == [0, 1, 2]
    assert torch.equal(torch.stack([restored[i] for i in range(3)]), whole)


def test_restore_frames_of_a_windowed_net_on_sequences_of_few_frames() -> None:
    net = create_model("strcnn", **TINY_STRCNN).eval()
    for length, expected in ((4, []), (5, [2])):
        frames = torch.rand(length, 3, 8, 8)
        assert [i for i, _ in restore_frames(net, frames, chunk_len=8, overlap=4)] == expected


def _sequence(root: Path, length: int, size: tuple[int, int] = (8, 12)) -> VideoSequence:
    paths = {"blur": [], "sharp": []}
    for i in range(length):
        for kind, files in paths.items():
            files.append(root / kind / f"{i:06d}.png")
            write_frame(files[-1], torch.rand(3, *size))
    return VideoSequence("short", tuple(paths["blur"]), tuple(paths["sharp"]), size)


@pytest.mark.parametrize("length", [1, 2])
def test_evaluation_scores_a_sequence_no_longer_than_the_overlap(tmp_path, length) -> None:
    """EvalChunks (the datamodule's evaluation set) and the task's test step, as in
    ``deblurzoo-eval`` with ``data.eval_chunk_len=6``, ``data.eval_chunk_overlap=2``."""
    task = VideoRestorationModule({"name": "ifirnn_c1h1", **TINY_IFIRNN}).eval()
    chunks = EvalChunks([_sequence(tmp_path, length)], chunk_len=6, overlap=2)
    assert len(chunks) == 1
    batch = {key: value[None] for key, value in chunks[0].items()}
    assert batch["score"].all()
    with torch.no_grad():
        assert task.test_step(batch, 0).shape == (1, length, 3, 8, 12)
    assert torch.isfinite(task.test_metric.compute()["psnr_frame"])
