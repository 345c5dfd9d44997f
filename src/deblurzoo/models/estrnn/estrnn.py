"""ESTRNN: RDB-based recurrent cell plus global spatio-temporal attention fusion (GSA).

Zhong, Gao, Zheng & Zheng, "Efficient Spatio-Temporal Recurrent Neural Network for Video
Deblurring", ECCV 2020 (journal version: IJCV 2023). Sec. 3 (the method: the RDB-based cell
with F_B, F_R and F_h, the GSA module, the reconstructor) and Sec. 4 (experiments, where the
configurations are named B·C, e.g. B9C80 = 9 RDBs in F_R with 80 channels; the section and
table numbers were not checked against the paper's PDF). Layers follow the official
``zzh-tech/ESTRNN`` ``model/ESTRNN.py`` (``docs/reference_code.md``, ESTRNN):

* the cell is :class:`~deblurzoo.models.rirn.rdbn.RDBN`'s, shared with the RIRN host of that
  name: F_B (conv 5×5 → RDB → conv 5×5 stride 2 → RDB → conv 5×5 stride 2) to ``4·nf`` channels
  at 1/4 resolution, concatenated with the hidden state ``s_{t−1}`` (``nf`` channels) → F_R
  (``n_blocks`` RDBs of ``C = 5·nf`` channels, growth ``2·nf``, all their outputs fused by
  conv 1×1 → conv 3×3) = ``h_t``; F_h (conv 3×3 → RDB → conv 3×3) = ``s_t``; ``nf`` is the
  code's ``n_features`` (16 for C80, 18 for C90);
* GSA fuses the ``h`` of ``past_frames`` past frames, the centre and
  ``future_frames`` future frames: for every neighbour ``i`` the pair ``cat(h_c, h_i)``
  (``2C`` channels) is pooled to a vector, gated by ``σ(Linear(act(Linear(·))))`` (2C→4C→2C),
  multiplied with the pair's projection (conv 1×1 2C→4C → conv 1×1 4C→2C) and condensed by a
  conv 1×1 to ``C``; the condensed neighbours, in frame order, and ``h_c`` last are
  concatenated and mixed by a conv 1×1 of ``(past + 1 + future)·C`` channels;
* the reconstructor: ConvT 3×3 stride 2 ``5C``→``2·nf`` → ConvT 3×3 stride 2
  ``2·nf``→``nf`` → conv 5×5 ``nf``→3, no activations, no global residual;
* the activation of the dense layers and of GSA's gate is GELU (the code's default);
* zero initial state. The code feeds 0–255 BGR frames as ``(u − 127.5)/255`` and maps the
  output back by ``·255 + 127.5``; on RGB frames ``x`` in ``[0, 1]`` that is ``x − 0.5`` in
  and ``out + 0.5`` out, as RDBN does. The BGR order is folded into the weights by the
  converter (:mod:`deblurzoo.models.estrnn.convert`), not flipped at run time.

A clip of T frames gives T − past − future restored frames (``border_frames``): the first and
last frames lack the neighbours GSA fuses.
"""

from __future__ import annotations

from collections import deque

import torch
from torch import Tensor, nn

from deblurzoo.errors import ConfigError
from deblurzoo.models.blocks import ACTIVATIONS, conv, deconv
from deblurzoo.models.rirn.rdbn import RDBN


class GSA(nn.Module):
    """Global spatio-temporal attention fusion (ESTRNN Sec. 3, the GSA module).

    Args:
        channels: ``C``, the channels of one frame's ``h``.
        past: past frames fused; their ``h`` come first, so the centre is at index ``past``.
        frames: all frames fused, ``past + 1 + future``.
        activation: between the gate's two linear layers.
    """

    def __init__(self, channels: int, past: int, frames: int, activation: str) -> None:
        super().__init__()
        self.center = past
        pair = 2 * channels
        self.gate = nn.Sequential(
            nn.Linear(pair, 2 * pair), ACTIVATIONS[activation](), nn.Linear(2 * pair, pair),
            nn.Sigmoid(),
        )  # fmt: skip
        self.project = nn.Sequential(conv(pair, 2 * pair, 1), conv(2 * pair, pair, 1))
        self.condense = conv(pair, channels, 1)
        self.fuse = conv(frames * channels, frames * channels, 1)

    def forward(self, features: list[Tensor]) -> Tensor:
        reference = features[self.center]
        parts = []
        for i, other in enumerate(features):
            if i == self.center:
                continue
            pair = torch.cat([reference, other], dim=1)
            weight = self.gate(pair.mean(dim=(2, 3)))[..., None, None]
            parts.append(self.condense(weight * self.project(pair)))
        parts.append(reference)
        return self.fuse(torch.cat(parts, dim=1))


class ESTRNN(RDBN):
    """ESTRNN (ECCV 2020): RDBN's recurrent cell, GSA over ``past + 1 + future`` frames, and
    the reconstructor of the fused features. The default is B15C80, the configuration of the
    authors' code and of their released checkpoints.

    Args:
        n_features: the code's ``n_features``; the trunk has ``C = 5 · n_features`` channels
            (16 → C80, 18 → C90).
        n_blocks: RDBs in F_R, the paper's ``B`` (15; 9 in B9C80/B9C90).
        activation: of the dense layers and GSA's gate, ``"gelu"`` (the code's default) or
            ``"relu"``.
        past_frames: past frames GSA fuses (2).
        future_frames: future frames GSA fuses (2).
    """

    border_frames = (2, 2)
    min_frames = 5

    def __init__(
        self,
        n_features: int = 16,
        n_blocks: int = 15,
        activation: str = "gelu",
        past_frames: int = 2,
        future_frames: int = 2,
    ) -> None:
        super().__init__(n_features, n_blocks, 3, activation)
        if past_frames < 0 or future_frames < 0:
            raise ConfigError(
                f"past_frames and future_frames must be ≥ 0, got {past_frames}, {future_frames}"
            )
        frames = past_frames + 1 + future_frames
        self.border_frames = (past_frames, future_frames)
        self.min_frames = self.fusion_frames = frames
        nf, width = n_features, 5 * n_features
        self.fusion = GSA(width, past_frames, frames, activation)
        self.reconstruct = nn.Sequential(
            deconv(frames * width, 2 * nf), deconv(2 * nf, nf), conv(nf, 3, 5)
        )

    def forward(self, blur: Tensor) -> Tensor:
        """Each frame's ``h`` joins a window of ``past + 1 + future``; a full window restores
        its centre frame, so a clip holds only that many ``h`` at once."""
        hidden = self.initial_hidden(blur)
        window: deque[Tensor] = deque(maxlen=self.fusion_frames)
        restored = []
        for t in range(blur.shape[1]):
            h, hidden = self.step(blur, t, hidden)
            window.append(h)
            if len(window) == window.maxlen:
                restored.append(self.decode(self.fusion(list(window))) + 0.5)
        return torch.stack(restored, dim=1)
