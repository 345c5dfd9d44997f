"""Restoring sequences of any length with bounded memory, chunk by chunk
(:func:`deblurzoo.chunking.plan_chunks`)."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from deblurzoo.chunking import plan_chunks
from deblurzoo.models import VideoNet, restore


@torch.no_grad()
def restore_frames(
    net: VideoNet, frames: Tensor, chunk_len: int | None, overlap: int = 0
) -> Iterator[tuple[int, Tensor]]:
    """Restore ``frames`` ``[T, 3, H, W]`` (any object sliced into such tensors) in overlapping
    chunks, yielding ``(index, restored frame)`` in order as soon as a chunk is done, so only one
    chunk is ever held by the net. Frames the net cannot restore (its border frames at the ends
    of the sequence) are not yielded. The net should be in eval mode."""
    device = next(net.parameters()).device
    first, last = net.border_frames
    for chunk in plan_chunks(len(frames), chunk_len, overlap, (first, last)):
        restored = restore(net, frames[chunk.start : chunk.stop].unsqueeze(0).to(device))[0]
        for index in range(chunk.keep_from, chunk.keep_to):
            yield index, restored[index - chunk.start - first].clone()
        del restored  # before the next chunk's forward: one chunk is held at a time
