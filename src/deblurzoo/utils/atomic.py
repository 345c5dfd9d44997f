"""Atomic file writes: a reader never sees a half-written file, a crash never leaves one.

Every file the zoo writes through a temporary file (checkpoints, frames, metrics, weights files)
is created here, with the permissions a plain ``open()`` gives it (``0o666`` less the user's
umask: ``0o644`` under umask ``022``, ``0o664`` under ``002``), not the owner-only ``0o600`` of
:func:`tempfile.mkstemp`, so the rest of a group can read the results as it reads any other
tool's.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def _create_beside(path: Path) -> Path:
    """A new empty file ``.<name>.<random>.tmp`` beside ``path``, created as ``open()`` creates
    files (mode ``0o666``, which the kernel reduces by the umask)."""
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return tmp


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary file beside ``path`` for a writer that takes a file name: once the block ends
    without error it is flushed to disk and moved onto ``path`` in one ``os.replace``; on any
    error it is removed and ``path`` is left as it was. Parent folders are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_beside(path)
    mode = stat.S_IMODE(tmp.stat().st_mode)
    try:
        yield tmp
        os.chmod(tmp, mode)  # a writer that replaces the file (safetensors does) created it 0o600
        with tmp.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_write(path: str | Path, mode: str = "w", **open_kwargs) -> Iterator[IO]:
    """Open a temporary file beside ``path`` and move it onto ``path`` only on success
    (:func:`atomic_path`)."""
    with atomic_path(path) as tmp, tmp.open(mode, **open_kwargs) as handle:
        yield handle
