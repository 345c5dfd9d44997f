"""Datasets that turn indexed sequences into training clips and evaluation chunks."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset

from deblurzoo.chunking import Chunk, plan_chunks
from deblurzoo.data.augment import ClipAugment
from deblurzoo.data.frames import read_frame
from deblurzoo.data.sequence import DatasetError, VideoSequence
from deblurzoo.errors import ConfigError

log = logging.getLogger(__name__)


def read_clip(
    seq: VideoSequence, frames: range, size: tuple[int, int] | None
) -> tuple[Tensor, Tensor]:
    """Blurry and sharp frames ``frames`` of ``seq`` as ``[T, 3, H, W]`` tensors."""
    blur = torch.stack([read_frame(seq.blur[i], size) for i in frames])
    sharp = torch.stack([read_frame(seq.sharp[i], size) for i in frames])
    return blur, sharp


class TrainClips(Dataset):
    """Random crops of every ``clip_len``-frame window of every sequence.

    Args:
        sequences: the indexed training split.
        clip_len: frames per clip (T).
        crop_size: side of the square random crop (P), or ``None`` for whole frames.
        stride: frames between the starts of consecutive windows.
        frame_size: ``(H, W)`` frames are resized to when read, or ``None`` to keep them.
        augment: sequence-consistent augmentation, or ``None``.
        short_sequences: ``"skip"`` (with a warning) or ``"error"`` for sequences shorter than
            ``clip_len``.
    """

    def __init__(
        self,
        sequences: Sequence[VideoSequence],
        clip_len: int,
        crop_size: int | None,
        stride: int = 1,
        frame_size: tuple[int, int] | None = None,
        augment: ClipAugment | None = None,
        short_sequences: str = "skip",
    ) -> None:
        if short_sequences not in ("skip", "error"):
            raise ConfigError(f"short_sequences must be 'skip' or 'error', got {short_sequences!r}")
        self.sequences = list(sequences)
        self.clip_len, self.crop_size, self.frame_size = clip_len, crop_size, frame_size
        self.augment = augment
        self.windows: list[tuple[int, int]] = []
        for i, seq in enumerate(self.sequences):
            if len(seq) < clip_len:
                message = (
                    f"sequence {seq.name!r} has {len(seq)} frames, fewer than clip_len={clip_len}"
                )
                if short_sequences == "error":
                    raise DatasetError(message)
                log.warning("%s; skipped", message)
                continue
            height, width = frame_size or seq.size
            if crop_size is not None and crop_size > min(height, width):
                raise DatasetError(
                    f"crop_size={crop_size} is larger than the {height}x{width} frames of "
                    f"sequence {seq.name!r} ({seq.blur[0].parent})"
                )
            self.windows += [(i, s) for s in range(0, len(seq) - clip_len + 1, stride)]
        if not self.windows:
            raise DatasetError(
                f"no training clip of {clip_len} frames in {len(self.sequences)} sequences"
            )

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        seq_index, start = self.windows[index]
        blur, sharp = read_clip(
            self.sequences[seq_index], range(start, start + self.clip_len), self.frame_size
        )
        clips = torch.stack([blur, sharp])
        if self.crop_size is not None:
            height, width = clips.shape[-2:]
            top = int(torch.randint(height - self.crop_size + 1, ()))
            left = int(torch.randint(width - self.crop_size + 1, ()))
            clips = clips[..., top : top + self.crop_size, left : left + self.crop_size]
        if self.augment is not None:
            clips = self.augment(clips)
        return {"blur": clips[0], "sharp": clips[1]}


class EvalChunks(Dataset):
    """Whole sequences cut into overlapping temporal chunks so memory stays bounded
    (:func:`deblurzoo.chunking.plan_chunks`); each frame is scored in the one chunk that keeps it.
    ``chunk_len=None`` feeds each sequence whole.
    """

    def __init__(
        self,
        sequences: Sequence[VideoSequence],
        chunk_len: int | None = None,
        overlap: int = 0,
        frame_size: tuple[int, int] | None = None,
        border_frames: tuple[int, int] = (0, 0),
    ) -> None:
        self.sequences = list(sequences)
        self.frame_size = frame_size
        self.chunks: list[tuple[int, Chunk]] = [
            (i, chunk)
            for i, seq in enumerate(self.sequences)
            for chunk in plan_chunks(len(seq), chunk_len, overlap, border_frames)
        ]

    def __len__(self) -> int:
        return len(self.chunks)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        seq_index, (start, stop, score_from, score_to) = self.chunks[index]
        blur, sharp = read_clip(self.sequences[seq_index], range(start, stop), self.frame_size)
        frame_idx = torch.arange(start, stop)
        return {
            "blur": blur,
            "sharp": sharp,
            "seq_id": torch.tensor(seq_index),
            "frame_idx": frame_idx,
            "score": (frame_idx >= score_from) & (frame_idx < score_to),
        }
