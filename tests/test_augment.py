"""Sequence-consistent augmentation: one transform for every frame and for blur and sharp."""

from __future__ import annotations

import itertools

import pytest
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


JITTER = {"brightness": 0.2, "hue": 0.1, "saturation": 0.2, "contrast": 0.2}  # the MLFA code's
NO_GEOMETRY = {"hflip": False, "vflip": False, "rot90": False, "reverse": False}


def test_colour_jitter_is_off_by_default() -> None:
    clips = torch.rand(2, 3, 3, 6, 6)
    assert not ClipAugment().photometric
    assert torch.equal(ClipAugment(**NO_GEOMETRY)(clips), clips)


def test_colour_jitter_is_one_draw_for_every_frame_and_for_blur_and_sharp() -> None:
    frame = torch.rand(3, 8, 8, generator=torch.Generator().manual_seed(0))
    clip = frame.expand(4, 3, 8, 8)  # four identical frames
    augment = ClipAugment(**JITTER)
    for seed in range(10):
        blur, sharp = augment(torch.stack([clip, clip]), torch.Generator().manual_seed(seed))
        assert torch.equal(blur, sharp)  # the same change on the input and the target
        assert all(torch.equal(blur[t], blur[0]) for t in range(4))  # and on every frame
        assert 0 <= blur.min() and blur.max() <= 1  # clamped to the valid range


def test_colour_jitter_draws_differ_between_calls() -> None:
    clips = torch.rand(2, 2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    augment = ClipAugment(**NO_GEOMETRY, **JITTER)
    outs = [augment(clips, torch.Generator().manual_seed(seed)) for seed in range(5)]
    again = augment(clips, torch.Generator().manual_seed(0))
    assert torch.equal(outs[0], again)  # seeded: reproducible
    for i, j in itertools.combinations(range(5), 2):
        assert not torch.allclose(outs[i], outs[j], atol=1e-4)
    assert all(not torch.allclose(out, clips, atol=1e-4) for out in outs)


def test_colour_jitter_keeps_the_geometric_draw() -> None:
    """The colour draw comes after the geometric one: turning jitter on leaves the flips alone."""
    clips = torch.rand(2, 3, 3, 8, 8)
    plain = ClipAugment()(clips, torch.Generator().manual_seed(3))
    jittered = ClipAugment(brightness=1e-6)(clips, torch.Generator().manual_seed(3))
    assert torch.allclose(plain, jittered, atol=1e-5)


def test_hue_shift_rotates_colours() -> None:
    """A fixed draw at the top of the range, +1/3 turn, maps pure red to pure green."""
    red = torch.zeros(2, 1, 3, 4, 4)
    red[:, :, 0] = 1.0
    augment = ClipAugment(**NO_GEOMETRY, hue=1 / 3)
    out = augment.jitter(red, torch.tensor([0.5, 1.0, 0.5, 0.5]))
    green = torch.zeros_like(red)
    green[:, :, 1] = 1.0
    assert torch.allclose(out, green, atol=1e-5)
    # a neutral draw (the middle of every range) leaves the colours as they were
    same = ClipAugment(**NO_GEOMETRY, **JITTER).jitter(red, torch.full((4,), 0.5))
    assert torch.allclose(same, red, atol=1e-5)


def test_saturation_and_contrast_factors_are_truncated_normals() -> None:
    """Contrast: ``(x − m)·f + m`` with one per-channel mean ``m`` for the whole clip; the
    factors lie within 1 ± 2σ."""
    clips = torch.rand(2, 3, 3, 8, 8, generator=torch.Generator().manual_seed(2)) * 0.5 + 0.25
    augment = ClipAugment(**NO_GEOMETRY, contrast=0.2)
    mean = clips.mean(dim=(0, 1, 3, 4))[:, None, None]
    for u, lo, hi in ((0.0, 0.6, 0.6001), (1.0 - 1e-7, 1.3999, 1.4), (0.5, 1.0, 1.0)):
        out = augment.jitter(clips, torch.tensor([0.5, 0.5, 0.5, u]))
        factor = ((out - mean) / (clips - mean)).median().item()
        assert lo - 1e-3 <= factor <= hi + 1e-3
    with pytest.raises(ValueError, match="hue"):
        ClipAugment(hue=0.7)
    with pytest.raises(ValueError, match=">= 0"):
        ClipAugment(contrast=-0.1)
