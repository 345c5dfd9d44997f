"""MemDeblur's models, options and published figures (Ji & Yao, CVPR 2022)."""

from __future__ import annotations

from functools import partial

from deblurzoo.models.memdeblur.convert import CONVERTER
from deblurzoo.models.memdeblur.memdeblur import MemDeblur
from deblurzoo.models.registry import register_family
from deblurzoo.models.spec import ModelSpec, Published, Score

#: Table 1's protocol: GOPRO downsampled to 960×540 with gamma correction, 11 test sequences.
_DOWNSAMPLED = "GOPRO, downsampled 960×540 with gamma correction (Sec. 4.1)"
_PROTOCOL = "PSNR and SSIM per frame, averaged over the test frames (Sec. 4.1)"

SPEC = register_family(
    ModelSpec(
        family="memdeblur",
        title="MemDeblur",
        paper="Ji & Yao, CVPR 2022",
        models={
            # the full model of Tables 1–2: memory, bidirectional, three scales
            "memdeblur": MemDeblur,
            # Slim (Sec. 4.2, Table 1): "does not use the bidirectional and multi-scale design"
            "memdeblur_slim": partial(MemDeblur, bidirectional=False, multi_scale=False),
        },
        published={
            "memdeblur": Published(
                params=6_989_047,
                gmacs=324.77,
                runtime="0.191 s/frame (Table 3)",
                scores=(
                    Score(_DOWNSAMPLED, 31.77, 0.9275, _PROTOCOL, "MemDeblur Table 1"),
                    Score(
                        "GOPRO, original 1280×720", 31.76, 0.9230, _PROTOCOL, "MemDeblur Table 2"
                    ),
                ),
                source="the released code's, counted as its authors count (thop, training "
                "mode, a 100-frame clip): GMACs 324.77 (its README says 325.48, paper Table 1 "
                "344.49); parameters those it executes, 7,027,706 in its state dict less 38,659 "
                "unused, which holds the 4,416 ResNet conv biases we omit",
            ),
            "memdeblur_slim": Published(
                gmacs=197.34,
                runtime="0.079 s/frame (Table 3)",
                scores=(Score(_DOWNSAMPLED, 31.21, 0.9203, _PROTOCOL, "MemDeblur Table 1"),),
                source="GMACs: paper Table 1",
            ),
        },
        # Sec. 4.1: "runtime is calculated per frame on the input video containing 100 frames"
        profile_frames={"memdeblur": 100, "memdeblur_slim": 100},
        weight_file_keys=("pretrained_path",),  # the ImageNet ResNet-50 stage of K, V_r, V_h
        # the authors' memdeblur_gopro_{ds,ori}.pth.tar (deblurzoo-convert)
        converters=(CONVERTER,),
    )
)
