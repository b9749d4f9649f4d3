"""Progress bars for long work, on stderr so that ``--json`` output stays clean."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from digest.cli.app import err

if TYPE_CHECKING:  # the ranking stack is imported by the commands that rank
    from digest.ranking.semantic import Progress as OnProgress


@contextmanager
def embedding_progress() -> Iterator[OnProgress]:
    """A bar for computing paper embeddings; shown only once there is something to embed."""
    with Progress(
        TextColumn("embedding papers"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = None

        def update(done: int, total: int) -> None:
            nonlocal task
            if task is None:
                task = progress.add_task("", total=total)
            progress.update(task, completed=done)

        yield update
