"""Reading a list of papers someone likes: arXiv ids or links, titles one per line, a BibTeX file
or a Zotero CSV export. Pure functions of the text; the format is recognised from the content."""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

import bibtexparser
from bibtexparser.middlewares import LatexDecodingMiddleware

from papercore.errors import InputError
from papercore.papers import arxiv_id

MAX_ENTRIES = 500
MAX_LIST_CHARS = 2_000_000  # 500 BibTeX entries with long abstracts; the BibTeX parser is slow
MAX_TITLE = 500
MAX_ABSTRACT = 10_000
MAX_AUTHORS = 100
MAX_UNREADABLE = 10  # unreadable parts named one by one; the rest are counted in one line
_ARXIV_IN_TEXT = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)/|arxiv[:\s.]\s*|10\.48550/arxiv\.)(\d{4}\.\d{4,5})(?:v\d+)?",
    re.IGNORECASE,
)
# blanks, not \s: "\s*" after "^" ran on over every following line, so a list of empty lines
# was quadratic
_BIBTEX_ENTRY = re.compile(r"^[ \t]*@[ \t]*[A-Za-z]+[ \t]*[{(]", re.MULTILINE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ZOTERO_HEADER = ("Item Type", "Title")


@dataclass(frozen=True, slots=True)
class Cited:
    """One paper a list names: its arXiv id and/or title, and the abstract and authors when the
    list has them. ``label`` is how to name it back to the person (e.g. in "not found")."""

    label: str
    arxiv: str | None = None
    title: str = ""
    abstract: str = ""
    authors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PaperList:
    """The papers a list names, in its order, and the parts of it that could not be read."""

    cited: tuple[Cited, ...]
    unreadable: tuple[str, ...] = ()
    cut: int = 0  # papers the list named past a limit, left out

    def first(self, limit: int) -> PaperList:
        """The list cut to its first ``limit`` papers (``cut`` counts the ones left out)."""
        if len(self.cited) <= limit:
            return self
        return PaperList(self.cited[:limit], self.unreadable, self.cut + len(self.cited) - limit)


def read_paper_list(text: str) -> PaperList:
    """The papers in ``text``, whichever of the four formats it is: the first MAX_ENTRIES of
    them (``cut`` counts the rest; seeding cuts further, to ``ranking.seed_list_max``)."""
    text = text.removeprefix("\ufeff")
    if len(text) > MAX_LIST_CHARS:
        raise InputError(
            f"the list is {len(text):,} characters long; the limit is {MAX_LIST_CHARS:,}"
        )
    if _BIBTEX_ENTRY.search(text):
        found = parse_bibtex(text)
    elif _is_zotero_csv(text):
        found = parse_zotero_csv(text)
    else:
        found = parse_lines(text)
    return found.first(MAX_ENTRIES)


def find_arxiv(text: str) -> str | None:
    """The first arXiv id in free text: a bare id, an abs/pdf link, "arXiv:id" or an arXiv DOI."""
    bare = arxiv_id(text.strip())
    if bare:
        return bare
    found = _ARXIV_IN_TEXT.search(text)
    return found.group(1) if found else None


def parse_lines(text: str) -> PaperList:
    """One paper per line: an arXiv id or link, else a title. Blank lines and lines starting
    with # are skipped."""
    cited = []
    for raw in text.splitlines():
        line = _clean(raw, MAX_TITLE)
        if not line or line.startswith("#"):
            continue
        found = find_arxiv(line)
        cited.append(Cited(line, arxiv=found, title="" if found else line))
    return PaperList(tuple(cited))


def parse_bibtex(text: str) -> PaperList:
    """Entries of a BibTeX file: title, abstract, authors, and an arXiv id from eprint (with
    archivePrefix arXiv), or one mentioned in url, doi, journal, note or howpublished. LaTeX
    accents and braces are decoded; blocks that do not parse are reported by line (the first
    MAX_UNREADABLE, then how many more), and never logged: the parser's own warning per failed
    block (40,000 lines for 60 KB of "@a{") is kept out of our log."""
    logging.getLogger("bibtexparser").setLevel(logging.ERROR)  # each time: logging setup may reset
    library = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    cited = []
    for entry in library.entries:
        fields = {f.key.lower(): str(f.value) for f in entry.fields}
        title = _clean(fields.get("title", ""), MAX_TITLE)
        found = None
        if fields.get("archiveprefix", "").lower() == "arxiv" or "eprint" in fields:
            found = arxiv_id(fields.get("eprint", ""))
        for name in ("url", "doi", "journal", "note", "howpublished", "eprint"):
            found = found or find_arxiv(fields.get(name, ""))
        authors = [_clean(a, 200) for a in fields.get("author", "").split(" and ")]
        cited.append(
            Cited(
                title or found or entry.key,
                arxiv=found,
                title=title,
                abstract=_clean(fields.get("abstract", ""), MAX_ABSTRACT),
                authors=_people(authors),
            )
        )
    failed = library.failed_blocks
    unreadable = tuple(
        f"BibTeX entry at line {(block.start_line or 0) + 1} could not be read"
        for block in failed[:MAX_UNREADABLE]
    )
    if len(failed) > MAX_UNREADABLE:
        unreadable += (f"and {len(failed) - MAX_UNREADABLE:,} more could not be read",)
    return PaperList(tuple(cited), unreadable)


def parse_zotero_csv(text: str) -> PaperList:
    """Rows of a Zotero "Export Collection… → CSV" file: Title, Abstract Note, Author ("Last,
    First; Last, First"), and an arXiv id from Url, DOI, Extra or the archive columns."""
    reader = csv.DictReader(io.StringIO(text))
    cited = []
    for row in reader:
        value = {k.strip(): (v or "") for k, v in row.items() if isinstance(k, str)}
        title = _clean(value.get("Title", ""), MAX_TITLE)
        found = None
        for name in ("Url", "DOI", "Extra", "Archive Location", "Loc. in Archive", "Number"):
            found = found or find_arxiv(value.get(name, ""))
        if not title and not found:
            continue
        authors = [_clean(" ".join(reversed(a.split(",", 1))), 200) for a in _split(value)]
        cited.append(
            Cited(
                title or found or "",
                arxiv=found,
                title=title,
                abstract=_clean(value.get("Abstract Note", ""), MAX_ABSTRACT),
                authors=_people(authors),
            )
        )
    return PaperList(tuple(cited))


def _split(row: dict[str, str]) -> list[str]:
    return [a for a in row.get("Author", "").split(";") if a.strip()]


def _is_zotero_csv(text: str) -> bool:
    first = text.split("\n", 1)[0]
    try:
        header = next(csv.reader([first]))
    except (csv.Error, StopIteration):
        return False
    return all(name in header for name in _ZOTERO_HEADER)


def _people(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(n for n in names if n)[:MAX_AUTHORS]


def _clean(value: str, limit: int) -> str:
    """Whitespace collapsed, control characters dropped, capped at ``limit`` characters."""
    return " ".join(_CONTROL.sub(" ", value).split())[:limit]
