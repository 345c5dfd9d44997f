"""LightningModules: how the zoo's networks are trained and evaluated."""

from deblurzoo.tasks.video_restoration import VideoRestorationModule

__all__ = ["VideoRestorationModule"]
