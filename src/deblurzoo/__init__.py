"""deblurzoo: a PyTorch Lightning + Hydra model zoo of video-deblurring methods."""

from deblurzoo.models import create_model, list_models, model_spec, register_model

__version__ = "0.1.0"
__all__ = ["__version__", "create_model", "list_models", "model_spec", "register_model"]
