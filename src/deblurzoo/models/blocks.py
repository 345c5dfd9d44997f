"""Building blocks shared by several zoo families."""

from __future__ import annotations

import torch
from torch import Tensor, nn

ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU}


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


class RDB(nn.Module):
    """Residual dense block: ``n_layers`` dense layers (conv 3×3 + activation, each output
    concatenated to its input) → conv 1×1 back to ``channels``, plus identity."""

    def __init__(self, channels: int, growth: int, n_layers: int, activation: str) -> None:
        super().__init__()
        self.dense = nn.ModuleList(
            nn.Sequential(conv(channels + i * growth, growth, 3), ACTIVATIONS[activation]())
            for i in range(n_layers)
        )
        self.fuse = conv(channels + n_layers * growth, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        out = x
        for layer in self.dense:
            out = torch.cat([out, layer(out)], dim=1)
        return x + self.fuse(out)
