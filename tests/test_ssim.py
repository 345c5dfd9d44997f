"""The authors' SSIM in torch (``deblurzoo.ssim.gaussian_ssim``) against scikit-image itself.

The reference is the call of ESTRNN's and MemDeblur's ``train/metrics.py``: scikit-image's
``structural_similarity`` with Gaussian weights on uint8 frames (sharp frame first) and
``data_range=255``. Frames are real photographs (those the synthetic dataset is rendered from)
against a blurred, noisy 8-bit copy, whole and cut to odd sizes.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from deblurzoo.data.synthetic import OBJECT_PHOTOS, _photo
from deblurzoo.ssim import blur_and_noise, gaussian_ssim, torchmetrics_difference

TOLERANCE = 1e-6  # max |difference| per frame


def _skimage(pred: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """scikit-image's SSIM per frame, called as the authors call it (uint8 HWC frames)."""
    scores = []
    for p, t in zip(pred, target, strict=True):
        p8, t8 = (torch.round(x * 255).to(torch.uint8).permute(1, 2, 0).numpy() for x in (p, t))
        scores.append(
            structural_similarity(
                t8,
                p8,
                gaussian_weights=True,
                sigma=1.5,
                use_sample_covariance=False,
                channel_axis=-1,
                data_range=255,
            )
        )
    return np.array(scores)


def _sharp(name: str) -> torch.Tensor:
    return torch.round(_photo(name) * 255)[None] / 255  # [1, 3, H, W], 8-bit levels


def _assert_matches(pred: torch.Tensor, target: torch.Tensor) -> None:
    ours = gaussian_ssim(pred, target)
    assert ours.dtype == torch.float64 and ours.shape == (len(pred),)
    reference = _skimage(pred, target)
    assert np.abs(ours.numpy() - reference).max() < TOLERANCE, (ours, reference)


@pytest.mark.parametrize("name", [n for n in OBJECT_PHOTOS if n != "retina.jpg"])
def test_matches_scikit_image_on_whole_photographs(name: str) -> None:
    sharp = _sharp(name)  # 300×451 to 500×741
    _assert_matches(blur_and_noise(sharp), sharp)


# odd crop sizes between 300 and 500 pixels, at odd offsets, from every photograph
CROPS = [(301, 457, 3, 7), (479, 383, 17, 41)]


@pytest.mark.parametrize(("h", "w", "top", "left"), CROPS)
def test_matches_scikit_image_on_odd_crops_batched(h: int, w: int, top: int, left: int) -> None:
    sharp = []
    for name in OBJECT_PHOTOS:
        photo = _sharp(name)
        if photo.shape[-2] >= top + h and photo.shape[-1] >= left + w:
            sharp.append(photo[..., top : top + h, left : left + w])
    sharp = torch.cat(sharp)  # a batch of frames of one size
    assert len(sharp) >= 3
    _assert_matches(blur_and_noise(sharp, sigma=2.0, noise=0.03), sharp)


@pytest.mark.parametrize("size", [(11, 11), (11, 40), (37, 23), (123, 257)])
def test_matches_scikit_image_at_random_sizes(size: tuple[int, int]) -> None:
    generator = torch.Generator().manual_seed(sum(size))
    target = torch.randint(0, 256, (2, 3, *size), generator=generator) / 255
    pred = (target + torch.randint(-40, 41, target.shape, generator=generator) / 255).clamp(0, 1)
    _assert_matches(pred, target)


def test_constant_frames() -> None:
    flat, other = torch.full((1, 3, 32, 48), 0.5), torch.full((1, 3, 32, 48), 0.25)
    assert gaussian_ssim(flat, flat).item() == pytest.approx(1.0, abs=1e-12)
    # no variance: only the luminance term is left, (2ab + C1) / (a² + b² + C1)
    c1 = 0.01**2
    expected = (2 * 0.5 * 0.25 + c1) / (0.5**2 + 0.25**2 + c1)
    assert gaussian_ssim(flat, other).item() == pytest.approx(expected, abs=1e-12)
    photo = _sharp("coffee.png")[..., :64, :96]
    _assert_matches(torch.full_like(photo, 128 / 255), photo)
    _assert_matches(flat, other)


def test_scale_and_order() -> None:
    sharp = _sharp("astronaut.png")[..., 100:164, 200:280].double()
    blurry = blur_and_noise(sharp.float()).double()
    unit = gaussian_ssim(blurry, sharp)
    assert gaussian_ssim(blurry * 255, sharp * 255, data_range=255).item() == pytest.approx(
        unit.item(), abs=1e-12
    )
    assert gaussian_ssim(sharp, blurry).item() == pytest.approx(unit.item(), abs=1e-12)


def test_rejects_small_or_mismatched_frames() -> None:
    with pytest.raises(ValueError, match="at least 11"):
        gaussian_ssim(torch.zeros(1, 3, 10, 32), torch.zeros(1, 3, 10, 32))
    with pytest.raises(ValueError, match="one shape"):
        gaussian_ssim(torch.zeros(1, 3, 16, 16), torch.zeros(1, 3, 16, 17))
    assert gaussian_ssim(torch.zeros(0, 3, 16, 16), torch.zeros(0, 3, 16, 16)).shape == (0,)


def test_torchmetrics_differs_most_on_small_frames() -> None:
    """What ``python -m deblurzoo.ssim`` prints, on 64-pixel crops: the border torchmetrics
    averages in weighs more on a small frame."""
    small = torchmetrics_difference(crop=64)
    assert set(small) == set(OBJECT_PHOTOS)
    assert all(0 < abs(diff) < 0.05 for _, diff in small.values())
    assert all(size == (64, 64) for size, _ in small.values())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu() -> None:
    sharp = torch.cat([_sharp(n)[..., :300, :400] for n in OBJECT_PHOTOS])
    blurry = blur_and_noise(sharp)
    cpu = gaussian_ssim(blurry, sharp)
    cuda = gaussian_ssim(blurry.cuda(), sharp.cuda())
    assert cuda.device.type == "cuda"
    assert (cuda.cpu() - cpu).abs().max().item() < 1e-10
