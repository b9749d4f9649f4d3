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
from bibtexparser import model
from bibtexparser.middlewares import LatexDecodingMiddleware

from papercore.errors import InputError
from papercore.papers import arxiv_id
from papercore.text import clean_text

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
_ZOTERO_HEADER = ("Item Type", "Title")
_BLOCK_KEY = re.compile(r"@[ \t]*[A-Za-z]+[ \t]*[{(][ \t]*([^,\s{}()]{1,60})")

# The parser logs each problem it meets (with the person's raw text) and goes on; the same problems
# are in ``library.failed_blocks``, which ``_problem`` turns into the lines the person reads. Its
# log is switched off (a level above CRITICAL, which its child loggers inherit) so that no raw
# library line reaches the server log.
logging.getLogger("bibtexparser").setLevel(logging.CRITICAL + 1)


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

    def __add__(self, other: PaperList) -> PaperList:
        return PaperList(
            self.cited + other.cited, self.unreadable + other.unreadable, self.cut + other.cut
        )

    def first(self, limit: int) -> PaperList:
        """The list cut to its first ``limit`` papers (``cut`` counts the ones left out)."""
        if len(self.cited) <= limit:
            return self
        return PaperList(self.cited[:limit], self.unreadable, self.cut + len(self.cited) - limit)


def read_paper_list(text: str, where: str = "") -> PaperList:
    """The papers in ``text``, whichever of the four formats it is: the first MAX_ENTRIES of
    them (``cut`` counts the rest; seeding cuts further, to ``ranking.seed_list_max``). Lines
    are counted as an editor counts them (a BOM and CR LF or CR line ends do not change them);
    ``where`` (e.g. "the uploaded file") is added to the line of an entry that was not read."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_LIST_CHARS:
        raise InputError(
            f"the list is {len(text):,} characters long; the limit is {MAX_LIST_CHARS:,}"
        )
    if _BIBTEX_ENTRY.search(text):
        found = parse_bibtex(text, where)
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


def parse_bibtex(text: str, where: str = "") -> PaperList:
    """Entries of a BibTeX file: title, abstract, authors, and an arXiv id from eprint (with
    archivePrefix arXiv), or one mentioned in url, doi, journal, note or howpublished. LaTeX
    accents and braces are decoded; an entry that was not read is named in one line, with its
    key, its line (counted from 1) and why (``unreadable``): the first MAX_UNREADABLE, then how
    many more. The parser's own warnings never reach our log (its logger is switched off)."""
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
                title or found or _clean(entry.key, MAX_TITLE),
                arxiv=found,
                title=title,
                abstract=_clean(fields.get("abstract", ""), MAX_ABSTRACT),
                authors=_people(authors),
            )
        )
    failed = library.failed_blocks
    unreadable = tuple(_problem(block, where) for block in failed[:MAX_UNREADABLE])
    if len(failed) > MAX_UNREADABLE:
        unreadable += (f"and {len(failed) - MAX_UNREADABLE:,} more could not be read",)
    return PaperList(tuple(cited), unreadable)


def _problem(block: model.Block, where: str) -> str:
    """One line for an entry the parser did not read: which, where, and why, in plain words."""
    key = _BLOCK_KEY.match((block.raw or "").lstrip())
    name = f"BibTeX entry {_clean(key.group(1), 60)}" if key else "A BibTeX entry"
    at = f"{name} at line {(block.start_line or 0) + 1}{f' of {where}' if where else ''}"
    if isinstance(block, model.DuplicateBlockKeyBlock):
        return f"{at} was not read: an earlier entry has the same key"
    if isinstance(block, model.DuplicateFieldKeyBlock):
        fields = ", ".join(sorted(block.duplicate_keys))
        return f"{at} was not read: it has more than one {_clean(fields, 100)} field"
    # the parser's own words: read for the reason, never shown
    reason = str(getattr(getattr(block, "error", None), "abort_reason", ""))
    if "end of file" in reason:
        return f"{at} was not read: the file ends before the entry is closed"
    if "block start" in reason:
        return f"{at} was not read: it is not closed (a brace or comma is missing)"
    return f"{at} could not be read"


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
    """``value`` through the one text cleaner (``papercore.text.clean_text``), capped at
    ``limit`` characters. Every text a list yields (labels, titles, authors, abstracts) passes
    here."""
    return clean_text(value)[:limit].rstrip()
