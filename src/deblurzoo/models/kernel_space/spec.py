"""The blur-kernel-space encoder's model, options and published figures (Tran, Tran, Phung &
Hoai, CVPR 2021)."""

from __future__ import annotations

from deblurzoo.models.kernel_space.convert import CONVERTER
from deblurzoo.models.kernel_space.kernel_space import KernelSpace
from deblurzoo.models.registry import register_family
from deblurzoo.models.spec import ModelSpec, Published

SPEC = register_family(
    ModelSpec(
        family="kernel_space",
        title="blur kernel space",
        paper="Tran, Tran, Phung & Hoai, CVPR 2021",
        # supplementary Tables 1–4; `variant="released"` for the released code's layers
        models={"kernel_space": KernelSpace},
        published={
            "kernel_space": Published(
                params=49.21e6,
                source="parameters: the authors' code without the VAE head, which "
                "`variant=released` matches (49,205,187); the default follows supp. Tables "
                "1–4, whose U-Net has 3×3 kernels where the code's has 4×4 without biases "
                "(40.0 M)",
            ),
        },
        converters=(CONVERTER,),
    )
)
