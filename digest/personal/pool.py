"""An issue's candidate pool: which stored papers its subscribers may get, and which of them
are new to each subscriber."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Connection

from digest.compose import IssueInfo
from digest.paper_store import list_papers
from papercore.papers import Paper
from subscribers import store

LOOKBACK_DAYS = {"daily": 7, "weekly": 14}
# The trending digest keeps to papers published (or, without a date, listed) this recently:
# popular is not new (a 2019 paper listed today is not "trending this week").
TRENDING_MAX_AGE_DAYS = 14


def lookback_start(issue: IssueInfo) -> date:
    """The first day a first digest of this issue chooses papers from."""
    return issue.date - timedelta(days=LOOKBACK_DAYS.get(issue.frequency, 7))


def issue_papers(connection: Connection, issue: IssueInfo) -> tuple[list[Paper], set[str]]:
    """Every paper some subscriber of the issue may get, and the ids of the lookback's.

    A subscriber who had a digest gets the papers first seen since it, however long ago that
    was (nothing is lost to a long downtime); a first digest chooses from the lookback."""
    start = lookback_start(issue)
    lookback = list_papers(connection, start)
    earliest = store.earliest_last_digest(connection, issue.frequency)
    pool = lookback
    if earliest is not None and earliest.date() < start:
        pool = list_papers(connection, earliest.date())
    return pool, {p.id for p in lookback}


@dataclass(frozen=True)
class NewPapers:
    """Which of the issue's papers are not new to a subscriber: first seen at or before their
    last digest, or outside the lookback for a first digest."""

    seen: tuple[datetime, ...]  # first_seen of the pool's dated papers, ascending
    ids: tuple[str, ...]  # their ids, in the same order
    undated: frozenset[str]  # never new after a first digest
    outside_lookback: frozenset[str]
    _prefixes: dict[int, frozenset[str]] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, papers: Sequence[Paper], lookback_ids: set[str]) -> NewPapers:
        """The rule for a pool and the ids of its lookback (as ``issue_papers`` returns them)."""
        dated = sorted((p.first_seen, p.id) for p in papers if p.first_seen is not None)
        return cls(
            tuple(at for at, _ in dated),
            tuple(pid for _, pid in dated),
            frozenset(p.id for p in papers if p.first_seen is None),
            frozenset(p.id for p in papers if p.id not in lookback_ids),
        )

    def old_to(self, last_digest_at: datetime | None) -> frozenset[str]:
        """The ids not new to a subscriber whose last digest was at ``last_digest_at`` (None:
        never had one)."""
        if last_digest_at is None:
            return self.outside_lookback
        cut = bisect_right(self.seen, last_digest_at)
        found = self._prefixes.get(cut)
        if found is None:
            found = self._prefixes[cut] = self.undated | frozenset(self.ids[:cut])
        return found


def too_old_to_trend(
    papers: Sequence[Paper], issue_date: date, at_least: int = 10
) -> frozenset[str]:
    """Ids of the pool's papers the trending digest (no topics, no authors, no examples) leaves
    out: those listed more than TRENDING_MAX_AGE_DAYS before the pool's newest listing (or the
    issue's date if earlier: a pool that stopped growing, like the bundled sample pages, still
    has its own recent papers), and, while ``at_least`` papers stay, those published that long
    before they were listed (popular is not new). A listing is when a paper trended; its
    publication date is measured against its own listing, never against another paper's."""
    listed = {p.id: _listed_on(p) for p in papers}
    days = [d for d in listed.values() if d is not None]
    anchor = min(max(days), issue_date) if days else issue_date
    stale = {
        pid
        for pid, on in listed.items()
        if on is not None and (anchor - on).days > TRENDING_MAX_AGE_DAYS
    }
    old = {
        p.id
        for p in papers
        if p.id not in stale
        and p.published is not None
        and (on := listed[p.id]) is not None
        and (on - p.published).days > TRENDING_MAX_AGE_DAYS
    }
    if len(papers) - len(stale) - len(old) < at_least:
        old = set()
    return frozenset(stale | old)


def _listed_on(paper: Paper) -> date | None:
    moment = paper.posted_at or paper.first_seen
    return moment.date() if moment is not None else paper.published
