"""The deep image prior of the sharp image — Tran et al. (CVPR 2021), supplementary Sec. 2.4: "For
DIP for image, we adopt a U-net as suggested in [Ulyanov et al., Deep Image Prior, CVPR 2018]."

Ulyanov et al.'s ``skip`` encoder–decoder as the released code configures it
(``docs/reference_code.md``, blur-kernel space): five scales of 128 channels, each with a
stride-2 3×3 convolution and a 3×3 convolution on the way down, a 16-channel 1×1 skip branch,
bilinear upsampling, a 3×3 and a 1×1 convolution on the way up, batch norm and LeakyReLU(0.2)
after every convolution, reflection padding, a 1×1 output convolution and a sigmoid (images in
[0, 1]). Its input is a fixed noise tensor of ``in_channels`` (8) maps at the image size. The
released code also inserts non-local blocks at the coarser scales; they are left out here
(neither the paper nor Ulyanov et al.'s default ``skip`` network has them).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _conv_bn_act(cin: int, cout: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, padding_mode="reflect"),
        nn.BatchNorm2d(cout),
        nn.LeakyReLU(0.2, inplace=True),
    )


class _SkipLevel(nn.Module):
    """One scale: skip branch and (down → deeper levels → bilinear up), concatenated, merged."""

    def __init__(self, cin: int, channels: int, skip: int, inner: nn.Module | None) -> None:
        super().__init__()
        self.skip = _conv_bn_act(cin, skip, 1)
        self.down = nn.Sequential(
            _conv_bn_act(cin, channels, 3, stride=2), _conv_bn_act(channels, channels, 3)
        )
        self.inner = inner if inner is not None else nn.Identity()
        self.merge = nn.Sequential(
            nn.BatchNorm2d(skip + channels),
            _conv_bn_act(skip + channels, channels, 3),
            _conv_bn_act(channels, channels, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        deep = self.inner(self.down(x))
        deep = F.interpolate(deep, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return self.merge(torch.cat([self.skip(x), deep], dim=1))


class ImageDIP(nn.Module):
    """Noise ``[N, in_channels, H, W]`` → image ``[N, out_channels, H, W]`` in (0, 1).

    Args:
        in_channels: noise maps (8, code).
        out_channels: image channels.
        channels: width of every scale (128, code).
        skip_channels: width of the skip branches (16, code).
        levels: scales (5, code); H and W should be multiples of 2**levels.
    """

    def __init__(
        self,
        in_channels: int = 8,
        out_channels: int = 3,
        channels: int = 128,
        skip_channels: int = 16,
        levels: int = 5,
    ) -> None:
        super().__init__()
        level = None
        for i in reversed(range(levels)):
            level = _SkipLevel(in_channels if i == 0 else channels, channels, skip_channels, level)
        self.body = level
        self.head = nn.Conv2d(channels, out_channels, 1)
        self.in_channels = in_channels

    def forward(self, noise: Tensor) -> Tensor:
        return torch.sigmoid(self.head(self.body(noise)))
