"""The evaluation metric against hand computations, and its (sequence, frame) de-duplication."""

from __future__ import annotations

import math

import pytest
import torch

from deblurzoo.metrics import VideoQualityMetric, quantize


def _frames(n: int, seed: int) -> torch.Tensor:
    return torch.rand(n, 3, 16, 16, generator=torch.Generator().manual_seed(seed))


def test_psnr_matches_hand_computation() -> None:
    target = torch.full((1, 3, 16, 16), 0.5)
    pred = target + 10 / 255  # every pixel off by exactly ten 8-bit levels
    metric = VideoQualityMetric()
    metric.update(pred, target, torch.tensor([0]), torch.tensor([0]))
    expected = 10 * math.log10(1 / (10 / 255) ** 2)
    assert metric.compute()["psnr_frame"].item() == pytest.approx(expected, abs=1e-4)


def test_frame_and_sequence_means_differ_as_defined() -> None:
    target = _frames(4, 0)
    # sequence 0: three frames at one error, sequence 1: one frame at another
    errors = torch.tensor([4, 4, 4, 16]) / 255
    pred = (target + errors[:, None, None, None]).clamp(0, 1)
    metric = VideoQualityMetric(quantize=False)
    metric.update(pred, target, torch.tensor([0, 0, 0, 1]), torch.tensor([0, 1, 2, 0]))
    per_frame = [10 * math.log10(1 / ((pred[i] - target[i]) ** 2).mean().item()) for i in range(4)]
    result = metric.compute()
    assert result["psnr_frame"].item() == pytest.approx(sum(per_frame) / 4, abs=1e-4)
    seq_means = [sum(per_frame[:3]) / 3, per_frame[3]]
    assert result["psnr_seq"].item() == pytest.approx(sum(seq_means) / 2, abs=1e-4)
    table = metric.per_sequence()
    assert table["frames"].tolist() == [3, 1]


def test_duplicates_count_once() -> None:
    target, pred = _frames(3, 1), _frames(3, 2)
    once = VideoQualityMetric()
    once.update(pred, target, torch.tensor([0, 0, 1]), torch.tensor([0, 1, 0]))
    twice = VideoQualityMetric()
    twice.update(pred, target, torch.tensor([0, 0, 1]), torch.tensor([0, 1, 0]))
    # a DDP-padding style repeat of frame (0, 1) and an overlapping chunk repeating (1, 0)
    twice.update(pred[1:], target[1:], torch.tensor([0, 1]), torch.tensor([1, 0]))
    assert len(twice.frames()["psnr"]) == 3
    for key, value in once.compute().items():
        assert twice.compute()[key].item() == pytest.approx(value.item())


def test_ssim_of_identical_frames_is_one_and_quantize_rounds() -> None:
    frames = _frames(2, 3)
    metric = VideoQualityMetric()
    metric.update(frames, frames, torch.tensor([0, 0]), torch.tensor([0, 1]))
    assert metric.compute()["ssim_frame"].item() == pytest.approx(1.0, abs=1e-6)
    assert quantize(torch.tensor([0.5 / 255, 1.49 / 255, 2.0])).mul(255).tolist() == [
        0.0,
        1.0,
        255.0,
    ]


def test_crop_border_ignores_the_border() -> None:
    target = torch.zeros(1, 3, 16, 16)
    pred = target.clone()
    pred[..., :2, :] = 1.0  # damage only the top two rows
    metric = VideoQualityMetric(crop_border=2)
    metric.update(pred, target, torch.tensor([0]), torch.tensor([0]))
    assert torch.isinf(metric.compute()["psnr_frame"])
