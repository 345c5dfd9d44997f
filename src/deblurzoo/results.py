"""Finished runs as a table: every ``metrics.json`` under a folder, one row per run.

Works offline from the run directories alone (wandb is not needed); used by the ablation notebooks::

    runs = load_runs("logs/rirn_gopro/multiruns/2026-11-22_10-00-00")
    runs.pivot_table(index="host", columns=["irm", "atb"], values="psnr")
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


def load_runs(root: str | Path) -> pd.DataFrame:
    """One row per ``metrics.json`` under ``root``: the run directory, the net's registry entry
    (``name`` and its switches, e.g. ``host``, ``irm``, ``atb``), and the restored and blurry
    frame-mean PSNR/SSIM (``psnr``, ``ssim``, ``blurry_psnr``, ``blurry_ssim``)."""
    rows = []
    for path in sorted(Path(root).glob("**/metrics.json")):
        summary = json.loads(path.read_text())
        rows.append(
            {
                "run_dir": str(path.parent),
                **summary.get("net", {}),
                "psnr": summary["restored"]["psnr_frame"],
                "ssim": summary["restored"]["ssim_frame"],
                "blurry_psnr": summary["blurry"]["psnr_frame"],
                "blurry_ssim": summary["blurry"]["ssim_frame"],
            }
        )
    if not rows:
        raise FileNotFoundError(f"{root}: no metrics.json below it")
    return pd.DataFrame(rows)
