"""SSIM as the video-deblurring authors score it, in torch: :func:`gaussian_ssim`.

The test code released with ESTRNN and MemDeblur (``train/metrics.py`` of both repositories;
``docs/evaluation.md``, "Evaluation presets") scores frames with scikit-image's
``structural_similarity(..., gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
data_range=255)`` over the colour channels. That is the SSIM of Wang et al. (2004) as BasicSR's
``calculate_ssim`` computes it too: an 11×11 Gaussian window (σ = 1.5, truncated at 3.5 σ, so a
radius of 5), population (co)variances, K1 = 0.01, K2 = 0.03, the SSIM map averaged over the
*valid* positions only (those whose window lies inside the frame; scikit-image filters with
reflection and then crops the 5-pixel border, which leaves exactly these), per channel, then
averaged over the channels. :func:`gaussian_ssim` computes it on batches of frames with a
separable convolution in float64, on any device, without scikit-image.

torchmetrics' ``structural_similarity_index_measure`` (the zoo's default,
``eval.ssim=torchmetrics``) uses the same window, but pads the frame by reflection and averages
the map over *every* pixel, border included, in the input's precision. The difference grows as
frames shrink: on the photographs the synthetic dataset is rendered from
(:mod:`deblurzoo.data.synthetic`), blurred and noisy, it is 7e-4 on average at their size (300 to
1411 pixels a side) and 1.1e-3 on 400-pixel crops, as ``python -m deblurzoo.ssim`` prints.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from torch import Tensor

#: Wang et al.'s constants and scikit-image's Gaussian window (``truncate=3.5``).
K1, K2, SIGMA = 0.01, 0.03, 1.5
RADIUS = int(3.5 * SIGMA + 0.5)  # 5: an 11×11 window
WINDOW = 2 * RADIUS + 1

# frames are scored in groups of at most this many input elements, or one frame: the float64
# moments and their filtered copies then take about 0.5 GB
_MAX_ELEMENTS = 1 << 22


def gaussian_window() -> Tensor:
    """The normalised 1-D Gaussian, float64 ``[11]`` (σ = 1.5, radius 5, as scipy builds it)."""
    x = torch.arange(-RADIUS, RADIUS + 1, dtype=torch.float64)
    weights = torch.exp(-0.5 * (x / SIGMA) ** 2)
    return weights / weights.sum()


def gaussian_ssim(pred: Tensor, target: Tensor, data_range: float = 1.0) -> Tensor:
    """Per-frame SSIM of ``pred`` against ``target`` ``[N, C, H, W]``, float64 ``[N]``.

    Reproduces scikit-image's ``structural_similarity(target, pred, gaussian_weights=True,
    sigma=1.5, use_sample_covariance=False, channel_axis=-1, data_range=data_range)`` on each frame
    (equal to BasicSR's ``calculate_ssim`` on RGB or BGR frames): the mean over the channels of
    the SSIM map averaged over the positions whose 11×11 window lies inside the frame. SSIM is
    symmetric in its two arguments. Scale does not matter: frames in ``[0, 1]`` with
    ``data_range=1`` score as their 8-bit versions with ``data_range=255``. Computed in float64,
    it agrees with scikit-image within 1e-6 (``tests/test_ssim.py``; about 1e-8 on float32
    8-bit frames, whose levels ``k / 255`` float32 rounds).

    Raises:
        ValueError: shapes differ, are not ``[N, C, H, W]``, or a side is shorter than 11 pixels.
    """
    if pred.shape != target.shape or pred.ndim != 4:
        raise ValueError(
            f"gaussian_ssim needs two [N, C, H, W] tensors of one shape, got "
            f"{tuple(pred.shape)} and {tuple(target.shape)}"
        )
    n, c, h, w = pred.shape
    if min(h, w) < WINDOW:
        raise ValueError(f"gaussian_ssim needs frames of at least {WINDOW}×{WINDOW}, got {h}×{w}")
    window = gaussian_window().tolist()
    step = max(1, _MAX_ELEMENTS // (c * h * w))
    scores = [
        _ssim(pred[i : i + step], target[i : i + step], window, data_range)
        for i in range(0, n, step)
    ]
    return torch.cat(scores) if scores else pred.new_zeros(0, dtype=torch.float64)


def _ssim(pred: Tensor, target: Tensor, window: list[float], data_range: float) -> Tensor:
    x, y = pred.to(torch.float64), target.to(torch.float64)
    # the five local moments of every channel, filtered ('valid' only) along H, then along W
    moments = torch.stack([x, y, x * x, y * y, x * y])
    moments = _valid_filter(_valid_filter(moments, window, -2), window, -1)
    mu_x, mu_y, xx, yy, xy = moments.unbind(0)
    var_x, var_y, cov = xx - mu_x * mu_x, yy - mu_y * mu_y, xy - mu_x * mu_y
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)
    )
    return ssim_map.mean(dim=(-2, -1)).mean(dim=-1)


def _valid_filter(x: Tensor, window: list[float], dim: int) -> Tensor:
    """``x`` correlated with ``window`` along ``dim``, 'valid' positions only: a weighted sum of
    shifted views (memory-bound; on CPU several times faster than a float64 ``conv2d``)."""
    size = x.shape[dim] - len(window) + 1
    out = x.narrow(dim, 0, size) * window[0]
    for k in range(1, len(window)):
        out.add_(x.narrow(dim, k, size), alpha=window[k])
    return out


# --- the measured difference to torchmetrics (docs/evaluation.md) -----------------------------


def blur_and_noise(
    frames: Tensor, sigma: float = 1.0, noise: float = 0.01, seed: int = 0
) -> Tensor:
    """``frames`` ``[N, C, H, W]`` in ``[0, 1]`` blurred by a Gaussian (``sigma`` pixels, reflected
    borders), plus Gaussian noise of standard deviation ``noise``, rounded to 8 bits: a stand-in
    for a restored frame, to score against the sharp one."""
    radius = max(1, int(3 * sigma + 0.5))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    kernel = kernel / kernel.sum()
    n, c, h, w = frames.shape
    out = F.pad(frames.reshape(n * c, 1, h, w), (radius,) * 4, mode="reflect")
    out = F.conv2d(F.conv2d(out, kernel.view(1, 1, -1, 1)), kernel.view(1, 1, 1, -1))
    generator = torch.Generator().manual_seed(seed)
    out = out.view(n, c, h, w)
    out = out + noise * torch.randn(out.shape, generator=generator).to(out.device)
    return torch.round(out.clamp(0, 1) * 255) / 255


def photograph_pairs(crop: int | None = None) -> dict[str, tuple[Tensor, Tensor]]:
    """``{name: (degraded, sharp)}`` ``[1, 3, H, W]`` 8-bit frames from the photographs the
    synthetic dataset is rendered from (``deblurzoo.data.synthetic.OBJECT_PHOTOS``), whole or
    cut to their central ``crop`` × ``crop`` pixels (fewer where a side is shorter)."""
    from deblurzoo.data.synthetic import OBJECT_PHOTOS, _photo

    pairs = {}
    for index, name in enumerate(OBJECT_PHOTOS):
        sharp = torch.round(_photo(name) * 255)[None] / 255
        if crop is not None:
            h, w = sharp.shape[-2:]
            top, left = max(0, (h - crop) // 2), max(0, (w - crop) // 2)
            sharp = sharp[..., top : top + crop, left : left + crop]
        pairs[name] = (blur_and_noise(sharp, seed=index), sharp)
    return pairs


def torchmetrics_difference(crop: int | None = None) -> dict[str, tuple[tuple[int, int], float]]:
    """``{name: ((H, W), gaussian_ssim − torchmetrics SSIM)}`` on :func:`photograph_pairs`, both
    SSIMs as :class:`deblurzoo.metrics.VideoQualityMetric` computes them (float32 frames in
    ``[0, 1]``, ``data_range=1``)."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    out = {}
    for name, (pred, target) in photograph_pairs(crop).items():
        ours = gaussian_ssim(pred, target).item()
        theirs = structural_similarity_index_measure(pred, target, data_range=1.0).item()
        out[name] = (tuple(target.shape[-2:]), ours - theirs)
    return out


def main(argv: list[str] | None = None) -> None:
    """Print the SSIM differences (skimage − torchmetrics) per photograph and their means."""
    parser = argparse.ArgumentParser(
        prog="python -m deblurzoo.ssim",
        description="SSIM differences, gaussian_ssim (scikit-image's, as the authors score; "
        "eval.ssim=skimage) minus torchmetrics' (eval.ssim=torchmetrics), on the photographs of "
        "the synthetic dataset blurred (Gaussian, sigma 1 px), noisy (sigma 0.01) and 8-bit, "
        "against their 8-bit originals; whole, then cut to central crops.",
    )
    parser.add_argument("--crops", type=int, nargs="*", default=[400], help="crop sides (px)")
    args = parser.parse_args(argv)
    for crop in (None, *args.crops):
        diffs = torchmetrics_difference(crop)
        mean_abs = sum(abs(diff) for _, diff in diffs.values()) / len(diffs)
        mean = sum(diff for _, diff in diffs.values()) / len(diffs)
        label = "whole photographs" if crop is None else f"central {crop}-px crops"
        print(
            f"{label}: mean |delta SSIM| = {mean_abs:.4f} (mean skimage - torchmetrics {mean:+.4f})"
        )
        for name, ((h, w), diff) in diffs.items():
            print(f"  {name:<20} {h:>4}x{w:<4} {diff:+.4f}")


if __name__ == "__main__":
    main()
