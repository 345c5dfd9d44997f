"""Temporal chunking of long sequences, shared by evaluation and inference.

A sequence is cut into chunks of ``chunk_len`` frames (the last aligned to the sequence end)
that overlap by ``overlap`` frames, so memory is bounded by the chunk, not by the sequence. A net
with ``border_frames = (b0, b1)`` restores only the frames of a chunk after its first ``b0`` and
before its last ``b1``; the frames at the very start and end of a sequence are therefore never
restored (ESTRNN's protocol). Every other frame is kept from exactly one chunk: the first chunk
keeps all it restores up to ``lookahead`` frames before its restorable end, a later one the
frames from there on, after ``overlap − b0 − b1 − lookahead`` frames of warm-up (the state a
recurrent net builds). ``lookahead = 0`` (evaluation's choice) keeps each frame from the chunk
where it has the most past context, right for a causal net; a net that also looks ahead (a
bidirectional recurrence, a window of neighbours clamped at the chunk's end) needs its future
context there too, as ESTRNN's ``past_frames``/``future_frames`` discard does
(``docs/evaluation.md``). ``chunk_len=None`` takes the sequence whole, and so does any
``chunk_len`` at least as long as the sequence: a sequence no longer than ``overlap`` (a single
frame, say) is one chunk. A sequence of at most ``b0 + b1`` frames has no frame to restore and
gets no chunk (the net would refuse it: :meth:`deblurzoo.models.VideoNet.check_input`).
"""

from __future__ import annotations

from typing import NamedTuple

from deblurzoo.errors import ConfigError


class Chunk(NamedTuple):
    """Frames ``[start, stop)`` are fed; frames ``[keep_from, keep_to)`` are kept."""

    start: int
    stop: int
    keep_from: int
    keep_to: int


def plan_chunks(
    num_frames: int,
    chunk_len: int | None,
    overlap: int = 0,
    border_frames: tuple[int, int] = (0, 0),
    lookahead: int = 0,
) -> list[Chunk]:
    """The chunks of a ``num_frames``-frame sequence (see the module docstring)."""
    first, last = border_frames
    if lookahead < 0:
        raise ConfigError(f"lookahead must be >= 0, got {lookahead}")
    if chunk_len is not None and not first + last + lookahead <= overlap < chunk_len:
        raise ConfigError(
            f"need {first + last + lookahead} <= overlap < chunk_len ({first} + {last} frames "
            f"of each chunk go unrestored or unscored; lookahead={lookahead}), got "
            f"overlap={overlap}, chunk_len={chunk_len}"
        )
    if num_frames <= first + last:  # no frame to restore: the net would refuse the clip
        return []
    if chunk_len is None or chunk_len >= num_frames:  # one chunk, the sequence whole
        length, starts = num_frames, [0]
    else:
        length = chunk_len
        starts = [*range(0, num_frames - length, length - overlap), num_frames - length]
    chunks, kept_until = [], first
    for k, start in enumerate(starts):
        final = k == len(starts) - 1
        keep_to = start + length - last - (0 if final else lookahead)
        keep_from = max(start + (overlap - last - lookahead if k else first), kept_until)
        chunks.append(Chunk(start, start + length, keep_from, keep_to))
        kept_until = keep_to
    return chunks
