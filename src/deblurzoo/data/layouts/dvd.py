"""DVD (DeepVideoDeblurring) of Su et al., "Deep Video Deblurring for Hand-held Cameras", CVPR 2017.

The tree as ``DeepVideoDeblurring_Dataset.zip`` unpacks::

    DeepVideoDeblurring_Dataset/
    ├── quantitative_datasets/          71 videos with ground truth, mostly 1280x720
    │   ├── 720p_240fps_1/
    │   │   ├── GT/00000.jpg ...
    │   │   └── input/00000.jpg ...
    │   └── IMG_0003/ ...
    └── qualitative_datasets/           real blurry videos without ground truth (not read)

``root`` may be ``DeepVideoDeblurring_Dataset`` or its ``quantitative_datasets`` folder. The
archive has no split; the standard one (listed in shuochsu/DeepVideoDeblurring issue #2 and
repeated in the public code of later methods) tests on the ten videos of :data:`DVD_TEST_VIDEOS`
and trains on the other 61. There is no validation split: ``val`` returns the test videos.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from deblurzoo.data.layouts.base import SequenceLayout, subdirs
from deblurzoo.data.sequence import DatasetError

__all__ = ["DVD_TEST_VIDEOS", "DvdLayout"]

DVD_TEST_VIDEOS = (
    "720p_240fps_2",
    "IMG_0003",
    "IMG_0021",
    "IMG_0030",
    "IMG_0031",
    "IMG_0032",
    "IMG_0033",
    "IMG_0037",
    "IMG_0039",
    "IMG_0049",
)


class DvdLayout(SequenceLayout):
    """DVD: ``root/quantitative_datasets/<video>/{input,GT}/*.jpg``.

    ``test_videos`` make up the test (and val) split, every other video the train split.
    """

    expected = "expected quantitative_datasets/ (or the video folders themselves) under it"

    def __init__(
        self,
        root: str | Path,
        test_videos: Sequence[str] = DVD_TEST_VIDEOS,
        convert: bool = True,
    ) -> None:
        super().__init__(root, convert)
        self.test_videos = tuple(test_videos)

    def _folders(self, split: str) -> Iterator[tuple[str, Path, Path]]:
        nested = self.root / "quantitative_datasets"
        folder = nested if nested.is_dir() else self.root
        videos = {video.name: video for video in subdirs(folder, self.expected)}
        missing = [name for name in self.test_videos if name not in videos]
        if missing:
            raise DatasetError(
                f"{folder}: test video(s) {', '.join(missing)} not found; the DVD test split "
                f"needs {', '.join(self.test_videos)}"
            )
        test = split != "train"
        for name, video in videos.items():
            if (name in self.test_videos) == test:
                yield name, video / "input", video / "GT"
