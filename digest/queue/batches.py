"""Batches: one issue's subscribers in an id range (after_id, up_to_id], named for the queue.

Ranges handed over by the scheduler are cut at fixed blocks of ``batch_size`` ids, so a batch
holds at most that many subscribers. Its *queueing lock* names the exact range (one batch is never
waiting twice); its *run lock* names the block (two batches that touch the same ids, handed over by
different passes, never run at the same time, so no row is ever claimed by two workers).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from digest.sending.scope import SendScope

TASK = "digest.send_batch"
QUEUE = "digest"


@dataclass(frozen=True, slots=True)
class Batch:
    """The subscribers of ``issue_id`` with after_id < id <= up_to_id, inside one block of
    ``size`` ids."""

    issue_id: int
    after_id: int
    up_to_id: int
    size: int

    @property
    def scope(self) -> SendScope:
        """The subscribers this batch sends to."""
        return SendScope(self.issue_id, self.after_id, self.up_to_id)

    @property
    def key(self) -> str:
        """The queueing lock: this exact batch."""
        return f"digest:issue:{self.issue_id}:ids:{self.after_id}-{self.up_to_id}"

    @property
    def lock(self) -> str:
        """The run lock: the block the batch lies in."""
        start, end = block_of(self.after_id + 1, self.size)
        return f"digest:issue:{self.issue_id}:block:{start}-{end}"

    def task_kwargs(self) -> dict[str, Any]:
        """The job's arguments (as stored in procrastinate's job rows)."""
        return {
            "issue_id": self.issue_id,
            "after_id": self.after_id,
            "up_to_id": self.up_to_id,
            "size": self.size,
        }


def block_of(subscriber_id: int, size: int) -> tuple[int, int]:
    """The fixed id range (after_id, up_to_id] of ``size`` ids that holds ``subscriber_id``."""
    after = (subscriber_id - 1) // size * size
    return after, after + size


def cut(issue_id: int, ranges: Iterable[tuple[int, int]], size: int) -> list[Batch]:
    """The ranges (after_id, up_to_id] cut at block boundaries, in id order."""
    found: list[Batch] = []
    for after, up_to in sorted(ranges):
        start = after
        while start < up_to:
            _, block_end = block_of(start + 1, size)
            end = min(up_to, block_end)
            found.append(Batch(issue_id, start, end, size))
            start = end
    return found
