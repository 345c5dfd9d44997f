"""Plain ``nn.Module`` networks, one subpackage per method family, and the zoo registry."""

from deblurzoo.models import kernel_space, memdeblur, mlfa, rirn  # noqa: F401  (registers)
from deblurzoo.models.registry import create_model, list_models, register_model
from deblurzoo.models.video_net import MultiScaleFrames, VideoNet, restore

__all__ = [
    "MultiScaleFrames",
    "VideoNet",
    "create_model",
    "list_models",
    "register_model",
    "restore",
]
