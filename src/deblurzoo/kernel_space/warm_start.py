"""What warm starts save when deblurring a video by optimisation: cold starts of every frame
against frames warm-started from the previous frame's priors (:func:`deblur_video`), at equal
quality, measured on frames with a sharp reference (the synthetic data). The options are
``conf/warm_start.yaml``'s::

    python -m deblurzoo.kernel_space.warm_start ckpt_path=<kernel-space checkpoint> \\
        blurry=data/synthetic_gopro/test/synthetic_000/blur_gamma \\
        sharp=data/synthetic_gopro/test/synthetic_000/sharp frames=4 \\
        deblur.num_iters=300 deblur.warmup_iters=50 warm_iters=[25,50,100,150]

The first frame is a cold start in both cases (one run, shared). On every later frame the cold
start costs ``warmup_iters + num_iters`` iterations (twice the warm-up with a warm-up kernel); a
warm start costs ``K`` for each ``K`` of ``warm_iters``. Quality is the mean PSNR of the deblurred
later frames against their sharp frames; "equal quality" is the smallest ``K`` whose mean is at
least the cold starts' mean minus ``tolerance`` dB, and the saving is ``1 − K / cost of a cold
start`` per frame (iterations; the wall times are printed too).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from omegaconf import DictConfig
from torch import Tensor

from deblurzoo.data.frames import read_frame
from deblurzoo.data.layouts.base import list_frames
from deblurzoo.errors import ConfigError
from deblurzoo.infer import select_device
from deblurzoo.kernel_space.checkpoint import frame_psnr, load_kernel_space, read_warmup_kernel
from deblurzoo.kernel_space.deblur import DeblurConfig, DeblurResult, deblur_video
from deblurzoo.kernel_space.transfer import encode_source
from deblurzoo.models.kernel_space import KernelSpace, kernel_grid


@dataclass
class WarmStartComparison:
    """Per-frame PSNR (dB) and seconds of the later frames, cold and for each warm ``K``."""

    cold_iters: int
    cold_psnr: list[float]
    cold_seconds: list[float]
    warm_psnr: dict[int, list[float]] = field(default_factory=dict)
    warm_seconds: dict[int, list[float]] = field(default_factory=dict)
    tolerance_db: float = 0.1

    @staticmethod
    def _mean(values: list[float]) -> float:
        return sum(values) / len(values)

    def equal_quality_iters(self) -> int | None:
        """The smallest warm ``K`` within ``tolerance_db`` of the cold starts' mean PSNR."""
        target = self._mean(self.cold_psnr) - self.tolerance_db
        found = [k for k, psnr in sorted(self.warm_psnr.items()) if self._mean(psnr) >= target]
        return found[0] if found else None

    def saving(self) -> float | None:
        """Fraction of the iterations of a later frame saved at equal quality."""
        k = self.equal_quality_iters()
        return None if k is None else 1 - k / self.cold_iters

    def table(self) -> str:
        """A Markdown table: iterations, mean PSNR and seconds per later frame."""
        rows = [
            "| start | iterations / frame | PSNR (dB) | seconds / frame |",
            "|---|---:|---:|---:|",
            f"| cold | {self.cold_iters} | {self._mean(self.cold_psnr):.2f} | "
            f"{self._mean(self.cold_seconds):.1f} |",
            *(
                f"| warm | {k} | {self._mean(self.warm_psnr[k]):.2f} | "
                f"{self._mean(self.warm_seconds[k]):.1f} |"
                for k in sorted(self.warm_psnr)
            ),
        ]
        return "\n".join(rows)


def _psnr(results: list[DeblurResult], sharp: Tensor) -> list[float]:
    return [float(frame_psnr(r.image, s)) for r, s in zip(results, sharp, strict=False)]


def compare_warm_start(
    model: KernelSpace,
    blurry: Tensor,
    sharp: Tensor,
    config: DeblurConfig,
    warm_iters: list[int],
    *,
    warmup_kernel: Tensor | None = None,
    tolerance_db: float = 0.1,
    progress: bool = True,
) -> WarmStartComparison:
    """Cold starts of every frame of ``blurry`` ``[T, 3, H, W]`` (T ≥ 2) against warm starts of
    its later frames with each of ``warm_iters`` iterations, scored against ``sharp``."""
    if len(blurry) < 2 or blurry.shape != sharp.shape:
        raise ConfigError(
            f"need T >= 2 blurry frames and sharp frames of the same shape, got "
            f"{tuple(blurry.shape)} and {tuple(sharp.shape)}"
        )
    cold = deblur_video(
        model, blurry, config, warm_start=False, warmup_kernel=warmup_kernel, progress=progress
    )
    if any(r.interrupted for r in cold):
        raise KeyboardInterrupt
    per_frame = cold[1].iterations + cold[1].warmup_iterations
    comparison = WarmStartComparison(
        per_frame, _psnr(cold[1:], sharp[1:]), [r.seconds for r in cold[1:]],
        tolerance_db=tolerance_db,
    )  # fmt: skip
    for k in sorted(warm_iters):
        warm = deblur_video(
            model, blurry[1:], replace(config, warm_iters=k), init=cold[0].state,
            progress=progress,
        )  # fmt: skip
        if any(r.interrupted for r in warm):
            break  # what was measured so far is kept
        comparison.warm_psnr[k] = _psnr(warm, sharp[1:])
        comparison.warm_seconds[k] = [r.seconds for r in warm]
    return comparison


def _frames(folder: Path, start: int, count: int) -> Tensor:
    files = list_frames(folder)[start : start + count]
    if len(files) < count:
        raise ConfigError(f"{folder}: fewer than {start + count} frames")
    return torch.stack([read_frame(p) for p in files])


def main(cfg: DictConfig) -> None:
    """Compare cold and warm starts on the ``cfg.frames`` frames from ``cfg.start``; print the
    table and the saving, and write them to ``cfg.json``."""
    config = DeblurConfig(**cfg.deblur)
    device = select_device(cfg.device)
    blurry = _frames(Path(cfg.blurry), cfg.start, cfg.frames).to(device)
    sharp = _frames(Path(cfg.sharp), cfg.start, cfg.frames).to(device)
    model = load_kernel_space(cfg.ckpt_path, device)
    warmup_kernel = None
    if cfg.get("warmup_kernel") and cfg.warmup_kernel_pair:
        raise ConfigError("give warmup_kernel or warmup_kernel_pair, not both")
    if cfg.get("warmup_kernel"):  # e.g. the authors' experiments/pretrained/kernel.pth
        grid = kernel_grid(*blurry.shape[-2:])
        warmup_kernel = read_warmup_kernel(cfg.warmup_kernel, grid).to(device)
    if cfg.warmup_kernel_pair:
        pair = [read_frame(Path(p)).to(device) for p in cfg.warmup_kernel_pair]
        warmup_kernel = encode_source(model, *pair)[0]
    comparison = compare_warm_start(
        model, blurry, sharp, config, list(cfg.warm_iters), warmup_kernel=warmup_kernel,
        tolerance_db=cfg.tolerance,
    )  # fmt: skip
    print(comparison.table())
    k, saving = comparison.equal_quality_iters(), comparison.saving()
    if k is None:
        print(f"no warm start reached the cold starts' PSNR within {cfg.tolerance} dB")
    else:
        print(
            f"equal quality (within {cfg.tolerance} dB): {k} warm iterations against "
            f"{comparison.cold_iters} cold, {100 * saving:.0f}% of the iterations saved per frame"
        )
    if cfg.json:
        Path(cfg.json).write_text(
            json.dumps({**asdict(comparison), "config": asdict(config)}, indent=2)
        )


if __name__ == "__main__":  # python -m deblurzoo.kernel_space.warm_start
    from deblurzoo import commands

    commands.warm_start()
