"""Lightning callbacks of deblurzoo's own (the rest come from Lightning via ``conf/callbacks``)."""

from deblurzoo.callbacks.finite_loss import FiniteLoss
from deblurzoo.callbacks.frame_writer import FrameWriter
from deblurzoo.callbacks.restored_clip import RestoredClip
from deblurzoo.callbacks.rng_state import RngState
from deblurzoo.callbacks.run_info import RunInfo

__all__ = ["FiniteLoss", "FrameWriter", "RestoredClip", "RngState", "RunInfo"]
