"""Loading a trained kernel-space encoder for its applications, and a warm-up kernel; per-frame
PSNR."""

from __future__ import annotations

import pickle
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics.functional.image import peak_signal_noise_ratio

from deblurzoo.metrics import quantize
from deblurzoo.models.kernel_space import KernelSpace
from deblurzoo.models.loading import (
    CheckpointError,
    CheckpointNotFoundError,
    read_checkpoint,
    rebuild_net,
)

KERNEL_SPACE = "kernel_space"  # the encoder's registry name


def load_kernel_space(path: str | Path, device: str | torch.device = "cpu") -> KernelSpace:
    """The :class:`KernelSpace` of a ``deblurzoo-train`` checkpoint of the kernel-space task
    (``experiment=kernel_space_*``) or of a weights file ``deblurzoo-convert`` made of the
    authors' released ones (``GOPRO_woVAE.pth`` …), rebuilt from the registry entry stored in the
    file, in eval mode with its parameters frozen. The file is read as every checkpoint is
    (:func:`deblurzoo.models.loading.read_checkpoint`: a file holding anything but tensors and
    plain containers is refused); a checkpoint of another model is refused, naming it."""
    checkpoint = read_checkpoint(path)
    name = (checkpoint.config or {}).get("name")
    if name != KERNEL_SPACE:
        held = f"weights of model {name!r}" if name else "a bare state dict with no model config"
        raise CheckpointError(
            f"{checkpoint.path} holds {held}, not the {KERNEL_SPACE!r} encoder (a checkpoint "
            "of deblurzoo-train experiment=kernel_space_*, or the authors' KernelWizard "
            "weights converted with deblurzoo-convert)"
        )
    return rebuild_net(checkpoint).to(device).requires_grad_(False)


def read_warmup_kernel(path: str | Path, grid: tuple[int, int] | None = None) -> Tensor:
    """A warm-up kernel ``[kernel_dim, h, w]`` for :func:`~deblurzoo.kernel_space.deblur_frame`
    from a file holding one tensor ``[1, kernel_dim, h, w]`` or ``[kernel_dim, h, w]``: the
    authors' ``experiments/pretrained/kernel.pth`` (512 × 2 × 2, the kernel grid of a 256²
    frame, saved on the GPU) or ``torch.save(mean_kernel(...), path)``. Read on the CPU with
    ``weights_only=True``. ``grid``, the frame's kernel grid
    (:func:`~deblurzoo.models.kernel_space.kernel_grid`), when it differs from the kernel's,
    spreads each cell over its share of the grid (nearest), a deblurzoo extension: the authors'
    code deblurs 256² images only."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointNotFoundError(f"{path}: no such kernel file")
    try:
        kernel = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CheckpointError(f"{path}: cannot read a kernel tensor from it ({reason})") from None
    if isinstance(kernel, Tensor) and kernel.ndim == 4 and kernel.shape[0] == 1:
        kernel = kernel[0]
    if not isinstance(kernel, Tensor) or kernel.ndim != 3 or not kernel.is_floating_point():
        held = tuple(kernel.shape) if isinstance(kernel, Tensor) else type(kernel).__name__
        raise CheckpointError(
            f"{path}: holds {held}, not a kernel tensor [1, kernel_dim, h, w] or [kernel_dim, h, w]"
        )
    if grid is not None and tuple(kernel.shape[-2:]) != tuple(grid):
        kernel = F.interpolate(kernel[None], size=tuple(grid), mode="nearest")[0]
    return kernel.float().contiguous()


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
