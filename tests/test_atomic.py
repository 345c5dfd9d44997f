"""Atomic writes (``src/deblurzoo/utils/atomic.py``): every file the zoo writes through a
temporary file gets the permissions a plain ``open()`` gives under the user's umask, and a write
that fails leaves the previous file and no temporary one."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from deblurzoo.data.frames import write_frame
from deblurzoo.models.loading import save_weights
from deblurzoo.utils.atomic import atomic_write
from deblurzoo.utils.checkpoint_io import AtomicCheckpointIO


def _text(path: Path) -> None:
    with atomic_write(path) as handle:
        handle.write("{}")


#: every way the zoo writes a file atomically, as path -> None
WRITERS: dict[str, Callable[[Path], None]] = {
    "atomic_write": _text,
    "checkpoint": lambda path: AtomicCheckpointIO().save_checkpoint({"w": torch.zeros(2)}, path),
    "weights file": lambda path: save_weights(path, {"w": torch.zeros(2)}, {"name": "any"}),
    "frame": lambda path: write_frame(path, torch.rand(3, 4, 4)),
}


@pytest.fixture(params=[0o022, 0o002, 0o077], ids=lambda umask: f"umask{umask:03o}")
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The process umask set to the parameter for the test, restored after."""
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("writer", WRITERS)
def test_written_files_follow_the_umask(writer: str, umask: int, tmp_path: Path) -> None:
    with (tmp_path / "plain.txt").open("w"):
        pass
    written = tmp_path / "out" / "file.png"
    WRITERS[writer](written)
    assert _mode(written) == _mode(tmp_path / "plain.txt") == 0o666 & ~umask
    assert [p.name for p in written.parent.iterdir()] == ["file.png"]  # no temporary file left


def test_a_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "metrics.json"
    target.write_text("previous")
    with pytest.raises(RuntimeError, match="midway"), atomic_write(target) as handle:
        handle.write("half")
        raise RuntimeError("midway")
    assert target.read_text() == "previous"
    assert list(tmp_path.iterdir()) == [target]
