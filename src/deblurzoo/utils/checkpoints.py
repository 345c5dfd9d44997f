"""Finding the checkpoint a job starts from; the key its run's identity is stored under (read by
:func:`deblurzoo.models.loading.read_checkpoint`)."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

#: Where :class:`deblurzoo.callbacks.RunInfo` keeps a run's identity in its checkpoints.
RUN_KEY = "deblurzoo_run"


def resolve_ckpt_path(
    ckpt_path: str | None,
    search_root: str | Path,
    own_dir: str | Path | None = None,
    required: bool = True,
) -> Path | None:
    """The checkpoint a job starts from.

    - ``None``: the job's own ``<own_dir>/checkpoints/last.ckpt`` if it has one (a SLURM job
      requeued after a time limit or preemption starts again in its own output directory and
      continues there), else ``None``;
    - ``"last"``: the job's own ``last.ckpt``, else the newest ``checkpoints/last.ckpt`` under
      ``search_root`` (the task's runs); if there is none, a ``FileNotFoundError`` when
      ``required``, else a warning and ``None`` (a run killed before its first checkpoint
      simply starts again);
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
        found = sorted(
            Path(search_root).glob("**/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime
        )
        if found:
            return found[-1]
        message = f"ckpt_path=last: no checkpoints/last.ckpt under {search_root}"
        if required:
            raise FileNotFoundError(message)
        log.warning("%s; training starts from scratch", message)
        return None
    path = Path(ckpt_path)
    if not path.is_file():
        raise FileNotFoundError(f"ckpt_path={ckpt_path}: no such checkpoint file")
    return path
