"""Paper sources: each module parses one format; ``fetch`` reads files and URLs for all of them.

``parse(document, fmt, now)`` is the one entry point: it picks the parser for ``fmt`` (or detects
it) and returns the papers in the document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from digest.sources import arxiv, hf_daily, listing_page
from digest.sources.fetch import Document
from papercore.papers import Paper

Format = Literal["auto", "page", "hf", "arxiv"]


def detect(document: Document) -> Format:
    """Guess the format from the first non-blank bytes."""
    head = document.data[:512].lstrip()
    if head.startswith(b"[") or head.startswith(b"{"):
        return "hf"
    if head.startswith(b"<"):
        return "arxiv"
    return "page"


def parse(document: Document, fmt: Format, now: datetime) -> list[Paper]:
    chosen = detect(document) if fmt == "auto" else fmt
    if chosen == "hf":
        return hf_daily.parse(document, now)
    if chosen == "arxiv":
        return arxiv.parse(document, now)
    return listing_page.parse(document, now)
