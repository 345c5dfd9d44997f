"""The zoo's one catalogue of networks: configs, notebooks, tests and the CLI build models here.

Families register their :class:`~deblurzoo.models.spec.ModelSpec` (every registered name with its
factory); :func:`register_model` adds a single factory to a family of its own.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from pathlib import Path

from torch import nn

from deblurzoo.errors import UnknownNameError
from deblurzoo.models.spec import ModelSpec

_MODELS: dict[str, Callable[..., nn.Module]] = {}
_SPECS: dict[str, ModelSpec] = {}


def register_family(spec: ModelSpec) -> ModelSpec:
    """Register every model of ``spec`` under its name; returns ``spec``."""
    clashes = sorted(set(spec.models) & set(_MODELS))
    if clashes:
        raise ValueError(f"family {spec.family!r}: models {clashes} are registered already")
    for name, factory in spec.models.items():
        _MODELS[name] = factory
        _SPECS[name] = spec
    return spec


def register_model(name: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Register a factory under ``name`` (lower case, add-ons as suffixes: ``rdbn+irm``), as a
    family of its own with no published figures."""

    def decorator(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        register_family(ModelSpec(name, name, "", {name: factory}))
        return factory

    return decorator


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching a shell-style ``pattern``, sorted."""
    return sorted(n for n in _MODELS if fnmatch.fnmatchcase(n, pattern))


def list_families() -> list[ModelSpec]:
    """The spec of every registered family, in registration order."""
    return list({id(spec): spec for spec in _SPECS.values()}.values())


def _known(name: str) -> None:
    if name not in _MODELS:
        raise UnknownNameError(
            f"unknown model {name!r}; registered models: {', '.join(list_models())}"
        )


def model_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of the family the registered model ``name`` belongs to."""
    _known(name)
    return _SPECS[name]


def create_model(name: str, pretrained: str | Path | None = None, **kwargs) -> nn.Module:
    """Build the registered model ``name``; ``kwargs`` override its defaults.

    ``pretrained``: a weights file (``deblurzoo-convert``'s, or any checkpoint of the zoo) of
    this model; its stored options apply, ``kwargs`` override them, its weights load strictly
    and the net is returned in eval mode (:func:`deblurzoo.models.loading.load_model`).
    """
    _known(name)
    if pretrained is not None:
        from deblurzoo.models.loading import load_model  # it builds nets through this module

        return load_model(pretrained, name, **kwargs)
    return _MODELS[name](**kwargs)
