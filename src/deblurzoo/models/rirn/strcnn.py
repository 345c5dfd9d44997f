"""STRCNN without its dynamic temporal blending (DTB), as a RIRN host.

Kim, Lee, Schölkopf & Hirsch, "Online Video Deblurring via Dynamic Temporal Blending Network",
ICCV 2017. RIRN's supplementary Sec. S2.1: "In STRCNN, we removed the DTB module to compare the
effect with our ATB" — so ``dtb=False`` (the default) is the host RIRN uses; ``dtb=True`` puts
DTB back for comparison.

No official code exists. Widths and layer order follow ESTRNN's port
(``zzh-tech/ESTRNN model/STRCNN.py``; ``docs/reference_code.md``, RIRN hosts):

* a window of ``2m + 1 = 5`` blurry frames stacked on channels (15 ch) →
  conv 5×5 15→64 + ReLU → conv 3×3 64→32, stride 2, + ReLU; concatenated with the fed-back
  ``f_{n−1}`` (32 ch at 1/2 resolution) → 64 ch → 4 residual blocks with BatchNorm
  (conv–BN–ReLU–conv–BN + identity, ReLU after the sum) → ``h_n``;
* [DTB, only with ``dtb=True``];
* decoder: 4 more such blocks → the 64-channel features; ``f_n`` = conv 3×3 64→32 + ReLU is the
  state fed back to the next step; the frame = transposed conv 4×4 64→64 (stride 2, padding 1)
  + ReLU → conv 3×3 64→3, without a global residual;
* zero initial state; frames enter as ``x − 0.5`` and leave as ``out + 0.5``.

DTB, when enabled, follows the STRCNN paper's formulation as SimDeblur's port has it:
``d = conv5×5(cat(h_n, h̃_{n−1}))`` (128→64, 'same' padding), ``w = clamp(|tanh d| + β, 0, 1)``
with a learnable scalar ``β`` (init 0), ``h̃_n = w ⊙ h_n + (1 − w) ⊙ h̃_{n−1}``, ``h̃_{−1} = 0``.
ESTRNN's port differs there: its 5×5 conv is unpadded and the weights are zero-padded back (so
the 2-pixel border never updates), it uses ``2|σ(d) − ½| = |tanh(d/2)|``, and its β is a plain
tensor that is never trained, so stays 0. ``dtb="released"`` builds that form
(:class:`ReleasedDTB`, the same ``dtb.filter`` key, no β); its unpadded conv needs features of
at least 5×5, frames of at least 10×10. SimDeblur's port differs from the layout built here by
an extra conv 3×3 64→64 after the encoder's and after the decoder's residual blocks, by half the
widths in its DVD config, and by always building DTB.

Mapping to :class:`RecurrentHost`: ``step`` runs encoder, [DTB,] decoder blocks and returns
``(features, state)`` with ``features`` the 64-channel decoder-block output that ``decode``
turns into the frame, and ``state = f_n`` (32 ch). DTB needs its own state ``h̃_n`` across steps,
so with ``dtb=True`` the state is packed as ``cat(f_n, h̃_n)`` (32 + 64 = 96 channels, at 1/2
resolution) — an IRM attached to such a host refines both parts.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurzoo.errors import ConfigError
from deblurzoo.models.blocks import conv
from deblurzoo.models.rirn.recurrent_host import RecurrentHost


class BNResBlock(nn.Module):
    """STRCNN's residual block: conv–BN–ReLU–conv–BN plus identity, ReLU after the sum."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv(channels, channels, 3),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
            conv(channels, channels, 3),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(x + self.body(x))


class DTB(nn.Module):
    """Dynamic temporal blending: ``h̃_n = w ⊙ h_n + (1 − w) ⊙ h̃_{n−1}``,
    ``w = clamp(|tanh(conv5×5(cat(h_n, h̃_{n−1})))| + β, 0, 1)`` with a learnable scalar ``β``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.filter = conv(2 * channels, channels, 5)
        self.beta = nn.Parameter(torch.zeros(1))

    def forward(self, current: Tensor, previous: Tensor) -> Tensor:
        d = self.filter(torch.cat([current, previous], dim=1))
        w = (torch.tanh(d).abs() + self.beta).clamp(0.0, 1.0)
        return w * current + (1 - w) * previous


class ReleasedDTB(nn.Module):
    """DTB as ESTRNN's ``model/STRCNN.py`` has it: ``w = 2|σ(d) − ½|`` from an unpadded 5×5
    conv ``d``, zero on the 2-pixel border (there ``h̃_n = h̃_{n−1}``); its β, never trained,
    is the constant 0 and is omitted."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.filter = nn.Conv2d(2 * channels, channels, 5)
        self.border = 2

    def forward(self, current: Tensor, previous: Tensor) -> Tensor:
        d = self.filter(torch.cat([current, previous], dim=1))
        w = (2 * (torch.sigmoid(d) - 0.5).abs()).clamp(0.0, 1.0)
        w = F.pad(w, (self.border,) * 4)
        return w * current + (1 - w) * previous


class STRCNN(RecurrentHost):
    """STRCNN (ICCV 2017) without DTB by default, the RIRN host of Sec. S2.1.

    Args:
        channels: width of the residual blocks at 1/2 resolution and of the first 5×5 conv (64).
        feedback: channels of the fed-back state ``f_n`` (32); the encoder's strided conv makes
            ``channels − feedback`` so that the concatenation has ``channels``.
        num_blocks: residual blocks in the encoder and, again, in the decoder (4 each).
        window: frames stacked per step (``2m + 1 = 5``); odd.
        dtb: blend ``h_n`` with the previous blended ``h̃_{n−1}`` (the original STRCNN+DTB):
            ``True`` the paper's form, ``"released"`` ESTRNN's port (:class:`ReleasedDTB`).
        residual: add the blurry frame instead of 0.5 to the output (not in the reference;
            see :class:`~deblurzoo.models.rirn.recurrent_host.RecurrentHost`).
    """

    spatial_multiple = 2
    batch_norm_stride = 2  # BNResBlock's BatchNorm, after the encoder's stride-2 conv

    def __init__(
        self,
        channels: int = 64,
        feedback: int = 32,
        num_blocks: int = 4,
        window: int = 5,
        dtb: bool | str = False,
        residual: bool = False,
    ) -> None:
        super().__init__(residual)
        if window < 1 or window % 2 == 0:
            raise ConfigError(f"window must be a positive odd number of frames, got {window}")
        if dtb not in (False, True, "released"):
            raise ConfigError(f"dtb must be false, true or 'released', got {dtb!r}")
        if not 0 < feedback < channels:
            raise ConfigError(f"feedback ({feedback}) must lie strictly between 0 and channels")
        m = window // 2
        self.border_frames = (m, m)
        self.min_frames = window  # a step stacks the 2m + 1 frames around the one it restores
        self.window, self.feedback = window, feedback
        self.feature_channels = channels
        self.hidden_channels = feedback + (channels if dtb else 0)
        self.encoder_in = nn.Sequential(
            conv(3 * window, channels, 5),
            nn.ReLU(inplace=True),
            conv(channels, channels - feedback, 3, stride=2),
            nn.ReLU(inplace=True),
        )
        self.encoder_blocks = nn.Sequential(*(BNResBlock(channels) for _ in range(num_blocks)))
        self.dtb = (ReleasedDTB if dtb == "released" else DTB)(channels) if dtb else None
        if dtb == "released":
            self.min_size = (10, 10)  # the unpadded 5×5 conv at 1/2 resolution
        self.decoder_blocks = nn.Sequential(*(BNResBlock(channels) for _ in range(num_blocks)))
        self.feedback_out = nn.Sequential(conv(channels, feedback, 3), nn.ReLU(inplace=True))
        self.reconstruct = nn.Sequential(
            nn.ConvTranspose2d(channels, channels, 4, stride=2, padding=1),
            nn.ReLU(inplace=True),
            conv(channels, 3, 3),
        )
        self.start_as_identity(self.reconstruct[-1])

    def initial_hidden(self, clip: Tensor) -> Tensor:
        b, _, _, h, w = clip.shape
        return clip.new_zeros(b, self.hidden_channels, h // 2, w // 2)

    def step(self, clip: Tensor, t: int, hidden: Tensor) -> tuple[Tensor, Tensor]:
        m = self.window // 2
        frames = clip[:, t - m : t + m + 1].flatten(1, 2) - 0.5  # [B, 3·window, H, W]
        f_last = hidden[:, : self.feedback]
        h = self.encoder_blocks(torch.cat([self.encoder_in(frames), f_last], dim=1))
        if self.dtb is not None:
            h = self.dtb(h, hidden[:, self.feedback :])
        features = self.decoder_blocks(h)
        f_n = self.feedback_out(features)
        return features, (f_n if self.dtb is None else torch.cat([f_n, h], dim=1))

    def decode(self, features: Tensor) -> Tensor:
        return self.reconstruct(features)
