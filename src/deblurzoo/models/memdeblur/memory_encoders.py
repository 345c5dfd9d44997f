"""MemDeblur's memory branch encoders and decoders: key encoder K (supp. Table 4), value encoders
V_r and V_h (supp. Table 5) and decoders G_r and G_h (supp. Table 6) — Ji & Yao, CVPR 2022,
Sec. 3.2 and 3.5.

K and V are "residual blocks followed [by] the first stage of [a] pre-trained ResNet50" (Sec.
3.5): a conv 3×3 + two residual blocks adapt the 1/4-resolution features, then ResNet-50's stem
(conv 7×7 stride 2, BN, ReLU, max-pool stride 2) and ``layer1`` (three bottlenecks → 256 ch) take
them to 1/16 of the image. The ResNet comes from timm, its first convolution widened to the
adapter's width. ImageNet weights are read only from a local file (``pretrained_path``): the
first three input channels of the widened conv get the RGB filters and the others an orthogonal
init, as in the released code (``docs/reference_code.md``, MemDeblur); without a file the stage
is randomly initialised. Nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurzoo.errors import ConfigError, PathNotFoundError
from deblurzoo.models.blocks import ResBlock, conv

_RESNET_STAGE = ("conv1", "bn1", "layer1")


def residual_blocks(in_ch: int, out_ch: int, num_blocks: int) -> nn.Sequential:
    """conv 3×3 ``in_ch → out_ch`` + LeakyReLU(0.1), then ``num_blocks`` residual blocks (the
    building block of F, K, V and G; supp. Tables 2 and 4–6)."""
    return nn.Sequential(
        conv(in_ch, out_ch, 3),
        nn.LeakyReLU(0.1, inplace=True),
        *(ResBlock(out_ch) for _ in range(num_blocks)),
    )


def load_resnet_stage(stage: nn.Module, path: str | Path) -> None:
    """Copy ImageNet weights of a ResNet's ``conv1``, ``bn1`` and ``layer1`` from a local state
    dict (torchvision or timm names) into ``stage``; extra input channels of the widened conv1
    are initialised orthogonally."""
    path = Path(path)
    if not path.is_file():
        raise PathNotFoundError(f"pretrained_path={str(path)!r}: no such file")
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = state.get("state_dict", state)
    wanted = {k: v for k, v in state.items() if k.split(".")[0] in _RESNET_STAGE}
    missing = sorted(set(stage.state_dict()) - set(wanted))
    if missing:
        raise KeyError(f"{path}: not a ResNet state dict, missing {', '.join(missing[:5])} …")
    rgb = wanted.pop("conv1.weight")
    stage.load_state_dict(wanted, strict=False)
    with torch.no_grad():
        weight = stage.conv1.weight
        nn.init.orthogonal_(weight)
        weight[:, : rgb.shape[1]] = rgb


class ResNetStage(nn.Module):
    """ResNet stem + first stage (``layer1``) from timm, conv1 widened to ``in_ch`` inputs:
    ``[B, in_ch, h, w]`` → ``[B, out_channels, ⌈h/4⌉, ⌈w/4⌉]``."""

    def __init__(self, in_ch: int, backbone: str = "resnet50", pretrained_path: str | None = None):
        import timm  # with torchvision: seconds to import, so only for a net that has a stage

        super().__init__()
        # zero_init_last=False: torchvision's (and the released code's) init, every block live
        resnet = timm.create_model(backbone, pretrained=False, in_chans=in_ch, zero_init_last=False)
        self.conv1, self.bn1, self.act1 = resnet.conv1, resnet.bn1, resnet.act1
        self.maxpool, self.layer1 = resnet.maxpool, resnet.layer1
        self.out_channels = resnet.feature_info[1]["num_chs"]
        if pretrained_path is not None:
            load_resnet_stage(self, pretrained_path)

    def forward(self, x: Tensor) -> Tensor:
        return self.layer1(self.maxpool(self.act1(self.bn1(self.conv1(x)))))


class MemoryEncoder(nn.Module):
    """K or V (supp. Tables 4 and 5): conv + 2 residual blocks at ``width``, the ResNet stage,
    and for K a conv 3×3 projection to the key dimension (orthogonal init, zero bias, as in the
    released code). V keeps the stage's 256 channels (Sec. 3.5: values are not projected).

    ``key_norm`` (not in the paper) ends K with a LayerNorm over each location's channels, as the
    query–key normalisation of attention does (Henry et al. 2020; Dehghani et al. 2023). It
    holds the keys' norms, and with them the logits of Eq. 5, which otherwise grow in training
    until the softmax of Eq. 6 is one-hot and passes K almost no gradient."""

    def __init__(
        self,
        in_ch: int,
        width: int,
        key_dim: int | None = None,
        backbone: str = "resnet50",
        pretrained_path: str | None = None,
        key_norm: bool = False,
    ) -> None:
        super().__init__()
        if key_norm and key_dim is None:
            raise ConfigError("key_norm needs key_dim: only keys are normalised")
        self.adapter = residual_blocks(in_ch, width, 2)
        self.stage = ResNetStage(width, backbone, pretrained_path)
        self.out_channels = self.stage.out_channels
        self.project = self.norm = None
        if key_dim is not None:
            self.project = conv(self.out_channels, key_dim, 3)
            nn.init.orthogonal_(self.project.weight)
            nn.init.zeros_(self.project.bias)
            self.out_channels = key_dim
        if key_norm:
            from timm.layers import LayerNorm2d

            self.norm = LayerNorm2d(key_dim)

    def forward(self, x: Tensor) -> Tensor:
        out = self.stage(self.adapter(x))
        if self.project is not None:
            out = self.project(out)
        return out if self.norm is None else self.norm(out)


class MemoryDecoder(nn.Module):
    """G (supp. Table 6): conv + 2 residual blocks to ``out_ch``, then ×4 by pixel shuffle of a
    conv 3×3 (plus the bilinearly ×4-upsampled input, as in the released code); the result is
    cropped to the feature grid ``size`` (the encoders' strided layers round up)."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.body = residual_blocks(in_ch, out_ch, 2)
        self.shuffle = nn.Sequential(conv(out_ch, out_ch * 16, 3), nn.PixelShuffle(4))

    def forward(self, x: Tensor, size: tuple[int, int]) -> Tensor:
        x = self.body(x)
        up = self.shuffle(x) + F.interpolate(
            x, scale_factor=4, mode="bilinear", align_corners=False
        )
        return up[..., : size[0], : size[1]]
