"""Blur transfer — Tran et al. (CVPR 2021), supplementary Sec. 6, Figs. 3–4: "Transferring blur
kernel from the source pair x, y to the target sharp x̂ to generate the target blurry image ŷ",
ŷ = B(x̂, E(x, y)) (the released code's ``data_augmentation.py``, ``docs/reference_code.md``,
blur-kernel space). The fidelity of the encoding is reported as the PSNR of B(x, E(x, y)) against y.

The kernel is spatially varying on a grid of 128-pixel cells, so source and target must have the
same size (``crop=[H,W]`` cuts the same centred window out of every frame, as the released code
cuts the same random window). The options are ``conf/blur_transfer.yaml``'s::

    deblurzoo-blur-transfer ckpt_path=logs/kernel_space_gopro/runs/<date>/checkpoints/last.ckpt \\
        source_sharp=sharp/000010.png source_blurry=blur/000010.png \\
        target=other_sequence/sharp output=transferred/
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf
from torch import Tensor

from deblurzoo.data.frames import read_frame, write_frame
from deblurzoo.data.layouts.base import list_frames
from deblurzoo.errors import ConfigError, PathNotFoundError
from deblurzoo.fast import fast_net
from deblurzoo.infer import select_device
from deblurzoo.kernel_space.checkpoint import frame_psnr, load_kernel_space
from deblurzoo.kernel_space.progress import progress_bar
from deblurzoo.models.kernel_space import KernelSpace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BlurTransfer:
    """The target frames blurred with the source's kernel, the kernel, and the encoding fidelity
    PSNR (dB) of B(x_src, E(x_src, y_src)) against y_src."""

    blurry: Tensor
    kernel: Tensor
    fidelity_psnr: float


def _check_frame(frame: Tensor, name: str) -> None:
    if frame.ndim != 3 or frame.shape[0] != 3:
        raise ValueError(f"{name} must be one RGB frame [3, H, W], got {tuple(frame.shape)}")


@torch.no_grad()
def encode_source(model: KernelSpace, sharp: Tensor, blurry: Tensor) -> tuple[Tensor, float]:
    """The kernel E(x, y) of one source pair ``[3, H, W]`` and its fidelity PSNR (dB)."""
    _check_frame(sharp, "source sharp frame")
    _check_frame(blurry, "source blurry frame")
    kernel = model.encode(sharp[None], blurry[None])
    fidelity = frame_psnr(model.blur(sharp[None], kernel), blurry[None])
    return kernel[0], float(fidelity[0])


@torch.no_grad()
def apply_kernel(model: KernelSpace, kernel: Tensor, target: Tensor) -> Tensor:
    """Target sharp frames ``[N, 3, H, W]`` blurred with one ``kernel`` ``[D, h, w]``, clamped to
    [0, 1]; H × W must be the size the kernel was encoded at (up to the padding to 128)."""
    if target.ndim != 4:
        raise ValueError(f"target frames must be [N, 3, H, W], got {tuple(target.shape)}")
    try:
        return model.blur(target, kernel.expand(len(target), *kernel.shape)).clamp(0, 1)
    except ValueError as err:
        raise ConfigError(
            f"cannot transfer a {tuple(kernel.shape[-2:])}-cell kernel to "
            f"{tuple(target.shape[-2:])} frames: source and target must have the same size "
            f"(crop them to one window): {err}"
        ) from None


def transfer_blur(
    model: KernelSpace, source_sharp: Tensor, source_blurry: Tensor, target_sharp: Tensor
) -> BlurTransfer:
    """Blur ``target_sharp`` (``[3, H, W]`` or ``[N, 3, H, W]``, the source's size) with the
    kernel encoded from the source pair (each ``[3, H, W]``)."""
    kernel, fidelity = encode_source(model, source_sharp, source_blurry)
    single = target_sharp.ndim == 3
    target = target_sharp[None] if single else target_sharp
    blurry = apply_kernel(model, kernel, target.to(kernel.device))
    return BlurTransfer(blurry[0] if single else blurry, kernel, fidelity)


def centre_crop(frame: Tensor, size: tuple[int, int] | None, name: str) -> Tensor:
    """The centred ``size`` (H, W) window of ``frame`` ``[..., H, W]`` (all of it for ``None``)."""
    if size is None:
        return frame
    (height, width), (crop_h, crop_w) = frame.shape[-2:], size
    if crop_h > height or crop_w > width:
        raise ConfigError(
            f"{name}: crop {crop_h}×{crop_w} is larger than the {height}×{width} frame"
        )
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    return frame[..., top : top + crop_h, left : left + crop_w]


def _target_files(targets: list[Path]) -> list[Path]:
    files: list[Path] = []
    for target in targets:
        if target.is_dir():
            files += list_frames(target)
        elif target.is_file():
            files.append(target)
        else:
            raise PathNotFoundError(f"target={target}: no such file or folder")
    return files


def main(cfg: DictConfig) -> None:
    """Blur the ``cfg.target`` frames with the kernel of the source pair into ``cfg.output``."""
    targets = cfg.target if OmegaConf.is_list(cfg.target) else [cfg.target]
    files = _target_files([Path(t) for t in targets])  # every input is checked before any work
    sources = [Path(cfg.source_sharp), Path(cfg.source_blurry)]
    for path in sources:
        if not path.is_file():
            raise PathNotFoundError(f"{path}: no such source frame")
    output = Path(cfg.output)
    if output.resolve() in {f.parent.resolve() for f in files}:
        raise ConfigError(f"output={output} holds target frames: pick another folder")
    crop = tuple(cfg.crop) if cfg.crop else None
    device = select_device(cfg.device)
    model = load_kernel_space(cfg.ckpt_path, device)
    if cfg.fast:
        fast_net(model)
    source = [centre_crop(read_frame(p), crop, str(p)).to(device) for p in sources]
    kernel, fidelity = encode_source(model, *source)
    print(f"encoding fidelity: PSNR of B(x, E(x, y)) vs y = {fidelity:.2f} dB")
    written = 0
    with progress_bar() as progress:
        task = progress.add_task("blur transfer", total=len(files), status="")
        try:
            for path in files:
                target = centre_crop(read_frame(path), crop, str(path)).to(device)
                write_frame(
                    output / f"{path.stem}.png", apply_kernel(model, kernel, target[None])[0]
                )
                written += 1
                progress.advance(task)
        except KeyboardInterrupt:
            log.warning("interrupted: %d of %d frames written", written, len(files))
    print(f"{written} of {len(files)} frames written to {output}")


if __name__ == "__main__":  # python -m deblurzoo.kernel_space.transfer
    from deblurzoo import commands

    commands.blur_transfer()
