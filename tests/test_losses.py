"""Charbonnier and L1 losses, single- and multi-scale."""

from __future__ import annotations

import math

import pytest
import torch

from deblurzoo.losses import CharbonnierLoss, L1Loss, MultiScaleLoss, charbonnier, resize_clip
from deblurzoo.models import MultiScaleFrames


def test_charbonnier_by_hand() -> None:
    pred, target = torch.tensor([0.0, 0.3]), torch.tensor([0.0, 0.0])
    expected = (1e-3 + math.sqrt(0.09 + 1e-6)) / 2
    assert charbonnier(pred, target).item() == pytest.approx(expected, rel=1e-6)


def test_multiscale_adds_weighted_coarse_terms() -> None:
    target = torch.rand(1, 2, 3, 8, 8)
    coarse = torch.zeros(1, 2, 3, 4, 4)
    loss = CharbonnierLoss(coarse_weights=[0.5])
    full_only = loss(target, target)
    both = loss(MultiScaleFrames(target, (coarse,)), target)
    down = torch.nn.functional.interpolate(
        target[0], size=(4, 4), mode="bilinear", align_corners=False
    )
    assert both.item() == pytest.approx(
        full_only.item() + 0.5 * charbonnier(coarse[0], down).item(), rel=1e-5
    )


def test_l1_by_hand() -> None:
    pred, target = torch.tensor([[0.0, 0.3, -0.5]]), torch.zeros(1, 3)
    assert L1Loss()(pred, target).item() == pytest.approx(0.8 / 3, rel=1e-6)


def test_l1_shares_the_multiscale_contract() -> None:
    """Same weighting and averaging of coarse scales as CharbonnierLoss, with |·| per scale."""
    target = torch.rand(1, 2, 3, 8, 8)
    coarse = (torch.zeros(1, 2, 3, 4, 4), torch.zeros(1, 2, 3, 2, 2))
    pred = MultiScaleFrames(target + 0.1, coarse)
    terms = [0.1] + [resize_clip(target, c.shape[-2:]).mean().item() for c in coarse]
    summed = L1Loss(coarse_weights=[0.5])(pred, target).item()
    assert summed == pytest.approx(terms[0] + 0.5 * terms[1] + terms[2], rel=1e-5)
    averaged = L1Loss(average_scales=True)(pred, target).item()
    assert averaged == pytest.approx(sum(terms) / 3, rel=1e-5)
    assert isinstance(CharbonnierLoss(), MultiScaleLoss) and isinstance(L1Loss(), MultiScaleLoss)


def test_l1_trim_frames_scores_the_centre_frames_only() -> None:
    target = torch.zeros(2, 3, 3, 4, 4)
    pred = target.clone()
    pred[:, 0], pred[:, 2] = 1.0, -1.0  # errors only in the outer frames
    assert L1Loss()(pred, target).item() == pytest.approx(2 / 3)
    assert L1Loss(trim_frames=1)(pred, target).item() == 0.0
    multi = MultiScaleFrames(pred, (pred[..., :2, :2],))
    assert L1Loss(trim_frames=1)(multi, target).item() == 0.0
    with pytest.raises(ValueError, match="no frame"):
        L1Loss(trim_frames=2)(pred, target)
