"""Stage 1: single-image deblurring at high resolution with atrous residual blocks — Brehm,
Scherer & Lienhart, "High-Resolution Dual-Stage Multi-Level Feature Aggregation for Single Image
and Video Deblurring", CVPRW 2020, Sec. 3.1, Fig. 4; Table 2's baseline without atrous
convolution (Sec. 4, "Ablation Study").

Fig. 4 / Sec. 3.1: a convolution with a large 9×9 kernel, a 3×3 stride-2 convolution, 20 atrous
residual blocks (:class:`~deblurzoo.models.mlfa.atrous_block.AtrousBlock`), one deconvolution,
two convolutions; the output is a residual image added to the blurred input. Sec. 3.3: Leaky
ReLU after every convolution but the last, learned per-channel scales instead of normalisation,
reflection padding, images normalised to [−1, 1] (done inside the net; the zoo's frames are RGB in
[0, 1]). A clip is restored frame by frame (T folded into the batch).

Where the paper is silent the released code (``docs/reference_code.md``, MLFA) decides:
widths 64 (first conv), 128 (stride-2 conv, deconvolution), 256 (blocks); the first block's
1×1 projection shortcut; the deconvolution sees the blocks' output concatenated with the
stride-2 features (Fig. 4's skip) and has 128 filters; the second-last convolution has 64.

Released-code options: ``first_kernel=7`` (the code's first conv is 7×7, not 9×9) and
``fused_resample=True`` (its deconvolution applies the learned 3×3 kernel as a fused 4×4 one; its
stride-2 convolution is a plain 3×3 one, as in the paper). :data:`CODE_OPTIONS` sets both.

``atrous=False`` is Table 2's "stage 1 (w/o atrous conv)": "a simple encoder-decoder network
with three down-sampling layers and skip connections, followed by 12 standard residual blocks
with 512 filters each and a constant atrous rate of 1" (Sec. 4). Its layout here extends Fig. 4
the one way the text allows: the same first conv, three 3×3 stride-2 convolutions doubling the
width (64 → 128 → 256 → 512), 12 :class:`~deblurzoo.models.mlfa.atrous_block.PlainBlock` of
512, then three deconvolutions, each fed the previous output concatenated with the encoder
features of its resolution and producing that encoder level's width (512, 256, 128 — for one
down-sampling this is exactly Fig. 4's decoder), and the same two convolutions. It has more
parameters than the atrous net (65.2 M vs 47.3 M), as the paper says.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from deblurzoo.models.mlfa.atrous_block import STAGE1_INIT, AtrousBlock, PlainBlock
from deblurzoo.models.mlfa.layers import NEGATIVE_SLOPE, ScaledConv2d, ScaledConvTranspose2d
from deblurzoo.models.video_net import VideoNet

#: The released code's choices where it differs from the paper (docs/reference_code.md).
CODE_OPTIONS = {"first_kernel": 7, "fused_resample": True}


class AtrousDeblurNet(VideoNet):
    """Stage 1 (Fig. 4), or Table 2's baseline without atrous convolution.

    Args:
        width: channels of the first convolution (64); the i-th stride-2 convolution has
            ``width · 2^i`` (128 for the atrous net's single one).
        num_blocks: residual blocks (20 atrous; 12 for ``atrous=False``).
        atrous_width: filters of each parallel atrous convolution (128, Sec. 3.1).
        block_width: channels of the blocks (256 atrous, Sec. 3.1; 512 for ``atrous=False``).
        dilations: atrous rates of the parallel convolutions (1, 2, 3, 4).
        first_kernel: kernel of the first convolution (9, Sec. 3.1; the code's 7).
        atrous: ``False`` builds Table 2's baseline with standard residual blocks.
        num_downsamplings: stride-2 convolutions (1 atrous, 3 for ``atrous=False``).
        fused_resample: the code's fused 4×4 deconvolution kernels.
        negative_slope: Leaky ReLU slope (0.2, the code's; the paper gives none).
    """

    recurrent = False
    border_frames = (0, 0)

    def __init__(
        self,
        width: int = 64,
        num_blocks: int | None = None,
        atrous_width: int = 128,
        block_width: int | None = None,
        dilations: Sequence[int] = (1, 2, 3, 4),
        first_kernel: int = 9,
        atrous: bool = True,
        num_downsamplings: int | None = None,
        fused_resample: bool = False,
        negative_slope: float = NEGATIVE_SLOPE,
    ) -> None:
        super().__init__()
        num_blocks = (20 if atrous else 12) if num_blocks is None else num_blocks
        block_width = (256 if atrous else 512) if block_width is None else block_width
        downs = (1 if atrous else 3) if num_downsamplings is None else num_downsamplings
        self.atrous = atrous
        self.spatial_multiple = 2**downs
        # reflection padding (Sec. 3.3) needs pads smaller than the side they pad: the first
        # conv's at full resolution, the blocks' widest (3×3 at the top atrous rate) at 1/2^downs
        block_pad = (max(dilations) if atrous else 1) if num_blocks else 0
        side = max(first_kernel // 2 + 1, (block_pad + 1) * 2**downs)
        self.min_size = (side, side)
        slope = negative_slope
        widths = [width * 2**i for i in range(downs + 1)]

        self.head = ScaledConv2d(3, width, first_kernel, negative_slope=slope, init=STAGE1_INIT)
        self.down = nn.ModuleList(
            ScaledConv2d(cin, cout, 3, stride=2, negative_slope=slope, init=STAGE1_INIT)
            for cin, cout in zip(widths[:-1], widths[1:], strict=True)
        )
        blocks, ch = [], widths[-1]
        for _ in range(num_blocks):
            if atrous:
                blocks.append(AtrousBlock(ch, block_width, atrous_width, dilations, slope))
            else:
                blocks.append(PlainBlock(ch, block_width, slope))
            ch = block_width
        self.blocks = nn.Sequential(*blocks)
        self.up = nn.ModuleList()
        for skip in reversed(widths[1:]):
            # The code's transposed convolutions are custom-weight layers: He-normal.
            self.up.append(
                ScaledConvTranspose2d(ch + skip, skip, 3, negative_slope=slope,
                                      fused=fused_resample)
            )  # fmt: skip
            ch = skip
        self.tail = nn.Sequential(
            ScaledConv2d(ch, width, 3, negative_slope=slope, init=STAGE1_INIT),
            ScaledConv2d(width, 3, 3, act=False, init=STAGE1_INIT),
        )

    def forward(self, blur: Tensor) -> Tensor:
        x = blur.flatten(0, 1) * 2 - 1  # [-1, 1], Sec. 3.3
        net = self.head(x)
        skips = []
        for conv in self.down:
            net = conv(net)
            skips.append(net)
        net = self.blocks(net)
        for deconv, skip in zip(self.up, reversed(skips), strict=True):
            net = deconv(torch.cat([net, skip], dim=1))
        out = x + self.tail(net)  # global residual (Sec. 3.1)
        return ((out + 1) / 2).unflatten(0, blur.shape[:2])
