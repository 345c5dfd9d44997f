"""ESTRNN's models, options and published figures (Zhong, Gao, Zheng & Zheng, ECCV 2020)."""

from __future__ import annotations

from functools import partial

from deblurzoo.models.estrnn.convert import CONVERTER
from deblurzoo.models.estrnn.estrnn import ESTRNN
from deblurzoo.models.registry import register_family
from deblurzoo.models.spec import ModelSpec, Published, Score

#: MemDeblur Table 1's protocol: GOPRO downsampled to 960×540 with gamma correction.
_DOWNSAMPLED = "GOPRO, downsampled 960×540 with gamma correction (MemDeblur Sec. 4.1)"
_PROTOCOL = "PSNR and SSIM per frame, averaged over the test frames (MemDeblur Sec. 4.1)"

SPEC = register_family(
    ModelSpec(
        family="estrnn",
        title="ESTRNN",
        paper="Zhong, Gao, Zheng & Zheng, ECCV 2020",
        models={
            # B15C80: the authors' code's defaults and their released (BSD) checkpoints
            "estrnn": ESTRNN,
            # the B·C configurations other papers compare with (MemDeblur Table 1)
            "estrnn_b9c80": partial(ESTRNN, n_blocks=9),
            "estrnn_b9c90": partial(ESTRNN, n_features=18, n_blocks=9),
        },
        published={
            "estrnn": Published(
                params=2_467_931,
                gmacs=203.7,
                scores=(
                    Score(
                        "GOPRO, original 1280×720",
                        30.91,
                        0.9091,
                        _PROTOCOL,
                        "MemDeblur Table 2",
                    ),
                ),
                source="MemDeblur Table 2's 'ESTRNN' is B15C80: its 204.19 GMACs are this "
                "count. Params and GMACs measured from the authors' model/ESTRNN.py (B15C80; "
                "docs/reference_code.md): their cost_profile counts each frame once, cell + GSA "
                "+ reconstructor; here a 100-frame clip also carries the cells of its 4 border "
                "frames",
            ),
            "estrnn_b9c80": Published(
                params=1_763_387,
                gmacs=163.61,
                scores=(Score(_DOWNSAMPLED, 30.79, 0.9016, _PROTOCOL, "MemDeblur Table 1"),),
                source="GMACs: MemDeblur Table 1; params measured from the authors' code",
            ),
            "estrnn_b9c90": Published(
                params=2_230_941,
                gmacs=206.70,
                scores=(Score(_DOWNSAMPLED, 31.07, 0.9023, _PROTOCOL, "MemDeblur Table 1"),),
                source="GMACs: MemDeblur Table 1; params measured from the authors' code",
            ),
        },
        # the authors' cost_profile charges each frame once (cell, GSA, reconstructor): a long
        # clip spreads the cells of the 2 + 2 border frames, which GSA needs, over many frames
        profile_frames=dict.fromkeys(("estrnn", "estrnn_b9c80", "estrnn_b9c90"), 100),
        converters=(CONVERTER,),
    )
)
