"""The one LightningDataModule every video model of the zoo trains and is evaluated on."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from lightning import LightningDataModule
from torch import Tensor
from torch.utils.data import DataLoader

from deblurzoo.data.augment import ClipAugment
from deblurzoo.data.clips import EvalChunks, TrainClips
from deblurzoo.data.layouts.base import SequenceLayout
from deblurzoo.data.sequence import DatasetError, VideoSequence
from deblurzoo.errors import ConfigError


class VideoDataModule(LightningDataModule):
    """Training clips and evaluation chunks from any :class:`SequenceLayout`.

    Every split is indexed and validated (frame pairing, readability, sizes, crop and clip
    length, enough training clips for one full batch) in :meth:`setup`, before the first step,
    so bad data fails fast with the path named.

    Args:
        root: the dataset's folder, as its archive unpacks.
        layout: builds the :class:`SequenceLayout` that reads ``root`` (a partial of a layout
            class: GOPRO, REDS, DVD, BSD, synthetic).
        clip_len: frames per training clip.
        crop_size: side of the square training crop (``None``: whole frames).
        stride: frames between the starts of consecutive training windows.
        frame_size: ``(H, W)`` every frame is resized to (e.g. GOPRO at 540×960), or ``None``.
        augment: sequence-consistent training augmentation, or ``None``.
        batch_size: training clips per batch **per device**.
        eval_chunk_len, eval_chunk_overlap: temporal chunking of evaluation sequences.
        num_workers, pin_memory: DataLoader settings for every split; batches are pinned
            only where a CUDA device is available.
        short_sequences: ``"skip"`` or ``"error"`` for sequences shorter than ``clip_len``.
        blur_transfer: applied to every training batch on its device (after the transfer,
            never to validation or test batches): a callable taking and returning the batch,
            such as :class:`deblurzoo.kernel_space.BlurTransferAugment`, which blurs sharp clips
            with a trained kernel-space model; ``None`` (default) leaves batches as read.
    """

    def __init__(
        self,
        root: str | Path,
        layout: Callable[[Path], SequenceLayout],
        clip_len: int = 8,
        crop_size: int | None = 256,
        stride: int = 1,
        frame_size: Sequence[int] | None = None,
        augment: ClipAugment | None = None,
        batch_size: int = 4,
        eval_chunk_len: int | None = None,
        eval_chunk_overlap: int = 0,
        num_workers: int = 2,
        pin_memory: bool = True,
        short_sequences: str = "skip",
        blur_transfer: Callable[[dict[str, Tensor]], dict[str, Tensor]] | None = None,
    ) -> None:
        super().__init__()
        self.root = Path(root)
        self.layout = layout(self.root)
        self.clip_len, self.crop_size, self.stride = clip_len, crop_size, stride
        self.frame_size = tuple(frame_size) if frame_size is not None else None
        self.augment = augment
        self.batch_size = batch_size
        self.eval_chunk_len, self.eval_chunk_overlap = eval_chunk_len, eval_chunk_overlap
        self.num_workers, self.pin_memory = num_workers, pin_memory
        self.short_sequences = short_sequences
        if blur_transfer is not None and batch_size < 2:
            raise ConfigError(
                "data.blur_transfer takes kernels from the other clips of a batch: it needs "
                f"data.batch_size >= 2, got {batch_size}"
            )
        self.blur_transfer = blur_transfer
        self.border_frames: tuple[int, int] = (0, 0)
        self.sequences: dict[str, list[VideoSequence]] = {}
        self.train_clips: TrainClips | None = None

    def prepare_data(self) -> None:
        self.layout.prepare()

    def setup(self, stage: str | None = None) -> None:
        splits = {"fit": ("train", "val"), "validate": ("val",), "test": ("test",)}
        for split in splits.get(stage, ("train", "val", "test")):
            if split not in self.sequences:
                self.sequences[split] = self.layout.sequences(split)
        if "train" in self.sequences and self.train_clips is None:
            self.train_clips = TrainClips(
                self.sequences["train"], self.clip_len, self.crop_size, self.stride,
                self.frame_size, self.augment, self.short_sequences,
            )  # fmt: skip
        if stage in ("fit", None):
            self._check_full_batch()

    def _check_full_batch(self) -> None:
        """Refuse training clips that fill no batch: the training loader drops an incomplete
        batch, so with fewer clips per device than ``batch_size`` an epoch would take no step
        and the run would test an untrained net."""
        clips = len(self.train_clips)
        devices = self.trainer.world_size if self.trainer is not None else 1
        per_device = math.ceil(clips / devices)
        if per_device >= self.batch_size:
            return
        spread = f", {per_device} per device on {devices} devices" if devices > 1 else ""
        raise DatasetError(
            f"{self.root}: the training split makes {clips} clips{spread} "
            f"({len(self.sequences['train'])} videos, data.clip_len={self.clip_len}, "
            f"data.stride={self.stride}), fewer than data.batch_size={self.batch_size}: training "
            "drops an incomplete batch, so it would not take a single step. Set data.batch_size "
            f"to {per_device} or less, or make more clips: a shorter data.clip_len, a smaller "
            "data.stride or more training videos"
        )

    def eval_chunks(self, split: str) -> EvalChunks:
        """The evaluation chunks of ``split``, ``border_frames`` at each end of a chunk unscored
        (set by the task before the loaders are built: the frames its net cannot restore, or its
        protocol's ``skip_frames`` where more)."""
        return EvalChunks(
            self.sequences[split], self.eval_chunk_len, self.eval_chunk_overlap, self.frame_size,
            self.border_frames,
        )  # fmt: skip

    def sequence_names(self, split: str) -> list[str]:
        """Names of the indexed sequences of ``split``, by the ``seq_id`` the batches carry."""
        return [seq.name for seq in self.sequences[split]]

    def frame_ids(self, split: str, seq_id: int) -> tuple[str, ...]:
        """File stems of the frames of sequence ``seq_id`` of ``split``."""
        return self.sequences[split][seq_id].frame_ids

    def _loader(self, dataset: TrainClips | EvalChunks, train: bool) -> DataLoader:
        return DataLoader(
            dataset,
            batch_size=self.batch_size if train else 1,
            shuffle=train,
            drop_last=train,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory and torch.cuda.is_available(),
            persistent_workers=self.num_workers > 0,
        )

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """Training batches go through ``blur_transfer`` (if set) on their device."""
        trainer = self.trainer
        if self.blur_transfer is not None and trainer is not None and trainer.training:
            batch = self.blur_transfer(batch)
        return batch

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_clips, train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.eval_chunks("val"), train=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.eval_chunks("test"), train=False)
