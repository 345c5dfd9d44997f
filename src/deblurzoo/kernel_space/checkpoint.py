"""Loading a trained kernel-space encoder for its applications; per-frame PSNR."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor
from torchmetrics.functional.image import peak_signal_noise_ratio

from deblurzoo.metrics import quantize
from deblurzoo.models.kernel_space import KernelSpace
from deblurzoo.models.loading import CheckpointError, read_checkpoint, rebuild_net

KERNEL_SPACE = "kernel_space"  # the encoder's registry name


def load_kernel_space(path: str | Path, device: str | torch.device = "cpu") -> KernelSpace:
    """The :class:`KernelSpace` of a ``deblurzoo-train`` checkpoint of the kernel-space task
    (``experiment=kernel_space_*``), rebuilt from the registry entry stored in the file, in eval
    mode with its parameters frozen. The file is read as every checkpoint is
    (:func:`deblurzoo.models.loading.read_checkpoint`: a file holding anything but tensors and
    plain containers is refused); a checkpoint of another model is refused, naming it."""
    checkpoint = read_checkpoint(path)
    name = (checkpoint.config or {}).get("name")
    if name != KERNEL_SPACE:
        held = f"weights of model {name!r}" if name else "a bare state dict with no model config"
        raise CheckpointError(
            f"{checkpoint.path} holds {held}, not the {KERNEL_SPACE!r} encoder (a checkpoint "
            "of deblurzoo-train experiment=kernel_space_*)"
        )
    return rebuild_net(checkpoint).to(device).requires_grad_(False)


def frame_psnr(pred: Tensor, target: Tensor) -> Tensor:
    """PSNR (dB) of each frame ``[..., 3, H, W]`` under the zoo's protocol (RGB, 8-bit rounded)."""
    pred, target = quantize(pred.detach().float()), quantize(target.float())
    return peak_signal_noise_ratio(
        pred.reshape(-1, *pred.shape[-3:]),
        target.reshape(-1, *target.shape[-3:]),
        data_range=1.0,
        reduction="none",
        dim=(1, 2, 3),
    ).reshape(pred.shape[:-3])
