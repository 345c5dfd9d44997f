"""deblurzoo: a PyTorch Lightning + Hydra model zoo of video-deblurring methods."""

from deblurzoo.conversion import convert
from deblurzoo.models import create_model, list_models, model_spec, register_model
from deblurzoo.models.loading import load_model

__version__ = "0.1.0"
__all__ = [
    "__version__",
    "convert",
    "create_model",
    "list_models",
    "load_model",
    "model_spec",
    "register_model",
]
