"""How a delivery's papers were shown, as the ledger keeps it in ``deliveries.why``: the plan's
mode and topics, and each paper's reasons and heading, parallel to ``paper_ids`` (which hold
the papers in the order shown). The web view, the feed and the JSON view lay an issue out again
from this, so they show what the mail showed even after the subscriber changes their topics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from digest.compose.plan import DigestPlan, PlannedCard
from papercore.papers import Paper


@dataclass(frozen=True, slots=True)
class Layout:
    """A digest plan without its papers: what the ledger records of it."""

    mode: str  # "personal" | "trending" | "" (rows recorded before layouts were kept)
    topics: tuple[str, ...]
    why: tuple[tuple[str, ...], ...]
    headings: tuple[str | None, ...]

    @classmethod
    def of(cls, plan: DigestPlan) -> Layout:
        """What to record of ``plan`` (its papers are the row's paper_ids, in this order)."""
        return cls(
            plan.mode,
            plan.topics,
            tuple(card.why for card in plan.cards),
            tuple(card.heading for card in plan.cards),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "topics": list(self.topics),
            "why": [list(lines) for lines in self.why],
            "headings": list(self.headings),
        }

    @classmethod
    def from_json(cls, value: object) -> Layout:
        """The stored value read back: a dict, or (rows from before) a list of why lines."""
        if isinstance(value, Mapping):
            why = value.get("why") or ()
            headings = value.get("headings") or ()
            return cls(
                str(value.get("mode") or ""),
                tuple(str(t) for t in value.get("topics") or ()),
                tuple(tuple(str(line) for line in lines or ()) for lines in why),
                tuple(None if h is None else str(h) for h in headings),
            )
        lines = value if isinstance(value, list) else []
        return cls("", (), tuple(tuple(str(x) for x in w or ()) for w in lines), ())

    def reasons(self, index: int) -> tuple[str, ...]:
        """The why lines shown with the paper at ``index`` (none for old rows without them)."""
        return self.why[index] if index < len(self.why) else ()

    def heading(self, index: int) -> str | None:
        """The heading that opened a group with the paper at ``index``, if any."""
        return self.headings[index] if index < len(self.headings) else None

    def plan(self, paper_ids: Sequence[str], papers: Mapping[str, Paper]) -> DigestPlan:
        """The plan again, over the papers still stored (a forgotten one is left out; a
        heading it opened moves to the next paper of its group)."""
        cards: list[PlannedCard] = []
        pending: str | None = None
        for index, paper_id in enumerate(paper_ids):
            pending = self.heading(index) or pending
            paper = papers.get(paper_id)
            if paper is None:
                continue
            cards.append(PlannedCard(paper, self.reasons(index), pending if cards else None))
            pending = None
        return DigestPlan(self.mode or "personal", self.topics, tuple(cards))
