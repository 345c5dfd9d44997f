"""The progress bar of the kernel-space applications' long loops."""

from __future__ import annotations

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def progress_bar(enabled: bool = True) -> Progress:
    """A rich progress bar (description, bar, n/total, elapsed, remaining, a free ``status``
    field); ``enabled=False`` draws nothing. Use it as a context manager."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
        disable=not enabled,
    )
