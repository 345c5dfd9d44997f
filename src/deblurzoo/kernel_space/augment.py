"""Blur-transfer augmentation for video training: more blurry clips from the sharp clips, blurred
with kernels a trained kernel-space model encodes from other training pairs (Tran et al., CVPR
2021, supplementary Sec. 6 and Figs. 3–4; the released code's ``data_augmentation.py`` does it
per image, offline).

Here it is done online on the device, by :class:`~deblurzoo.data.VideoDataModule` after each
training batch is transferred (``data.blur_transfer``), so any video model of the zoo trains
with it and validation and test never see it. Each clip of a batch is, with probability ``p``,
given a new blurry clip: frame t of its sharp clip blurred with the kernel E(x', y') of frame t of
another clip of the same batch (a random cyclic shift of the batch pairs the clips), so the new
blur varies over time as that clip's real blur does. Clips of one batch share their size (the
training crop), as the kernel grids must. The synthetic frames replace the clip's blurry frames
for that step; over an epoch about a fraction ``p`` of the clips are seen with transferred blur::

    deblurzoo-train model=memdeblur data=gopro data.root=/data/GOPRO_Large \\
        'data.blur_transfer={_target_: deblurzoo.kernel_space.BlurTransferAugment,
          checkpoint: logs/kernel_space_gopro/runs/<date>/checkpoints/last.ckpt, p: 0.5}'
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from deblurzoo.errors import ConfigError
from deblurzoo.fast import fast_net
from deblurzoo.kernel_space.checkpoint import load_kernel_space


class BlurTransferAugment:
    """Replaces, with probability ``p`` per clip, a training clip's blurry frames by its sharp
    frames blurred with another clip's encoded kernels.

    Args:
        checkpoint: a kernel-space training checkpoint (loaded at once, so a bad path fails
            before training starts).
        p: probability that a clip gets transferred blur.
        generator: random draws (clip choice, batch shift); ``None`` uses the global RNG.
        fast: run the kernel-space model on the fast path's channels_last weights
            (:func:`deblurzoo.fast.fast_net`; its encoder and blur operator take 0.71–0.82 of
            the eager time in ``docs/benchmarks.md``), the same blur to float rounding;
            ``False``: eager.
    """

    def __init__(
        self,
        checkpoint: str | Path,
        p: float = 0.5,
        generator: torch.Generator | None = None,
        fast: bool = True,
    ) -> None:
        if not 0 <= p <= 1:
            raise ConfigError(f"data.blur_transfer.p must be in [0, 1], got {p}")
        self.model = load_kernel_space(checkpoint)
        if fast:
            fast_net(self.model)
        self.p, self.generator = p, generator

    @torch.no_grad()
    def __call__(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """``batch`` with ``"blur"`` ``[B, T, 3, H, W]`` partly replaced (a new tensor)."""
        blur, sharp = batch["blur"], batch["sharp"]
        size = len(blur)
        if size < 2:
            raise ConfigError(
                "blur-transfer augmentation takes kernels from the other clips of a batch: "
                "it needs data.batch_size >= 2"
            )
        chosen = torch.rand(size, generator=self.generator) < self.p
        if not chosen.any():
            return batch
        shift = int(torch.randint(1, size, (), generator=self.generator))
        donors = torch.arange(size).roll(shift)[chosen]
        model = self.model.to(blur.device)
        kernels = model.encode(sharp[donors].float(), blur[donors].float())
        synthetic = model.blur(sharp[chosen].float(), kernels).clamp(0, 1).to(blur.dtype)
        blur = blur.clone()
        blur[chosen.to(blur.device)] = synthetic
        return {**batch, "blur": blur}
