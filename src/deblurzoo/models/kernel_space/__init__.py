"""Tran, Tran, Phung & Hoai, "Explore Image Deblurring via Encoded Blur Kernel Space" (CVPR 2021):
the kernel extractor and blur operator (registered as ``kernel_space``) and the two deep image
priors of deblurring by optimisation. The applications live in :mod:`deblurzoo.kernel_space`."""

from deblurzoo.models.kernel_space.blur_operator import BlurOperator, EncoderDecoder
from deblurzoo.models.kernel_space.image_dip import ImageDIP
from deblurzoo.models.kernel_space.kernel_dip import KernelDIP
from deblurzoo.models.kernel_space.kernel_extractor import KernelCode, KernelExtractor
from deblurzoo.models.kernel_space.kernel_space import (
    SPATIAL_MULTIPLE,
    KernelSpace,
    KernelSpaceOutput,
    kernel_grid,
    pad_to_multiple,
)
from deblurzoo.models.kernel_space.postprocess import PostprocessBlock
from deblurzoo.models.kernel_space.preprocess import PreprocessBlock
from deblurzoo.models.kernel_space.spec import SPEC

__all__ = [
    "SPEC",
    "SPATIAL_MULTIPLE",
    "BlurOperator",
    "EncoderDecoder",
    "ImageDIP",
    "KernelCode",
    "KernelDIP",
    "KernelExtractor",
    "KernelSpace",
    "KernelSpaceOutput",
    "PostprocessBlock",
    "PreprocessBlock",
    "kernel_grid",
    "pad_to_multiple",
]
