"""Plain ``nn.Module`` networks, one subpackage per method family, and the zoo registry.

Importing a family's subpackage registers its :class:`ModelSpec` (``<family>/spec.py``); a new
family is one more name on the import line below (``docs/adding_a_model.md``).
"""

from deblurzoo.models import estrnn, kernel_space, memdeblur, mlfa, rirn  # noqa: F401  (registers)
from deblurzoo.models.registry import (
    create_model,
    list_families,
    list_models,
    model_spec,
    register_family,
    register_model,
)
from deblurzoo.models.spec import Converted, Converter, ModelSpec, Published, Score
from deblurzoo.models.video_net import MultiScaleFrames, VideoNet, restore

__all__ = [
    "Converted",
    "Converter",
    "ModelSpec",
    "MultiScaleFrames",
    "Published",
    "Score",
    "VideoNet",
    "create_model",
    "list_families",
    "list_models",
    "model_spec",
    "register_family",
    "register_model",
    "restore",
]
