"""The atrous two-stage models, options and published figures (Brehm, Scherer & Lienhart,
CVPRW 2020)."""

from __future__ import annotations

from functools import partial

from deblurzoo.models.mlfa.stage1 import AtrousDeblurNet
from deblurzoo.models.mlfa.stage2 import MLFANet
from deblurzoo.models.mlfa.two_stage import DualStageMLFA
from deblurzoo.models.registry import register_family
from deblurzoo.models.spec import ModelSpec, Published, Score

_REDS_VAL = "REDS validation set (Sec. 4, Table 2)"
_GOPRO = "GOPRO test set (Table 4)"
_PLAIN = "PSNR and SSIM on RGB frames"
_ENSEMBLE = "PSNR and SSIM on RGB frames, geometric self-ensemble of 4 (Sec. 4)"


def _scores(*rows: tuple[str, float, float, str, str]) -> tuple[Score, ...]:
    return tuple(Score(*row) for row in rows)


SPEC = register_family(
    ModelSpec(
        family="mlfa",
        title="atrous net + MLFA",
        paper="Brehm, Scherer & Lienhart, CVPRW 2020",
        models={
            # stage 1 (Sec. 3.1, Fig. 4): the single-image atrous network
            "mlfa_stage1": AtrousDeblurNet,
            # Table 2's "stage 1 (w/o atrous conv)": three down-samplings, 12 blocks of 512
            "mlfa_stage1_plain": partial(AtrousDeblurNet, atrous=False),
            # stage 2 (Sec. 3.2, Fig. 5): MLFA over frames t−1, t, t+1
            "mlfa_stage2": MLFANet,
            # Table 2's stage 2 trained on single images: the t−1 and t+1 branches removed
            "mlfa_stage2_single": partial(MLFANet, single_image=True),
            # Table 2's "stage 1+stage 2": frozen stage 1, then MLFA
            "mlfa": DualStageMLFA,
        },
        published={
            "mlfa_stage1": Published(
                params=47.26e6,
                scores=_scores(
                    (_REDS_VAL, 33.93, 0.9352, _PLAIN, "MLFA Table 2"),
                    (_GOPRO, 32.61, 0.935, _ENSEMBLE, "MLFA Table 4"),
                ),
                source="parameters: the released code's layer shapes, whose first conv is 7×7 "
                "(paper: 9×9, +6,144; `first_kernel=7` gives 47,261,830)",
            ),
            "mlfa_stage1_plain": Published(
                scores=_scores((_REDS_VAL, 32.34, 0.9019, _PLAIN, "MLFA Table 2")),
            ),
            "mlfa_stage2": Published(
                params=46.17e6,
                scores=_scores((_REDS_VAL, 33.17, 0.9135, _PLAIN, "MLFA Table 2")),
                source="parameters: the released code's layer shapes; with its stem, fused "
                "kernels and UnitNorm (`stem=true fused_resample=true unit_norm=true`): "
                "46,174,966",
            ),
            "mlfa_stage2_single": Published(
                scores=_scores((_REDS_VAL, 32.06, 0.8971, _PLAIN, "MLFA Table 2")),
            ),
            "mlfa": Published(
                scores=_scores(
                    (_REDS_VAL, 34.67, 0.9422, _ENSEMBLE, "MLFA Table 2"),
                    (_GOPRO, 33.23, 0.944, _ENSEMBLE, "MLFA Table 4"),
                ),
            ),
        },
        weight_file_keys=("stage1_checkpoint",),  # the trained stage 1 of the video model
    )
)
