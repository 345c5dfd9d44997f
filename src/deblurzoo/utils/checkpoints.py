"""Finding the checkpoint a job starts from, and the identity that makes a checkpoint a run's own:
``ckpt_path=last`` resumes the newest run of the same net on the same data, never another's."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from deblurzoo.models.loading import CheckpointError, CheckpointNotFoundError, read_checkpoint

log = logging.getLogger(__name__)


def run_identity(cfg: DictConfig) -> dict[str, Any]:
    """What ``ckpt_path=last`` matches checkpoints on, by config key: ``model.net``, the
    registered model and its options (as the task stores them under ``hyper_parameters``), and
    ``data``, the dataset's layout class and resolved root (as
    :class:`deblurzoo.callbacks.RunInfo` stores them)."""
    return {
        "model.net": OmegaConf.to_container(cfg.model.net, resolve=True),
        "data": {"layout": cfg.data.layout._target_, "root": str(Path(cfg.data.root).resolve())},
    }


def identity_differences(path: str | Path, identity: Mapping[str, Any]) -> list[str]:
    """How the run that wrote the checkpoint ``path`` differs from ``identity``
    (:func:`run_identity`), one entry per key, e.g. ``"model.net.name: 'kernel_space' in the
    checkpoint, 'ifirnn_c1h1' in this run"``; empty when it is the same. Another model is told
    by its name alone; what a checkpoint does not store (the data, in checkpoints older than
    this check) is not compared."""
    checkpoint = read_checkpoint(path)
    stored = {"model.net": checkpoint.config, "data": checkpoint.run_info.get("data")}
    differences = []
    for part, wanted in identity.items():
        found = stored.get(part)
        if found is None:
            continue
        keys = sorted(found.keys() | wanted.keys())
        if part == "model.net" and found.get("name") != wanted.get("name"):
            keys = ["name"]
        differences += [
            f"{part}.{key}: {found.get(key)!r} in the checkpoint, {wanted.get(key)!r} in this run"
            for key in keys
            if found.get(key) != wanted.get(key)
        ]
    return differences


def resolve_ckpt_path(
    ckpt_path: str | None,
    search_root: str | Path,
    own_dir: str | Path | None = None,
    required: bool = True,
    identity: Mapping[str, Any] | None = None,
) -> Path | None:
    """The checkpoint a job starts from.

    - ``None``: the job's own ``<own_dir>/checkpoints/last.ckpt`` if it has one (a SLURM job
      requeued after a time limit or preemption starts again in its own output directory and
      continues there), else ``None``;
    - ``"last"``: the job's own ``last.ckpt``, else the newest ``checkpoints/last.ckpt`` under
      ``search_root`` (the task's runs) of a run of ``identity`` (:func:`run_identity`; any run
      when ``None``). If no run left one, a :class:`CheckpointNotFoundError` when
      ``required``, else a warning and ``None`` (a run killed before its first checkpoint simply
      starts again); if runs left some but none is of ``identity``, a :class:`CheckpointError`
      naming the newest and how it differs;
    - anything else must be an existing file.
    """
    own = Path(own_dir) / "checkpoints" / "last.ckpt" if own_dir is not None else None
    if ckpt_path is None or ckpt_path == "last":
        if own is not None and own.is_file():
            log.info("continuing this job's own checkpoint %s", own)
            return own
    if ckpt_path is None:
        return None
    if ckpt_path == "last":
        return _newest_of(Path(search_root), identity, required)
    path = Path(ckpt_path)
    if not path.is_file():
        raise CheckpointNotFoundError(f"ckpt_path={ckpt_path}: no such checkpoint file")
    return path


def _newest_of(
    search_root: Path, identity: Mapping[str, Any] | None, required: bool
) -> Path | None:
    """The newest ``checkpoints/last.ckpt`` under ``search_root`` of a run of ``identity``
    (see :func:`resolve_ckpt_path`)."""
    found = sorted(
        search_root.glob("**/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    if not found:
        message = f"ckpt_path=last: no checkpoints/last.ckpt under {search_root}"
        if required:
            raise CheckpointNotFoundError(message)
        log.warning("%s; training starts from scratch", message)
        return None
    if identity is None:
        return found[0]
    newest = []
    for path in found:
        differences = identity_differences(path, identity)
        if not differences:
            if path != found[0]:
                log.info("ckpt_path=last: %s, newer, is another run's; resuming %s", found[0], path)
            return path
        newest = newest or differences
    raise CheckpointError(
        f"ckpt_path=last: no run under {search_root} trained this net on this data ({len(found)} "
        f"checked), so none is resumed; the newest, {found[0]}, differs: {'; '.join(newest)}. "
        "Give the overrides of the run to resume (e.g. its experiment= or model=), pass its "
        "checkpoint as ckpt_path=<file>, or leave ckpt_path unset to start afresh"
    )
