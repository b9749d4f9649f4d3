"""Seeding a profile from papers someone likes (signup, preferences, `digest subscribers seed`).

Each paper the list names that is in the paper store (by arXiv id, else by normalised title)
becomes a "more like this" example. One that is not, but comes with its title and abstract
(BibTeX, Zotero), is added to the paper store first and then liked; the rest is reported as not
found. The paper store is reached through ``PaperShelf`` (digest.paper_store.SeedShelf).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Connection

from papercore.papers import Paper, paper_id_for, title_hash
from subscribers import store
from subscribers.feedback import MAX_EXAMPLES, MORE
from subscribers.model import Subscriber
from subscribers.paper_list import Cited, PaperList

SOURCE = "seed"


class PaperShelf(Protocol):
    """The paper store as seeding needs it, in the caller's transaction."""

    def by_ids(self, ids: Sequence[str]) -> dict[str, Paper]:
        """Stored papers with these ids, by id."""
        ...

    def by_titles(self, titles: Sequence[str]) -> dict[str, Paper]:
        """Stored papers with these titles (normalised), by ``title_hash`` of the title."""
        ...

    def add(self, papers: Sequence[Paper]) -> None:
        """Add papers that are not in the store."""
        ...


@dataclass(frozen=True, slots=True)
class SeedPlan:
    """What a list means against the store: papers to like, papers to add (and like), and the
    labels of entries that could not be found or read."""

    liked: tuple[Paper, ...]
    added: tuple[Paper, ...]
    missing: tuple[str, ...]

    @property
    def papers(self) -> tuple[Paper, ...]:
        return self.liked + self.added

    def summary(self) -> str:
        """One line for a page: how many papers were liked and added, and how many not found
        (the page lists ``missing`` after it)."""
        liked = len(self.papers)
        line = f"Liked {liked} paper{'' if liked == 1 else 's'}"
        if self.added:
            line += f" ({len(self.added)} added from your list)"
        if self.missing:
            return f"{line}. Not found ({len(self.missing)}):"
        return f"{line}."


def plan_seed(
    listed: PaperList, by_id: dict[str, Paper], by_title: dict[str, Paper]
) -> SeedPlan:
    """Match each cited paper to a stored one, or make a new paper of it when the list gives
    its title and abstract (pure). A paper named twice counts once."""
    liked: dict[str, Paper] = {}  # by id
    added: dict[str, Paper] = {}  # by title_hash: the store holds one paper per title
    missing = list(listed.unreadable)
    for cited in listed.cited:
        found = _stored(cited, by_id, by_title)
        if found is not None:
            liked.setdefault(found.id, found)
        elif cited.title and cited.abstract:
            added.setdefault(title_hash(cited.title), _new_paper(cited))
        else:
            missing.append(cited.label)
    return SeedPlan(tuple(liked.values()), tuple(added.values()), tuple(missing))


def _stored(cited: Cited, by_id: dict[str, Paper], by_title: dict[str, Paper]) -> Paper | None:
    if cited.arxiv and cited.arxiv in by_id:
        return by_id[cited.arxiv]
    if cited.title:
        return by_title.get(title_hash(cited.title))
    return None


def _new_paper(cited: Cited) -> Paper:
    return Paper(
        id=paper_id_for(cited.title, cited.arxiv),
        title=cited.title,
        abstract=cited.abstract,
        authors=cited.authors,
        sources=(SOURCE,),
    )


def look_up(shelf: PaperShelf, listed: PaperList) -> SeedPlan:
    """The plan for ``listed`` against the store (reads only)."""
    ids = sorted({c.arxiv for c in listed.cited if c.arxiv})
    titles = sorted({c.title for c in listed.cited if c.title})
    return plan_seed(listed, shelf.by_ids(ids), shelf.by_titles(titles))


def seed_profile(
    connection: Connection,
    shelf: PaperShelf,
    person: Subscriber,
    listed: PaperList,
    now: datetime,
    *,
    via: str,
) -> SeedPlan:
    """Like every paper of the list that is or can be put in the store, and log one ``seed``
    event; in the caller's transaction. Returns what was liked, added and not found."""
    plan = look_up(shelf, listed)
    if plan.added:
        shelf.add(plan.added)
    votes = {paper.id: MORE for paper in plan.papers}
    store.put_examples(connection, person.id, votes, now, MAX_EXAMPLES)
    store.record_event(
        connection,
        person.id,
        "seed",
        now,
        detail={
            "via": via,
            "liked": len(plan.liked),
            "added": len(plan.added),
            "missing": len(plan.missing),
        },
    )
    return plan
