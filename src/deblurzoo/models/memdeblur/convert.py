"""MemDeblur's official checkpoints (jibo27/MemDeblur: ``memdeblur_gopro_ds.pth.tar``,
``memdeblur_gopro_ori.pth.tar``) as deblurzoo ``memdeblur`` weights.

The released code (``docs/reference_code.md``, MemDeblur) saves what its ESTRNN-derived training
loop keeps each epoch: ``{"epoch", "model", "state_dict", "register_dict", "optimizer",
"scheduler"}``, the state dict being its wrapper's, so every key starts with ``model.`` (and the
memory branch's with ``model.memory.``). The two released files are of one configuration (the
code's two configs differ in data paths only), the full model of Tables 1 and 2.

What the conversion does, beyond renaming:

- F's four input convolutions (``forward_input_convs.{0,1,2}``, ``backward_resblocks.main.0``)
  concatenate their inputs in another order than deblurzoo's; their input channels are permuted.
- The code's ResNet-50 (STCN's copy) gives K's, V_r's and V_h's stem and ``layer1`` convolutions
  biases (33 convs, 4,416 values). Every one is followed by a BatchNorm, which in evaluation
  subtracts its running mean: the bias folds exactly into it (``running_mean − bias``). In
  training BatchNorm subtracts the batch mean and the bias cancels anyway.
- ``conv_hr`` and ``conv_last`` (38,659 values) are never run and are dropped.
- The code reads frames with OpenCV and never converts them: the net works on BGR. D's first
  convolution is the only one that reads a frame (the blurry input at every scale, the upsampled
  coarser output, the restored frame for V_r: all go through D), and U's last the only one that
  writes one; both are folded to RGB (:mod:`deblurzoo.models.channel_order`).
- The frames are centred the same way (``x/255 − 0.5``; deblurzoo centres inside the net).

The converted net is run with the released test-time behaviour (Sec. 4.1 and the code's
``MemoryBank``): ``backward_schedule="released"``, ``memory_bound="locations"``, ``top_k=20``,
``memory_length=5``, on whole sequences.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from deblurzoo.models.channel_order import bgr_input, bgr_output
from deblurzoo.models.spec import Converted, Converter

MODEL = "memdeblur"
#: The released test-time behaviour (``docs/reference_code.md``, MemDeblur, "Where paper and code
#: differ"): the options the official weights are evaluated with.
RELEASED_OPTIONS = {
    "backward_schedule": "released",
    "memory_bound": "locations",
    "top_k": 20,
    "memory_length": 5,
}
#: Residual blocks of F_f and F_b in both released configurations.
NUM_BLOCKS_FORWARD, NUM_BLOCKS_BACKWARD = 30, 10
#: Built but never run by the released code.
UNUSED = ("conv_hr.weight", "conv_hr.bias", "conv_last.weight", "conv_last.bias")
_PREFIX = "model."
_MARKER = "memory.key_proj.key_proj.weight"
_SHOWN = 8

# Input channels of F's input convolutions, as (part, channels) in each code's order: x the
# frame's features D(B_i), x_prev / x_next its neighbour's, h the previous hidden state, r / fh
# the forward bank's decoded restored-frame and hidden-state readouts, back the backward bank's,
# du D of the coarser scale's upsampled output.
_X, _H = 48, 64
_FORWARD_AUTHORS = {
    0: [("x", _X), ("back", _H), ("x_prev", _X), ("fh", _H), ("h", _H), ("r", _H)],
    1: [("x", _X), ("back", _H), ("du", _X), ("x_prev", _X), ("fh", _H), ("h", _H), ("r", _H)],
}
_FORWARD_OURS = {
    0: [("x", _X), ("x_prev", _X), ("h", _H), ("r", _H), ("fh", _H), ("back", _H)],
    1: [("x", _X), ("x_prev", _X), ("h", _H), ("r", _H), ("fh", _H), ("back", _H), ("du", _X)],
}
_BACKWARD_AUTHORS = [("x", _X), ("x_next", _X), ("back", _H), ("h", _H)]
_BACKWARD_OURS = [("x", _X), ("x_next", _X), ("h", _H), ("back", _H)]


def _reorder(weight: Tensor, authors: list, ours: list) -> Tensor:
    """A conv weight whose input channels, parts in the ``authors`` order, are put in ``ours``."""
    starts, at = {}, 0
    for part, width in authors:
        starts[part] = (at, width)
        at += width
    if at != weight.shape[1]:
        raise ValueError(f"an input conv of F with {weight.shape[1]} input channels, expected {at}")
    index = torch.cat([torch.arange(starts[p][0], sum(starts[p])) for p, _ in ours])
    return weight[:, index]


def _blocks(ours: str, authors: str, count: int, first: int) -> dict[str, str]:
    """Residual blocks ``conv1``/``conv2`` of mmediting's ``ResidualBlockNoBN`` → our
    ``ResBlock.body.{0,2}``; ours numbered from ``first``."""
    names = {}
    for i in range(count):
        for a, b in (("conv1", "0"), ("conv2", "2")):
            for p in ("weight", "bias"):
                names[f"{authors}.{i}.{a}.{p}"] = f"{ours}.{first + i}.body.{b}.{p}"
    return names


def _conv(ours: str, authors: str) -> dict[str, str]:
    return {f"{authors}.{p}": f"{ours}.{p}" for p in ("weight", "bias")}


def _with_input_conv(ours: str, authors: str, blocks: int) -> dict[str, str]:
    """The code's ``ResidualBlocksWithInputConv`` (``main.0`` conv, ``main.2`` blocks) → our
    :func:`~deblurzoo.models.memdeblur.memory_encoders.residual_blocks` (``0``, ``2…``)."""
    return {
        **_conv(f"{ours}.0", f"{authors}.main.0"),
        **_blocks(ours, f"{authors}.main.2", blocks, 2),
    }


_BN = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def _resnet_stage(ours: str, authors: str) -> tuple[dict[str, str], dict[str, str]]:
    """The code's ResNet stem and ``layer1`` → timm's; and each biased conv → its BatchNorm."""
    names = {f"{authors}.conv1.weight": f"{ours}.conv1.weight"}
    names |= {f"{authors}.bn1.{p}": f"{ours}.bn1.{p}" for p in _BN}
    folds = {f"{authors}.conv1.bias": f"{ours}.bn1"}
    for block in range(3):
        convs = [(f"conv{i}", f"bn{i}") for i in (1, 2, 3)]
        if block == 0:
            convs.append(("downsample.0", "downsample.1"))
        for conv, norm in convs:
            a, o = f"{authors}.layer1.{block}", f"{ours}.layer1.{block}"
            names[f"{a}.{conv}.weight"] = f"{o}.{conv}.weight"
            names |= {f"{a}.{norm}.{p}": f"{o}.{norm}.{p}" for p in _BN}
            folds[f"{a}.{conv}.bias"] = f"{o}.{norm}"
    return names, folds


def _names() -> tuple[dict[str, str], dict[str, str]]:
    """Every key of the released state dict (without ``model.``) → ours; and the ResNet conv
    biases → the BatchNorm they fold into."""
    names: dict[str, str] = {}
    folds: dict[str, str] = {}
    names |= _conv("down.0", "downsampling.0")
    for ours, authors, layers in (("down.1", "downsampling.1", 3), ("down.3", "downsampling.2", 3)):
        for i in range(layers):
            names |= _conv(f"{ours}.dense.{i}.0", f"{authors}.rdb.dense_layers.{i}.conv")
        names |= _conv(f"{ours}.fuse", f"{authors}.rdb.conv1x1")
    names |= _conv("down.2", "downsampling.1.down_sampling")
    names |= _conv("down.4", "downsampling.2.down_sampling")
    for i in (0, 2, 4):
        names |= _conv(f"up.{i}", f"upsampling.{i}")
    for s in range(3):
        names |= _conv(f"forward_inputs.{s}.0", f"forward_input_convs.{s}.0")
    names |= _blocks("forward_trunk", "forward_resblocks.main.0", NUM_BLOCKS_FORWARD, 0)
    names |= _with_input_conv("backward_f", "backward_resblocks", NUM_BLOCKS_BACKWARD)
    names |= _conv("fusion.0", "fusion")
    encoders = {
        "key_encoder": "memory.key_encoder",
        "value_encoders.r": "memory.value_encoder_mem",
        "value_encoders.h": "memory.value_encoder_feat",
    }
    for ours, authors in encoders.items():
        names |= _with_input_conv(f"{ours}.adapter", f"{authors}.forward_resblocks", 2)
        stage, biases = _resnet_stage(f"{ours}.stage", authors)
        names |= stage
        folds |= biases
    names |= _conv("key_encoder.project", "memory.key_proj.key_proj")
    for ours, authors in (
        ("decoders.r", "memory.decoder_mem"),
        ("decoders.h", "memory.decoder_feat"),
    ):
        names |= _with_input_conv(f"{ours}.body", f"{authors}.forward_resblocks", 2)
        names |= _conv(f"{ours}.shuffle.0", f"{authors}.upsample.0")
    return names, folds


def _state_dict(content: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The released file's state dict (its ``"state_dict"``, or the file itself if it is a bare
    state dict), ``module.`` (DataParallel) stripped; ``None`` if none."""
    state = content.get("state_dict", content)
    if not isinstance(state, Mapping):
        return None
    if state and all(isinstance(k, str) and k.startswith("module.") for k in state):
        state = {k.removeprefix("module."): v for k, v in state.items()}
    return state


def matches(content: Mapping[str, Any]) -> bool:
    """Whether ``content`` is a released MemDeblur checkpoint: the code's training loop's
    ``{"epoch", "model", "state_dict", ...}`` (or its bare state dict) whose state dict holds
    the memory branch's key projection (``model.memory.key_proj.key_proj.weight``), which no
    other family's has."""
    state = _state_dict(content)
    return state is not None and _PREFIX + _MARKER in state


def _listed(keys: list[str]) -> str:
    more = f", … ({len(keys)} in all)" if len(keys) > _SHOWN else ""
    return ", ".join(keys[:_SHOWN]) + more


def convert(content: Mapping[str, Any], model: str | None) -> Converted:
    """A released MemDeblur checkpoint (:func:`matches`) → ``memdeblur`` with the released
    test-time options (:data:`RELEASED_OPTIONS`); see the module docstring for what changes.
    Raises ``ValueError`` naming the missing and unexpected keys for a state dict of another
    configuration."""
    if model not in (None, MODEL):
        raise ValueError(
            f"the released MemDeblur checkpoints hold the full model {MODEL!r}, not {model!r}"
        )
    state = _state_dict(content)
    if state is None:
        raise KeyError("expected a 'state_dict' mapping")
    names, folds = _names()
    expected = {_PREFIX + k for k in (*names, *folds, *UNUSED)}
    found = set(state)
    missing, unexpected = sorted(expected - found), sorted(found - expected)
    if missing or unexpected:
        raise ValueError(
            "not the released MemDeblur configuration (30 forward, 10 backward residual "
            f"blocks, 3 scales, memory): expected {len(expected)} keys such as "
            f"{_PREFIX}{_MARKER}, found {len(found)}; missing ({len(missing)}): "
            f"{_listed(missing) or 'none'}; unexpected ({len(unexpected)}): "
            f"{_listed(unexpected) or 'none'}"
        )
    ours = {names[k]: state[_PREFIX + k] for k in names}
    for bias, norm in folds.items():
        ours[f"{norm}.running_mean"] = ours[f"{norm}.running_mean"] - state[_PREFIX + bias]
    for s in range(3):
        key = f"forward_inputs.{s}.0.weight"
        ours[key] = _reorder(ours[key], _FORWARD_AUTHORS[min(s, 1)], _FORWARD_OURS[min(s, 1)])
    key = "backward_f.0.weight"
    ours[key] = _reorder(ours[key], _BACKWARD_AUTHORS, _BACKWARD_OURS)
    ours["down.0.weight"] = bgr_input(ours["down.0.weight"])
    ours["up.4.weight"] = bgr_output(ours["up.4.weight"])
    ours["up.4.bias"] = bgr_output(ours["up.4.bias"])
    return Converted(MODEL, dict(RELEASED_OPTIONS), {k: v.contiguous() for k, v in ours.items()})


CONVERTER = Converter(
    format="memdeblur",
    source="jibo27/MemDeblur's Google Drive folder (its README): memdeblur_gopro_ds.pth.tar, "
    "memdeblur_gopro_ori.pth.tar",
    matches=matches,
    convert=convert,
)
