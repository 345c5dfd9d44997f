"""The blur-kernel-space encoder — Tran, Tran, Phung & Hoai, "Explore Image Deblurring via Encoded
Blur Kernel Space", CVPR 2021 (supplementary Secs. 2–3, Tables 1–4; the released code's
``KernelWizard``, ``docs/reference_code.md``, blur-kernel space).

A kernel extractor E (the supplementary's 𝒢) encodes the blur of a sharp/blurry pair into a
kernel k = E(x, y) of 512 × H/128 × W/128, and a blur operator B (the supplementary's ℱ) applies a
kernel to a sharp image, ŷ = B(x, k). Trained so that B(x, E(x, y)) reconstructs y, the pair spans
a space of blur kernels: k can be transferred to another sharp image (blur transfer), or, with B
frozen, optimised jointly with the sharp image to deblur (:mod:`deblurzoo.kernel_space`).

Both networks start with the same pre-processing block PrB (Table 1): the released code shares
one between them, and so does this model (one PrB(x) serves both in :meth:`KernelSpace.forward`).

Images are RGB in [0, 1], as in the released code. H and W must be multiples of 128 (the kernel
grid); other sizes are padded (replicate) to the next multiple and the output cropped back, so
the kernel of an H × W image is ⌈H/128⌉ × ⌈W/128⌉. Frames may carry any leading dimensions
(``[..., 3, H, W]``: a batch of frames, or clips ``[B, T, 3, H, W]`` encoded frame by frame).

Parameters: Tables 1–4 as printed (``variant="paper"``) give 40.01 M; the released code's layers
(``variant="released"``: 4×4 U-Net kernels, no biases in E and the U-Net) give 49.21 M, the figure
its configuration measures. The difference is the U-Net's kernel size (21.04 M vs 11.84 M).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurzoo.models.kernel_space.blur_operator import BlurOperator
from deblurzoo.models.kernel_space.kernel_extractor import KernelCode, KernelExtractor
from deblurzoo.models.kernel_space.preprocess import PreprocessBlock

#: Image pixels per kernel cell along each axis: the kernel grid is H/128 × W/128.
SPATIAL_MULTIPLE = 128


class KernelSpaceOutput(NamedTuple):
    """What :meth:`KernelSpace.forward` returns: the reconstructed blurry frames B(x, k), the kernel
    k used (sampled from the VAE head while training), and the extractor's code."""

    blurry: Tensor
    kernel: Tensor
    code: KernelCode


def pad_to_multiple(frames: Tensor, multiple: int = SPATIAL_MULTIPLE) -> Tensor:
    """``frames`` ``[N, C, H, W]`` padded (replicate, bottom and right) to multiples of
    ``multiple``."""
    pad_h, pad_w = -frames.shape[-2] % multiple, -frames.shape[-1] % multiple
    if pad_h or pad_w:
        frames = F.pad(frames, (0, pad_w, 0, pad_h), mode="replicate")
    return frames


def kernel_grid(height: int, width: int) -> tuple[int, int]:
    """The kernel's spatial size for ``height`` × ``width`` frames (padded to multiples of 128)."""
    return -(-height // SPATIAL_MULTIPLE), -(-width // SPATIAL_MULTIPLE)


def _flat(frames: Tensor, name: str) -> Tensor:
    """``[..., C, H, W]`` → ``[N, C, H, W]``."""
    if frames.ndim < 4:
        raise ValueError(
            f"{name} must be [..., C, H, W] with a batch dimension, got {frames.shape}"
        )
    return frames.reshape(-1, *frames.shape[-3:])


class KernelSpace(nn.Module):
    """Kernel extractor E and blur operator B sharing one pre-processing block.

    Args:
        channels: feature width of PrB, of the U-Net's first level and of PoB (64).
        kernel_dim: kernel channels (512).
        front_blocks: ResBlocks of PrB (10, Table 1).
        back_blocks: ResBlocks of PoB (20, Table 2).
        extractor_blocks: ResBlocks at the end of E (4, Table 3).
        vae: E outputs a distribution (mean, log-variance); the kernel is sampled from it while
            training and is its mean otherwise (released-code option, ``use_vae``).
        variant: ``"paper"`` (Tables 1–4 as printed) or ``"released"`` (the released code's
            layers: 49.21 M parameters; see the submodules' docstrings for what changes).
        residual: B adds the sharp frame to its output (released code; the tables are silent).
    """

    spatial_multiple = SPATIAL_MULTIPLE
    recurrent = False
    border_frames = (0, 0)

    def __init__(
        self,
        channels: int = 64,
        kernel_dim: int = 512,
        front_blocks: int = 10,
        back_blocks: int = 20,
        extractor_blocks: int = 4,
        vae: bool = False,
        variant: str = "paper",
        residual: bool = True,
    ) -> None:
        super().__init__()
        self.preprocess = PreprocessBlock(channels, front_blocks)
        self.extractor = KernelExtractor(
            2 * channels, channels, kernel_dim, extractor_blocks, vae, variant
        )
        self.operator = BlurOperator(channels, kernel_dim, back_blocks, variant, residual)
        self.kernel_dim, self.variant = kernel_dim, variant

    def _code(self, sharp_features: Tensor, blurry: Tensor) -> KernelCode:
        return self.extractor(torch.cat([sharp_features, self.preprocess(blurry)], dim=1))

    def _check_pair(self, sharp: Tensor, blurry: Tensor) -> None:
        if sharp.shape != blurry.shape:
            raise ValueError(
                f"sharp and blurry frames differ in shape: {tuple(sharp.shape)} vs "
                f"{tuple(blurry.shape)}"
            )

    def encode_distribution(self, sharp: Tensor, blurry: Tensor) -> KernelCode:
        """E's code of the pairs: the kernel (mean) and, with the VAE head, its log-variance;
        ``[..., kernel_dim, ⌈H/128⌉, ⌈W/128⌉]`` each."""
        self._check_pair(sharp, blurry)
        lead = sharp.shape[:-3]
        x, y = (pad_to_multiple(_flat(t, n)) for t, n in ((sharp, "sharp"), (blurry, "blurry")))
        code = self._code(self.preprocess(x), y)
        return KernelCode(*(None if t is None else t.reshape(*lead, *t.shape[1:]) for t in code))

    def encode(self, sharp: Tensor, blurry: Tensor) -> Tensor:
        """The kernel k = E(x, y) of each pair, ``[..., kernel_dim, ⌈H/128⌉, ⌈W/128⌉]`` (the mean
        of the VAE head's distribution when there is one)."""
        return self.encode_distribution(sharp, blurry).mean

    def blur(self, sharp: Tensor, kernel: Tensor) -> Tensor:
        """B(x, k): ``sharp`` ``[..., 3, H, W]`` blurred with ``kernel`` ``[..., kernel_dim, h, w]``
        where (h, w) is the kernel grid of H × W (:func:`kernel_grid`)."""
        lead, (height, width) = sharp.shape[:-3], sharp.shape[-2:]
        expected = (*lead, self.kernel_dim, *kernel_grid(height, width))
        if tuple(kernel.shape) != expected:
            raise ValueError(
                f"a kernel for {tuple(sharp.shape)} frames must be {expected} "
                f"(kernel_dim × ⌈H/128⌉ × ⌈W/128⌉), got {tuple(kernel.shape)}"
            )
        x = pad_to_multiple(_flat(sharp, "sharp"))
        out = self.operator(x, self.preprocess(x), _flat(kernel, "kernel"))
        return out[..., :height, :width].reshape(sharp.shape)

    def forward(self, sharp: Tensor, blurry: Tensor) -> KernelSpaceOutput:
        """B(x, E(x, y)) for training and evaluation, sharing PrB(x) between E and B. With the VAE
        head the kernel is sampled (reparametrised) in training mode and is the mean in eval."""
        self._check_pair(sharp, blurry)
        lead, (height, width) = sharp.shape[:-3], sharp.shape[-2:]
        x, y = (pad_to_multiple(_flat(t, n)) for t, n in ((sharp, "sharp"), (blurry, "blurry")))
        features = self.preprocess(x)
        code = self._code(features, y)
        kernel = code.mean
        if code.logvar is not None and self.training:
            kernel = kernel + torch.randn_like(kernel) * torch.exp(0.5 * code.logvar)
        out = self.operator(x, features, kernel)[..., :height, :width].reshape(sharp.shape)

        def unflat(t: Tensor | None) -> Tensor | None:
            return None if t is None else t.reshape(*lead, *t.shape[1:])

        return KernelSpaceOutput(out, unflat(kernel), KernelCode(*map(unflat, code)))
