"""deblurzoo: a PyTorch Lightning + Hydra model zoo of video-deblurring methods.

The names below are imported when first used, so ``import deblurzoo`` (and every command's
``--help``) does not load torch, Lightning or wandb.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

#: Each exported name → the module that defines it.
_EXPORTS = {
    "convert": "deblurzoo.conversion",
    "create_model": "deblurzoo.models",
    "deblur_video": "deblurzoo.infer",
    "list_models": "deblurzoo.models",
    "load_model": "deblurzoo.models.loading",
    "model_spec": "deblurzoo.models",
    "register_model": "deblurzoo.models",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    """Import an exported name on first use (PEP 562) and keep it."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
