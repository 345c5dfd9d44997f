"""The deep image prior of the blur kernel — Tran et al. (CVPR 2021), supplementary Sec. 2.4: "We
adopt the architecture of 𝒢 for the network of DIP of the blur kernel. The input z_k is a
normal-distributed random tensor with the size equal to the size of the input of 𝒢."

The kernel extractor's layers (:class:`~deblurzoo.models.kernel_space.KernelExtractor`) fed a fixed
noise tensor of ``channels`` maps at H/4 × W/4 (the released code: 64 maps, as its ``KernelDIP``),
so the kernel lands on the grid of an H × W image, H/128 × W/128. The released code uses six
ResBlocks here instead of the extractor's four (``num_blocks=6``).
"""

from __future__ import annotations

from torch import Tensor, nn

from deblurzoo.models.kernel_space.kernel_extractor import KernelExtractor


class KernelDIP(nn.Module):
    """Noise ``[N, channels, H/4, W/4]`` → kernel ``[N, kernel_dim, H/128, W/128]``.

    Args:
        channels: noise maps and width of the 7×7 convolution (64).
        kernel_dim: kernel channels (512; the blur operator's).
        num_blocks: ResBlocks at the end (4 as 𝒢; the released code's 6).
        variant: layers of ``"paper"`` or ``"released"`` (the extractor's docstring).
    """

    def __init__(
        self, channels: int = 64, kernel_dim: int = 512, num_blocks: int = 4, variant: str = "paper"
    ) -> None:
        super().__init__()
        self.net = KernelExtractor(channels, channels, kernel_dim, num_blocks, False, variant)
        self.in_channels = channels

    def forward(self, noise: Tensor) -> Tensor:
        return self.net(noise).mean
