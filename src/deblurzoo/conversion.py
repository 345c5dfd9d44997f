"""The authors' released checkpoints as deblurzoo weights files (``deblurzoo-convert``).

::

    deblurzoo-convert memdeblur_gopro_ds.pth.tar memdeblur_gopro_ds.safetensors
    deblurzoo-convert ESTRNN_C80B15_BSD_2ms16ms.tar estrnn_bsd_2ms16ms.safetensors
    deblurzoo-convert old.pth out.safetensors --trust argparse.Namespace

A checkpoint is read as its authors distribute it (``torch.load`` with ``weights_only=True``,
legacy pickles included), its format is told from its keys by the converters the family specs
declare (:attr:`deblurzoo.models.ModelSpec.converters`), and it is written as a safetensors
weights file with the registered model and the options its weights need in the metadata
(:func:`deblurzoo.models.loading.save_weights`). Before anything is written the converted
weights are loaded strictly into the net they name, so a file that converts also loads. Use it
with ``deblurzoo.load_model(path)``, ``create_model(name, pretrained=path)``, or as the
``ckpt_path`` of ``deblurzoo-eval`` and ``deblurzoo-infer``. ``docs/pretrained.md`` lists the
official checkpoints.
"""

from __future__ import annotations

import importlib
import pickle
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from deblurzoo.errors import ConfigError, PathNotFoundError
from deblurzoo.models import Converted, Converter, create_model, list_families, model_spec
from deblurzoo.models.loading import (
    Checkpoint,
    CheckpointError,
    CheckpointNotFoundError,
    load_weights,
    save_weights,
)

_SHOWN = 8  # keys named in an error


def _trusted(names: Iterable[str]) -> list[Any]:
    """The objects named ``module.qualname`` the user trusts the unpickler to build."""
    objects = []
    for name in names:
        module, _, qualname = name.rpartition(".")
        if not module or not qualname:
            raise ConfigError(f"--trust {name}: name an object as module.qualname, e.g. "
                              "argparse.Namespace")  # fmt: skip
        try:
            found: Any = importlib.import_module(module)
            for part in qualname.split("."):
                found = getattr(found, part)
        except (ImportError, AttributeError, ValueError) as err:
            raise ConfigError(f"--trust {name}: no such object ({err})") from None
        objects.append(found)
    return objects


def read_official(path: str | Path, trust: Iterable[str] = ()) -> Mapping[str, Any]:
    """What ``torch.load`` gives of ``path`` on the CPU, unpickling tensors and plain
    containers only, plus the objects ``trust`` names (``module.qualname``, e.g.
    ``argparse.Namespace``, which some authors pickle with their weights)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointNotFoundError(f"{path}: no such checkpoint file")
    try:
        with torch.serialization.safe_globals(_trusted(trust)):
            content = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        needed = _unsafe_globals(path, err)
        if needed is None:
            reason = str(err).splitlines()[0] if str(err) else "cannot unpickle it"
            raise CheckpointError(
                f"{path}: truncated or not a PyTorch checkpoint ({reason})"
            ) from err
        raise CheckpointError(
            f"{path} holds Python objects beyond tensors ({needed}), which could run code as "
            "they are unpickled: not loaded. If you trust this file, name them: "
            f"--trust {needed}"
        ) from None
    except Exception as err:  # the zip and the legacy readers fail in many ways on a bad file
        reason = f"{type(err).__name__}: {str(err).partition('. ')[0]}".rstrip(": ")
        raise CheckpointError(
            f"{path}: truncated or not a PyTorch checkpoint, cannot read it ({reason})"
        ) from err
    if not isinstance(content, Mapping):
        raise CheckpointError(f"{path}: holds a {type(content).__name__}, not a checkpoint")
    return content


def _unsafe_globals(path: Path, err: Exception) -> str | None:
    """The globals the weights-only unpickler refused, space-separated: listed by torch for a
    zip archive, read from its message for a legacy pickle; ``None`` if it refused none (the
    file is damaged instead)."""
    try:
        unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except (RuntimeError, ValueError):  # a legacy (pre-zip) file
        unsafe = []
    if unsafe:
        return " ".join(unsafe)
    marker = "Unsupported global: GLOBAL "
    message = str(err)
    if marker not in message:
        return None
    name = message.split(marker, 1)[1].split()[0]
    # a damaged legacy pickle can name a global that is no dotted name at all
    return name if all(part.isidentifier() for part in name.split(".")) else None


def describe_keys(content: Mapping[str, Any]) -> str:
    """The first keys of ``content`` and, under each top-level mapping, of the tensors in it;
    for errors."""
    parts = []
    for key, value in list(content.items())[:_SHOWN]:
        if isinstance(value, Mapping):
            inner = [k for k, v in value.items() if isinstance(v, Tensor)][:3]
            parts.append(f"{key!r}: {{{', '.join(map(repr, inner))}{', ...' if inner else ''}}}")
        else:
            parts.append(repr(key))
    more = ", ..." if len(content) > _SHOWN else ""
    return "{" + ", ".join(parts) + more + "}"


def detect(content: Mapping[str, Any], path: Path, model: str | None = None) -> Converter:
    """The one converter whose format ``content`` has (among ``model``'s family's, if given)."""
    families = [model_spec(model)] if model else list_families()
    known = [converter for spec in families for converter in spec.converters]
    found = [converter for converter in known if converter.matches(content)]
    if not found:
        formats = "; ".join(f"{c.format} ({c.source})" for c in known) or "none"
        of = f" of model {model!r}" if model else ""
        raise CheckpointError(
            f"{path}: no known checkpoint format{of} has its keys {describe_keys(content)}; "
            f"the formats: {formats}"
        )
    if len(found) > 1:
        raise CheckpointError(
            f"{path}: its keys fit several formats ({', '.join(c.format for c in found)}); "
            "name the model with --model"
        )
    return found[0]


def convert(
    source: str | Path,
    output: str | Path,
    model: str | None = None,
    trust: Iterable[str] = (),
    overwrite: bool = False,
) -> Converted:
    """Convert the authors' checkpoint ``source`` into the weights file ``output`` (see the
    module docstring); returns what was written."""
    source, output = Path(source), Path(output)
    if output.exists() and not overwrite:
        raise ConfigError(f"{output}: exists; pass --overwrite to replace it")
    if not output.parent.is_dir():
        raise PathNotFoundError(f"{output.parent}: no such folder for the output")
    content = read_official(source, trust)
    converter = detect(content, source, model)
    try:
        converted = converter.convert(content, model)
    except (KeyError, ValueError) as err:
        raise CheckpointError(f"{source} ({converter.format} format): {err}") from err
    with torch.device("meta"):
        net = create_model(converted.name, **converted.options)
    net = net.to_empty(device="cpu")
    load_weights(net, Checkpoint(source, dict(converted.state_dict), {}, {}), converted.name)
    save_weights(
        output,
        converted.state_dict,
        {"name": converted.name, **converted.options},
        {"deblurzoo.source": source.name, "deblurzoo.format": converter.format},
    )
    return converted
