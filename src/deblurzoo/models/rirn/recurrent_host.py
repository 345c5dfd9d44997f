"""The recurrent-host protocol shared by RIRN's five hosts (RIRN supplementary, Sec. S2, Fig. S1a).

A host restores a clip frame by frame with three steps per frame ``t``::

    f_t        = encode(x_t)                 # frame features (the "f" that ATB blends)
    y_t, h_t   = cell(f_t, h_{t-1})          # recurrent update (h is the state that IRM refines)
    restored_t = decode(y_t, x_t)

:class:`RecurrentHost` owns the loop over time; hosts implement only the three steps and the
initial hidden state. The IRM and ATB add-ons wrap these steps from outside, so no host holds its
own copy of either module.
"""

from __future__ import annotations

import torch
from torch import Tensor

from deblurzoo.models.video_net import VideoNet


class RecurrentHost(VideoNet):
    """Base class of the recurrent hosts; ``forward`` runs ``encode → cell → decode`` over time."""

    recurrent = True

    def encode(self, frame: Tensor) -> Tensor:
        """Features ``f_t`` of one blurry frame ``[B, 3, H, W]``."""
        raise NotImplementedError

    def initial_hidden(self, features: Tensor) -> Tensor:
        """The hidden state ``h_0`` for a clip whose first features are ``features``."""
        raise NotImplementedError

    def cell(self, features: Tensor, hidden: Tensor) -> tuple[Tensor, Tensor]:
        """One recurrent step: ``(f_t, h_{t-1}) -> (y_t, h_t)``."""
        raise NotImplementedError

    def decode(self, cell_out: Tensor, frame: Tensor) -> Tensor:
        """The restored frame from the cell output ``y_t`` (and the blurry frame, for residuals)."""
        raise NotImplementedError

    def forward(self, blur: Tensor) -> Tensor:
        hidden = None
        restored = []
        for t in range(blur.shape[1]):
            frame = blur[:, t]
            features = self.encode(frame)
            if hidden is None:
                hidden = self.initial_hidden(features)
            cell_out, hidden = self.cell(features, hidden)
            restored.append(self.decode(cell_out, frame))
        return torch.stack(restored, dim=1)
