"""What a digest shows about one paper, worked out once per issue from the stored record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol
from urllib.parse import quote, quote_plus, urlsplit

from digest.compose.summary import summarise
from digest.compose.text import clean, shorten
from papercore.papers import Paper, arxiv_id, is_title_id

TITLE_LIMIT = 240
SUMMARY_LIMIT = 300
SHOWN_AUTHORS = 3
# A card reads only the head of each text it shows (a title, a name, an AI summary), so its cost
# is bounded whatever a source sends; cleaning can only shorten text, and 4x leaves room for that.
HEAD = 4


def _head(text: str | None, limit: int) -> str:
    return (text or "")[: limit * HEAD]


class PickLike(Protocol):
    """What rendering needs of a ranking ``Pick``."""

    @property
    def paper(self) -> Paper: ...

    @property
    def why(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class Badge:
    label: str
    link: str | None = None


@dataclass(frozen=True, slots=True)
class CardView:
    """A paper as the templates see it: every text cleaned and shortened, every link https.
    ``signals`` are what readers did (upvotes, comments); ``links`` where to read it
    (Paper, PDF, Code, Project), each only when the source knows it; ``thumbnail`` a preview
    image (https) that the lead story shows."""

    id: str
    title: str
    link: str
    authors: str
    summary: str
    summary_is_ai: bool
    published: str
    signals: tuple[Badge, ...]
    links: tuple[Badge, ...]
    thumbnail: str | None = None

    @property
    def badges(self) -> tuple[Badge, ...]:
        return self.signals + self.links

    @property
    def code_url(self) -> str | None:
        return next((b.link for b in self.links if b.label == "Code"), None)


def https(url: str | None) -> str | None:
    """``url`` as an https URL, or None when it is not a web address at all."""
    if not url:
        return None
    url = url.strip()
    if url.startswith("http://"):
        url = "https://" + url[len("http://") :]
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or any(c in url for c in " \"'<>\\\r\n"):
        return None
    return url


def paper_link(paper: Paper) -> str:
    return https(paper.link) or (
        "https://arxiv.org/search/?searchtype=title&query=" + quote_plus(paper.title[:300])
    )


def short_name(name: str) -> str:
    """'Alice Mary Smith' -> 'A. M. Smith'; single names and initials stay as they are."""
    words = clean(name).split(" ")
    if len(words) < 2:
        return words[0]
    given = [w[0] + "." if w[0].isalpha() and not w.endswith(".") else w for w in words[:-1]]
    return " ".join([*given, words[-1]])


def short_authors(authors: Sequence[str], count: int | None) -> str:
    """'A. Author, B. Author, C. Author et al.', or 'N authors' when only the count is known."""
    names = [short_name(a[:200]) for a in authors[: SHOWN_AUTHORS * 4] if clean(a[:200])]
    if not names:
        if not count:
            return ""
        return "1 author" if count == 1 else f"{count} authors"
    shown = shorten(", ".join(names[:SHOWN_AUTHORS]), 120)
    listed = len(names) if len(authors) <= SHOWN_AUTHORS * 4 else len(authors)
    more = max(listed, count or 0) > SHOWN_AUTHORS
    return shown + (" et al." if more else "")


def signals(paper: Paper) -> tuple[Badge, ...]:
    """What readers did with the paper, when the source counts it."""
    found = []
    if paper.upvotes:
        found.append(Badge(f"{paper.upvotes:,} upvote{'s' if paper.upvotes != 1 else ''}"))
    if paper.comments:
        found.append(Badge(f"{paper.comments:,} comment{'s' if paper.comments != 1 else ''}"))
    return tuple(found)


def paper_page(base_url: str, paper_id: str) -> str:
    """Our own page of the paper (/paper/<id>): its full abstract, one tap from a card."""
    return f"{base_url.rstrip('/')}/paper/{quote(paper_id, safe=':')}"


def read_links(paper: Paper, base_url: str | None = None) -> tuple[Badge, ...]:
    """'Abstract · Paper · PDF · Code · Project · Cite': our page with the full abstract (given the
    site's ``base_url``), the arXiv abstract and PDF for an arXiv id (else the paper's own
    page), the code repository and project page when the source names them, and (given
    ``base_url``) the paper's BibTeX on our site."""
    found = []
    if base_url and paper.abstract:
        found.append(Badge("Abstract", paper_page(base_url, paper.id)))
    aid = None if is_title_id(paper.id) else arxiv_id(paper.id)
    if aid:
        found.append(Badge("Paper", f"https://arxiv.org/abs/{aid}"))
        found.append(Badge("PDF", f"https://arxiv.org/pdf/{aid}"))
    else:
        found.append(Badge("Paper", paper_link(paper)))
    code = https(paper.code_url)
    if code:
        found.append(Badge("Code", code))
    project = https(paper.project_url)
    if project:
        found.append(Badge("Project", project))
    if base_url:  # its BibTeX (/paper/<id>.bib), for a reference manager
        found.append(Badge("Cite", paper_page(base_url, paper.id) + ".bib"))
    return tuple(found)


def card_view(paper: Paper, base_url: str | None = None) -> CardView:
    """The card of ``paper``; with the site's ``base_url`` it links our page of the paper."""
    extract = summarise(paper.abstract, SUMMARY_LIMIT)
    summary = extract or shorten(clean(_head(paper.ai_summary, SUMMARY_LIMIT)), SUMMARY_LIMIT)
    return CardView(
        id=paper.id,
        title=shorten(clean(_head(paper.title, TITLE_LIMIT)), TITLE_LIMIT) or "(untitled)",
        link=paper_link(paper),
        authors=short_authors(paper.authors, paper.author_count),
        summary=summary,
        summary_is_ai=bool(summary) and not extract,
        published=paper.published.strftime("%-d %b %Y") if paper.published else "",
        signals=signals(paper),
        links=read_links(paper, base_url),
        thumbnail=https(paper.thumbnail_url),
    )


@lru_cache(maxsize=65536)
def why_line(why: tuple[str, ...]) -> str:
    """The ranking's reasons as one readable line."""
    reasons = [shorten(clean(reason), 120) for reason in why]
    return " · ".join(r for r in reasons if r)
