"""An issue's candidate pool: which stored papers its subscribers may get, and which of them
are new to each subscriber.

``NewPapers`` is the one owner of "which papers are new to this subscriber": the scheduler's
skip decision, the builder, previews, ``digest send --dry-run`` and ``digest status`` all ask it
(an architecture test keeps it so). A first digest chooses from the lookback; a later one from
the papers first seen since the last digest."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

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
    return lookback_start_of(issue.date, issue.frequency)


def lookback_start_of(day: date, frequency: str) -> date:
    """The first day a first digest of the issue of (``day``, ``frequency``) chooses from."""
    return day - timedelta(days=LOOKBACK_DAYS.get(frequency, 7))


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
    lookback_from: date | None = None  # the first day of a first digest's lookback
    _prefixes: dict[int, frozenset[str]] = field(default_factory=dict, compare=False)

    @classmethod
    def of(
        cls, papers: Sequence[Paper], lookback_ids: set[str], lookback_from: date | None = None
    ) -> NewPapers:
        """The rule for a pool and the ids of its lookback (as ``issue_papers`` returns them)."""
        dated = sorted((p.first_seen, p.id) for p in papers if p.first_seen is not None)
        return cls(
            tuple(at for at, _ in dated),
            tuple(pid for _, pid in dated),
            frozenset(p.id for p in papers if p.first_seen is None),
            frozenset(p.id for p in papers if p.id not in lookback_ids),
            lookback_from,
        )

    @classmethod
    def of_issue(cls, connection: Connection, issue: IssueInfo) -> NewPapers:
        """The rule for the issue's pool, read from the store (``issue_papers``)."""
        papers, lookback_ids = issue_papers(connection, issue)
        return cls.of(papers, lookback_ids, lookback_start(issue))

    def count_new_to(self, last_digest_at: datetime | None) -> int:
        """How many of the pool's papers are new to a subscriber whose last digest was at
        ``last_digest_at`` (None: their first digest, which chooses from the lookback)."""
        if last_digest_at is None:
            return len(self.ids) + len(self.undated) - len(self.outside_lookback)
        return len(self.ids) - bisect_right(self.seen, last_digest_at)

    def why_nothing_new(self, last_digest_at: datetime | None) -> str | None:
        """None when some paper is new to the subscriber; else why none is, in words that are
        true of them (a first digest never hears of a "last digest")."""
        if self.count_new_to(last_digest_at):
            return None
        if last_digest_at is None:
            since = f" since {self.lookback_from.isoformat()}" if self.lookback_from else ""
            return (
                "their first digest found no papers collected or published"
                f"{since} (its lookback)"
            )
        return (
            "no papers were collected since their last digest "
            f"({last_digest_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"
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
