"""The post-processing block PoB — Tran et al. (CVPR 2021), supplementary Sec. 2.1, Table 2.

It "converts the output feature map of size 64 × H/4 × W/4 back to the image domain" at the end of
the blur operator: twenty ResBlock(64), twice [Conv(64, 256, 3, 1, 1), PixelShuffle(2),
LeakyReLU(0.1)], Conv(64, 64, 3, 1, 1), Conv(64, 3, 3, 1, 1). (Table 2 prints the first
convolution's output as 64 × H/4 × W/4; it is 256 channels, which PixelShuffle(2) turns into 64.)
Table 2 has no activation between the last two convolutions; the released code's
``recon_trunk`` puts a LeakyReLU(0.1) there (``act_before_last=True``,
``docs/reference_code.md``, blur-kernel space).
"""

from __future__ import annotations

from torch import nn

from deblurzoo.models.blocks import ResBlock, conv


class PostprocessBlock(nn.Sequential):
    """Features ``[N, channels, H/4, W/4]`` → image ``[N, out_channels, H, W]`` (Table 2).

    Args:
        channels: feature width (64 in Table 2).
        num_blocks: leading ResBlocks (20 in Table 2).
        out_channels: image channels.
        act_before_last: LeakyReLU(0.1) between the last two convolutions (released code).
    """

    def __init__(
        self,
        channels: int = 64,
        num_blocks: int = 20,
        out_channels: int = 3,
        act_before_last: bool = False,
    ) -> None:
        upsample = [
            layer
            for _ in range(2)
            for layer in (
                conv(channels, 4 * channels, 3),
                nn.PixelShuffle(2),
                nn.LeakyReLU(0.1, inplace=True),
            )
        ]
        super().__init__(
            *(ResBlock(channels) for _ in range(num_blocks)),
            *upsample,
            conv(channels, channels, 3),
            *([nn.LeakyReLU(0.1, inplace=True)] if act_before_last else []),
            conv(channels, out_channels, 3),
        )
