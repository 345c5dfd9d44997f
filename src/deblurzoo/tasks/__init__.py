"""LightningModules: how the zoo's networks are trained and evaluated."""

from deblurzoo.tasks.video_restoration import VideoRestorationModule, restore

__all__ = ["VideoRestorationModule", "restore"]
