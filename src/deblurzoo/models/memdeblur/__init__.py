"""MemDeblur (Ji & Yao, CVPR 2022): multi-scale memory-based video deblurring."""

from deblurzoo.models.memdeblur.memdeblur import MemDeblur
from deblurzoo.models.memdeblur.memory_bank import MemoryBank
from deblurzoo.models.memdeblur.spec import SPEC

__all__ = ["SPEC", "MemDeblur", "MemoryBank"]
