"""BSD (Beam-Splitter Deblurring) of Zhong et al., "Efficient Spatio-Temporal Recurrent Neural
Network for Video Deblurring", ECCV 2020, and its journal version
(https://github.com/zzh-tech/ESTRNN).

Three captures with different exposures (``BSD_1ms8ms``, ``BSD_2ms16ms``, ``BSD_3ms24ms``), each
trained and tested on its own. The tree of one of them, as ``BSD.zip`` unpacks::

    BSD_2ms16ms/                        640x480
    ├── train/<video>/
    │   ├── Blur/RGB/00000000.png ...
    │   ├── Blur/RAW/00000000.tiff ...  (not read)
    │   └── Sharp/RGB/00000000.png ...
    ├── valid/<video>/...
    └── test/<video>/...                150-frame test videos

``root`` is one ``BSD_<exposure>`` folder. The splits are the archive's: ``train`` is train,
``val`` is valid, ``test`` is test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from deblurzoo.data.layouts.base import SequenceLayout, subdirs

__all__ = ["BsdLayout"]

_SPLIT_DIRS = {"train": "train", "val": "valid", "test": "test"}


class BsdLayout(SequenceLayout):
    """BSD: ``root/{train,valid,test}/<video>/{Blur,Sharp}/RGB/*.png`` for one exposure setting."""

    expected = "expected train/, valid/ and test/ under it (one BSD_<exposure> folder of BSD.zip)"

    def _folders(self, split: str) -> Iterator[tuple[str, Path, Path]]:
        split_dir = self.root / _SPLIT_DIRS[split]
        for video in subdirs(split_dir, "expected one folder per video in it"):
            yield video.name, video / "Blur" / "RGB", video / "Sharp" / "RGB"
