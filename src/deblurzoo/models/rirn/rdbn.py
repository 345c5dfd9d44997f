"""RDBN: ESTRNN's RDB cell without its GSA fusion, as a RIRN host.

Zhong, Gao, Zheng & Zheng, "Efficient Spatio-Temporal Recurrent Neural Network for Video
Deblurring" (ESTRNN), ECCV 2020. RIRN's supplementary Sec. S2.1: "We built the RDBN architecture
by adapting the ESTRNN. We removed the GSA module [...]. We used the B15C80 model using 15 RDB
blocks with 80 feature channels."

Layers follow the official ``zzh-tech/ESTRNN`` ``model/ESTRNN.py``
(``docs/reference_code.md``, RIRN hosts), with ``n_features = 16`` (C = 5·16 = 80):

* F_B: conv 5×5 3→16 → RDB_DS(16, growth 16) [RDB + conv 5×5 16→32, stride 2] →
  RDB_DS(32, growth 24) [RDB + conv 5×5 32→64, stride 2] → 64 ch at 1/4 resolution;
  concatenated with the hidden state ``s_{t−1}`` (16 ch) → 80 ch;
* F_R: 15 RDBs (80 ch, growth 32) in series, the outputs of all 15 concatenated (1200 ch) →
  conv 1×1 1200→80 → conv 3×3 80→80 = ``h_t``, the features that are decoded;
* F_h: conv 3×3 80→16 → RDB(16, growth 16) → conv 3×3 16→16 = the new hidden state ``s_t``;
* reconstructor: ConvT 3×3 80→32 (stride 2) → ConvT 3×3 32→16 (stride 2) → conv 5×5 16→3.
  In ESTRNN the first ConvT takes GSA's 400-channel fusion of five ``h``; without GSA it takes
  ``h_t`` alone, hence 80 input channels (the natural reading — ESTRNN ships no RDBN file);
* every RDB has 3 dense layers (conv 3×3 + activation, each adding ``growth`` channels,
  concatenated) → conv 1×1 back to its input width, plus identity; the dense layers use GELU,
  ESTRNN's default, and nothing else in the net has an activation; no global residual;
* zero initial state; frames enter as ``x − 0.5`` and leave as ``out + 0.5``.

GSA was what needed the past and future ``h`` (two each), so without it RDBN is causal and
restores every frame: ``border_frames = (0, 0)``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deblurzoo.errors import ConfigError
from deblurzoo.models.blocks import ACTIVATIONS, RDB, conv, deconv
from deblurzoo.models.rirn.recurrent_host import RecurrentHost


class RDNet(nn.Module):
    """``n_blocks`` RDBs in series; all their outputs concatenated → conv 1×1 → conv 3×3."""

    def __init__(
        self, channels: int, growth: int, n_layers: int, n_blocks: int, activation: str
    ) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            RDB(channels, growth, n_layers, activation) for _ in range(n_blocks)
        )
        self.fuse = nn.Sequential(
            conv(n_blocks * channels, channels, 1), conv(channels, channels, 3)
        )

    def forward(self, x: Tensor) -> Tensor:
        outputs = []
        for block in self.blocks:
            x = block(x)
            outputs.append(x)
        return self.fuse(torch.cat(outputs, dim=1))


class RDBN(RecurrentHost):
    """ESTRNN's RDB cell and reconstructor without GSA (RIRN Sec. S2.1, B15C80).

    Args:
        n_features: ESTRNN's ``n_features`` (16); widths are 16/32/64 in F_B, the hidden state
            has ``n_features`` channels and the trunk ``5 · n_features`` (80).
        n_blocks: RDBs in F_R (15).
        n_layers: dense layers per RDB (3).
        activation: of the dense layers, ``"gelu"`` (ESTRNN's default) or ``"relu"``.
        residual: add the blurry frame instead of 0.5 to the output (not in the reference;
            see :class:`~deblurzoo.models.rirn.recurrent_host.RecurrentHost`).
    """

    spatial_multiple = 4
    border_frames = (0, 0)
    # the dense blocks' channel concatenations copy NHWC features: in float32 channels_last
    # measured 1.04-1.23x the eager time with IRM and ATB, 0.97-1.00x for ESTRNN (under bf16
    # autocast it gains: 0.92x and 0.70x, docs/benchmarks.md)
    channels_last = False

    def __init__(
        self,
        n_features: int = 16,
        n_blocks: int = 15,
        n_layers: int = 3,
        activation: str = "gelu",
        residual: bool = False,
    ) -> None:
        super().__init__(residual)
        if activation not in ACTIVATIONS:
            raise ConfigError(
                f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}"
            )
        nf, width = n_features, 5 * n_features
        self.feature_channels, self.hidden_channels = width, nf
        self.f_b = nn.Sequential(
            conv(3, nf, 5),
            RDB(nf, nf, n_layers, activation),
            conv(nf, 2 * nf, 5, stride=2),
            RDB(2 * nf, nf * 3 // 2, n_layers, activation),
            conv(2 * nf, 4 * nf, 5, stride=2),
        )
        self.f_r = RDNet(width, 2 * nf, n_layers, n_blocks, activation)
        self.f_h = nn.Sequential(
            conv(width, nf, 3), RDB(nf, nf, n_layers, activation), conv(nf, nf, 3)
        )
        self.reconstruct = nn.Sequential(deconv(width, 2 * nf), deconv(2 * nf, nf), conv(nf, 3, 5))
        self.start_as_identity(self.reconstruct[-1])

    def initial_hidden(self, clip: Tensor) -> Tensor:
        b, _, _, h, w = clip.shape
        return clip.new_zeros(b, self.hidden_channels, h // 4, w // 4)

    def step(self, clip: Tensor, t: int, hidden: Tensor) -> tuple[Tensor, Tensor]:
        features = self.f_r(torch.cat([self.f_b(clip[:, t] - 0.5), hidden], dim=1))
        return features, self.f_h(features)

    def decode(self, features: Tensor) -> Tensor:
        return self.reconstruct(features)
