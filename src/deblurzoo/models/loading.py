"""Building a registered model from a checkpoint file, for inference outside the trainer.

Two kinds of file are read:

* a Lightning checkpoint of a zoo task: the net's weights under ``state_dict`` with the
  ``net.`` prefix, and the model config the task stored under ``hyper_parameters["net"]``
  (``{"name": <registered model>, **kwargs}``, see
  :class:`deblurzoo.tasks.VideoRestorationModule`), so the file alone rebuilds the net;
* a bare state dict of the net (``torch.save(net.state_dict(), path)``; a ``net.`` prefix on
  every key, as a whole task's state dict has, is removed), which needs the model config given.

Files are unpickled with ``weights_only=True``: checkpoints hold only tensors and plain
containers, and a file that needs more is refused rather than run. A config given by the caller
replaces the stored one (``model=`` on the command line). Weights must match the built net
exactly; a mismatch is reported with the missing, unexpected and differently shaped entries.

A net rebuilt from a checkpoint takes every weight from it, so the config keys that only load
initial weights from another file (:data:`WEIGHT_FILE_KEYS`) are dropped: those files need not
exist where the checkpoint is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from deblurzoo.models.registry import create_model

LIGHTNING_PREFIX = "net."
_SHOWN = 5  # entries of each kind named in a mismatch error
#: Model keyword arguments that load initial weights from a local file: MemDeblur's ImageNet
#: ResNet stage and the two-stage MLFA's trained stage 1.
WEIGHT_FILE_KEYS = ("pretrained_path", "stage1_checkpoint")


class CheckpointError(ValueError):
    """A checkpoint cannot be read or does not fit the model; the message names the file."""


@dataclass(frozen=True)
class NetCheckpoint:
    """The net's weights in a checkpoint file and the model config stored with them (``None``
    for a bare state dict)."""

    path: Path
    state_dict: dict[str, Tensor]
    config: dict[str, Any] | None


def read_net_checkpoint(path: str | Path) -> NetCheckpoint:
    """Read the net's weights and stored config from ``path`` (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ckpt_path={str(path)!r}: no such checkpoint file")
    try:
        content = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as err:  # torch raises several kinds for a file that is no checkpoint
        raise CheckpointError(f"{path}: cannot read as a PyTorch checkpoint ({err})") from err
    if not isinstance(content, Mapping):
        raise CheckpointError(f"{path}: holds a {type(content).__name__}, not a state dict")
    config = None
    if isinstance(content.get("state_dict"), Mapping):  # a Lightning checkpoint
        config = (content.get("hyper_parameters") or {}).get("net")
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
    return NetCheckpoint(path, state, dict(config) if config is not None else None)


def rebuild_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A model config for a net whose weights all come from a checkpoint: ``config`` without
    its :data:`WEIGHT_FILE_KEYS`."""
    return {key: value for key, value in config.items() if key not in WEIGHT_FILE_KEYS}


def load_weights(net: nn.Module, checkpoint: NetCheckpoint, name: str) -> None:
    """Load ``checkpoint``'s weights into ``net`` (the registered model ``name``), refusing any
    mismatch with the entries that differ named."""
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
        raise CheckpointError(
            f"{checkpoint.path} does not match model {name!r}: " + "; ".join(problems)
            + " (was it saved from another model or with other widths? set model= to its config)"
        )  # fmt: skip
    net.load_state_dict(given)


def load_net(ckpt_path: str | Path, config: Mapping[str, Any] | None = None) -> nn.Module:
    """The registered model of ``config`` (else the config stored in the checkpoint) with the
    checkpoint's weights, on the CPU in eval mode."""
    checkpoint = read_net_checkpoint(ckpt_path)
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
