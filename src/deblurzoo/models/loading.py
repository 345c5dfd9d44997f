"""The zoo's one reader of checkpoint files, and building a registered model from one.

Every command that opens a checkpoint reads it here, once (:func:`read_checkpoint`): resuming a
training run (the wandb run stored by :class:`deblurzoo.callbacks.RunInfo`,
``src/deblurzoo/train.py``), ``deblurzoo-eval`` (the task's class, hyper-parameters and weights,
``src/deblurzoo/eval.py``), ``deblurzoo-infer`` (:func:`load_net`), the kernel-space applications
(:func:`deblurzoo.kernel_space.load_kernel_space`), MLFA's stage 1
(:func:`deblurzoo.models.mlfa.two_stage.load_stage1`) and the notebooks. Lightning reads a
checkpoint itself only to resume a fit and to test the best checkpoint of a fit, with
``weights_only=True`` too (``trainer.fit``/``trainer.test`` in ``src/deblurzoo/train.py`` and
``src/deblurzoo/utils/job.py``).

Three kinds of file are read:

* a Lightning checkpoint of a zoo task: the net's weights under ``state_dict`` with the
  ``net.`` prefix, and the task's hyper-parameters under ``hyper_parameters``, among them the
  model config (``"net": {"name": <registered model>, **kwargs}``, see
  :class:`deblurzoo.tasks.VideoRestorationModule`), so the file alone rebuilds the net;
* a bare state dict of the net (``torch.save(net.state_dict(), path)``; a ``net.`` prefix on
  every key, as a whole task's state dict has, is removed), which needs the model config given;
* a weights file (safetensors, which holds tensors only), such as ``deblurzoo-convert`` writes
  from the authors' released checkpoints: the registered model and its options are stored in
  its metadata under :data:`WEIGHTS_METADATA_KEY` (:func:`save_weights`).

Files are unpickled with ``weights_only=True`` only: the zoo's checkpoints (optimizer, scheduler
and callback states included) hold tensors and plain containers. A file that needs more, such as
pickled functions or class instances, which could run code as they are unpickled, is refused with
the objects named and is never loaded. Every error is a :class:`CheckpointError` naming the file:
missing, truncated or corrupted, not a checkpoint, holding arbitrary objects, or holding weights
that do not fit the model (the entries that differ named, and the model they were saved from).
A config given by the caller replaces the stored one (``model=`` on the command line).

A net rebuilt from a checkpoint takes every weight from it, so the config keys that only load
initial weights from another file (the spec's ``weight_file_keys``,
:class:`deblurzoo.models.ModelSpec`) are dropped: those files need not exist where the
checkpoint is used.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import Tensor, nn

from deblurzoo.errors import UserError
from deblurzoo.models.registry import create_model, model_spec
from deblurzoo.utils.atomic import atomic_path

LIGHTNING_PREFIX = "net."
#: The first bytes of every file ``torch.save`` writes: a zip archive (the format since torch 1.6).
ZIP_MAGIC = b"PK\x03\x04"
_SHOWN = 5  # entries of each kind named in an error
#: The metadata entry of a weights file holding its model config as JSON.
WEIGHTS_METADATA_KEY = "deblurzoo.net"
#: Where :class:`deblurzoo.callbacks.RunInfo` keeps a run's identity in its checkpoints.
RUN_KEY = "deblurzoo_run"


class CheckpointError(UserError, ValueError):
    """A checkpoint cannot be read or does not fit the model; the message names the file."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """The checkpoint file does not exist."""


@dataclass(frozen=True)
class Checkpoint:
    """What the zoo uses of a checkpoint file.

    Attributes:
        path: the file.
        state_dict: the net's weights (keys without the ``net.`` prefix).
        hyper_parameters: the task's hyper-parameters; empty for a bare state dict.
        run_info: what :class:`deblurzoo.callbacks.RunInfo` stored (the wandb run, the task's
            class); empty if nothing.
    """

    path: Path
    state_dict: dict[str, Tensor]
    hyper_parameters: dict[str, Any]
    run_info: dict[str, Any]

    @property
    def config(self) -> dict[str, Any] | None:
        """The model config stored with the weights; ``None`` for a bare state dict."""
        net = self.hyper_parameters.get("net")
        return dict(net) if net is not None else None


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Read ``path`` once (see the module docstring); the tensors are memory-mapped."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointNotFoundError(f"{path}: no such checkpoint file")
    if _is_safetensors(path):
        return _read_weights_file(path)
    content = _load(path)
    if not isinstance(content, Mapping):
        raise CheckpointError(f"{path}: holds a {type(content).__name__}, not a state dict")
    hyper_parameters, run_info = {}, {}
    if isinstance(content.get("state_dict"), Mapping):  # a Lightning checkpoint
        hyper_parameters = dict(content.get("hyper_parameters") or {})
        run_info = dict(content.get(RUN_KEY) or {})
        state = {
            key.removeprefix(LIGHTNING_PREFIX): value
            for key, value in content["state_dict"].items()
            if key.startswith(LIGHTNING_PREFIX)
        }
        if not state:
            raise CheckpointError(
                f"{path}: a Lightning checkpoint without '{LIGHTNING_PREFIX}*' weights: not a "
                "checkpoint of a deblurzoo task"
            )
    else:
        state = dict(content)
        if state and all(key.startswith(LIGHTNING_PREFIX) for key in state):
            state = {key.removeprefix(LIGHTNING_PREFIX): value for key, value in state.items()}
    bad = [key for key, value in state.items() if not isinstance(value, Tensor)]
    if not state or bad:
        raise CheckpointError(
            f"{path}: not a state dict of tensors"
            + (f" (entries {', '.join(map(repr, bad[:_SHOWN]))} are not tensors)" if bad else "")
        )
    return Checkpoint(path, state, hyper_parameters, run_info)


def _is_safetensors(path: Path) -> bool:
    """A safetensors file starts with the length of its JSON header, then the header's ``{``."""
    with path.open("rb") as file:
        head = file.read(9)
    return len(head) == 9 and head[8:] == b"{"


def _read_weights_file(path: Path) -> Checkpoint:
    try:
        with safe_open(path, framework="pt", device="cpu") as file:
            metadata = file.metadata() or {}
            state = {key: file.get_tensor(key) for key in file.keys()}  # noqa: SIM118
    except SafetensorError as err:
        raise CheckpointError(f"{path}: truncated or corrupted weights file ({err})") from err
    if not state:
        raise CheckpointError(f"{path}: a weights file with no tensor")
    config = (
        json.loads(metadata[WEIGHTS_METADATA_KEY]) if WEIGHTS_METADATA_KEY in metadata else None
    )
    return Checkpoint(path, state, {"net": config} if config else {}, {})


def save_weights(
    path: str | Path,
    state_dict: Mapping[str, Tensor],
    config: Mapping[str, Any],
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write ``state_dict`` with its model ``config`` (``{"name": ..., **options}``) as a
    safetensors weights file that :func:`read_checkpoint` and :func:`load_model` read; ``metadata``
    adds string entries (where the weights came from). The file appears whole or not at all."""
    path = Path(path)
    tensors = {key: value.detach().cpu().contiguous() for key, value in state_dict.items()}
    entries = {**(metadata or {}), WEIGHTS_METADATA_KEY: json.dumps(dict(config))}
    with atomic_path(path) as partial:
        save_file(tensors, partial, metadata=entries)
    return path


def _load(path: Path) -> Any:
    """``torch.load(path, weights_only=True)``, each way it can fail told apart."""
    with path.open("rb") as file:
        head = file.read(len(ZIP_MAGIC))
    if head != ZIP_MAGIC:
        raise CheckpointError(
            f"{path}: not a PyTorch checkpoint (torch.save writes a zip archive; this file "
            f"starts with {head!r})"
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError as err:  # the weights-only unpickler met something else
        unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(path)
        if not unsafe:
            raise CheckpointError(f"{path}: cannot unpickle its content ({err})") from err
        raise CheckpointError(
            f"{path} holds arbitrary Python objects ({', '.join(unsafe[:_SHOWN])}), which could "
            "run code as they are unpickled: not loaded, for safety (a checkpoint of the zoo "
            "holds only tensors and plain containers)"
        ) from None
    except RuntimeError as err:  # the zip reader's
        reason = str(err).partition(". ")[0]
        raise CheckpointError(
            f"{path}: truncated or corrupted, cannot read as a PyTorch checkpoint ({reason})"
        ) from err


def rebuild_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A model config for a net whose weights all come from a checkpoint: ``config`` without
    the options its spec names as loading initial weights from a file (``weight_file_keys``)."""
    dropped = model_spec(config["name"]).weight_file_keys
    return {key: value for key, value in config.items() if key not in dropped}


def load_weights(net: nn.Module, checkpoint: Checkpoint, name: str) -> None:
    """Load ``checkpoint``'s weights into ``net`` (the registered model ``name``), refusing any
    mismatch with the entries that differ named, and the model the weights were saved from when
    the checkpoint stores another."""
    expected = net.state_dict()
    given = checkpoint.state_dict
    missing = [key for key in expected if key not in given]
    unexpected = [key for key in given if key not in expected]
    reshaped = [
        f"{key} {tuple(given[key].shape)} vs {tuple(value.shape)}"
        for key, value in expected.items()
        if key in given and given[key].shape != value.shape
    ]
    problems = [
        f"{label} ({len(keys)}): {', '.join(keys[:_SHOWN])}{', ...' if len(keys) > _SHOWN else ''}"
        for label, keys in (
            ("missing", missing),
            ("unexpected", unexpected),
            ("checkpoint shape vs model shape", reshaped),
        )
        if keys
    ]
    if problems:
        saved = (checkpoint.config or {}).get("name", name)
        origin = f" (weights of model {saved!r})" if saved != name else ""
        raise CheckpointError(
            f"{checkpoint.path}{origin} does not match model {name!r}: " + "; ".join(problems)
            + " (was it saved from another model or with other widths? set model= to its config)"
        )  # fmt: skip
    net.load_state_dict(given)


def rebuild_net(checkpoint: Checkpoint, config: Mapping[str, Any] | None = None) -> nn.Module:
    """The registered model of ``config`` (else the config stored in ``checkpoint``), built
    without its weight files (:func:`rebuild_config`), with the checkpoint's weights, on the CPU
    in eval mode."""
    config = dict(config) if config is not None else checkpoint.config
    if config is None:
        raise CheckpointError(
            f"{checkpoint.path}: a bare state dict stores no model config; name the model "
            "(e.g. model=ifirnn_c1h1)"
        )
    if "name" not in config:
        raise CheckpointError(f"{checkpoint.path}: model config {config} has no 'name'")
    net = create_model(**rebuild_config(config))
    load_weights(net, checkpoint, config["name"])
    return net.eval()


def load_net(ckpt_path: str | Path, config: Mapping[str, Any] | None = None) -> nn.Module:
    """:func:`rebuild_net` of the checkpoint file ``ckpt_path``."""
    return rebuild_net(read_checkpoint(ckpt_path), config)


def load_model(path: str | Path, name: str | None = None, **overrides: Any) -> nn.Module:
    """The net stored in ``path`` (a weights file of ``deblurzoo-convert`` or any checkpoint
    :func:`read_checkpoint` reads), built with its stored options updated by ``overrides``, with
    its weights loaded strictly, in eval mode on the CPU. ``name``, when given, must be the
    stored model (a bare state dict stores none and needs it)."""
    checkpoint = read_checkpoint(path)
    stored = checkpoint.config or {}
    if name is not None and stored.get("name", name) != name:
        raise CheckpointError(
            f"{checkpoint.path} holds weights of model {stored['name']!r}, not {name!r}"
        )
    if name is None and "name" not in stored:
        raise CheckpointError(
            f"{checkpoint.path}: a bare state dict stores no model; name it "
            "(create_model(name, pretrained=path))"
        )
    return rebuild_net(checkpoint, {**stored, **({"name": name} if name else {}), **overrides})
