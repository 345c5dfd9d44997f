"""Video datasets: on-disk layouts, the synthetic generator, clip sampling, the DataModule."""

from deblurzoo.data.augment import ClipAugment
from deblurzoo.data.datamodule import VideoDataModule
from deblurzoo.data.sequence import DatasetError, VideoSequence

__all__ = ["ClipAugment", "DatasetError", "VideoDataModule", "VideoSequence"]
