"""RIRN's twenty models, options and published figures (Park, Nah & Lee, BMVC 2022)."""

from __future__ import annotations

from deblurzoo.models.registry import register_family
from deblurzoo.models.rirn.variants import VARIANTS, rirn, variant_name
from deblurzoo.models.spec import ModelSpec, Published, Score

_PROTOCOL = "PSNR and SSIM on RGB frames (supplementary Table S6)"

#: Supplementary Table S6: (host, irm, atb) -> GOPRO and REDS PSNR / SSIM.
TABLE_S6 = {
    ("ifirnn_c1h1", False, False): (28.30, 0.8668, 30.01, 0.8762),
    ("ifirnn_c1h1", False, True): (28.65, 0.8779, 30.61, 0.8800),
    ("ifirnn_c1h1", True, False): (28.88, 0.8805, 30.75, 0.8845),
    ("ifirnn_c1h1", True, True): (29.14, 0.8894, 31.08, 0.8905),
    ("strcnn", False, False): (28.72, 0.8460, 30.23, 0.8708),
    ("strcnn", False, True): (28.75, 0.8554, 30.43, 0.8752),
    ("strcnn", True, False): (28.82, 0.8602, 30.66, 0.8829),
    ("strcnn", True, True): (28.87, 0.8781, 30.76, 0.8902),
    ("rdbn", False, False): (29.82, 0.9043, 32.29, 0.9222),
    ("rdbn", False, True): (29.87, 0.9048, 32.55, 0.9221),
    ("rdbn", True, False): (29.96, 0.9086, 32.44, 0.9308),
    ("rdbn", True, True): (30.17, 0.9120, 32.71, 0.9322),
    ("conv_gru", False, False): (25.11, 0.7890, 26.69, 0.7956),
    ("conv_gru", False, True): (25.49, 0.7961, 26.77, 0.8043),
    ("conv_gru", True, False): (26.03, 0.8179, 28.52, 0.8338),
    ("conv_gru", True, True): (26.36, 0.8217, 28.60, 0.8428),
    ("conv_lstm", False, False): (25.22, 0.7948, 26.87, 0.8046),
    ("conv_lstm", False, True): (25.33, 0.8011, 27.69, 0.8198),
    ("conv_lstm", True, False): (26.97, 0.8291, 28.75, 0.8335),
    ("conv_lstm", True, True): (27.24, 0.8400, 29.12, 0.8584),
}


def _published(gopro_psnr: float, gopro_ssim: float, reds_psnr: float, reds_ssim: float):
    return Published(
        scores=(
            Score("GOPRO", gopro_psnr, gopro_ssim, _PROTOCOL, "RIRN Table S6"),
            Score("REDS", reds_psnr, reds_ssim, _PROTOCOL, "RIRN Table S6"),
        )
    )


SPEC = register_family(
    ModelSpec(
        family="rirn",
        title="RIRN hosts and add-ons",
        paper="Park, Nah & Lee, BMVC 2022",
        models={"rirn": rirn, **VARIANTS},
        published={variant_name(*key): _published(*row) for key, row in TABLE_S6.items()},
    )
)
