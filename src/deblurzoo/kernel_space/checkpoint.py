"""Loading a trained kernel-space encoder for its applications; per-frame PSNR."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor
from torchmetrics.functional.image import peak_signal_noise_ratio

from deblurzoo.metrics import quantize
from deblurzoo.models.kernel_space import KernelSpace


def load_kernel_space(path: str | Path, device: str | torch.device = "cpu") -> KernelSpace:
    """The :class:`KernelSpace` of a ``deblurzoo-train`` checkpoint of the kernel-space task
    (``experiment=kernel_space_*``), rebuilt from the registry entry stored in the file, in eval
    mode with its parameters frozen. The file is unpickled in full (as the zoo's own checkpoints
    are), so only pass files you trust. A checkpoint of another model is refused by the task."""
    from deblurzoo.tasks import KernelSpaceModule  # the task imports the models, not vice versa

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"kernel-space checkpoint {str(path)!r}: no such file")
    module = KernelSpaceModule.load_from_checkpoint(path, map_location="cpu", weights_only=False)
    return module.net.to(device).eval().requires_grad_(False)


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
