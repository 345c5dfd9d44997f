"""Finished runs as a table, one row per run: from the run directories (offline) or from wandb.

Both sources give the same columns: the run directory, the net's registry entry (``model.net``:
``name`` and its options, e.g. RIRN's ``host``, ``irm``, ``atb``), the job's command-line
overrides (``seed``, ``model.optimizer.lr``, ... as strings), the best validation PSNR
(``val_psnr``) and the restored and blurry frame-mean PSNR/SSIM on the test split (``psnr``,
``ssim``, ``blurry_psnr``, ``blurry_ssim``). Used by the ablation notebooks::

    runs = load_runs("logs/rirn_gopro/multiruns/2026-11-22_10-00-00")   # one sweep, offline
    runs = load_group("rirn_gopro")                    # every run of the group under logs/
    runs = load_group("rirn_gopro", source="wandb")    # the same group from the wandb server
    runs.pivot_table(index="host", columns=["irm", "atb"], values="psnr")
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

#: metrics.json entry -> column, for the restored output and the blurry input.
METRICS = {
    "psnr": ("restored", "psnr_frame"),
    "ssim": ("restored", "ssim_frame"),
    "blurry_psnr": ("blurry", "psnr_frame"),
    "blurry_ssim": ("blurry", "ssim_frame"),
}


def load_runs(root: str | Path) -> pd.DataFrame:
    """One row per ``metrics.json`` under ``root`` (see the module docstring for the columns)."""
    rows = []
    for path in sorted(Path(root).glob("**/metrics.json")):
        summary = json.loads(path.read_text())
        overrides_file = path.parent / ".hydra" / "overrides.yaml"
        overrides = yaml.safe_load(overrides_file.read_text()) if overrides_file.is_file() else []
        rows.append(
            _row(
                str(path.parent),
                summary.get("net", {}),
                overrides,
                summary.get("val_psnr_best"),
                {column: summary[stage][key] for column, (stage, key) in METRICS.items()},
            )
        )
    if not rows:
        raise FileNotFoundError(f"{root}: no metrics.json below it")
    return pd.DataFrame(rows)


def load_group(
    group: str,
    source: str = "local",
    log_dir: str | Path = "logs",
    project: str = "deblurzoo",
    entity: str | None = None,
    api: Any = None,
) -> pd.DataFrame:
    """Every finished run of a wandb group (a sweep or experiment: its ``task_name``).

    ``source="local"`` reads ``<log_dir>/<group>/`` (works offline); ``source="wandb"`` asks the
    wandb API for the training runs of ``<entity>/<project>`` in ``group`` (needs a login; ``api``
    replaces ``wandb.Api()``).
    """
    if source == "local":
        return load_runs(Path(log_dir) / group)
    if source != "wandb":
        raise ValueError(f"source={source!r}: 'local' or 'wandb'")
    if api is None:
        import wandb

        api = wandb.Api()
    path = f"{entity}/{project}" if entity else project
    rows = [
        _row(
            run.config.get("output_dir", run.name),
            _nested(run.config, "model.net"),
            run.config.get("overrides", []),
            run.summary.get("val_psnr_best"),
            {
                column: run.summary.get(f"test/{'' if stage == 'restored' else 'blurry_'}{key}")
                for column, (stage, key) in METRICS.items()
            },
        )
        for run in api.runs(path, filters={"group": group, "jobType": "train"})
        if run.state == "finished"
    ]
    if not rows:
        raise LookupError(f"wandb {path}: no finished train run in group {group!r}")
    return pd.DataFrame(rows)


def _row(
    run_dir: str,
    net: Mapping[str, Any],
    overrides: Iterable[str],
    val_psnr: float | None,
    metrics: Mapping[str, float],
) -> dict[str, Any]:
    swept = dict(o.lstrip("+~").split("=", 1) for o in overrides if "=" in o)
    return {"run_dir": run_dir, **net, **swept, "val_psnr": val_psnr, **metrics}


def _nested(config: Mapping[str, Any], dotted: str) -> Mapping[str, Any]:
    for key in dotted.split("."):
        config = config.get(key, {})
    return config
