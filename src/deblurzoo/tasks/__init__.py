"""LightningModules: how the zoo's networks are trained and evaluated."""

from deblurzoo.tasks.kernel_space import KernelSpaceModule
from deblurzoo.tasks.video_restoration import VideoRestorationModule

__all__ = ["KernelSpaceModule", "VideoRestorationModule"]
