"""The dual-stage video model — Brehm, Scherer & Lienhart, CVPRW 2020, Sec. 3 and Table 2 ("stage
1+stage 2"): every frame is deblurred by stage 1, then stage 2 aggregates the restored frames
t−1, t, t+1.

"We trained both stage 1 and stage 2 models ... independently of each other" (Sec. 3.3), stage 2
on "images [that] are pre-deblurred by our stage 1 model" (Sec. 3.2). Here stage 1 is therefore
frozen inside the model: its parameters never require gradients and it stays in evaluation mode
whatever mode the model is put in; it is loaded from a trained stage-1 checkpoint and only stage
2 is trained. Stage 1's output is clipped to the valid range, as the paper does with every output
at test time (Sec. 3.3), before stage 2 sees it.

``quantize_stage1`` (default ``True``): round stage 1's output to 8-bit levels before stage 2.
The paper is silent; the released submission path does it (``docs/reference_code.md``, MLFA),
and a stage 2 trained "independently" on pre-computed stage-1 results trains on
8-bit images, so quantising keeps training and inference inputs alike. Rounding has no gradient,
which costs nothing with stage 1 frozen. ``False`` passes the clipped float output.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from deblurzoo.errors import PathNotFoundError
from deblurzoo.models.loading import load_weights, read_checkpoint
from deblurzoo.models.mlfa.stage1 import AtrousDeblurNet
from deblurzoo.models.mlfa.stage2 import MLFANet
from deblurzoo.models.video_net import VideoNet

log = logging.getLogger(__name__)


def load_stage1(net: nn.Module, path: str | Path) -> None:
    """Load stage-1 weights from ``path``: a plain state dict of the stage-1 net, or a Lightning
    checkpoint of a stage-1 run (:func:`deblurzoo.models.loading.read_checkpoint`); weights that
    do not fit ``net`` are refused with the entries that differ named."""
    if not Path(path).is_file():
        raise PathNotFoundError(f"stage1_checkpoint={str(path)!r}: no such file")
    load_weights(net, read_checkpoint(path), "mlfa_stage1")


class DualStageMLFA(VideoNet):
    """Stage 1 (frozen) on every frame, then stage 2 on its results.

    Args:
        stage1_checkpoint: a local stage-1 checkpoint (see :func:`load_stage1`); ``None`` leaves
            stage 1 randomly initialised (tests, profiling).
        stage1: keyword arguments of :class:`~deblurzoo.models.mlfa.stage1.AtrousDeblurNet`
            (they must match the checkpoint).
        stage2: keyword arguments of :class:`~deblurzoo.models.mlfa.stage2.MLFANet`.
        quantize_stage1: round stage 1's output to 8 bits before stage 2 (code; default).
    """

    recurrent = False
    border_frames = (0, 0)

    def __init__(
        self,
        stage1_checkpoint: str | None = None,
        stage1: Mapping[str, Any] | None = None,
        stage2: Mapping[str, Any] | None = None,
        quantize_stage1: bool = True,
    ) -> None:
        super().__init__()
        self.stage1 = AtrousDeblurNet(**(stage1 or {}))
        self.stage2 = MLFANet(**(stage2 or {}))
        self.spatial_multiple = math.lcm(self.stage1.spatial_multiple, self.stage2.spatial_multiple)
        self.min_size = tuple(map(max, self.stage1.min_size, self.stage2.min_size))
        self.quantize_stage1 = quantize_stage1
        # a net rebuilt from a checkpoint of its own gets stage 1 from there: warn only if one
        # without a stage-1 file is trained
        self._warn_random_stage1 = stage1_checkpoint is None
        if stage1_checkpoint is not None:
            load_stage1(self.stage1, stage1_checkpoint)
        self.stage1.requires_grad_(False)
        self.stage1.eval()

    def train(self, mode: bool = True) -> DualStageMLFA:
        """Set the mode of stage 2; stage 1 always stays in evaluation mode."""
        super().train(mode)
        self.stage1.eval()
        if mode and self._warn_random_stage1:
            log.warning("mlfa trains without stage1_checkpoint: stage 1 is random and frozen")
            self._warn_random_stage1 = False  # once
        return self

    def restore_stage1(self, blur: Tensor) -> Tensor:
        """Stage 1's frames as stage 2 sees them: clipped to [0, 1], 8-bit if quantising."""
        with torch.no_grad():
            restored = self.stage1(blur).clamp(0, 1)
            if self.quantize_stage1:
                restored = torch.round(restored * 255) / 255
        return restored

    def forward(self, blur: Tensor) -> Tensor:
        return self.stage2(self.restore_stage1(blur))
