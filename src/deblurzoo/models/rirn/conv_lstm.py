"""ConvLSTM, the LSTM host of RIRN: IFI-RNN C1H1 with LSTM gates (RIRN supp. S2.1, Table S1).

RIRN's supplementary, Sec. S2.1: "we modified IFI-RNN (C1H1). As IFI-RNN is a type of RNN
without a gating function, we add the corresponding gates on IFI-RNN to construct LSTM and GRU."
No code exists (``docs/reference_code.md``, RIRN hosts) and Fig. S2, which draws the cell, is
not in the text we have. Table S1 lists shapes only; our reading of every row:

===================================  ======================================================
Table S1 row                         this module
===================================  ======================================================
input B_t (3 @1)                     ``clip[:, t] - 0.5`` (IFI-RNN's ``[-0.5, 0.5]`` frames)
input h_{t-1} (20 @1/4)              the first 20 channels of ``hidden`` (see "state")
conv 5×5 s1/s2/s2 → 20/40/60         F_B, IFI-RNN's encoder (no activations): ``e_t`` (60)
concat → 80                          ``[e_t, h_{t-1}]`` (no peepholes: ``c_{t-1}`` is not an input)
conv 5×5 → 80; split → 20 × 4        ``gates``, split in the table's order:
Forget gate: sigmoid                   ``f = σ(·)``, channels 0–19: keeps ``c_{t-1}``
Input gate: tanh ("tahn")              ``g = tanh(·)``, channels 20–39: the cell *candidate*
Output gate: sigmoid                   ``o = σ(·)``, channels 40–59: exposes the cell as ``h_t``
Reset gate: sigmoid                    ``i = σ(·)``, channels 60–79: how much of ``g`` is written
(not listed: the cell update)        ``c_t = f ⊙ c_{t-1} + i ⊙ g``, ``h_t = o ⊙ tanh(c_t)``
output f_t (60)                      ``f_t = e_t + conv3×3(h_t)`` (20 → 60; see below)
output h_t (20)                      ``h_t``; the carried state is ``cat(h_t, c_t)``
===================================  ======================================================

The gates. A (Conv)LSTM has exactly three sigmoid gates and one tanh branch, and so has the
table. Its tanh row, named "input gate", is what the LSTM literature also calls the "input
modulation gate": the candidate ``g`` written into the memory. With it taken, the table's extra
sigmoid, named "reset gate" (LSTMs have none; GRUs do), is left to play the one remaining LSTM
role, the input gate ``i`` that scales the write. So the cell is the standard ConvLSTM of Shi et
al. (2015) without peepholes, with input ``e_t`` (60) and 20 hidden channels; the 5×5 conv
80→80 is its gate convolution ``W * [x_t, h_{t-1}]``. Initialisation is PyTorch's default (no
forget-gate bias of 1), as the table says nothing on it.

The features ``f_t``. Table S1 outputs a 60-channel ``f_t`` (decoded by F_L, ConvT 60→40, as in
the GRU) but, unlike Table S2, lists no layer producing it; its only 60-channel tensor is the
encoder output. Decoding ``e_t`` alone would make the host's output frame-wise (the memory
would never reach it), so we add the one layer the table cannot do without: a 3×3 conv
``hidden → c3`` lifting ``h_t`` to 60 channels, added to the encoder features. As in the GRU's
update, the encoder path stays intact and the recurrent part is added to it; an output gate of
0 makes the decoded frame frame-wise. This conv is **not in Table S1** (10 860 parameters at the
default widths).

The state. An LSTM carries two tensors, ``h`` and ``c``; the protocol carries one. ``step``
returns and receives ``cat(h_t, c_t)`` (``hidden_channels = 2 · hidden`` = 40), zero at
``t = 0``. With RIRN's IRM attached, the IRM therefore refines both the hidden state and the cell
memory before the next step (an IRM sized for 40 channels, not Table S1's 20).

The decoder is IFI-RNN's F_L on 60 channels (ConvT 60→40, ConvT 40→20, conv 5×5 20→3, no
activations), ``+ 0.5`` at the end (or the blurry frame, with ``residual=True``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from deblurzoo.models.blocks import conv
from deblurzoo.models.rirn.ifirnn import IFIRNNFrame


class ConvLSTM(IFIRNNFrame):
    """IFI-RNN C1H1 with a convolutional LSTM cell, as laid out in RIRN Table S1.

    Args:
        channels: encoder widths at full, 1/2 and 1/4 resolution (Table S1: 20, 40, 60); the
            last is also the width of ``f_t``.
        hidden: channels of ``h`` and of the cell memory ``c``, each gate's width (Table S1: 20).
            The carried state ``cat(h, c)`` has twice as many.
        kernel: size of the table's 5×5 layers (encoder, gate conv, decoder output).
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
        super().__init__(channels, kernel, residual, features=c3, state=2 * hidden)
        self.gates = conv(c3 + hidden, 4 * hidden, kernel)  # → [forget, input(tanh), output, reset]
        self.to_features = conv(hidden, c3, 3)  # h_t → 60 channels; not in Table S1

    def step(self, clip: Tensor, t: int, hidden: Tensor) -> tuple[Tensor, Tensor]:
        h_prev, c_prev = hidden.chunk(2, dim=1)
        encoded = self.encode(clip, t)
        gates = self.gates(torch.cat([encoded, h_prev], dim=1))
        # Table S1's order; its "input gate" (tanh) is the candidate, "reset gate" the write gate
        forget, candidate, output, write = gates.chunk(4, dim=1)
        cell = torch.sigmoid(forget) * c_prev + torch.sigmoid(write) * torch.tanh(candidate)
        h = torch.sigmoid(output) * torch.tanh(cell)
        return encoded + self.to_features(h), torch.cat([h, cell], dim=1)
