"""The authors' released kernel-space checkpoints as ``kernel_space`` weights
(``deblurzoo-convert``).

The released code (``VinAIResearch/blur-kernel-space-exploring``, ``docs/reference_code.md``,
blur-kernel space) saves its ``KernelWizard`` as a bare state dict of CPU tensors, the
``DataParallel`` wrapper removed, one ``.pth`` file per model (its README's model zoo: GOPRO
woVAE, REDS woVAE, GOPRO + REDS woVAE, GOPRO wVAE). Its loader also accepts keys with a
``module.`` prefix; so does this converter. Every tensor has one counterpart in
``KernelSpace(variant="released")`` (``vae=True`` when the extractor's last layers are twice the
kernel's width, the code's ``use_vae``); the conversion renames keys and changes no value:

* ``feature_extractor.{i}`` (PrB, supp. Table 1) → ``preprocess.{i}``; a ResBlock's
  ``conv1``/``conv2`` → ``body.0``/``body.2``;
* ``kernel_extractor.model.{1, 4, …, 16}`` (E, Table 3) → ``extractor.body.{0, 2, …, 10}`` (the
  code's padding, identity-norm and ReLU layers hold no weights), and its ResBlocks
  ``kernel_extractor.model.{19, …}.conv_block.{1, 5}`` → ``extractor.body.{12, …}.conv1``/``conv2``;
* ``adapter.model.`` + d × ``submodule.`` + ``down``/``up`` (Table 4's U-Net, d levels deep) →
  ``operator.unet.down.{d}`` / ``operator.unet.up.{4 − d}``;
* ``recon_trunk.{i}`` (PoB, Table 2) → ``operator.post.{i}``, ResBlocks as in PrB.

The options are read from the shapes: the feature width, the kernel's channels, the ResBlock
counts and the VAE head; only those that differ from the registered defaults besides
``variant="released"`` and ``vae`` are stored.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from typing import Any

from torch import Tensor

from deblurzoo.models.kernel_space.kernel_space import KernelSpace
from deblurzoo.models.spec import Converted, Converter, rename_state

NAME = "kernel_space"
#: Keys present in every ``KernelWizard`` state dict, whatever its options.
SIGNATURE = ("kernel_extractor.model.1.weight", "adapter.model.down.0.weight")
_PREFIX = "module."
#: The code's extractor: pad, 7×7 conv, norm, ReLU, then five (conv, norm, ReLU); ResBlocks after.
_FIRST_RESBLOCK = 4 + 3 * 5
#: Ours: the 7×7 conv and five stride-2 convs, each followed by its activation.
_OUR_FIRST_RESBLOCK = 2 * 6
_SHOWN = 6  # keys named in an error


def _state(content: Mapping[str, Any]) -> dict[str, Any]:
    """``content`` with a ``module.`` prefix removed from every key that has one."""
    return {str(key).removeprefix(_PREFIX): value for key, value in content.items()}


def matches(content: Mapping[str, Any]) -> bool:
    """Whether ``content`` is a ``KernelWizard`` state dict (its extractor and U-Net keys)."""
    state = _state(content)
    return all(isinstance(state.get(key), Tensor) for key in SIGNATURE)


def _resblock(conv: str) -> str:
    return {"conv1": "body.0", "conv2": "body.2"}[conv]


def rename(key: str) -> str:
    """Our key for the code's ``key`` (module docstring); ``KeyError`` if it has none."""
    if m := re.fullmatch(r"(feature_extractor|recon_trunk)\.(\d+)\.(conv[12])\.(\w+)", key):
        block = "preprocess" if m[1] == "feature_extractor" else "operator.post"
        return f"{block}.{m[2]}.{_resblock(m[3])}.{m[4]}"
    if m := re.fullmatch(r"(feature_extractor|recon_trunk)\.(\d+)\.(weight|bias)", key):
        block = "preprocess" if m[1] == "feature_extractor" else "operator.post"
        return f"{block}.{m[2]}.{m[3]}"
    if m := re.fullmatch(r"kernel_extractor\.model\.(\d+)\.conv_block\.([15])\.(\w+)", key):
        conv = "conv1" if m[2] == "1" else "conv2"
        index = int(m[1]) - _FIRST_RESBLOCK + _OUR_FIRST_RESBLOCK
        return f"extractor.body.{index}.{conv}.{m[3]}"
    if m := re.fullmatch(r"kernel_extractor\.model\.(\d+)\.(weight|bias)", key):
        layer = int(m[1])
        if layer < _FIRST_RESBLOCK and layer % 3 == 1:  # the code's convolutions
            return f"extractor.body.{2 * (layer - 1) // 3}.{m[2]}"
    if m := re.fullmatch(r"adapter\.model\.((?:submodule\.)*)(down|up)\.(\d)\.(weight|bias)", key):
        depth = m[1].count("submodule.")
        if m[2] == "down":  # the outermost down is the bare conv; the others follow a LeakyReLU
            return f"operator.unet.down.{depth}." + ("" if depth == 0 else "1.") + m[4]
        return f"operator.unet.up.{4 - depth}.1.{m[4]}"
    raise KeyError(key)


def _options(state: Mapping[str, Tensor]) -> dict[str, Any]:
    """The options the weights need (module docstring)."""
    channels = state["feature_extractor.0.weight"].shape[0]
    inner = "adapter.model." + "submodule." * 4 + "up.1.weight"
    kernel_dim = state[inner].shape[0] - 8 * channels  # cat(bottleneck, k) in its input
    blocks = {
        prefix: len({k.split(".")[n] for k in state if k.startswith(prefix) and ".conv" in k})
        for prefix, n in (("feature_extractor.", 1), ("recon_trunk.", 1))
    }
    resblocks = {k.split(".")[2] for k in state if ".conv_block." in k}
    last = "kernel_extractor.model.16.weight"
    if last not in state:
        raise KeyError(f"expected {last!r} (the extractor's last stride-2 conv)")
    width = state[last].shape[0]
    if width not in (kernel_dim, 2 * kernel_dim):
        raise ValueError(
            f"the extractor ends at {width} channels, neither the kernel's {kernel_dim} nor "
            f"twice that (the VAE head)"
        )
    found = {
        "channels": channels,
        "kernel_dim": kernel_dim,
        "front_blocks": blocks["feature_extractor."],
        "back_blocks": blocks["recon_trunk."],
        "extractor_blocks": len(resblocks),
    }
    defaults = inspect.signature(KernelSpace).parameters
    changed = {key: value for key, value in found.items() if value != defaults[key].default}
    return {"variant": "released", "vae": width == 2 * kernel_dim, **changed}


def convert(content: Mapping[str, Any], model: str | None = None) -> Converted:
    """A ``KernelWizard`` state dict (the released ``GOPRO_woVAE.pth``, ``REDS_woVAE.pth``,
    ``mix_woVAE.pth``, ``GOPRO_wVAE.pth``, …) as ``kernel_space`` weights (module docstring)."""
    if model not in (None, NAME):
        raise ValueError(f"a KernelWizard checkpoint holds {NAME!r} weights, not {model!r}")
    state = _state(content)
    missing = [key for key in SIGNATURE if key not in state]
    if missing:
        raise KeyError(f"expected the KernelWizard keys {missing}; found {list(state)[:_SHOWN]}")
    expected = "feature_extractor.*, kernel_extractor.model.*, adapter.model.*, recon_trunk.*"
    renamed = rename_state(state, rename, f"{NAME} (variant=released)", expected)
    return Converted(NAME, _options(state), renamed)


CONVERTER = Converter(
    format="kernel_wizard",
    source="VinAIResearch/blur-kernel-space-exploring, README model zoo (Google Drive): the "
    "KernelWizard state dicts GOPRO/REDS/GOPRO+REDS woVAE and GOPRO wVAE (.pth)",
    matches=matches,
    convert=convert,
)
