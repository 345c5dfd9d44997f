"""MemDeblur's deblurring-branch modules D and U — Ji & Yao, CVPR 2022, Sec. 3.1 and 3.5,
supplementary Tables 1 and 3. The feature extraction module F (supp. Table 2) is
:func:`~deblurzoo.models.memdeblur.memory_encoders.residual_blocks`.
"""

from __future__ import annotations

from torch import nn

from deblurzoo.models.blocks import RDB, conv, deconv

#: Channels of D's output x_i (supp. Table 1), the width every encoder input is built on.
FEATURE_CHANNELS = 48


def downsampling() -> nn.Sequential:
    """D (supp. Table 1): conv 5×5 3→3, RDB (3 dense 3×3 convs of 16), conv 5×5 stride 2 → 12,
    RDB (3 dense convs of 24), conv 5×5 stride 2 → 48 channels at 1/4 resolution. Dense layers
    use ReLU and nothing else is activated, as in the released code."""
    return nn.Sequential(
        conv(3, 3, 5),
        RDB(3, 16, 3, "relu"),
        conv(3, 12, 5, stride=2),
        RDB(12, 24, 3, "relu"),
        conv(12, FEATURE_CHANNELS, 5, stride=2),
    )


def upsampling(in_ch: int) -> nn.Sequential:
    """U (supp. Table 3): two stride-2 transposed convs 3×3 (→32, →16) with LeakyReLU(0.1), then
    conv 5×5 → 3. The caller adds the blurry input (global residual)."""
    return nn.Sequential(
        deconv(in_ch, 32),
        nn.LeakyReLU(0.1, inplace=True),
        deconv(32, 16),
        nn.LeakyReLU(0.1, inplace=True),
        conv(16, 3, 5),
    )
