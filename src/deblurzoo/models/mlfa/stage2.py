"""Stage 2: Multi-Level Feature Aggregation (MLFA) video deblurring — Brehm, Scherer & Lienhart,
CVPRW 2020, Sec. 3.2, Fig. 5; Table 2's "stage 2 single" (Sec. 4, "Ablation Study").

Sec. 3.2 / Fig. 5: features of frames t−1, t and t+1 are extracted separately with shared
weights by "4 consecutive convolutions with stride s = 2 and increasing feature depth". At each
resolution, coarsest first, "we scale pixel-wise feature vectors to unit length"; the features
of t−1 and t+1 are "re-weighted by their similarity measured by dot-product with time-step t"
(cosine similarity in [−1, 1], not squashed); the three maps are concatenated and fused by "a
single convolution layer followed by three residual blocks (two consecutive convolutions with
kernel size 3)". A deconvolution up-samples by two and the result is added element-wise to the
next finer fusion output. The net restores the centre frame; like stage 1 it adds its output to
that frame (as the released code does: ``docs/reference_code.md``, MLFA), in [−1, 1] (Sec.
3.3). Every frame of a clip is restored: neighbour indices are clamped at the clip borders (the
code's clamping), so frame 0 uses itself as its t−1.

Where the paper is silent the released code (same document) decides:
encoder widths 64, 128, 256, 512 (``width · 2^i``); fusion convolution 3×3 to twice the level's
width (which is what the coarser level's deconvolution delivers, so the addition matches);
pre-activation residual blocks (Leaky ReLU → conv 3×3 + Leaky ReLU → conv 3×3, plus the input),
the first of a level halving the width with a 1×1 projection shortcut (not activated);
deconvolutions of the level's width; a 3×3 output convolution; He-normal init. Bias, scale,
Leaky ReLU (0.2) and reflection padding as in stage 1 (:mod:`~deblurzoo.models.mlfa.layers`).
The centre frame's own features are normalised but not re-weighted (the paper re-weights t±1
only; the code multiplies them by their self-similarity, 1 up to rounding).

Released-code options, :data:`CODE_OPTIONS` sets all three:

* ``stem=True``: a full-resolution 7×7 convolution of 16 filters applied in 4 rotations (64
  channels) before the four stride-2 convolutions, whose centre-frame output is added to the
  up-sampled features at full resolution before the output convolution. The paper's encoder is
  the four stride-2 convolutions alone, the first taking the RGB frame, and aggregates at the
  four reduced resolutions only.
* ``fused_resample=True``: stride-2 convolutions and deconvolutions apply the learned 3×3
  kernel as a fused 4×4 one (× 0.25 for the strided convolutions).
* ``unit_norm=True``: the code's UnitNorm weight normalisation on every kernel (the paper uses
  only the learned per-channel scale, Sec. 3.3).

``single_image=True`` is Table 2's stage 2 trained on single images: "we keep the architecture
identical and remove the feature extraction for time-step t − 1 as well as time-step t + 1", so
each fusion convolution sees the centre frame's normalised features only.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurzoo.errors import ConfigError
from deblurzoo.models.mlfa.layers import NEGATIVE_SLOPE, ScaledConv2d, ScaledConvTranspose2d
from deblurzoo.models.video_net import VideoNet

#: The released code's choices where it differs from the paper (docs/reference_code.md).
CODE_OPTIONS = {"stem": True, "fused_resample": True, "unit_norm": True}
#: ``tf.math.l2_normalize``'s epsilon on the squared norm (1e-12) as a bound on the norm.
L2_EPS = 1e-6


class PreActResBlock(nn.Module):
    """The code's residual block: Leaky ReLU → conv 3×3 (+ Leaky ReLU) → conv 3×3, plus the input
    or, where the widths differ, its 1×1 projection (no activation)."""

    def __init__(self, in_ch: int, out_ch: int, conv: functools.partial) -> None:
        super().__init__()
        self.slope = conv.keywords["negative_slope"]
        self.conv1 = conv(in_ch, out_ch, 3)
        self.conv2 = conv(out_ch, out_ch, 3, act=False)
        self.shortcut = nn.Identity() if in_ch == out_ch else conv(in_ch, out_ch, 1, act=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.shortcut(x) + self.conv2(self.conv1(F.leaky_relu(x, self.slope)))


def reweight(features: Tensor, reference: Tensor) -> Tensor:
    """``features`` scaled per pixel by their dot product with ``reference`` (both unit vectors
    along dim 2 of ``[B, T, C, h, w]``: the cosine similarity, Eq. 1)."""
    return features * (features * reference).sum(dim=2, keepdim=True)


class MLFANet(VideoNet):
    """Stage 2, MLFA (Fig. 5).

    Args:
        width: channels of the first stride-2 convolution (64); level i (1/2^i) has
            ``width · 2^(i−1)``.
        num_levels: stride-2 convolutions, i.e. aggregated resolutions (4 → 1/2 … 1/16).
        num_blocks: residual blocks after each fusion convolution (3).
        single_image: Table 2's single-image variant (no t±1 branches).
        stem: the code's rotation-tied full-resolution 7×7 stem (``width / 4`` filters × 4).
        stem_kernel: its kernel (7).
        fused_resample: the code's fused 4×4 resampling kernels.
        unit_norm: the code's UnitNorm on every kernel.
        negative_slope: Leaky ReLU slope (0.2).
    """

    recurrent = False
    border_frames = (0, 0)

    def __init__(
        self,
        width: int = 64,
        num_levels: int = 4,
        num_blocks: int = 3,
        single_image: bool = False,
        stem: bool = False,
        stem_kernel: int = 7,
        fused_resample: bool = False,
        unit_norm: bool = False,
        negative_slope: float = NEGATIVE_SLOPE,
    ) -> None:
        super().__init__()
        if num_blocks < 1 or num_levels < 1:
            raise ConfigError("need at least one level and one residual block per level")
        if stem and width % 4:
            raise ConfigError(f"the rotation-tied stem needs width divisible by 4, got {width}")
        self.single_image = single_image
        self.spatial_multiple = 2**num_levels
        # reflection padding (Sec. 3.3) needs pads smaller than the side they pad: the fusion
        # and block convs' (1) at the coarsest level, 1/2^num_levels, and the stem's at full size
        side = max(2 * self.spatial_multiple, stem_kernel // 2 + 1 if stem else 1)
        self.min_size = (side, side)
        conv = functools.partial(ScaledConv2d, negative_slope=negative_slope, unit_norm=unit_norm)
        self.stem = conv(3, width, stem_kernel, rotations=4) if stem else None
        widths = [width * 2**i for i in range(num_levels)]
        self.encoder = nn.ModuleList(
            conv(cin, cout, 3, stride=2, fused=fused_resample, fused_gain=0.25)
            for cin, cout in zip([width if stem else 3, *widths[:-1]], widths, strict=True)
        )
        frames = 1 if single_image else 3
        self.fusion, self.blocks, self.up = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for w in reversed(widths):
            self.fusion.append(conv(frames * w, 2 * w, 3))
            self.blocks.append(
                nn.Sequential(
                    PreActResBlock(2 * w, w, conv),
                    *(PreActResBlock(w, w, conv) for _ in range(num_blocks - 1)),
                )
            )
            self.up.append(
                ScaledConvTranspose2d(
                    w, w, 3, negative_slope=negative_slope, fused=fused_resample,
                    unit_norm=unit_norm,
                )
            )  # fmt: skip
        self.output = conv(width, 3, 3, act=False)

    def forward(self, clip: Tensor) -> Tensor:
        b, t = clip.shape[:2]
        x = clip.flatten(0, 1) * 2 - 1  # [-1, 1], Sec. 3.3
        net = stem = self.stem(x) if self.stem is not None else x
        features = []  # per frame, shared weights: finest (1/2) first
        for conv in self.encoder:
            net = conv(net)
            features.append(net)

        index = torch.arange(t, device=clip.device)
        previous, following = (index - 1).clamp(min=0), (index + 1).clamp(max=t - 1)
        net = None
        levels = zip(reversed(features), self.fusion, self.blocks, self.up, strict=True)
        for level_features, fusion, blocks, up in levels:  # coarsest first
            unit = F.normalize(level_features, dim=1, eps=L2_EPS).unflatten(0, (b, t))
            if not self.single_image:
                before = reweight(unit[:, previous], unit)
                after = reweight(unit[:, following], unit)
                unit = torch.cat([before, unit, after], dim=2)
            fused = fusion(unit.flatten(0, 1))
            net = fused if net is None else net + fused
            net = up(blocks(net))
        if self.stem is not None:
            net = net + stem
        out = x + self.output(net)  # residual to the centre frame
        return ((out + 1) / 2).unflatten(0, (b, t))
