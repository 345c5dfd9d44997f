"""Sequence-consistent augmentation: one transform for every frame and for blur and sharp."""

from __future__ import annotations

import itertools

import torch

from deblurzoo.data.augment import ClipAugment


def _dihedral(frame: torch.Tensor) -> list[torch.Tensor]:
    """The eight flips and rotations of a frame."""
    out = []
    for hflip, vflip, rot in itertools.product((False, True), repeat=3):
        f = frame.flip(-1) if hflip else frame
        f = f.flip(-2) if vflip else f
        out.append(f.rot90(1, (-2, -1)) if rot else f)
    return out


def _explain(inputs: torch.Tensor, frame: torch.Tensor) -> set[tuple[int, int]]:
    """Every (transform, input frame) pair that produces ``frame``."""
    return {
        (k, t)
        for t in range(len(inputs))
        for k, candidate in enumerate(_dihedral(inputs[t]))
        if torch.equal(candidate, frame)
    }


def test_same_transform_on_every_frame_and_on_blur_and_sharp() -> None:
    blur = torch.rand(5, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    sharp = blur * 0.5 + 0.1  # a different clip with the same geometry
    seen = set()
    for seed in range(40):
        out_blur, out_sharp = ClipAugment()(
            torch.stack([blur, sharp]), generator=torch.Generator().manual_seed(seed)
        )
        assert torch.equal(out_sharp, out_blur * 0.5 + 0.1)
        explanations = [_explain(blur, frame) for frame in out_blur]
        transforms = set.intersection(*({k for k, _ in e} for e in explanations))
        assert len(transforms) >= 1, "no single flip/rotation explains every frame"
        order = [min(t for _, t in e) for e in explanations]
        assert order in ([0, 1, 2, 3, 4], [4, 3, 2, 1, 0])
        seen.add((min(transforms), order[0]))
    assert len(seen) >= 12  # the draws do vary: transforms and time reversal both occur


def test_disabled_augment_is_identity() -> None:
    clips = torch.rand(2, 3, 3, 4, 6)
    off = ClipAugment(hflip=False, vflip=False, rot90=False, reverse=False)
    assert torch.equal(off(clips), clips)
