"""Finding the checkpoint to resume from and what it remembers about its run."""

from __future__ import annotations

from pathlib import Path

import torch

RUN_KEY = "deblurzoo_run"


def resolve_ckpt_path(ckpt_path: str | None, search_root: str | Path) -> Path | None:
    """``None`` stays ``None``; ``"last"`` is the newest ``checkpoints/last.ckpt`` under
    ``search_root`` (the task's runs); anything else must be an existing file."""
    if ckpt_path is None:
        return None
    if ckpt_path == "last":
        found = sorted(
            Path(search_root).glob("**/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime
        )
        if not found:
            raise FileNotFoundError(f"ckpt_path=last: no checkpoints/last.ckpt under {search_root}")
        return found[-1]
    path = Path(ckpt_path)
    if not path.is_file():
        raise FileNotFoundError(f"ckpt_path={ckpt_path}: no such checkpoint file")
    return path


def stored_run_info(ckpt_path: Path) -> dict:
    """What :class:`deblurzoo.callbacks.RunInfo` stored in the checkpoint (empty if nothing)."""
    checkpoint = torch.load(ckpt_path, map_location="cpu", weights_only=False, mmap=True)
    return checkpoint.get(RUN_KEY, {})
