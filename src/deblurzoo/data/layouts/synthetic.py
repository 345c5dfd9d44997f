"""The synthetic GOPRO-style dataset: generated on first use, then read as GOPRO_Large.

See :mod:`deblurzoo.data.synthetic` for the recipe. The data is written once to ``root`` (in the
GOPRO layout, with a ``manifest.json`` of its configuration) by :meth:`prepare`, which the
DataModule calls on one process before indexing; everything after that is :class:`GoproLayout`.
"""

from __future__ import annotations

from pathlib import Path

from deblurzoo.data.layouts.gopro import GoproLayout
from deblurzoo.data.synthetic import SyntheticConfig, make_synthetic_gopro

__all__ = ["SyntheticGoproLayout"]


class SyntheticGoproLayout(GoproLayout):
    """:class:`GoproLayout` over a synthetic dataset that :meth:`prepare` generates if absent."""

    def __init__(
        self,
        root: str | Path,
        blur_dir: str = "blur_gamma",
        config: SyntheticConfig | None = None,
        convert: bool = True,
    ) -> None:
        super().__init__(root, blur_dir, convert)
        self.config = config or SyntheticConfig()

    def prepare(self) -> None:
        make_synthetic_gopro(self.root, self.config)
