"""The blur operator — Tran et al. (CVPR 2021), supplementary Sec. 2.3, Table 4 (+ Tables 1, 2).

The supplementary calls it ℱ: "ℱ takes two inputs, the sharp image x and the blur kernel from
𝒢(x, y) ... Between [the pre- and post-processing] blocks, we use an encoder-decoder with skip
connection. The encoder downsamples the pre-processed feature map five times and flattens to an
embedding vector. This vector is then concatenated with k and fed into a decoder that
reconstructs the output feature map." The released code calls this network G (its
``KernelAdapter`` U-Net plus ``recon_trunk``, ``docs/reference_code.md``, blur-kernel space);
the zoo names it by role: (sharp, kernel) → blurry.

Encoder (Table 4): five stride-2 Conv 3×3, 64 → 64 → 128 → 256 → 512 → 512, each followed by
LeakyReLU(0.1), down to H/128 — the kernel's grid, where k is concatenated on the channel axis.
Decoder: five stride-2 transposed Conv 3×3 back to H/4 (1024 → 512, 1024 → 256, 512 → 128,
256 → 64, 128 → 64), each followed by LeakyReLU(0.1); every decoder output but the last is
concatenated with the encoder feature of its resolution (U-Net skips), which is what makes
Table 4's input widths. The post-processing block (Table 2) returns to H × W.

Variants (``variant``):
    ``"paper"``: Table 4 as printed (3×3 kernels with bias, LeakyReLU(0.1) after each layer).
    ``"released"``: the released code's pix2pix U-Net with the same skeleton and widths: 4×4
        kernels without bias, LeakyReLU(0.2) before every down convolution but the first, ReLU
        before every transposed convolution, the last with a bias and followed by Tanh. The
        4×4 kernels are most of the difference in size: 21.04 M parameters against Table 4's
        11.84 M.

``residual`` (default on): the output is x + PoB(·), the released code's global residual; the
tables do not show the connection either way (the paper's Fig. 2 is not in the text available).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deblurzoo.models.blocks import deconv
from deblurzoo.models.kernel_space.kernel_extractor import NUM_DOWNSAMPLINGS, check_variant
from deblurzoo.models.kernel_space.postprocess import PostprocessBlock


class EncoderDecoder(nn.Module):
    """Table 4 between PrB and PoB: features ``[N, C, H/4, W/4]`` and kernel ``[N, D, H/128,
    W/128]`` → features ``[N, C, H/4, W/4]``.

    Args:
        channels: width C at H/4 (64); the encoder doubles it up to 8 × C.
        kernel_dim: channels D of the kernel concatenated at the bottleneck (512).
        variant: ``"paper"`` or ``"released"`` (module docstring).
    """

    def __init__(self, channels: int = 64, kernel_dim: int = 512, variant: str = "paper") -> None:
        super().__init__()
        released = check_variant(variant) == "released"
        widths = [channels] + [min(channels * 2**i, 8 * channels) for i in range(5)]
        # widths: C at H/4, then C, 2C, 4C, 8C, 8C at H/8 … H/128
        self.down = nn.ModuleList()
        self.up = nn.ModuleList()
        for i, (cin, cout) in enumerate(zip(widths, widths[1:], strict=False)):
            if released:
                layer = nn.Conv2d(cin, cout, 4, stride=2, padding=1, bias=False)
                self.down.append(layer if i == 0 else nn.Sequential(nn.LeakyReLU(0.2), layer))
            else:
                self.down.append(
                    nn.Sequential(nn.Conv2d(cin, cout, 3, 2, 1), nn.LeakyReLU(0.1, inplace=True))
                )
        # up[j] restores widths[-2 - j] from its level's output concatenated with a skip (or k)
        for j in range(NUM_DOWNSAMPLINGS):
            level = NUM_DOWNSAMPLINGS - j  # 5 … 1
            cin = widths[level] + (kernel_dim if j == 0 else widths[level])
            cout = widths[level - 1]
            last = j == NUM_DOWNSAMPLINGS - 1
            if released:
                layer = nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1, bias=last)
                tail = [nn.Tanh()] if last else []
                self.up.append(nn.Sequential(nn.ReLU(), layer, *tail))
            else:
                self.up.append(nn.Sequential(deconv(cin, cout, 3), nn.LeakyReLU(0.1, inplace=True)))

    def forward(self, features: Tensor, kernel: Tensor) -> Tensor:
        skips = []
        out = features
        for down in self.down:
            out = down(out)
            skips.append(out)
        out = torch.cat([skips.pop(), kernel], dim=1)
        for up in self.up:
            out = up(out)
            if skips:
                out = torch.cat([out, skips.pop()], dim=1)
        return out


class BlurOperator(nn.Module):
    """Pre-processed sharp features and a kernel → the blurry image (Table 4 then Table 2).

    The pre-processing block is not part of this module: the model shares it with the kernel
    extractor (:class:`~deblurzoo.models.kernel_space.KernelSpace`), so :meth:`forward` takes
    PrB(x) as well as x itself for the global residual.

    Args:
        channels: feature width (64).
        kernel_dim: kernel channels (512).
        num_blocks: ResBlocks of the post-processing block (20).
        variant: ``"paper"`` or ``"released"`` (module docstring).
        residual: add the sharp input to the output.
    """

    def __init__(
        self,
        channels: int = 64,
        kernel_dim: int = 512,
        num_blocks: int = 20,
        variant: str = "paper",
        residual: bool = True,
    ) -> None:
        super().__init__()
        self.unet = EncoderDecoder(channels, kernel_dim, variant)
        self.post = PostprocessBlock(channels, num_blocks, act_before_last=variant == "released")
        self.residual = residual

    def forward(self, sharp: Tensor, sharp_features: Tensor, kernel: Tensor) -> Tensor:
        out = self.post(self.unet(sharp_features, kernel))
        return sharp + out if self.residual else out
