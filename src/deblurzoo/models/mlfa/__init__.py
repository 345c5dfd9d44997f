"""Brehm, Scherer & Lienhart (CVPRW 2020): high-resolution dual-stage multi-level feature
aggregation for single-image (stage 1, atrous network) and video (stage 2, MLFA) deblurring."""

from deblurzoo.models.mlfa.atrous_block import AtrousBlock, PlainBlock
from deblurzoo.models.mlfa.layers import ScaledConv2d, ScaledConvTranspose2d
from deblurzoo.models.mlfa.spec import SPEC
from deblurzoo.models.mlfa.stage1 import AtrousDeblurNet
from deblurzoo.models.mlfa.stage2 import MLFANet
from deblurzoo.models.mlfa.two_stage import DualStageMLFA, load_stage1

__all__ = [
    "SPEC",
    "AtrousBlock",
    "AtrousDeblurNet",
    "DualStageMLFA",
    "MLFANet",
    "PlainBlock",
    "ScaledConv2d",
    "ScaledConvTranspose2d",
    "load_stage1",
]
