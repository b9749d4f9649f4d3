"""The arXiv API's Atom 1.0 feed (``export.arxiv.org/api/query``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from digest.sources.fetch import Document
from papercore.errors import ParseError
from papercore.papers import Paper, arxiv_id, paper_id_for
from papercore.text import clean_text

SOURCE = "arxiv"
ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"


def parse(document: Document, now: datetime) -> list[Paper]:
    text = document.text()
    if "<!DOCTYPE" in text[:2000] or "<!ENTITY" in text:
        raise ParseError(document.name, 1, "document type declarations are not accepted")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ParseError(document.name, exc.position[0], f"invalid XML: {exc}") from exc
    if root.tag != f"{ATOM}feed":
        raise ParseError(document.name, 1, f"expected an Atom <feed>, found <{root.tag}>")
    entry_lines = _entry_lines(text)
    papers = []
    for number, entry in enumerate(root.findall(f"{ATOM}entry")):
        line = entry_lines[number] if number < len(entry_lines) else None
        papers.append(_paper(document.name, line, entry))
    return papers


def _entry_lines(text: str) -> list[int]:
    # newlines are counted from the previous entry on, never from the start (which was
    # quadratic in the number of entries)
    lines, start, line, counted = [], 0, 1, 0
    while (found := text.find("<entry", start)) != -1:
        line += text.count("\n", counted, found)
        lines.append(line)
        start = counted = found
        start += 6
    return lines


def _paper(name: str, line: int | None, entry: ET.Element) -> Paper:
    title = _text(entry, f"{ATOM}title")
    raw_id = _text(entry, f"{ATOM}id")
    if title == "Error":
        raise ParseError(name, line, f"arXiv API error: {_text(entry, f'{ATOM}summary')}")
    if not raw_id:
        raise ParseError(name, line, "entry has no <id>")
    if not title:
        raise ParseError(name, line, "entry has no <title>")
    aid = arxiv_id(raw_id)
    if aid is None:
        raise ParseError(name, line, f"entry <id> {raw_id!r} is not an arXiv id")
    authors = tuple(
        clean_text(author.findtext(f"{ATOM}name")) for author in entry.findall(f"{ATOM}author")
    )
    authors = tuple(a for a in authors if a)
    published = _when(name, line, _text(entry, f"{ATOM}published"))
    return Paper(
        id=paper_id_for(title, aid),
        title=title,
        abstract=_text(entry, f"{ATOM}summary"),
        authors=authors,
        author_count=len(authors) or None,
        published=published.date() if published else None,
        page_url=f"https://arxiv.org/abs/{aid}",
        sources=(SOURCE,),
    )


def _text(entry: ET.Element, tag: str) -> str:
    return clean_text(entry.findtext(tag))


def _when(name: str, line: int | None, value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ParseError(name, line, f"invalid <published> {value!r}") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
