"""Applications of the blur-kernel-space encoder (Tran et al., CVPR 2021): blur transfer
(``deblurzoo-blur-transfer``), blur-transfer augmentation of video training, and deblurring by
optimisation of images and videos (warm-started from frame to frame; what that saves:
``python -m deblurzoo.kernel_space.warm_start``). The networks are in
:mod:`deblurzoo.models.kernel_space`."""

from deblurzoo.kernel_space.augment import BlurTransferAugment
from deblurzoo.kernel_space.checkpoint import frame_psnr, load_kernel_space
from deblurzoo.kernel_space.deblur import (
    DeblurConfig,
    DeblurResult,
    DeblurState,
    deblur_frame,
    deblur_video,
    mean_kernel,
)
from deblurzoo.kernel_space.objective import DeblurObjective, hyper_laplacian, kernel_norm
from deblurzoo.kernel_space.transfer import (
    BlurTransfer,
    apply_kernel,
    encode_source,
    transfer_blur,
)

__all__ = [
    "BlurTransfer",
    "BlurTransferAugment",
    "DeblurConfig",
    "DeblurObjective",
    "DeblurResult",
    "DeblurState",
    "apply_kernel",
    "deblur_frame",
    "deblur_video",
    "encode_source",
    "frame_psnr",
    "hyper_laplacian",
    "kernel_norm",
    "load_kernel_space",
    "mean_kernel",
    "transfer_blur",
]
