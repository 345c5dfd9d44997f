"""IFI-RNN, the C1H1 configuration used as a RIRN host.

Nah, Son & Lee, "Recurrent Neural Networks with Intra-Frame Iterations for Video Deblurring",
CVPR 2019; configuration as RIRN's supplementary Sec. S2.1 uses it: "the simplest model, C1H1
with a single cell without the iterative operations", feature channels as in the original.
The encoder skeleton is the one of RIRN Table S1 (5×5 convolutions 3→20→40→60, the last two
with stride 2, concatenated with a 20-channel hidden state at 1/4 resolution → 80 channels).

No official code exists. Where the papers are silent we follow the re-implementation that the
RIRN/ESTRNN line of papers quote numbers from, ESTRNN's port (``docs/reference_code.md``, RIRN
hosts):

* F_B (encoder) has no activations; F_R is ``num_resblocks`` = 6 residual blocks at 80 channels;
* F_L (decoder) is two stride-2 3×3 transposed convolutions 80→40→20 and a 5×5 conv 20→3,
  without activations; F_h is conv 3×3 80→20, a residual block, conv 3×3 20→20;
* the initial hidden state is zero; frames enter as ``x − 0.5`` and leave as ``out + 0.5``
  (the reference normalises to ``[−0.5, 0.5]``). ``residual=True`` instead adds the blurry
  frame to the decoder output, whose last layer then starts at zero so the untrained net is the
  identity (not in the reference; offered for short training budgets).

SimDeblur's port differs (3×3 kernels, 64-channel hidden, first hidden = features); it is not
what this module builds.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deblurzoo.models.blocks import ResBlock, conv, deconv
from deblurzoo.models.rirn.recurrent_host import RecurrentHost


def ifirnn_hidden_head(in_ch: int, hidden: int) -> nn.Sequential:
    """IFI-RNN's F_h: conv 3×3 in→hidden, ResBlock(hidden), conv 3×3 hidden→hidden."""
    return nn.Sequential(conv(in_ch, hidden, 3), ResBlock(hidden), conv(hidden, hidden, 3))


class IFIRNNFrame(RecurrentHost):
    """IFI-RNN's encoder F_B and decoder F_L around a recurrent cell, with a zero initial state.

    Shared by IFI-RNN C1H1 and RIRN's gated hosts built from it (Tables S1 and S2): subclasses
    add their cell and implement :meth:`step`, calling :meth:`encode` for the frame's features.

    Args:
        channels: encoder widths at full, 1/2 and 1/4 resolution (Tables S1/S2: 20, 40, 60).
        kernel: size of the encoder convs and of the decoder's output conv (5 in the tables).
        residual: see :class:`~deblurzoo.models.rirn.recurrent_host.RecurrentHost`.
        features: channels of ``f_t``, the decoder's input.
        state: channels of the carried state ``h_t``.
    """

    spatial_multiple = 4

    def __init__(
        self, channels: tuple[int, int, int], kernel: int, residual: bool, features: int, state: int
    ) -> None:
        super().__init__(residual)
        c1, c2, c3 = channels
        self.feature_channels, self.hidden_channels = features, state
        self.f_b = nn.Sequential(
            conv(3, c1, kernel), conv(c1, c2, kernel, stride=2), conv(c2, c3, kernel, stride=2)
        )
        self.f_l = nn.Sequential(deconv(features, c2), deconv(c2, c1), conv(c1, 3, kernel))
        self.start_as_identity(self.f_l[-1])

    def encode(self, clip: Tensor, t: int) -> Tensor:
        """F_B of frame ``t`` (entering as ``x − 0.5``)."""
        return self.f_b(clip[:, t] - 0.5)

    def initial_hidden(self, clip: Tensor) -> Tensor:
        b, _, _, h, w = clip.shape
        return clip.new_zeros(b, self.hidden_channels, h // 4, w // 4)

    def decode(self, features: Tensor) -> Tensor:
        return self.f_l(features)


class IFIRNN(IFIRNNFrame):
    """IFI-RNN with one cell and one update per frame (C1H1).

    Args:
        channels: encoder widths at full, 1/2 and 1/4 resolution (Table S1: 20, 40, 60).
        hidden: hidden-state channels (Table S1: 20).
        num_resblocks: residual blocks in F_R (6 in the reference).
        kernel: encoder/decoder-output kernel size (5 in Table S1).
        residual: see :class:`~deblurzoo.models.rirn.recurrent_host.RecurrentHost`.
    """

    def __init__(
        self,
        channels: tuple[int, int, int] = (20, 40, 60),
        hidden: int = 20,
        num_resblocks: int = 6,
        kernel: int = 5,
        residual: bool = False,
    ) -> None:
        width = channels[2] + hidden
        super().__init__(channels, kernel, residual, features=width, state=hidden)
        self.f_r = nn.Sequential(*(ResBlock(width) for _ in range(num_resblocks)))
        self.f_h = ifirnn_hidden_head(width, hidden)

    def step(self, clip: Tensor, t: int, hidden: Tensor) -> tuple[Tensor, Tensor]:
        features = self.f_r(torch.cat([self.encode(clip, t), hidden], dim=1))
        return features, self.f_h(features)
