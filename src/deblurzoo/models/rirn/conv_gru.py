"""ConvGRU, the GRU host of RIRN: IFI-RNN C1H1 with GRU gates (RIRN supplementary S2.1, Table S2).

RIRN's supplementary, Sec. S2.1: "we modified IFI-RNN (C1H1). As IFI-RNN is a type of RNN
without a gating function, we add the corresponding gates on IFI-RNN to construct LSTM and GRU."
No code exists (``docs/reference_code.md``, RIRN hosts); Fig. S2, which draws the cell, is not
in the text we have. The layers are Table S2's, row by row; the table lists shapes only, so which
tensor each row consumes is our reading, given here against every row:

===================================  ======================================================
Table S2 row                         this module
===================================  ======================================================
input B_t (3 @1)                     ``clip[:, t] - 0.5`` (IFI-RNN's ``[-0.5, 0.5]`` frames)
input h_{t-1} (20 @1/4)              ``hidden``; zero at ``t = 0`` as in IFI-RNN
conv 5×5 s1/s2/s2 → 20/40/60         F_B, IFI-RNN's encoder (no activations): ``e_t`` (60)
concat → 80                          ``[e_t, h_{t-1}]``
conv 5×5 → 80; split → 60, 20        ``gates``; first 60 channels update, last 20 reset
Update gate: sigmoid (60)            ``z_t``
Reset gate: sigmoid (20)             ``r_t``; 20 channels, so it can only gate ``h_{t-1}``
concat → 80                          ``[e_t, r_t ⊙ h_{t-1}]`` (the standard GRU candidate input)
Candidate: conv 5×5 → 60, tanh       ``ĉ_t = tanh(conv([e_t, r_t ⊙ h_{t-1}]))``
(not listed: the update)             ``f_t = (1 − z_t) ⊙ e_t + z_t ⊙ ĉ_t`` (see below)
conv 3×3 → 20, ResBlock, conv 3×3    F_h, IFI-RNN's hidden head on ``f_t``: ``h_t`` (20)
output f_t (60), h_t (20)            ``step`` returns ``(f_t, h_t)``
===================================  ======================================================

The update. A GRU blends the old state with the candidate, ``(1 − z) ⊙ old + z ⊙ ĉ``, but the
table's update gate and candidate are 60-channel while the carried state ``h_{t-1}`` has 20, and
no layer lifts ``h_{t-1}`` to 60 channels. The only other 60-channel tensor in the table is the
encoder output, so the update blends the frame's encoder features with the recurrent candidate:
``z = 0`` passes ``e_t`` through unchanged (a frame-wise path) and ``z = 1`` takes the candidate,
which alone carries the past. This is also the only reading in which every listed layer is used
and nothing is added.

The hidden head. F_h reads ``f_t`` (the gated features, which are also decoded) rather than
``ĉ_t``: otherwise the update gate would shape the output but not the memory, and the paper
builds these hosts "to control the RNN cell memory with gates" (Sec. S2). It is IFI-RNN's F_h
(3×3 conv, ResBlock, 3×3 conv), as in IFI-RNN mapping the decoded features to the next state.

The decoder (Table S2 stops at ``f_t``) is IFI-RNN's F_L fed 60 channels: ConvT 60→40,
ConvT 40→20, conv 5×5 20→3, no activations; ``+ 0.5`` at the end (or the blurry frame, with
``residual=True``, as in :class:`~deblurzoo.models.rirn.ifirnn.IFIRNN`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from deblurzoo.models.blocks import conv
from deblurzoo.models.rirn.ifirnn import IFIRNNFrame, ifirnn_hidden_head


class ConvGRU(IFIRNNFrame):
    """IFI-RNN C1H1 with a convolutional GRU cell, as laid out in RIRN Table S2.

    Args:
        channels: encoder widths at full, 1/2 and 1/4 resolution (Table S2: 20, 40, 60); the
            last is also the width of the update gate, the candidate and ``f_t``.
        hidden: hidden-state channels, also the reset gate's (Table S2: 20).
        kernel: size of the table's 5×5 layers (encoder, gate and candidate convs, decoder output).
        residual: see :class:`~deblurzoo.models.rirn.recurrent_host.RecurrentHost`.
    """

    def __init__(
        self,
        channels: tuple[int, int, int] = (20, 40, 60),
        hidden: int = 20,
        kernel: int = 5,
        residual: bool = False,
    ) -> None:
        c3 = channels[2]
        super().__init__(channels, kernel, residual, features=c3, state=hidden)
        self.gates = conv(c3 + hidden, c3 + hidden, kernel)  # → [update (c3), reset (hidden)]
        self.candidate = conv(c3 + hidden, c3, kernel)
        self.f_h = ifirnn_hidden_head(c3, hidden)

    def step(self, clip: Tensor, t: int, hidden: Tensor) -> tuple[Tensor, Tensor]:
        encoded = self.encode(clip, t)
        update, reset = torch.sigmoid(self.gates(torch.cat([encoded, hidden], dim=1))).split(
            [self.feature_channels, self.hidden_channels], dim=1
        )
        candidate = torch.tanh(self.candidate(torch.cat([encoded, reset * hidden], dim=1)))
        features = (1 - update) * encoded + update * candidate
        return features, self.f_h(features)
