"""The authors' released ESTRNN checkpoints as ``estrnn`` weights (``deblurzoo-convert``).

The official code (``zzh-tech/ESTRNN``, ``train/dp.py`` and ``train/ddp.py``; see
``docs/reference_code.md``, ESTRNN) saves after every epoch, with ``torch.save``, the dict
``{'epoch', 'model': 'ESTRNN', 'state_dict', 'register_dict', 'optimizer', 'scheduler'}``:
``state_dict`` is that of ``nn.DataParallel(model.Model(para))``, so every key starts with
``module.model.``; the other entries are plain numbers, strings, dicts and the optimizer's
tensors, which ``torch.load(weights_only=True)`` reads without ``--trust``. The README's
checkpoints are ``ESTRNN_C80B15_BSD_{1ms8ms,2ms16ms,3ms24ms}.tar`` (one zip on Google Drive);
for GOPRO and REDS the authors released none (their issues #2, #21, #25, #28). This converter
also takes a bare state dict, with or without the ``module.`` / ``model.`` prefixes.

Every tensor has one counterpart in :class:`~deblurzoo.models.estrnn.ESTRNN`; the conversion
renames keys and changes no value except for the colour order:

=============================================  ===============================================
the code's ``model/ESTRNN.py``                  :class:`~deblurzoo.models.estrnn.ESTRNN`
=============================================  ===============================================
``cell.F_B0``                                   ``f_b.0`` (input channels BGR → RGB)
``cell.F_B{1,2}.rdb``, ``.down_sampling``       ``f_b.{1,3}``, ``f_b.{2,4}``
``cell.F_R.RDBs.{i}``                           ``f_r.blocks.{i}``
``cell.F_R.conv1x1``, ``cell.F_R.conv3x3``      ``f_r.fuse.0``, ``f_r.fuse.1``
``cell.F_h.{0,1,2}``                            ``f_h.{0,1,2}``
an RDB's ``dense_layers.{j}.conv``, ``conv1x1``  ``dense.{j}.0``, ``fuse``
``fusion.F_f.{0,2}``, ``fusion.F_p.{0,1}``      ``fusion.gate.{0,2}``, ``fusion.project.{0,1}``
``fusion.condense``, ``fusion.fusion``          ``fusion.condense``, ``fusion.fuse``
``recons.model.{0,1,2}``                        ``reconstruct.{0,1,2}`` (the last conv's output
                                                channels BGR → RGB)
=============================================  ===============================================

The authors read frames with OpenCV, so their net maps BGR to BGR; the two flips make the
converted net map RGB to RGB (:mod:`deblurzoo.models.channel_order`).

The configuration is read from the shapes: ``n_features`` from ``cell.F_B0`` (16 = C80,
18 = C90), ``n_blocks`` from the RDBs of F_R, and the frames GSA fuses from ``fusion.fusion``
(split evenly into past and future, as the code's defaults 2 and 2 are). The activation is not
in the weights: the code's default, GELU, is assumed. The converted model is the registered
variant with that configuration (``estrnn`` = B15C80, ``estrnn_b9c80``, ``estrnn_b9c90``), or
``estrnn`` with the options that differ. ESTRNN-RAW's checkpoints (``model/ESTRNN-RAW.py``, a
one-channel RAW input) have other keys and are refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from torch import Tensor

from deblurzoo.models.channel_order import bgr_input, bgr_output
from deblurzoo.models.spec import Converted, Converter, rename_state

FAMILY = "estrnn"
#: Keys present in every ESTRNN state dict (prefixes removed), whatever its configuration.
SIGNATURE = ("cell.F_B0.weight", "fusion.fusion.weight", "recons.model.2.weight")
_PREFIXES = ("module.", "model.")
_SHOWN = 6  # keys named in an error
_RDB = r"(?:dense_layers\.(\d+)\.conv|conv1x1)\.(weight|bias)"


def _state(content: Mapping[str, Any]) -> dict[str, Any] | None:
    """The state dict in ``content`` (its ``state_dict`` entry, or ``content`` itself) with the
    ``module.`` and ``model.`` prefixes removed; ``None`` when there is no such mapping."""
    state = content.get("state_dict", content)
    if not isinstance(state, Mapping):
        return None
    stripped = {}
    for key, value in state.items():
        key = str(key)
        for prefix in _PREFIXES:
            key = key.removeprefix(prefix)
        stripped[key] = value
    return stripped


def matches(content: Mapping[str, Any]) -> bool:
    """Whether ``content`` is an ESTRNN checkpoint (or state dict) of the official code."""
    state = _state(content)
    return state is not None and all(isinstance(state.get(k), Tensor) for k in SIGNATURE)


def _rdb(layer: str | None, leaf: str, prefix: str) -> str:
    """Our key for an RDB's dense ``layer`` (``None``: its conv 1×1) under ``prefix``."""
    return f"{prefix}.dense.{layer}.0.{leaf}" if layer is not None else f"{prefix}.fuse.{leaf}"


def rename(key: str) -> str:
    """Our key for the code's ``key`` (prefixes removed; module docstring); ``KeyError`` if it
    has none."""
    if m := re.fullmatch(r"cell\.F_B0\.(weight|bias)", key):
        return f"f_b.0.{m[1]}"
    if m := re.fullmatch(r"cell\.F_B([12])\.rdb\." + _RDB, key):
        return _rdb(m[2], m[3], f"f_b.{2 * int(m[1]) - 1}")
    if m := re.fullmatch(r"cell\.F_B([12])\.down_sampling\.(weight|bias)", key):
        return f"f_b.{2 * int(m[1])}.{m[2]}"
    if m := re.fullmatch(r"cell\.F_R\.RDBs\.(\d+)\." + _RDB, key):
        return _rdb(m[2], m[3], f"f_r.blocks.{m[1]}")
    if m := re.fullmatch(r"cell\.F_R\.(conv1x1|conv3x3)\.(weight|bias)", key):
        return f"f_r.fuse.{0 if m[1] == 'conv1x1' else 1}.{m[2]}"
    if m := re.fullmatch(r"cell\.F_h\.([02])\.(weight|bias)", key):
        return f"f_h.{m[1]}.{m[2]}"
    if m := re.fullmatch(r"cell\.F_h\.1\." + _RDB, key):
        return _rdb(m[1], m[2], "f_h.1")
    if m := re.fullmatch(r"fusion\.F_f\.([02])\.(weight|bias)", key):
        return f"fusion.gate.{m[1]}.{m[2]}"
    if m := re.fullmatch(r"fusion\.F_p\.([01])\.(weight|bias)", key):
        return f"fusion.project.{m[1]}.{m[2]}"
    if m := re.fullmatch(r"fusion\.(condense|fusion)\.(weight|bias)", key):
        return f"fusion.{'fuse' if m[1] == 'fusion' else 'condense'}.{m[2]}"
    if m := re.fullmatch(r"recons\.model\.([012])\.(weight|bias)", key):
        return f"reconstruct.{m[1]}.{m[2]}"
    raise KeyError(key)


def configuration(state: Mapping[str, Tensor]) -> dict[str, Any]:
    """``n_features``, ``n_blocks``, ``past_frames`` and ``future_frames`` read from the shapes
    (module docstring)."""
    first = state["cell.F_B0.weight"]
    if first.ndim != 4 or first.shape[1] != 3:
        raise ValueError(
            f"cell.F_B0.weight has shape {tuple(first.shape)}, expected [n_features, 3, 5, 5] "
            "(an RGB ESTRNN; ESTRNN-RAW is not supported)"
        )
    n_features = int(first.shape[0])
    blocks = {int(k.split(".")[3]) for k in state if k.startswith("cell.F_R.RDBs.")}
    if blocks != set(range(len(blocks))) or not blocks:
        raise ValueError(f"expected F_R RDBs numbered 0 … B−1, found {sorted(blocks)}")
    fused = int(state["fusion.fusion.weight"].shape[0])
    frames, rest = divmod(fused, 5 * n_features)
    if rest or frames % 2 == 0:
        raise ValueError(
            f"fusion.fusion has {fused} channels: not an odd number of frames of "
            f"{5 * n_features} channels (the code fuses past + 1 + future, 2 + 1 + 2 by default)"
        )
    side = frames // 2
    return {
        "n_features": n_features,
        "n_blocks": len(blocks),
        "past_frames": side,
        "future_frames": side,
    }


def _variant(found: Mapping[str, Any], model: str | None) -> tuple[str, dict[str, Any]]:
    """The registered model and the options (those differing from its defaults) for ``found``:
    ``model`` if given, else the variant whose defaults are ``found``, else ``estrnn``."""
    from deblurzoo.models.estrnn.spec import SPEC  # the spec imports this module

    if model is not None and model not in SPEC.models:
        raise ValueError(
            f"an ESTRNN checkpoint holds weights of one of {sorted(SPEC.models)}, not {model!r}"
        )
    names = [model] if model else [*SPEC.models]
    for name in names:
        defaults = SPEC.options(name)
        if all(defaults[key] == value for key, value in found.items()):
            return name, {}
    name = model or FAMILY
    defaults = SPEC.options(name)
    return name, {key: value for key, value in found.items() if defaults[key] != value}


def convert(content: Mapping[str, Any], model: str | None = None) -> Converted:
    """An official ESTRNN checkpoint (``ESTRNN_C80B15_BSD_2ms16ms.tar``, …) or its state dict
    as ``estrnn`` weights (module docstring)."""
    state = _state(content)
    if state is None:
        raise KeyError("expected a 'state_dict' mapping of tensors")
    missing = [key for key in SIGNATURE if key not in state]
    if missing:
        raise KeyError(f"expected the ESTRNN keys {missing}; found {list(state)[:_SHOWN]}")
    renamed = rename_state(
        state, rename, "ESTRNN", "cell.*, fusion.*, recons.* (after the module./model. prefixes)"
    )
    renamed["f_b.0.weight"] = bgr_input(renamed["f_b.0.weight"])
    renamed["reconstruct.2.weight"] = bgr_output(renamed["reconstruct.2.weight"])
    renamed["reconstruct.2.bias"] = bgr_output(renamed["reconstruct.2.bias"])
    name, options = _variant(configuration(state), model)
    return Converted(name, options, renamed)


CONVERTER = Converter(
    format="estrnn",
    source="zzh-tech/ESTRNN, README 'Inference' (Google Drive zip): "
    "ESTRNN_C80B15_BSD_{1ms8ms,2ms16ms,3ms24ms}.tar, {'state_dict': {'module.model.*'}, "
    "'epoch', 'optimizer', ...}",
    matches=matches,
    convert=convert,
)
