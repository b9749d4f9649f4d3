"""The Hugging Face ``api/daily_papers`` JSON: a list of items, each with a ``paper`` object."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from digest.sources.fetch import Document
from papercore.errors import ParseError
from papercore.papers import Paper, arxiv_id, paper_id_for
from papercore.text import clean_text

SOURCE = "hf"
_UNSAFE = frozenset(" \t\r\n\"'<>\\")


def parse(document: Document, now: datetime) -> list[Paper]:
    text = document.text()
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(document.name, exc.lineno, f"invalid JSON: {exc.msg}") from exc
    if not isinstance(items, list):
        raise ParseError(document.name, 1, "expected a JSON array of daily-papers items")
    lines = _item_lines(text)
    return [
        _paper(document.name, number, lines[number - 1], item)
        for number, item in enumerate(items, 1)
    ]


def _item_lines(text: str) -> list[int]:
    """The line on which each element of the (already validated) top-level array starts."""
    decoder = json.JSONDecoder()
    lines: list[int] = []
    index = text.index("[") + 1
    line, counted = 1, 0  # newlines counted up to ``counted`` (never again from the start)
    while True:
        while index < len(text) and text[index] in " \t\r\n,":
            index += 1
        if index >= len(text) or text[index] == "]":
            return lines
        line += text.count("\n", counted, index)
        counted = index
        lines.append(line)
        _, index = decoder.raw_decode(text, index)


def _paper(name: str, number: int, line: int, item: Any) -> Paper:
    where = f"item {number}"

    def fail(why: str) -> ParseError:
        return ParseError(name, line, f"{where}: {why}")

    if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
        raise fail("has no 'paper' object")
    paper = item["paper"]
    raw_id = paper.get("id")
    title = paper.get("title") or item.get("title")
    if not isinstance(raw_id, str) or not clean_text(raw_id):
        raise fail("paper.id is missing")
    if not isinstance(title, str) or not clean_text(title):
        raise fail("paper.title is missing")
    raw_id, title = clean_text(raw_id), clean_text(title)
    summary = paper.get("summary") or item.get("summary") or ""
    names = (
        clean_text(str(author.get("name", "")))
        for author in paper.get("authors") or []
        if isinstance(author, dict) and author.get("name") and not author.get("hidden")
    )
    authors = tuple(name for name in names if name)
    aid = arxiv_id(raw_id)
    return Paper(
        id=paper_id_for(title, aid) if aid else raw_id,
        title=title,
        abstract=clean_text(str(summary)),
        ai_summary=_optional_str(paper.get("ai_summary")),
        authors=authors,
        author_count=len(authors) or None,
        published=_date(paper.get("publishedAt"), fail),
        posted_at=_datetime(item.get("publishedAt"), fail),
        upvotes=_optional_int(paper.get("upvotes"), "paper.upvotes", fail),
        comments=_optional_int(item.get("numComments"), "numComments", fail),
        code_url=_optional_str(paper.get("githubRepo")),
        page_url=f"https://huggingface.co/papers/{aid or raw_id}",
        project_url=_https(paper.get("projectPage")),
        thumbnail_url=_https(item.get("thumbnail")),
        sources=(SOURCE,),
    )


def _optional_str(value: Any) -> str | None:
    return (clean_text(value) or None) if isinstance(value, str) else None


def _https(value: Any) -> str | None:
    """An absolute https URL, else None: the feed is untrusted, and mail only links https."""
    url = _optional_str(value)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or not parts.netloc or any(c in url for c in _UNSAFE):
        return None
    return url


def _optional_int(value: Any, key: str, fail: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise fail(f"{key} must be a non-negative integer, not {value!r}")
    return value


def _datetime(value: Any, fail: Any) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise fail(f"invalid timestamp {value!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _date(value: Any, fail: Any) -> date | None:
    moment = _datetime(value, fail)
    return moment.date() if moment else None
