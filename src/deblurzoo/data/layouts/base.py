"""What every dataset layout shares: the contract, folder listing, and blur/sharp pairing.

A layout knows where one dataset keeps its videos on disk and which videos make up each split;
everything else (listing frames, pairing blurry with sharp frames, checking them) is done here,
once, by :func:`pair_sequence`, so every dataset is checked the same way.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path

from deblurzoo.data.frames import check_frame
from deblurzoo.data.sequence import DatasetError, VideoSequence

__all__ = [
    "FRAME_EXTENSIONS",
    "SPLITS",
    "SequenceLayout",
    "check_choice",
    "list_frames",
    "natural_key",
    "pair_sequence",
    "subdirs",
]

SPLITS = ("train", "val", "test")
FRAME_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg"})


class SequenceLayout(ABC):
    """One dataset's on-disk layout: where its videos are and which split each belongs to.

    Contract:

    * ``__init__(root, ..., convert=True)`` only stores its arguments and checks those that need no
      disk access (an unknown option raises :class:`DatasetError`); constructing a layout is free.
    * :meth:`sequences` ``(split)`` with ``split`` in :data:`SPLITS` indexes the split: it lists the
      videos, pairs blurry with sharp frames by file name and checks every frame's header (never
      its pixels) with :func:`~deblurzoo.data.frames.check_frame`. It returns the videos sorted by
      name (numbers in names compare as numbers). Every problem on disk raises
      :class:`DatasetError` with a message naming the offending path.
    * ``convert`` is the colour policy switch of :func:`~deblurzoo.data.frames.check_frame`:
      grayscale/palette/alpha frames are converted to RGB when true and rejected when false.
    * :meth:`prepare` puts the data on disk if the layout can (Lightning's ``prepare_data``); the
      real datasets are downloaded and unpacked by the user, so for them it does nothing.

    Subclasses implement :meth:`_folders`, saying where the videos of a split are; they keep to
    paths and splits.
    """

    #: What the root folder should contain; quoted in errors about a missing or empty folder.
    expected: str = ""

    def __init__(self, root: str | Path, convert: bool = True) -> None:
        self.root = Path(root).expanduser()
        self.convert = convert

    def prepare(self) -> None:
        """Put the data under ``root`` if this layout can make it; a no-op for real datasets."""
        return None

    def sequences(self, split: str) -> list[VideoSequence]:
        """Index ``split`` (``"train"``, ``"val"`` or ``"test"``); see the class docstring."""
        if split not in SPLITS:
            raise DatasetError(f"unknown split {split!r}; valid splits are {', '.join(SPLITS)}")
        subdirs(self.root, self.expected)
        found = [
            pair_sequence(name, blur, sharp, convert=self.convert)
            for name, blur, sharp in self._folders(split)
        ]
        return sorted(found, key=lambda seq: natural_key(seq.name))

    @abstractmethod
    def _folders(self, split: str) -> Iterable[tuple[str, Path, Path]]:
        """``(name, blur folder, sharp folder)`` of every video of ``split`` (already validated)."""


def pair_sequence(
    name: str, blur_dir: Path, sharp_dir: Path, convert: bool = True
) -> VideoSequence:
    """Pair the frames of ``blur_dir`` with those of ``sharp_dir`` into the video ``name``.

    Checks that both folders hold frames, that their file names (stems) match one to one, and
    that every frame passes :func:`~deblurzoo.data.frames.check_frame` (header only) with the same
    ``(height, width)`` as the video's first blurry frame.
    """
    blur, sharp = list_frames(blur_dir), list_frames(sharp_dir)
    blur_ids, sharp_ids = [p.stem for p in blur], [p.stem for p in sharp]
    if blur_ids != sharp_ids:
        first = next(
            (i for i, (b, s) in enumerate(zip(blur_ids, sharp_ids, strict=False)) if b != s),
            min(len(blur), len(sharp)),
        )
        raise DatasetError(
            f"sequence {name!r}: blurry frames in {blur_dir} ({len(blur)}) and sharp frames in "
            f"{sharp_dir} ({len(sharp)}) do not pair up; first difference at position {first}: "
            f"blur {_name_at(blur, first)} vs sharp {_name_at(sharp, first)}"
        )
    reference = blur[0]
    size = check_frame(reference, convert=convert).size
    for path in [*blur[1:], *sharp]:
        frame_size = check_frame(path, convert=convert).size
        if frame_size != size:
            raise DatasetError(
                f"{path}: size (H, W) {frame_size} differs from {size} of {reference}; all "
                f"blurry and sharp frames of sequence {name!r} must have the same size"
            )
    return VideoSequence(name=name, blur=tuple(blur), sharp=tuple(sharp), size=size)


def list_frames(folder: Path) -> list[Path]:
    """The frame files (``.png``/``.jpg``/``.jpeg``, any case) of ``folder``, in natural order."""
    if not folder.is_dir():
        raise DatasetError(f"{folder}: frame folder not found")
    frames = [
        p
        for p in folder.iterdir()
        if p.suffix.lower() in FRAME_EXTENSIONS and not p.name.startswith(".") and p.is_file()
    ]
    if not frames:
        raise DatasetError(f"{folder}: no frames in it (expected .png, .jpg or .jpeg files)")
    return sorted(frames, key=lambda p: natural_key(p.name))


def subdirs(folder: Path, expected: str) -> list[Path]:
    """The non-hidden subfolders of ``folder`` in natural order; raises if it has none.

    ``expected`` says what should be in ``folder`` and ends the error message.
    """
    if not folder.is_dir():
        raise DatasetError(f"{folder}: folder not found; {expected}")
    found = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if not found:
        raise DatasetError(f"{folder}: no folders in it; {expected}")
    return sorted(found, key=lambda p: natural_key(p.name))


def check_choice(key: str, value: str, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``; else a :class:`DatasetError` naming ``key``."""
    if value not in choices:
        raise DatasetError(f"{key} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def natural_key(name: str) -> tuple[tuple[str | int, ...], str]:
    """Sort key under which ``frame2`` comes before ``frame10`` (digit runs compare as numbers)."""
    parts = re.split(r"(\d+)", name)  # text and numbers alternate, text first
    return tuple(int(part) if i % 2 else part for i, part in enumerate(parts)), name


def _name_at(frames: list[Path], index: int) -> str:
    return repr(frames[index].name) if index < len(frames) else "(none)"
