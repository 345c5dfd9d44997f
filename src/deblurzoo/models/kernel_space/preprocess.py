"""The pre-processing block PrB — Tran et al., "Explore Image Deblurring via Encoded Blur Kernel
Space" (CVPR 2021), supplementary Sec. 2.1, Table 1.

"A pre-processing block that downsamples the input image twice and convert it to a feature map of
size 64 × H/4 × W/4 at the beginning of both F and G": Conv(3, 64, 3, 1, 1), two stride-2
Conv(64, 64, 3, 2, 1), ten ResBlock(64). Table 1 lists no activation; the released code follows
each convolution with LeakyReLU(0.1) (its shared ``feature_extractor``;
``docs/reference_code.md``, blur-kernel space), and so does this block. The released code shares
one PrB between the kernel extractor and the blur operator;
:class:`~deblurzoo.models.kernel_space.KernelSpace` does too.
"""

from __future__ import annotations

from torch import nn

from deblurzoo.models.blocks import ResBlock, conv


class PreprocessBlock(nn.Sequential):
    """Image ``[N, 3, H, W]`` → features ``[N, channels, H/4, W/4]`` (Table 1).

    Args:
        channels: feature width (64 in Table 1).
        num_blocks: ResBlocks after the two stride-2 convolutions (10 in Table 1).
        in_channels: image channels.
    """

    def __init__(self, channels: int = 64, num_blocks: int = 10, in_channels: int = 3) -> None:
        super().__init__(
            conv(in_channels, channels, 3),
            nn.LeakyReLU(0.1, inplace=True),
            conv(channels, channels, 3, stride=2),
            nn.LeakyReLU(0.1, inplace=True),
            conv(channels, channels, 3, stride=2),
            nn.LeakyReLU(0.1, inplace=True),
            *(ResBlock(channels) for _ in range(num_blocks)),
        )
