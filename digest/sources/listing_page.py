"""Daily-papers listing pages saved as text (the format of the bundled sample pages).

Header lines (``new``, ``Get trending papers in your email inbox!``, ``Subscribe``, ``Daily
Papers``, ``byAK and the research community``) and the page's date (``Nov 6``) come first. Then,
one paragraph per line and blank lines between: a title, its abstract, and optionally
``• N authors``, ``·`` and the paper's date (``Jun 20, 2024``, or ``May 24`` = this year).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from digest.sources.fetch import Document
from papercore.errors import ParseError
from papercore.papers import Paper, paper_id_for
from papercore.text import clean_text

SOURCE = "page"
HEADER_LINES = {
    "new",
    "get trending papers in your email inbox!",
    "subscribe",
    "daily papers",
    "byak and the research community",
}
MAX_TITLE = 400  # a longer "title" means the page lost a line and the pairs are misaligned
_AUTHORS = re.compile(r"^•\s*(\d+)\s+authors?$")
_DATE = re.compile(
    r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+(\d{1,2})(?:,\s*(\d{4}))?$"
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def parse(document: Document, now: datetime) -> list[Paper]:
    """Every paper on the page, in page order."""
    lines = [(n, clean_text(text)) for n, text in enumerate(document.text().splitlines(), 1)]
    paragraphs = [(n, text) for n, text in lines if text]
    index = 0
    page_date: date | None = None
    while index < len(paragraphs) and paragraphs[index][1].casefold() in HEADER_LINES:
        index += 1
    if index < len(paragraphs):
        parsed = _date(document.name, *paragraphs[index], now)
        if parsed is not None:
            page_date, index = parsed, index + 1
    if index >= len(paragraphs):
        raise ParseError(document.name, len(lines) or 1, "no papers found on the page")
    posted_at = (
        datetime(page_date.year, page_date.month, page_date.day, tzinfo=UTC) if page_date else None
    )

    papers: list[Paper] = []
    while index < len(paragraphs):
        title_line, title = paragraphs[index]
        if _is_meta(title):
            raise ParseError(document.name, title_line, f"expected a paper title, found {title!r}")
        if len(title) > MAX_TITLE:
            raise ParseError(
                document.name,
                title_line,
                f"expected a paper title, found a {len(title)}-character paragraph "
                "(a title or abstract line is missing)",
            )
        if index + 1 >= len(paragraphs):
            raise ParseError(
                document.name, title_line, f"title {title[:60]!r} has no abstract (truncated page?)"
            )
        abstract_line, abstract = paragraphs[index + 1]
        if _is_meta(abstract):
            raise ParseError(
                document.name,
                abstract_line,
                f"expected the abstract of {title[:60]!r}, found {abstract!r}",
            )
        index += 2
        author_count: int | None = None
        published: date | None = None
        while index < len(paragraphs) and _is_meta(paragraphs[index][1]):
            meta_line, meta = paragraphs[index]
            if match := _AUTHORS.match(meta):
                author_count = int(match.group(1))
            elif meta != "·":
                published = _date(document.name, meta_line, meta, now)
            index += 1
        papers.append(
            Paper(
                id=paper_id_for(title, None),
                title=title,
                abstract=abstract,
                author_count=author_count,
                published=published,
                posted_at=posted_at,
                sources=(SOURCE,),
            )
        )
    return papers


def _is_meta(text: str) -> bool:
    return text == "·" or bool(_AUTHORS.match(text)) or bool(_DATE.match(text))


def _date(name: str, line: int, text: str, now: datetime) -> date | None:
    match = _DATE.match(text)
    if match is None:
        return None
    month = _MONTHS.index(match.group(1)) + 1
    year = int(match.group(3)) if match.group(3) else now.year
    try:
        return date(year, month, int(match.group(2)))
    except ValueError as exc:
        raise ParseError(name, line, f"invalid date {text!r}") from exc
