"""REDS of Nah et al., "NTIRE 2019 Challenge on Video Deblurring and Super-Resolution: Dataset and
Study", CVPR Workshops 2019 (https://seungjunnah.github.io/Datasets/reds).

The tree, with each zip unpacked into ``root`` (``train_blur.zip`` etc.)::

    REDS/
    ├── train_blur/000/00000000.png ... 239/00000099.png   240 videos x 100 frames, 1280x720
    ├── train_blur_jpeg/000/00000000.jpg ...               JPEG-compressed blurry frames
    ├── train_blur_comp/000/...                            blurry frames, video-compressed
    ├── train_sharp/000/00000000.png ...
    ├── val_blur/000/00000000.png ... 029/00000099.png     30 videos x 100 frames
    ├── val_blur_jpeg/, val_blur_comp/
    └── val_sharp/000/00000000.png ...

Each folder may also sit one level down, as the separate zips unpack: ``root/train/train_blur``,
``root/val/val_sharp``. Splits are the challenge's: ``train`` is train, ``val`` is val, and
``test`` is val too, because the ground truth of the REDS test videos was never published.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from deblurzoo.data.layouts.base import SequenceLayout, check_choice, subdirs
from deblurzoo.data.sequence import DatasetError

__all__ = ["RedsLayout"]

_SPLIT_DIRS = {"train": "train", "val": "val", "test": "val"}


class RedsLayout(SequenceLayout):
    """REDS: ``root/{train,val}_{blur,blur_jpeg,blur_comp,sharp}/<video>/*.png``, or one level down.

    ``blur_dir`` picks the blurry frames: ``"blur"`` (default), ``"blur_jpeg"`` or ``"blur_comp"``.
    """

    expected = "expected train_blur/, train_sharp/, val_blur/, val_sharp/ (or train/, val/) in it"

    def __init__(self, root: str | Path, blur_dir: str = "blur", convert: bool = True) -> None:
        super().__init__(root, convert)
        self.blur_dir = check_choice("REDS blur_dir", blur_dir, ("blur", "blur_jpeg", "blur_comp"))

    def _folders(self, split: str) -> Iterator[tuple[str, Path, Path]]:
        prefix = _SPLIT_DIRS[split]
        blur_root = self._find(prefix, f"{prefix}_{self.blur_dir}")
        sharp_root = self._find(prefix, f"{prefix}_sharp")
        for video in subdirs(blur_root, "expected one folder per video (000, 001, ...) in it"):
            yield video.name, video, sharp_root / video.name

    def _find(self, prefix: str, name: str) -> Path:
        """``root/name`` or, as the separate zips unpack, ``root/prefix/name``."""
        candidates = (self.root / name, self.root / prefix / name)
        for folder in candidates:
            if folder.is_dir():
                return folder
        raise DatasetError(
            f"{candidates[0]}: folder not found (nor {candidates[1]}); {self.expected}"
        )
