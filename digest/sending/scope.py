"""Which subscribers of an issue a send (or a ledger query) covers: one value instead of the
loose ``after_id, up_to_id, subscriber_ids`` triple."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class SendScope:
    """The subscribers of issue ``issue_id`` with ids in (after_id, up_to_id] (no upper bound when
    ``up_to_id`` is None) and, when ``subscriber_ids`` is given, among those ids (kept sorted and
    without duplicates)."""

    issue_id: int
    after_id: int = 0
    up_to_id: int | None = None
    subscriber_ids: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.subscriber_ids is not None:
            object.__setattr__(self, "subscriber_ids", tuple(sorted(set(self.subscriber_ids))))

    @classmethod
    def of(cls, issue_id: int, only: int | None = None) -> SendScope:
        """The whole issue, or only subscriber ``only`` (the id range holding just that id)."""
        return cls(issue_id) if only is None else cls(issue_id, only - 1, only)

    @property
    def whole(self) -> bool:
        """True when the id range is every id: the run decides the issue's status (an explicit
        subscriber list over the whole range counts as whole; the ledger decides)."""
        return self.after_id == 0 and self.up_to_id is None

    def narrowed(self, subscriber_ids: Iterable[int]) -> SendScope:
        """The same range, only for these subscribers."""
        return replace(self, subscriber_ids=tuple(subscriber_ids))

    def between(self, after_id: int, up_to_id: int | None) -> SendScope:
        """The same issue and subscriber list over the range (after_id, up_to_id]."""
        return replace(self, after_id=after_id, up_to_id=up_to_id)

    def split_ids(self, parts: int) -> list[SendScope]:
        """An explicit subscriber list cut into at most ``parts`` contiguous, about equal lists
        (the scope itself when it has no list)."""
        if self.subscriber_ids is None:
            return [self]
        ids = self.subscriber_ids
        size = max(1, -(-len(ids) // max(1, parts)))
        return [self.narrowed(ids[i : i + size]) for i in range(0, len(ids), size)]

    def split_at(self, bounds: Sequence[int]) -> list[SendScope]:
        """The range cut at these ids (ascending, inside the range) into contiguous scopes."""
        edges: list[int | None] = [self.after_id, *bounds, self.up_to_id]
        return [self.between(int(edges[i] or 0), edges[i + 1]) for i in range(len(edges) - 1)]
