"""Restoring sequences of any length and frame size with bounded memory: temporal chunks
(:func:`deblurzoo.chunking.plan_chunks`), optionally spatial tiles (:mod:`deblurzoo.tiling`),
each padded to the net's ``spatial_multiple``. Everything is driven by what the net declares
(``spatial_multiple``, ``border_frames``), never by its name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import torch
from torch import Tensor

from deblurzoo.chunking import plan_chunks
from deblurzoo.fast import check_compile, fast_net, no_grad
from deblurzoo.models import VideoNet, restore
from deblurzoo.tiling import Tiling, restore_tiled


class Frames(Protocol):
    """A sequence of ``[3, H, W]`` frames sliced into ``[t, 3, H, W]`` tensors (a tensor, a
    :class:`deblurzoo.video_io.VideoFrames`, ...)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: slice) -> Tensor: ...


class ReplicatedEnds:
    """``frames`` with its first frame repeated ``before`` times in front and its last frame
    ``after`` times behind, made as it is sliced, so a net with border frames restores every
    frame of the sequence (the temporal counterpart of replicate padding)."""

    def __init__(self, frames: Frames, before: int, after: int) -> None:
        if not len(frames):
            raise ValueError("no frames to pad")
        self.frames, self.before, self.after = frames, before, after

    def __len__(self) -> int:
        return len(self.frames) + self.before + self.after

    def __getitem__(self, index: slice) -> Tensor:
        start, stop, _ = index.indices(len(self))
        source = (torch.arange(start, stop) - self.before).clamp(0, len(self.frames) - 1)
        low, high = int(source[0]), int(source[-1]) + 1
        return self.frames[low:high][source - low]


def restore_frames(
    net: VideoNet,
    frames: Frames,
    chunk_len: int | None,
    overlap: int = 0,
    *,
    lookahead: int = 0,
    tiling: Tiling | None = None,
    autocast: torch.dtype | None = None,
    pad_ends: bool = False,
    fast: bool = True,
    compile: bool = False,
) -> Iterator[tuple[int, Tensor]]:
    """Restore ``frames`` ``[T, 3, H, W]`` in overlapping chunks, yielding ``(index, restored
    frame)`` in order as soon as a chunk is done, so only one chunk is ever held by the net.

    Args:
        net: a zoo video net in eval mode (or a wrapper such as
            :class:`~deblurzoo.ensemble.SelfEnsemble`).
        frames: the sequence, sliced chunk by chunk (see :class:`Frames`).
        chunk_len, overlap, lookahead: the temporal chunks
            (:func:`~deblurzoo.chunking.plan_chunks`); ``chunk_len=None`` feeds the whole sequence.
        tiling: restore each chunk tile by tile (:func:`~deblurzoo.tiling.restore_tiled`); chunks
            then stay in host memory and only the tiles of a pass go to the net's device.
        autocast: run the net under ``torch.autocast`` with this dtype (bf16/fp16 on a GPU);
            restored frames are float32 either way.
        pad_ends: repeat the first and last frames by the net's border frames
            (:class:`ReplicatedEnds`) so that every frame is restored; otherwise the frames a
            net cannot restore at the ends of the sequence are not yielded.
        fast: the inference fast path (:mod:`deblurzoo.fast`): ``net``'s weights are put in
            channels_last layout (in place) and the passes run under ``torch.inference_mode``;
            the frames are the eager ones to 1e-4.
        compile: on the fast path, also compile ``net`` (in place, once: a later call reuses
            the compiled code; :func:`deblurzoo.fast.fast_net`).

    The restored frames are float32 on the net's device (host memory with ``tiling``).
    """
    device = next(net.parameters()).device
    check_compile(fast, compile)
    if fast:
        fast_net(net, compile=compile, autocast=autocast)
    first, last = net.border_frames
    shift = 0
    if pad_ends and first + last:
        frames, shift = ReplicatedEnds(frames, first, last), first
    for chunk in plan_chunks(len(frames), chunk_len, overlap, (first, last), lookahead):
        clip = frames[chunk.start : chunk.stop].unsqueeze(0)
        with (
            no_grad(fast),
            torch.autocast(device.type, dtype=autocast, enabled=autocast is not None),
        ):
            if tiling is not None:
                restored = restore_tiled(net, clip, tiling)[0]
            else:
                restored = restore(net, clip.to(device))[0]
        for index in range(chunk.keep_from, chunk.keep_to):
            frame = restored[index - chunk.start - first].float()
            yield index - shift, frame.clone(memory_format=torch.contiguous_format)
        del clip, restored  # before the next chunk's forward: one chunk is held at a time
