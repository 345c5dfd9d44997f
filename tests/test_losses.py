"""Charbonnier loss, single- and multi-scale."""

from __future__ import annotations

import math

import pytest
import torch

from deblurzoo.losses import CharbonnierLoss, charbonnier
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
