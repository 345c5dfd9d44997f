"""Dataset layouts: where each dataset keeps its videos on disk and how it splits them.

``LAYOUTS[name](root, ...).sequences(split)`` indexes a split into
:class:`~deblurzoo.data.sequence.VideoSequence` objects; see :class:`SequenceLayout` for the
contract and ``docs/datasets.md`` for the trees.
"""

from deblurzoo.data.layouts.base import SPLITS, SequenceLayout, pair_sequence
from deblurzoo.data.layouts.bsd import BsdLayout
from deblurzoo.data.layouts.dvd import DVD_TEST_VIDEOS, DvdLayout
from deblurzoo.data.layouts.gopro import GoproLayout
from deblurzoo.data.layouts.reds import RedsLayout
from deblurzoo.data.layouts.synthetic import SyntheticGoproLayout

__all__ = [
    "DVD_TEST_VIDEOS",
    "LAYOUTS",
    "SPLITS",
    "BsdLayout",
    "DvdLayout",
    "GoproLayout",
    "RedsLayout",
    "SequenceLayout",
    "SyntheticGoproLayout",
    "pair_sequence",
]

LAYOUTS: dict[str, type[SequenceLayout]] = {
    "gopro": GoproLayout,
    "reds": RedsLayout,
    "dvd": DvdLayout,
    "bsd": BsdLayout,
}
