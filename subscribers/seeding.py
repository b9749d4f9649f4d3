"""Seeding a profile from papers someone likes (signup, preferences, `digest subscribers seed`).

Seeds are the subscriber's private examples, never public papers:
- a paper the list names that is in the paper store (by arXiv id, else by normalised title)
  becomes a "more like this" example of that stored paper;
- one that is not, but comes with its title and abstract (BibTeX, Zotero), is kept with that
  subscriber only (``subscribers.private_examples``) and is learned from like a stored one;
- the rest is reported as not found.
Only sources write the paper store: nothing a person types here reaches it. The store is read
through ``PaperShelf`` (digest.paper_store.SeedShelf).

Limits: one list gives at most ``SeedLimits.per_list`` papers (the rest is cut and the plan
says so), and a subscriber keeps at most ``per_subscriber`` examples (clicks and seeds
together; the oldest are pruned).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Connection

from papercore.config import RankingSettings
from papercore.papers import Paper, title_hash
from subscribers import private_examples, store
from subscribers.feedback import MAX_EXAMPLES, MORE, keep_newest
from subscribers.model import SeedText, Subscriber
from subscribers.paper_list import Cited, PaperList

PER_LIST = 50  # the default of ranking.seed_list_max
NAMED = 3  # papers a summary names; "and N more" counts the rest
NAME_CHARS = 80


class PaperShelf(Protocol):
    """The paper store as seeding needs it (reads only), in the caller's transaction."""

    def by_ids(self, ids: Sequence[str]) -> dict[str, Paper]:
        """Stored papers with these ids, by id."""
        ...

    def by_titles(self, titles: Sequence[str]) -> dict[str, Paper]:
        """Stored papers with these titles (normalised), by ``title_hash`` of the title."""
        ...


@dataclass(frozen=True, slots=True)
class SeedLimits:
    """Papers read from one list, and examples kept per subscriber."""

    per_list: int = PER_LIST
    per_subscriber: int = MAX_EXAMPLES

    @classmethod
    def from_settings(cls, ranking: RankingSettings) -> SeedLimits:
        return cls(ranking.seed_list_max, ranking.examples_max)


@dataclass(frozen=True, slots=True)
class SeedPlan:
    """What a list means against the store: stored papers to like, the subscriber's private
    seeds (papers in no store, with the list's text), the labels of entries that could not be
    found or read, and how many papers past the per-list limit were cut."""

    liked: tuple[Paper, ...]
    private: tuple[SeedText, ...]
    missing: tuple[str, ...]
    cut: int = 0
    per_list: int = PER_LIST

    @property
    def count(self) -> int:
        return len(self.liked) + len(self.private)

    def summary(self, *, on_confirming: bool = False) -> str:
        """One line for a page: how many papers were liked and the first of them by title
        (and how many are kept privately), what the per-list limit cut, and how many were not
        found (the page lists ``missing`` after it). Plain text: the page escapes it.
        ``on_confirming``: nothing is liked yet, the confirmation link will. It depends on the
        list and the paper store only, never on who the address is."""
        papers = f"{self.count} paper{'' if self.count == 1 else 's'}"
        line = f"Confirming will like {papers}" if on_confirming else f"Liked {papers}"
        if self.count:
            line += f": {self.named()}"
        if self.private:
            line += f" ({len(self.private)} from your list, kept for you only)"
        line += "."
        if self.cut:
            line += (
                f" Only the first {self.per_list} papers of a list are read:"
                f" {self.cut} more {'was' if self.cut == 1 else 'were'} left out."
            )
        if self.missing:
            return f"{line} Not found ({len(self.missing)}):"
        return line


    def named(self) -> str:
        """The first ``NAMED`` papers' titles, quoted and shortened, and how many more."""
        titles = [p.title for p in self.liked] + [t.title for t in self.private]
        shown = [_short(t) for t in titles[:NAMED]]
        if len(titles) > NAMED:
            shown.append(f"{len(titles) - NAMED} more")
        return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def _short(title: str) -> str:
    text = title if len(title) <= NAME_CHARS else title[: NAME_CHARS - 1].rstrip() + "…"
    return f"“{text}”"


def plan_seed(
    listed: PaperList, by_id: dict[str, Paper], by_title: dict[str, Paper]
) -> SeedPlan:
    """Match each cited paper to a stored one, or keep it as a private seed when the list gives
    its title and abstract (pure). A paper named twice counts once."""
    liked: dict[str, Paper] = {}  # by id
    private: dict[str, SeedText] = {}  # by title_hash: one per title
    missing = list(listed.unreadable)
    for cited in listed.cited:
        found = _stored(cited, by_id, by_title)
        if found is not None:
            liked.setdefault(found.id, found)
        elif cited.title and cited.abstract:
            private.setdefault(title_hash(cited.title), _seed_text(cited))
        else:
            missing.append(cited.label)
    return SeedPlan(tuple(liked.values()), tuple(private.values()), tuple(missing), listed.cut)


def _stored(cited: Cited, by_id: dict[str, Paper], by_title: dict[str, Paper]) -> Paper | None:
    if cited.arxiv and cited.arxiv in by_id:
        return by_id[cited.arxiv]
    if cited.title:
        return by_title.get(title_hash(cited.title))
    return None


def _seed_text(cited: Cited) -> SeedText:
    return SeedText(cited.title, cited.abstract, cited.authors, cited.arxiv)


def look_up(shelf: PaperShelf, listed: PaperList, limits: SeedLimits) -> SeedPlan:
    """The plan for the first ``limits.per_list`` papers of ``listed`` (reads only)."""
    listed = listed.first(limits.per_list)
    ids = sorted({c.arxiv for c in listed.cited if c.arxiv})
    titles = sorted({c.title for c in listed.cited if c.title})
    plan = plan_seed(listed, shelf.by_ids(ids), shelf.by_titles(titles))
    return SeedPlan(plan.liked, plan.private, plan.missing, plan.cut, limits.per_list)


def seed_profile(
    connection: Connection,
    shelf: PaperShelf,
    person: Subscriber,
    listed: PaperList,
    now: datetime,
    *,
    via: str,
    limits: SeedLimits,
) -> SeedPlan:
    """Like every paper of the list that is stored, keep the others that have a title and an
    abstract as the subscriber's private seeds, prune their oldest examples down to
    ``limits.per_subscriber`` and log one ``seed`` event; in the caller's transaction."""
    plan = look_up(shelf, listed, limits)
    store.put_examples(
        connection, person.id, {p.id: MORE for p in plan.liked}, now, limits.per_subscriber
    )
    private_examples.put(connection, person.id, plan.private, MORE, now)
    pruned = keep_newest(connection, person.id, limits.per_subscriber)
    store.record_event(
        connection,
        person.id,
        "seed",
        now,
        detail={
            "via": via,
            "liked": len(plan.liked),
            "private": len(plan.private),
            "missing": len(plan.missing),
            "cut": plan.cut,
            "pruned": pruned,
        },
    )
    return plan
