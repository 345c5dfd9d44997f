"""The indexed form of one video: paired blurry and sharp frame files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deblurzoo.errors import UserError


class DatasetError(UserError, ValueError):
    """A dataset on disk cannot be used as it is; the message names the path and the problem."""


@dataclass(frozen=True)
class VideoSequence:
    """One video of a dataset split, as found on disk.

    ``blur[i]`` and ``sharp[i]`` are the files of the same frame; ``frame_ids`` are their shared
    file stems (frame numbering need not start at 0). ``size`` is the on-disk ``(height, width)``
    shared by every frame of the sequence.
    """

    name: str
    blur: tuple[Path, ...]
    sharp: tuple[Path, ...]
    size: tuple[int, int]

    def __post_init__(self) -> None:
        if len(self.blur) != len(self.sharp):
            raise DatasetError(
                f"sequence {self.name!r}: {len(self.blur)} blurry, {len(self.sharp)} sharp frames"
            )

    def __len__(self) -> int:
        return len(self.blur)

    @property
    def frame_ids(self) -> tuple[str, ...]:
        return tuple(p.stem for p in self.blur)
