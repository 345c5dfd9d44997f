"""The objective of deblurring by optimisation — Tran et al. (CVPR 2021), supplementary Secs. 2.4
and 3; the released code's ``joint_deblur.py`` (``docs/reference_code.md``, blur-kernel space).

With the blur operator B frozen, the sharp image x and the kernel k minimise a data term on the
reblurred image ŷ = B(x, k) against the blurry y, plus a hyper-Laplacian prior on x (Krishnan &
Fergus 2009) and the kernel-norm regulariser ‖k‖₂:

    L = w_P · P(ŷ, y) + w_S · (1 − SSIM(ŷ, y)) + w_HL · HL(x) + w_k · ‖k‖₂

Schedules (``schedule``):
    ``"paper"`` (default): the weights of Sec. 3, "the weight of kernel regularization ‖k‖₂ to
        6 × 10⁻⁴ ... The weight of Hyper-Laplacian prior ... 2 × 10⁻²", for the whole run. The
        supplementary names no data term; it is the released code's (first phase):
        0.6 · P + (1 − SSIM).
    ``"released"``: the released code's two phases: 0.6 · P + (1 − SSIM) + 2e-2 · HL + 5e-5 · ‖k‖
        for the first half of the iterations, then P + 5e-2 · HL + 5e-4 · ‖k‖.

P is the released code's perceptual distance — VGG19 features at relu1_1 … relu5_1, L1, weighted
0.2, 0.4, 0.8, 1.0, 3.0, on [0, 1] images without ImageNet normalisation — when a local VGG19
state dict is given (``vgg_weights``: torchvision's ``vgg19`` layout; nothing is downloaded).
Without one, P falls back to the pixel L1 distance, so the data term is L1 + (1 − SSIM), a
pixel/SSIM term in the place of the perceptual one.

HL(x) = mean((∂ₓs² + ∂ᵧs² + 1e-6)^{α/2}) with α = 0.66 and s the sum of x's channels (the code's
Sobel kernels summed over the channels), ∂ the unnormalised Sobel derivatives. ‖k‖₂ is the
Frobenius norm of each kernel, not squared (code). SSIM uses an 11×11 Gaussian window, σ = 1.5.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import kornia
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurzoo.errors import ConfigError, PathNotFoundError

#: Exponent of the hyper-Laplacian prior (code; Krishnan & Fergus's 2/3).
HL_ALPHA = 0.66
#: VGG19 ``features`` indices of relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 and their weights.
VGG_LAYERS = (1, 6, 11, 20, 29)
VGG_LAYER_WEIGHTS = (0.2, 0.4, 0.8, 1.0, 3.0)


@dataclass(frozen=True)
class TermWeights:
    """The weights of one phase of a schedule, which starts at fraction ``start`` of the run."""

    start: float
    perceptual: float
    ssim: float
    hyper_laplacian: float
    kernel_norm: float


SCHEDULES: dict[str, tuple[TermWeights, ...]] = {
    "paper": (TermWeights(0.0, 0.6, 1.0, 2e-2, 6e-4),),
    "released": (TermWeights(0.0, 0.6, 1.0, 2e-2, 5e-5), TermWeights(0.5, 1.0, 0.0, 5e-2, 5e-4)),
}


def hyper_laplacian(image: Tensor, alpha: float = HL_ALPHA, eps: float = 1e-6) -> Tensor:
    """The hyper-Laplacian penalty of images ``[N, C, H, W]`` (module docstring)."""
    summed = image.sum(dim=1, keepdim=True)
    grad = kornia.filters.spatial_gradient(summed, mode="sobel", normalized=False)
    return (grad.square().sum(dim=2) + eps).pow(alpha / 2).mean()


def kernel_norm(kernel: Tensor) -> Tensor:
    """‖k‖₂ (Frobenius, not squared) of each kernel ``[N, ...]``, averaged over N."""
    return kernel.flatten(1).norm(dim=1).mean()


def ssim_distance(pred: Tensor, target: Tensor) -> Tensor:
    """1 − SSIM (11×11 Gaussian window, σ = 1.5, data range 1)."""
    return 1 - kornia.metrics.ssim(pred, target, window_size=11).mean()


class VGGPerceptual(nn.Module):
    """The released code's perceptual distance on VGG19 features from a local state dict."""

    def __init__(self, weights_path: str | Path) -> None:
        super().__init__()
        from torchvision.models import vgg19

        path = Path(weights_path)
        if not path.is_file():
            raise PathNotFoundError(f"vgg_weights={str(path)!r}: no such file (a VGG19 state dict)")
        vgg = vgg19(weights=None)
        state = torch.load(path, map_location="cpu", weights_only=True)
        missing, unexpected = vgg.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith("classifier.")]  # features suffice
        if missing or unexpected:
            raise ConfigError(
                f"vgg_weights={str(path)!r} is not a torchvision vgg19 state dict: missing "
                f"{missing[:3]}, unexpected {unexpected[:3]}"
            )
        self.features = vgg.features[: VGG_LAYERS[-1] + 1].eval().requires_grad_(False)

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        loss = pred.new_zeros(())
        weights = dict(zip(VGG_LAYERS, VGG_LAYER_WEIGHTS, strict=True))
        for i, layer in enumerate(self.features):
            pred, target = layer(pred), layer(target)
            if i in weights:
                loss = loss + weights[i] * F.l1_loss(pred, target.detach())
        return loss


class DeblurObjective(nn.Module):
    """The weighted terms of one phase of a schedule (module docstring).

    Args:
        schedule: ``"paper"`` or ``"released"``.
        vgg_weights: a local VGG19 state dict for the perceptual term, or ``None`` for the
            pixel L1 fallback.
    """

    def __init__(self, schedule: str = "paper", vgg_weights: str | Path | None = None) -> None:
        super().__init__()
        if schedule not in SCHEDULES:
            raise ConfigError(f"schedule must be one of {sorted(SCHEDULES)}, got {schedule!r}")
        self.phases = SCHEDULES[schedule]
        self.perceptual = VGGPerceptual(vgg_weights) if vgg_weights is not None else None

    def phase(self, progress: float) -> int:
        """Index of the phase in force at ``progress`` (fraction of the run done)."""
        return max(i for i, p in enumerate(self.phases) if progress >= p.start)

    def forward(
        self, reblurred: Tensor, blurry: Tensor, image: Tensor, kernel: Tensor, phase: int = 0
    ) -> dict[str, Tensor]:
        """The weighted terms and their sum (``"total"``)."""
        w = self.phases[phase]
        if self.perceptual is not None:
            data = self.perceptual(reblurred, blurry)
        else:
            data = F.l1_loss(reblurred, blurry)
        terms = {
            "perceptual": w.perceptual * data,
            "hyper_laplacian": w.hyper_laplacian * hyper_laplacian(image),
            "kernel_norm": w.kernel_norm * kernel_norm(kernel),
        }
        if w.ssim:
            terms["ssim"] = w.ssim * ssim_distance(reblurred, blurry)
        terms["total"] = sum(terms.values())
        return terms
