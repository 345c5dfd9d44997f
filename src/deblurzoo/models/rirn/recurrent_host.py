"""The recurrent-host protocol shared by RIRN's five hosts (RIRN supplementary, Sec. S2, Fig. S1a).

A host restores a clip frame by frame. Per frame ``t`` it implements two steps::

    f_t, h_t   = step(clip, t, h_{t-1})   # the recurrent cell: features to decode, new state
    restored_t = decode(f_t) + offset_t      # offset: 0.5, or the blurry frame (residual)

and :meth:`RecurrentHost.initial_hidden` gives ``h_{-1}``. :class:`RecurrentHost` owns the loop
over time and is where RIRN's add-ons plug in, for every host alike:

* ATB (Table S4) blends the features on their way to the decoder with the previous blended
  features: ``f̃_t = ATB(f_t, f̃_{t-1})`` (``f̃_{-1} = 0``), and ``decode`` sees ``f̃_t``;
* IRM (Table S3) refines the state the host carries: ``h̃_t = IRM(h_t, h̃_{t-1})`` is what the
  next ``step`` receives (``h̃_{-1} = h_{-1}``).

No host holds its own copy of either module; :func:`attach_addons` sets them from outside.
A host that needs neighbouring frames (a window) declares them in ``border_frames`` and is only
asked to restore frames ``t`` whose window lies inside the clip.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deblurzoo.models.video_net import VideoNet


class RecurrentHost(VideoNet):
    """Base class of the recurrent hosts; ``forward`` runs ``step → [ATB, IRM] → decode``.

    Subclasses set ``feature_channels`` (channels of ``f_t``) and ``hidden_channels`` (channels
    of ``h_t``) so add-ons can be sized for them.

    Args:
        residual: add the blurry frame to the decoder output instead of the 0.5 offset the
            reference hosts use (frames enter them as ``x − 0.5``); the decoder's last layer then
            starts at zero (:meth:`start_as_identity`) so the untrained net is the identity.
    """

    recurrent = True
    feature_channels: int
    hidden_channels: int

    def __init__(self, residual: bool = False) -> None:
        super().__init__()
        self.residual = residual
        self.atb: nn.Module | None = None
        self.irm: nn.Module | None = None

    def start_as_identity(self, output_layer: nn.Conv2d) -> None:
        """With ``residual``, zero the decoder's last layer: the host starts as the identity."""
        if self.residual:
            nn.init.zeros_(output_layer.weight)
            nn.init.zeros_(output_layer.bias)

    def initial_hidden(self, clip: Tensor) -> Tensor:
        """The state ``h_{-1}`` for a clip ``[B, T, 3, H, W]``."""
        raise NotImplementedError

    def step(self, clip: Tensor, t: int, hidden: Tensor) -> tuple[Tensor, Tensor]:
        """One recurrent step at frame ``t``: ``(f_t, h_t)`` from the clip and ``h_{t-1}``."""
        raise NotImplementedError

    def decode(self, features: Tensor) -> Tensor:
        """The decoder's output ``[B, 3, H, W]`` for the (blended) features, before the offset."""
        raise NotImplementedError

    def forward(self, blur: Tensor) -> Tensor:
        first, last = self.border_frames
        hidden = self.initial_hidden(blur)
        blended = None
        restored = []
        for t in range(first, blur.shape[1] - last):
            features, new_hidden = self.step(blur, t, hidden)
            if self.atb is not None:
                previous = torch.zeros_like(features) if blended is None else blended
                features = blended = self.atb(features, previous)
            hidden = new_hidden if self.irm is None else self.irm(new_hidden, hidden)
            offset = blur[:, t] if self.residual else 0.5
            restored.append(self.decode(features) + offset)
        return torch.stack(restored, dim=1)
