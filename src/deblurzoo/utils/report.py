"""Test results as files (``metrics.json``, ``metrics_per_sequence.csv``) and as a console table."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from torch import Tensor

from deblurzoo.utils.atomic import atomic_write

SUMMARY_KEYS = ("psnr_frame", "psnr_seq", "ssim_frame", "ssim_seq")


def summarize(
    results: dict[str, dict[str, Tensor]], sequence_names: list[str], **context: Any
) -> dict[str, Any]:
    """A JSON-ready summary of the task's ``test_results`` (restored and blurry input)."""
    restored = results["restored"]
    summary: dict[str, Any] = {
        **context,
        "num_sequences": len(restored["seq_seq_id"]),
        "num_frames": int(restored["seq_frames"].sum()),
    }
    for name in ("blurry", "restored"):
        summary[name] = {key: float(results[name][key]) for key in SUMMARY_KEYS}
    summary["psnr_gain_frame"] = summary["restored"]["psnr_frame"] - summary["blurry"]["psnr_frame"]
    summary["per_sequence"] = [
        {
            "sequence": sequence_names[int(seq_id)],
            "frames": int(restored["seq_frames"][i]),
            "psnr": float(restored["seq_psnr"][i]),
            "ssim": float(restored["seq_ssim"][i]),
            "blurry_psnr": float(results["blurry"]["seq_psnr"][i]),
            "blurry_ssim": float(results["blurry"]["seq_ssim"][i]),
        }
        for i, seq_id in enumerate(restored["seq_seq_id"])
    ]
    return summary


def write_metrics(output_dir: str | Path, summary: dict[str, Any]) -> None:
    """``metrics.json`` (everything) and ``metrics_per_sequence.csv``, each written atomically."""
    output_dir = Path(output_dir)
    with atomic_write(output_dir / "metrics.json") as handle:
        json.dump(summary, handle, indent=2)
    rows = summary["per_sequence"]
    with atomic_write(output_dir / "metrics_per_sequence.csv", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def log_results(loggers: list, summary: dict[str, Any]) -> None:
    """The per-sequence rows of ``summary`` as the table ``test/per_sequence`` of every logger
    that takes tables (wandb), and the best validation PSNR of a training run as
    ``val_psnr_best`` (what sweeps are ranked by) of every logger."""
    rows = summary["per_sequence"]
    for logger in loggers:
        if summary.get("val_psnr_best") is not None:
            logger.log_metrics({"val_psnr_best": summary["val_psnr_best"]})
        if hasattr(logger, "log_table"):
            logger.log_table(
                "test/per_sequence", columns=list(rows[0]), data=[list(r.values()) for r in rows]
            )


def print_summary(summary: dict[str, Any], console: Console | None = None) -> None:
    """The blurry-vs-restored table, ending with the line ``PSNR gain: +X.XX dB``; with a
    ``published`` score (``deblurzoo-eval published=...``), its row in the frame-mean columns
    (the papers average over frames) and the line ``against <source>: ±X.XX dB, ±X.XXXX``."""
    console = console or Console()
    table = Table(
        title=f"{summary.get('dataset', '')} {summary.get('split', 'test')}: "
        f"{summary['num_sequences']} sequences, {summary['num_frames']} frames"
    )
    table.add_column("")
    for key in SUMMARY_KEYS:
        metric, mean = key.split("_")
        table.add_column(f"{metric.upper()} {mean}", justify="right")
    for name, label in (("blurry", "blurry input"), ("restored", "restored")):
        table.add_row(label, *(_format(key, summary[name][key]) for key in SUMMARY_KEYS))
    published = summary.get("published")
    if published:
        table.add_row(
            f"published ({published['source']})",
            *(_format(key, published[key.split("_")[0]]) if key.endswith("frame") else "—"
              for key in SUMMARY_KEYS),
        )  # fmt: skip
    console.print(table)
    console.print("frame: mean over frames; seq: mean of per-sequence means", style="dim")
    console.print(f"PSNR gain: {summary['psnr_gain_frame']:+.2f} dB", highlight=False)
    if published:
        restored = summary["restored"]
        console.print(
            f"against {published['source']} ({published['dataset']}; {published['protocol']}): "
            f"{restored['psnr_frame'] - published['psnr']:+.2f} dB, "
            f"{restored['ssim_frame'] - published['ssim']:+.4f} SSIM",
            highlight=False,
        )


def _format(key: str, value: float) -> str:
    """PSNR in dB with 2 decimals, SSIM with 4, as papers print them."""
    return f"{value:.2f}" if key.startswith("psnr") else f"{value:.4f}"
