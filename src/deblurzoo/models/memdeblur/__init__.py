"""MemDeblur (Ji & Yao, CVPR 2022): multi-scale memory-based video deblurring."""

from deblurzoo.models.memdeblur.memdeblur import MemDeblur
from deblurzoo.models.memdeblur.memory_bank import MemoryBank

__all__ = ["MemDeblur", "MemoryBank"]
