"""Building blocks shared by several zoo families."""

from __future__ import annotations

from torch import Tensor, nn


def conv(in_ch: int, out_ch: int, kernel: int, stride: int = 1) -> nn.Conv2d:
    """A 'same'-padded convolution with bias, as used throughout the reference implementations."""
    return nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=kernel // 2)


def deconv(in_ch: int, out_ch: int, kernel: int = 3) -> nn.ConvTranspose2d:
    """A stride-2 transposed convolution that exactly doubles H and W."""
    return nn.ConvTranspose2d(
        in_ch, out_ch, kernel, stride=2, padding=kernel // 2, output_padding=1
    )


class ResBlock(nn.Module):
    """conv–ReLU–conv plus identity (no normalisation, no activation after the sum)."""

    def __init__(self, channels: int, kernel: int = 3) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv(channels, channels, kernel),
            nn.ReLU(inplace=True),
            conv(channels, channels, kernel),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)
