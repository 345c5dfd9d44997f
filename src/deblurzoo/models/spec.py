"""What the zoo knows about a model family, declared once, beside the family's code.

Each family's folder (``deblurzoo/models/<family>/spec.py``) builds one :class:`ModelSpec` and
registers it (:func:`deblurzoo.models.registry.register_family`). Everything outside the folder
— the zoo table, the benchmarks, checkpoint loading, run tags, the notebooks and the tests —
reads the spec and never names a family's options; ``docs/adding_a_model.md`` walks through a
new family.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from torch import Tensor, nn

_SHOWN = 6  # keys named in a converter's error


@dataclass(frozen=True)
class Score:
    """A published PSNR/SSIM and what it was measured on: the dataset (and its version) and the
    protocol (colour space, border frames, SSIM implementation), with the table it comes from."""

    dataset: str
    psnr: float
    ssim: float
    protocol: str
    source: str


@dataclass(frozen=True)
class Published:
    """What a paper or its authors' code publishes for one registered model.

    Attributes:
        params: parameter count.
        gmacs: GMACs per frame at 720×1280, counted as ``thop`` counts (the zoo table's
            "thop-style" column, the same rule).
        runtime: the paper's runtime with its hardware, e.g. ``0.191 s/frame (Table 3)``.
        scores: published PSNR/SSIM, one per dataset.
        source: where ``params`` and ``gmacs`` come from, when not obvious.
    """

    params: float | None = None
    gmacs: float | None = None
    runtime: str = ""
    scores: tuple[Score, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Converted:
    """An official checkpoint turned into a deblurzoo net: the registered model, the options
    (``model.net.*``) its weights need, and the state dict that loads strictly into it."""

    name: str
    options: Mapping[str, Any]
    state_dict: Mapping[str, Tensor]


@dataclass(frozen=True)
class Converter:
    """One format in which a family's authors distribute checkpoints (``deblurzoo-convert``).

    Attributes:
        format: a short name for the format (``memdeblur``, ``estrnn``).
        source: where the authors publish such files and how they are named.
        matches: whether a checkpoint's content (what ``torch.load`` returns) is of this
            format, judged from its keys.
        convert: the content and the registered model the user asked for (``None``: the one the
            content implies) to a :class:`Converted`; raises ``ValueError`` naming the expected
            and the found keys when the content does not fit.
    """

    format: str
    source: str
    matches: Callable[[Mapping[str, Any]], bool]
    convert: Callable[[Mapping[str, Any], str | None], Converted]


@dataclass(frozen=True)
class ModelSpec:
    """Every fact about one model family.

    Attributes:
        family: the family's folder under ``deblurzoo/models/`` (``memdeblur``).
        title: its name in tables (``MemDeblur``).
        paper: authors, venue and year (``Ji & Yao, CVPR 2022``).
        models: registered name → factory; a factory is the net's class or a
            ``functools.partial`` of it (or any callable whose signature shows its options), so
            :meth:`options` can read the defaults every option of ``model.net`` has.
        published: registered name → :class:`Published` figures.
        profile_frames: registered name → clip length its paper profiles (MemDeblur's memory
            grows with the clip: 100 frames); 1 restored frame for the others.
        weight_file_keys: options that load initial weights from a local file (an ImageNet
            stage, a trained first stage); a net rebuilt from a checkpoint takes every weight
            from the checkpoint, so these are dropped (their files need not exist there).
        converters: the formats of the authors' released checkpoints
            (:mod:`deblurzoo.convert`).
    """

    family: str
    title: str
    paper: str
    models: Mapping[str, Callable[..., nn.Module]]
    published: Mapping[str, Published] = field(default_factory=dict)
    profile_frames: Mapping[str, int] = field(default_factory=dict)
    weight_file_keys: tuple[str, ...] = ()
    converters: tuple[Converter, ...] = ()

    def options(self, name: str) -> dict[str, Any]:
        """The options of the registered model ``name`` with their defaults (``model.net.*``)."""
        return {
            key: param.default
            for key, param in inspect.signature(self.models[name]).parameters.items()
            if param.default is not inspect.Parameter.empty
        }

    def changed_options(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The entries of a registry entry ``{"name": ..., **options}`` that differ from the
        defaults of its model."""
        defaults = self.options(config["name"])
        return {
            key: value
            for key, value in config.items()
            if key != "name" and (key not in defaults or not _same(defaults[key], value))
        }


def _same(default: Any, value: Any) -> bool:
    """Equal, a tuple default and the list a config holds included."""
    if isinstance(default, tuple | list) and isinstance(value, tuple | list):
        return list(default) == list(value)
    return default == value


def rename_state(
    state: Mapping[str, Tensor], rename: Callable[[str], str], target: str, expected: str
) -> dict[str, Tensor]:
    """``state`` under the keys ``rename`` gives (a converter's mapping, raising ``KeyError``
    for a key it has no counterpart for); ``ValueError`` naming the first such keys, the
    ``target`` model and the ``expected`` keys if there are any."""
    renamed, unknown = {}, []
    for key, value in state.items():
        try:
            renamed[rename(key)] = value
        except KeyError:
            unknown.append(key)
    if unknown:
        more = " ..." if len(unknown) > _SHOWN else ""
        raise ValueError(
            f"keys with no counterpart in {target}: {unknown[:_SHOWN]}{more}; expected only "
            f"{expected}"
        )
    return renamed
