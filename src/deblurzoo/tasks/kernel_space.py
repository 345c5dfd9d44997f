"""Training the blur-kernel-space encoder on the zoo's video datasets — Tran et al. (CVPR 2021),
supplementary Sec. 3; the released code's training step (``docs/reference_code.md``, blur-kernel
space).

Every training clip ``[B, T, 3, H, W]`` of a :class:`~deblurzoo.data.VideoDataModule` (GOPRO,
REDS, DVD, BSD, synthetic) is used as B·T independent sharp/blurry frame pairs (the recipes use
single-frame clips, ``data.clip_len=1``). The loss is the Charbonnier distance between the
reconstruction B(x, E(x, y)) and y, plus, with the VAE head, ``kl_weight`` times the KL
divergence of E's distribution from N(0, I) per image element.

Reductions: the released code sums the Charbonnier terms (ε² = 1e-6, the zoo's ``eps=1e-3``) and
its KL, ``Σ(μ² + σ² − log σ² − 1)`` without the ½, over the batch, weighting the KL by 10. Here the
Charbonnier is a mean and the KL is the standard ½-form summed over the kernel and divided by the
number of image elements, so the code's balance of the two terms is ``kl_weight = 20``.

Validation and test score the reconstruction of the blurry frames — the encoding fidelity — with
the zoo's metric and protocol: in ``metrics.json`` ``restored`` is PSNR/SSIM of B(x, E(x, y))
against y and ``blurry`` is that of the sharp frame x against y (the fidelity of "no blur"), so
``psnr_gain_frame`` is how much of the blur the encoding explains. Sample rows are logged as
``blur | B(x, E(x, y)) | sharp``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from deblurzoo.errors import ConfigError
from deblurzoo.metrics import VideoQualityMetric
from deblurzoo.models.kernel_space import KernelSpace, KernelSpaceOutput
from deblurzoo.tasks.video_restoration import VideoRestorationModule


def kl_divergence(mean: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mean, exp(logvar)) ‖ N(0, I)) summed over all but the first dimension, per sample."""
    return 0.5 * (mean.square() + logvar.exp() - logvar - 1).flatten(1).sum(1)


class KernelSpaceModule(VideoRestorationModule):
    """Trains :class:`~deblurzoo.models.kernel_space.KernelSpace` (registry name ``kernel_space``)
    to reconstruct blurry frames from sharp ones and their encoded kernel.

    The generic task's pieces are reused as they are: the registry entry in the checkpoint, the
    optimizer and scheduler partials, the metric, the protocol and the test report; only the
    steps differ (pairs in, the blurry frame as the target).

    Args:
        args, kwargs: those of :class:`~deblurzoo.tasks.VideoRestorationModule`, with
            ``net={"name": "kernel_space", ...}`` and the protocol's test-time ensemble off
            (``self_ensemble=1``, ``temporal_reverse=false``).
        kl_weight: weight of the KL term per image element (VAE head only; module docstring).
    """

    def __init__(self, *args: Any, kl_weight: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not isinstance(self.net, KernelSpace):
            raise ConfigError(
                f"KernelSpaceModule trains the kernel_space model, got net.name="
                f"{self.hparams.net['name']!r}"
            )
        if self.ensemble_size != 1 or self.temporal_reverse:
            raise ConfigError(
                "the kernel-space encoder is scored without a test-time ensemble: set "
                "eval.self_ensemble=1 and eval.temporal_reverse=false"
            )
        if kl_weight < 0:
            raise ConfigError(f"kl_weight must be >= 0, got {kl_weight}")
        self.save_hyperparameters({"kl_weight": kl_weight})
        self.kl_weight = kl_weight

    def forward(self, sharp: Tensor, blurry: Tensor) -> KernelSpaceOutput:
        """B(x, E(x, y)) of frames or clips ``[..., 3, H, W]`` (any size: padded inside)."""
        return self.net(sharp, blurry)

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        sharp, blurry = batch["sharp"].flatten(0, 1), batch["blur"].flatten(0, 1)
        out = self(sharp, blurry)
        loss = self.loss(out.blurry, blurry)
        if out.code.logvar is not None and self.kl_weight:
            kl = kl_divergence(out.code.mean, out.code.logvar).mean() / blurry[0].numel()
            self.log("train/kl", kl, batch_size=len(sharp))
            loss = loss + self.kl_weight * kl
        self.log("train/loss", loss, prog_bar=True, batch_size=len(sharp))
        return loss

    def _score_reconstruction(
        self, batch: dict[str, Tensor], metric: VideoQualityMetric, frames: Tensor
    ) -> None:
        """Score ``frames`` against the blurry clip (the generic task scores against sharp)."""
        self._score({**batch, "sharp": batch["blur"]}, metric, frames)

    @torch.no_grad()
    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        reconstructed = self(batch["sharp"], batch["blur"]).blurry
        self._score_reconstruction(batch, self.val_metric, reconstructed)
        if batch_idx == 0:
            self._log_samples(batch, reconstructed)

    @torch.no_grad()
    def test_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        reconstructed = self(batch["sharp"], batch["blur"]).blurry
        self._score_reconstruction(batch, self.test_metric, reconstructed)
        self._score_reconstruction(batch, self.test_blur_metric, batch["sharp"])
        return reconstructed
