"""Lightning callbacks of deblurzoo's own (the rest come from Lightning via ``conf/callbacks``)."""

from deblurzoo.callbacks.frame_writer import FrameWriter
from deblurzoo.callbacks.run_info import RunInfo

__all__ = ["FrameWriter", "RunInfo"]
