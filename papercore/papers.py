"""The Paper model and the normalisation that decides when two records are the same paper."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from urllib.parse import quote_plus

from papercore.text import clean_text

_ARXIV_ID = re.compile(r"^(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?$")
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def title_key(title: str) -> str:
    """Normalised title: Unicode-folded (NFKD, accents dropped), case-folded, punctuation and
    whitespace collapsed. 'DεpS:  A  Study' and 'Dεps — a study' give the same key."""
    decomposed = unicodedata.normalize("NFKD", title)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", stripped.casefold()).strip()


def title_hash(title: str) -> str:
    """A stable 64-hex digest of the normalised title (the papers.title_key column)."""
    return hashlib.sha256(title_key(title).encode("utf-8")).hexdigest()


def arxiv_id(raw: str) -> str | None:
    """The versionless arXiv id in ``raw`` (an id or an abs/pdf URL), or None."""
    candidate = raw.strip().rstrip("/")
    for prefix in ("http://arxiv.org/abs/", "https://arxiv.org/abs/", "arxiv:", "arXiv:"):
        if candidate.startswith(prefix):
            candidate = candidate[len(prefix) :]
    match = _ARXIV_ID.match(candidate)
    return match.group(1) if match else None


def paper_id_for(title: str, arxiv: str | None) -> str:
    """The stable id: the arXiv id where known, else ``t:`` + a hash of the normalised title."""
    return arxiv if arxiv else "t:" + title_hash(title)[:24]


def is_title_id(paper_id: str) -> bool:
    return paper_id.startswith("t:")


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (SQLite hands back naive ones, which are UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Paper:
    id: str
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    author_count: int | None = None
    published: date | None = None
    posted_at: datetime | None = None
    upvotes: int | None = None
    comments: int | None = None
    code_url: str | None = None
    page_url: str | None = None
    project_url: str | None = None  # the authors' project page
    thumbnail_url: str | None = None  # a preview image (Hugging Face's social thumbnail)
    ai_summary: str | None = None
    sources: tuple[str, ...] = field(default=())
    first_seen: datetime | None = None

    @property
    def key(self) -> str:
        return title_hash(self.title)

    @property
    def n_authors(self) -> int | None:
        return len(self.authors) if self.authors else self.author_count

    @property
    def link(self) -> str:
        """The paper's page: its own, the Hugging Face page for an arXiv id, else a search."""
        if self.page_url:
            return self.page_url
        if not is_title_id(self.id):
            return f"https://huggingface.co/papers/{self.id}"
        return "https://arxiv.org/search/?searchtype=title&query=" + quote_plus(self.title[:300])


def merge(old: Paper, new: Paper) -> Paper:
    """One record of the same paper from two sightings. The old record keeps its first-seen time
    and anything the new one lacks; counts (upvotes, comments) take the newest known value; an
    arXiv id replaces a title-hash id."""
    return replace(
        old,
        id=new.id if is_title_id(old.id) and not is_title_id(new.id) else old.id,
        abstract=new.abstract if len(new.abstract) > len(old.abstract) else old.abstract,
        authors=old.authors or new.authors,
        author_count=old.author_count if old.author_count is not None else new.author_count,
        published=old.published or new.published,
        posted_at=old.posted_at or new.posted_at,
        upvotes=new.upvotes if new.upvotes is not None else old.upvotes,
        comments=new.comments if new.comments is not None else old.comments,
        code_url=new.code_url or old.code_url,
        page_url=old.page_url or new.page_url,
        project_url=new.project_url or old.project_url,
        thumbnail_url=new.thumbnail_url or old.thumbnail_url,
        ai_summary=new.ai_summary or old.ai_summary,
        sources=tuple(dict.fromkeys(old.sources + new.sources)),
    )


def _clean_url(url: str | None) -> str | None:
    """``url`` when it is one clean token; None when it holds anything text hygiene removes."""
    if not url:
        return None
    found = clean_text(url)
    return found if found and found == url.strip() and " " not in found else None


def clean_paper(paper: Paper, *, keep_id: bool = False) -> Paper:
    """``paper`` with every text cleaned (``papercore.text.clean_text``: nothing XML, MJML or
    UTF-8 cannot carry) and every link that is not one clean token dropped. A title-hash id
    follows the cleaned title unless ``keep_id`` (a stored row keeps the key it is found by).
    Papers are cleaned before they are stored, and again when read (rows stored before)."""
    title = clean_text(paper.title)
    authors = tuple(name for name in map(clean_text, paper.authors) if name)
    paper_id = paper.id
    if title != paper.title and is_title_id(paper_id) and not keep_id:
        paper_id = paper_id_for(title, None)
    cleaned = replace(
        paper,
        id=paper_id,
        title=title,
        abstract=clean_text(paper.abstract),
        authors=authors,
        ai_summary=clean_text(paper.ai_summary) or None,
        code_url=_clean_url(paper.code_url),
        page_url=_clean_url(paper.page_url),
        project_url=_clean_url(paper.project_url),
        thumbnail_url=_clean_url(paper.thumbnail_url),
    )
    return paper if cleaned == paper else cleaned
