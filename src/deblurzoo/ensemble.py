"""Geometric self-ensemble at test time, for any video net of the zoo.

Every transform of a set is applied to the whole clip ``[B, T, 3, H, W]`` (all frames alike), the
net restores the transformed clip, the transform is inverted on the output and the outputs are
averaged. The transforms are exact dihedral ones (``torch.flip`` / ``torch.rot90``, no
interpolation); a quarter turn swaps H and W, so every pass goes through the padding helper
:func:`deblurzoo.models.restore`.

The sets (:data:`TRANSFORM_SETS`, chosen by ``eval.self_ensemble``):

* ``1`` — identity only: no ensemble.
* ``4`` — Brehm et al., CVPRW 2020, §4 "Evaluation": "geometric self-ensemble [...] by augmenting
  the input frames to four different versions by rotating and flipping". The paper does not name
  the four; we take the rotation-and-flip subgroup that keeps the frame shape: identity,
  horizontal flip, vertical flip, rot180 (an interpretation, not a quote).
* ``6`` — the released MLFA code (``docs/reference_code.md``, MLFA; ``inference_dual.py``
  ``image_augmentation``): identity, horizontal flip, rot90, rot180, rot270, vertical flip.
* ``8`` — the full dihedral group (EDSR's ×8, BasicSR ``test_selfensemble``, mmagic
  ``SpatialTemporalEnsemble``): the 6 above plus transpose and anti-transpose.

``temporal_reverse`` additionally runs every transform on the time-reversed clip and reverses that
output back (BasicSR ``flip_seq``), doubling the passes; it is meant for recurrent nets, whose
result depends on the direction they scan the clip. It needs symmetric ``border_frames``: a net
that drops ``(first, last)`` frames restores, on the reversed clip, the original frames
``last .. T-1-first``, which are the frames of the forward pass only when ``first == last``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import Tensor

from deblurzoo.errors import ConfigError
from deblurzoo.models import VideoNet, restore

_H, _W = -2, -1  # spatial dims of a clip [B, T, C, H, W]
_TIME = 1


@dataclass(frozen=True)
class Transform:
    """An element of the dihedral group of the frame: flip W (if ``flip``), then rotate by
    ``quarter_turns`` × 90° counter-clockwise (``torch.rot90`` on ``(H, W)``)."""

    name: str
    quarter_turns: int = 0
    flip: bool = False

    def apply(self, clip: Tensor) -> Tensor:
        if self.flip:
            clip = clip.flip(_W)
        return clip.rot90(self.quarter_turns, dims=(_H, _W)) if self.quarter_turns else clip

    def invert(self, clip: Tensor) -> Tensor:
        if self.quarter_turns:
            clip = clip.rot90(-self.quarter_turns, dims=(_H, _W))
        return clip.flip(_W) if self.flip else clip


IDENTITY = Transform("identity")
HFLIP = Transform("hflip", flip=True)  # mirror left-right
VFLIP = Transform("vflip", quarter_turns=2, flip=True)  # mirror top-bottom
ROT90 = Transform("rot90", quarter_turns=1)
ROT180 = Transform("rot180", quarter_turns=2)
ROT270 = Transform("rot270", quarter_turns=3)
TRANSPOSE = Transform("transpose", quarter_turns=1, flip=True)  # swap H and W
ANTITRANSPOSE = Transform("antitranspose", quarter_turns=3, flip=True)

TRANSFORM_SETS: dict[int, tuple[Transform, ...]] = {
    1: (IDENTITY,),
    4: (IDENTITY, HFLIP, VFLIP, ROT180),  # Brehm et al. 2020 §4 (which four: our reading)
    6: (IDENTITY, HFLIP, ROT90, ROT180, ROT270, VFLIP),  # the released MLFA code's
    8: (IDENTITY, HFLIP, VFLIP, ROT90, ROT180, ROT270, TRANSPOSE, ANTITRANSPOSE),  # dihedral
}


def transform_set(size: Any, key: str = "self_ensemble") -> tuple[Transform, ...]:
    """The transforms of the set of ``size``; a ``ValueError`` naming ``key`` otherwise."""
    if isinstance(size, bool) or not isinstance(size, int) or size not in TRANSFORM_SETS:
        allowed = ", ".join(str(n) for n in TRANSFORM_SETS)
        raise ConfigError(
            f"{key}={size!r} is not a self-ensemble size: choose one of {allowed} "
            "(1 = off, 4 = paper, 6 = released MLFA code, 8 = full dihedral group)"
        )
    return TRANSFORM_SETS[size]


def check_temporal_reverse(
    temporal_reverse: Any, border_frames: tuple[int, int], key: str = "temporal_reverse"
) -> bool:
    """``temporal_reverse`` as a bool; a ``ValueError`` naming ``key`` if it is not a bool or the
    net's ``border_frames`` are asymmetric (the reversed pass would restore other frames)."""
    if not isinstance(temporal_reverse, bool):
        raise ConfigError(f"{key}={temporal_reverse!r} must be true or false")
    first, last = border_frames
    if temporal_reverse and first != last:
        raise ConfigError(
            f"{key}=true needs symmetric border frames, but the net has border_frames="
            f"({first}, {last}): the reversed clip would restore different frames"
        )
    return temporal_reverse


def self_ensemble(
    net: VideoNet, blur: Tensor, transforms: int = 8, temporal_reverse: bool = False
) -> Tensor:
    """Average of ``net``'s restorations of ``blur`` ``[B, T, 3, H, W]`` under the set of
    ``transforms`` flips/rotations (and, with ``temporal_reverse``, of the reversed clip too).

    Each pass pads to ``net.spatial_multiple`` and crops back; outputs are summed in float32 and
    returned in the dtype of the net's output. With ``transforms=1`` and no reversal this is a
    single plain pass.
    """
    steps = transform_set(transforms)
    check_temporal_reverse(temporal_reverse, tuple(net.border_frames))
    if len(steps) == 1 and not temporal_reverse:
        return restore(net, blur)
    total, count, dtype = None, 0, None
    for transform in steps:
        for reverse in (False, True) if temporal_reverse else (False,):
            clip = transform.apply(blur)
            if reverse:
                clip = clip.flip(_TIME)
            out = restore(net, clip)
            if reverse:
                out = out.flip(_TIME)
            out = transform.invert(out)
            dtype = out.dtype
            total = out.float() if total is None else total + out.float()
            count += 1
    return (total / count).to(dtype)


class SelfEnsemble(VideoNet):
    """A :class:`VideoNet` restoring with :func:`self_ensemble` around ``net``.

    Exposes ``net``'s ``spatial_multiple``, ``recurrent`` and ``border_frames``, so padding,
    chunking and tiling treat it as the net itself. Test time only: its output is plain frames,
    never :class:`~deblurzoo.models.MultiScaleFrames`.

    Args:
        net: any zoo video net.
        transforms: size of the transform set, a key of :data:`TRANSFORM_SETS` (1, 4, 6 or 8).
        temporal_reverse: also average over the time-reversed clip (doubles the passes).
    """

    def __init__(self, net: VideoNet, transforms: int = 8, temporal_reverse: bool = False) -> None:
        super().__init__()
        self.transforms = transform_set(transforms, "transforms")
        self.temporal_reverse = check_temporal_reverse(temporal_reverse, tuple(net.border_frames))
        self.net = net

    @property
    def spatial_multiple(self) -> int:
        return self.net.spatial_multiple

    @property
    def recurrent(self) -> bool:
        return self.net.recurrent

    @property
    def border_frames(self) -> tuple[int, int]:
        return tuple(self.net.border_frames)

    def check_input(self, clip: Tensor) -> None:
        """Any clip: each pass pads it (:func:`~deblurzoo.models.restore`) and ``net`` checks it."""

    def forward(self, blur: Tensor) -> Tensor:
        return self_ensemble(self.net, blur, len(self.transforms), self.temporal_reverse)
