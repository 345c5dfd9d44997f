"""GOPRO (``GOPRO_Large``) of Nah et al., "Deep Multi-scale Convolutional Neural Network for
Dynamic Scene Deblurring", CVPR 2017.

The tree as ``GOPRO_Large.zip`` (https://seungjunnah.github.io/Datasets/gopro) unpacks::

    GOPRO_Large/
    ├── train/                      22 videos, 2103 frames
    │   └── GOPR0372_07_00/
    │       ├── blur/000047.png         plain average of sharp frames
    │       ├── blur_gamma/000047.png   average with the gamma-2.2 curve undone, then redone
    │       └── sharp/000047.png
    └── test/                       11 videos, 1111 frames (77-134 per video)
        └── GOPR0384_11_00/...

Frame numbers are ``%06d`` and start wherever the clip starts. The train/test split is the
archive's own. GOPRO has no validation split: ``val`` returns the test videos.
Image deblurring methods usually train on ``blur``; video methods (IFI-RNN, ESTRNN) on
``blur_gamma``, downsampled to 960x540 (a dataset option, not a layout one).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from deblurzoo.data.layouts.base import SequenceLayout, check_choice, subdirs

__all__ = ["GoproLayout"]

_SPLIT_DIRS = {"train": "train", "val": "test", "test": "test"}


class GoproLayout(SequenceLayout):
    """GOPRO_Large: ``root/{train,test}/<video>/{blur,blur_gamma,sharp}/*.png``.

    ``blur_dir`` picks the blurry frames: ``"blur_gamma"`` (default) or ``"blur"``.
    """

    expected = "expected train/ and test/ under it (GOPRO_Large as unpacked)"

    def __init__(
        self, root: str | Path, blur_dir: str = "blur_gamma", convert: bool = True
    ) -> None:
        super().__init__(root, convert)
        self.blur_dir = check_choice("GOPRO blur_dir", blur_dir, ("blur", "blur_gamma"))

    def _folders(self, split: str) -> Iterator[tuple[str, Path, Path]]:
        split_dir = self.root / _SPLIT_DIRS[split]
        for video in subdirs(split_dir, "expected one folder per video (GOPRxxxx_xx_xx) in it"):
            yield video.name, video / self.blur_dir, video / "sharp"
