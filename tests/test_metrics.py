"""The evaluation metric against hand computations, its (sequence, frame) de-duplication, its SSIM
and 8-bit options, and the evaluation presets of conf/eval/."""

from __future__ import annotations

import math
from pathlib import Path

import hydra
import pytest
import torch
from omegaconf import OmegaConf
from torchmetrics.functional.image import structural_similarity_index_measure

from deblurzoo.chunking import plan_chunks
from deblurzoo.metrics import VideoQualityMetric, quantize, truncate
from deblurzoo.ssim import gaussian_ssim
from deblurzoo.utils.job import CONFIG_DIR
from tests.conftest import compose_config


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


# --- SSIM implementations, 8-bit modes and the evaluation presets (conf/eval/) ---------------


def test_ssim_option_names_the_implementation() -> None:
    target = _frames(3, 4)
    pred = quantize(target + 0.05 * _frames(3, 5))
    ids, frames = torch.tensor([0, 0, 1]), torch.tensor([0, 1, 0])
    default, torchmetrics_, skimage = (
        VideoQualityMetric(**kwargs)
        for kwargs in ({}, {"ssim": "torchmetrics"}, {"ssim": "skimage"})
    )
    for metric in (default, torchmetrics_, skimage):
        metric.update(pred, target, ids, frames)
    expected = structural_similarity_index_measure(
        quantize(pred), quantize(target), data_range=1.0, reduction="none"
    )
    assert torch.equal(default.frames()["ssim"], torchmetrics_.frames()["ssim"])
    assert torch.allclose(default.frames()["ssim"], expected)
    authors = gaussian_ssim(quantize(pred), quantize(target)).float()
    assert torch.allclose(skimage.frames()["ssim"], authors, atol=1e-7)
    assert (skimage.frames()["ssim"] - expected).abs().max() > 1e-5  # not the same SSIM
    assert torch.equal(skimage.frames()["psnr"], default.frames()["psnr"])
    assert skimage.compute()["ssim_seq"].dtype == torch.float32


def test_truncate_drops_the_fraction_and_keeps_8_bit_levels() -> None:
    levels = torch.arange(256, dtype=torch.float32) / 255
    assert torch.equal(truncate(levels), levels) and torch.equal(quantize(levels), levels)
    values = torch.tensor([-0.1, 10.9 / 255, 11.5 / 255, 1.2])
    assert truncate(values).mul(255).round().tolist() == [0.0, 10.0, 11.0, 255.0]
    target = torch.full((1, 3, 16, 16), 128 / 255)
    pred = target + 0.7 / 255  # rounds one level up, truncates to the target
    scores = {}
    for mode in (True, "round", "truncate", False):
        metric = VideoQualityMetric(quantize=mode)
        metric.update(pred, target, torch.tensor([0]), torch.tensor([0]))
        scores[mode] = metric.compute()["psnr_frame"].item()
    assert scores[True] == scores["round"] == pytest.approx(20 * math.log10(255), abs=1e-3)
    assert math.isinf(scores["truncate"])
    assert scores[False] == pytest.approx(20 * math.log10(255 / 0.7), abs=1e-3)


@pytest.mark.parametrize(("key", "value"), [("ssim", "matlab"), ("quantize", "floor")])
def test_unknown_protocol_values_are_refused(key: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"eval.{key}"):
        VideoQualityMetric(**{key: value})


PRESETS = sorted(p.stem for p in (Path(CONFIG_DIR) / "eval").glob("*.yaml"))


@pytest.mark.parametrize("preset", PRESETS)
def test_eval_presets_build_the_task_metrics(preset: str, tmp_path, data_dir) -> None:
    cfg = compose_config("train", tmp_path, data_dir, [f"eval={preset}"])
    module = hydra.utils.instantiate(cfg.model)
    metric = module.test_metric
    assert (metric.quantize, metric.crop_border, metric.ssim_implementation) == (
        cfg.eval.quantize,
        cfg.eval.crop_border,
        cfg.eval.ssim,
    )
    assert module.ensemble_size == cfg.eval.self_ensemble == 1


def test_paper_presets_and_the_unchanged_default() -> None:
    assert set(PRESETS) >= {"rgb", "estrnn", "memdeblur", "kernel_space"}
    protocol = {p: OmegaConf.load(Path(CONFIG_DIR) / "eval" / f"{p}.yaml") for p in PRESETS}
    assert (protocol["rgb"].quantize, protocol["rgb"].ssim) == (True, "torchmetrics")
    for paper in ("estrnn", "memdeblur"):  # astype(uint8) and scikit-image's SSIM
        assert (protocol[paper].quantize, protocol[paper].ssim) == ("truncate", "skimage")
    assert (protocol["kernel_space"].quantize, protocol["kernel_space"].ssim) == (
        "round",
        "skimage",
    )


def _estrnn_scored_frames(length: int, test_frames: int = 20, past: int = 2, future: int = 2):
    """Frame -> (chunk start, stop) as ESTRNN's train/test.py loop scores a sequence."""
    kept, start, end = {}, 0, test_frames
    while True:
        for frame in range(past, end - start - future):
            kept.setdefault(start + frame, (start, end))
        if end == length:
            return kept
        start = end - future - past
        end = start + test_frames
        if end > length:
            start, end = length - test_frames, length


@pytest.mark.parametrize("length", [20, 21, 37, 77, 100, 134, 150])
def test_estrnn_chunks_are_eval_chunk_len_20_overlap_4(length: int) -> None:
    """conf/eval/estrnn.yaml's note: data.eval_chunk_len=20, data.eval_chunk_overlap=4 feed and
    score exactly ESTRNN's chunks: the chunks are planned with its skip_frames (2, 2), or a net's
    border frames where larger."""
    ours = {
        frame: (chunk.start, chunk.stop)
        for chunk in plan_chunks(length, 20, 4, (2, 2))
        for frame in range(chunk.keep_from, chunk.keep_to)
    }
    assert ours == _estrnn_scored_frames(length)
