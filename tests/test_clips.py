"""Clip sampling and evaluation chunking over indexed sequences."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from deblurzoo.data.clips import EvalChunks, TrainClips
from deblurzoo.data.frames import write_frame
from deblurzoo.data.sequence import DatasetError, VideoSequence


def _sequence(root: Path, name: str, length: int, size=(8, 12)) -> VideoSequence:
    blur, sharp = [], []
    for i in range(length):
        for kind, paths in (("blur", blur), ("sharp", sharp)):
            path = root / name / kind / f"{i + 100:06d}.png"
            value = (i + (0 if kind == "blur" else 50)) / 255
            write_frame(path, torch.full((3, *size), value))
            paths.append(path)
    return VideoSequence(name, tuple(blur), tuple(sharp), size)


@pytest.mark.parametrize(
    ("length", "chunk_len", "overlap"),
    [(10, 4, 1), (10, 10, 0), (7, 3, 2), (3, 5, 1), (9, None, 0)],
)
def test_every_frame_scored_exactly_once(tmp_path, length, chunk_len, overlap) -> None:
    chunks = EvalChunks([_sequence(tmp_path, "a", length)], chunk_len, overlap)
    scored = torch.cat([c["frame_idx"][c["score"]] for c in chunks])
    assert sorted(scored.tolist()) == list(range(length))
    for c in chunks:  # frames carry their own content: index i holds value i
        assert torch.allclose(c["blur"][:, 0, 0, 0] * 255, c["frame_idx"].float(), atol=1e-3)
        if chunk_len is not None:
            assert len(c["frame_idx"]) == min(chunk_len, length)


@pytest.mark.parametrize(("length", "chunk_len", "overlap"), [(12, 6, 4), (12, 7, 5), (9, 20, 4)])
def test_windowed_nets_score_each_restorable_frame_once(tmp_path, length, chunk_len, overlap):
    """A net with border frames (2, 2) restores frames 2 .. n-3; each is scored once, in a
    chunk where it is restored (not among that chunk's first or last two frames)."""
    seq = _sequence(tmp_path, "a", length)
    chunks = EvalChunks([seq], chunk_len, overlap, border_frames=(2, 2))
    scored = []
    for c in chunks:
        restorable = c["frame_idx"][2:-2]
        assert set(c["frame_idx"][c["score"]].tolist()) <= set(restorable.tolist())
        scored += c["frame_idx"][c["score"]].tolist()
    assert sorted(scored) == list(range(2, length - 2))


def test_overlap_must_cover_the_border_frames(tmp_path) -> None:
    with pytest.raises(ValueError, match="need 4 <= overlap"):
        EvalChunks([_sequence(tmp_path, "a", 8)], chunk_len=6, overlap=2, border_frames=(2, 2))


def test_later_chunks_warm_up_on_their_overlap(tmp_path) -> None:
    chunks = EvalChunks([_sequence(tmp_path, "a", 10)], chunk_len=4, overlap=2)
    assert chunks[0]["score"].all()
    for c in list(chunks)[1:]:
        assert not c["score"][:2].any()


def test_train_clips_pair_blur_and_sharp_frames(tmp_path) -> None:
    clips = TrainClips([_sequence(tmp_path, "a", 6)], clip_len=3, crop_size=4, stride=2)
    assert len(clips) == 2  # windows start at 0 and 2
    item = clips[1]
    assert item["blur"].shape == (3, 3, 4, 4)
    assert torch.allclose(
        (item["sharp"] - item["blur"]) * 255, torch.full_like(item["blur"], 50.0), atol=1e-3
    )
    assert torch.allclose(item["blur"][:, 0, 0, 0] * 255, torch.tensor([2.0, 3.0, 4.0]), atol=1e-3)


def test_short_sequences_skip_or_fail(tmp_path, caplog) -> None:
    sequences = [_sequence(tmp_path, "long", 5), _sequence(tmp_path, "short", 2)]
    clips = TrainClips(sequences, clip_len=3, crop_size=None)
    assert {clips.sequences[i].name for i, _ in clips.windows} == {"long"}
    assert "short" in caplog.text
    with pytest.raises(DatasetError, match="'short' has 2 frames"):
        TrainClips(sequences, clip_len=3, crop_size=None, short_sequences="error")


def test_crop_larger_than_frame_is_refused(tmp_path) -> None:
    with pytest.raises(DatasetError, match="crop_size=16 is larger than the 8x12 frames"):
        TrainClips([_sequence(tmp_path, "a", 4)], clip_len=2, crop_size=16)
