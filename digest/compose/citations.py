"""Keeping a paper: its citation as BibTeX, RIS, CSL-JSON, Highwire ``citation_*`` meta tags and
a COinS (OpenURL) string, for the web pages (/paper/<id>, .bib, .ris, /issue/N) and the CLI
(``digest papers export``). Pure: a Paper in, text out.

Every value is one line of clean text (``papercore.text.clean_text``: no control characters, no
line breaks), then escaped for its format: BibTeX turns the characters TeX reads as commands
(backslash, braces, ``$ % & # _ ^ ~``) into text commands, so an untrusted title can neither
unbalance an entry nor run a macro; RIS keeps one field per line; HTML attributes (meta tags,
the COinS title) are escaped by the page's autoescaping, the COinS string is URL-encoded first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import unquote, urlencode

from bibtexparser import Library, write_string
from bibtexparser.model import Entry, Field

from digest.compose.cards import paper_page
from digest.compose.text import clean
from papercore.papers import Paper, arxiv_id, is_title_id
from papercore.text import clean_text

FORMATS = ("bibtex", "ris", "csl-json")
_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9:._-]+")
_AND = re.compile(r"\band\b", re.IGNORECASE)
_TEX = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "$": r"\$",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
}


@dataclass(frozen=True, slots=True)
class Citation:
    """What a reference manager needs of a paper, each text one clean line."""

    id: str
    title: str
    authors: tuple[str, ...]
    abstract: str
    published: date | None
    online: date | None
    arxiv: str | None
    doi: str | None
    url: str  # where the paper is read: the arXiv abstract, else its own page
    pdf_url: str | None

    @property
    def year(self) -> str:
        return str(self.published.year) if self.published else ""


def doi_of(paper: Paper) -> str | None:
    """The DOI in the paper's own page link (https://doi.org/10.x/y), or None."""
    match = _DOI.match((paper.page_url or "").strip())
    return unquote(match.group(1)) if match else None


def citation_of(paper: Paper) -> Citation:
    aid = None if is_title_id(paper.id) else arxiv_id(paper.id)
    online = paper.posted_at or paper.first_seen
    return Citation(
        id=paper.id,
        title=clean(paper.title) or "(untitled)",  # LaTeX as text, as every surface shows it
        authors=tuple(name for name in (clean(a) for a in paper.authors) if name),
        abstract=clean(paper.abstract),
        published=paper.published or (online.date() if online else None),
        online=online.date() if online else None,
        arxiv=aid,
        doi=doi_of(paper),
        url=f"https://arxiv.org/abs/{aid}" if aid else clean_text(paper.link),
        pdf_url=f"https://arxiv.org/pdf/{aid}" if aid else None,
    )


# --- BibTeX -------------------------------------------------------------------------------


def tex_escape(text: str) -> str:
    """``text`` as literal TeX: every brace in the result is one of a balanced pair we wrote."""
    return "".join(_TEX.get(ch, ch) for ch in text)


def _bib_name(name: str) -> str:
    """One author for BibTeX's ``and``-separated list; a name holding the word "and" is braced
    whole so that it stays one author."""
    escaped = tex_escape(name)
    return "{" + escaped + "}" if _AND.search(name) else escaped


def bib_key(citation: Citation) -> str:
    return _KEY_UNSAFE.sub("_", citation.arxiv or citation.id)


def bib_entry(citation: Citation) -> Entry:
    """``@article`` with the DOI when one is known, else ``@misc`` (arXiv eprint fields)."""
    fields = [Field("title", tex_escape(citation.title))]
    if citation.authors:
        fields.append(Field("author", " and ".join(_bib_name(a) for a in citation.authors)))
    if citation.published:
        fields.append(Field("year", citation.year))
        fields.append(Field("month", citation.published.strftime("%b").lower()))
    if citation.doi:
        fields.append(Field("doi", tex_escape(citation.doi)))
    if citation.arxiv:
        fields.append(Field("eprint", citation.arxiv))
        fields.append(Field("archivePrefix", "arXiv"))
        if "/" in citation.arxiv:  # an old-style id names its archive: hep-th/9901001
            fields.append(Field("primaryClass", citation.arxiv.split("/")[0]))
    fields.append(Field("url", tex_escape(citation.url)))
    if citation.abstract:
        fields.append(Field("abstract", tex_escape(citation.abstract)))
    kind = "article" if citation.doi else "misc"
    return Entry(kind, bib_key(citation), fields)


def bibtex(papers: Iterable[Paper]) -> str:
    """The papers as a BibTeX file (written by bibtexparser, values in braces)."""
    entries = {entry.key: entry for entry in (bib_entry(citation_of(p)) for p in papers)}
    library = Library(list(entries.values()))  # one entry per key
    return write_string(library)  # its default writer encloses each value in braces


# --- RIS ------------------------------------------------------------------------------------


def _ris_lines(citation: Citation) -> list[str]:
    lines = [("TY", "JOUR" if citation.doi else "UNPB")]
    lines += [("AU", name) for name in citation.authors]
    lines.append(("TI", citation.title))
    if citation.published:
        lines.append(("PY", citation.year))
        lines.append(("DA", citation.published.strftime("%Y/%m/%d")))
    if citation.abstract:
        lines.append(("AB", citation.abstract))
    if citation.doi:
        lines.append(("DO", citation.doi))
    if citation.arxiv:
        lines.append(("AN", f"arXiv:{citation.arxiv}"))
    lines.append(("UR", citation.url))
    if citation.pdf_url:
        lines.append(("L1", citation.pdf_url))
    # clean_text already made each value one line; a value never starts or ends with spaces
    return [f"{tag}  - {value.strip()}" for tag, value in lines if value.strip()] + ["ER  - "]


def ris(papers: Iterable[Paper]) -> str:
    """The papers as an RIS file: ``TAG  - value`` lines (CRLF, as the format asks)."""
    records = ["\r\n".join(_ris_lines(citation_of(p))) for p in papers]
    return "".join(record + "\r\n\r\n" for record in records)


# --- CSL-JSON -------------------------------------------------------------------------------


def csl_name(name: str) -> dict[str, str]:
    """A CSL name: family and given split at the last space, else the whole as a literal."""
    given, _, family = name.rpartition(" ")
    return {"family": family, "given": given} if given else {"literal": name}


def csl_item(citation: Citation) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": citation.id,
        "type": "article-journal" if citation.doi else "article",
        "title": citation.title,
        "author": [csl_name(a) for a in citation.authors],
        "URL": citation.url,
    }
    if citation.published:
        day = citation.published
        item["issued"] = {"date-parts": [[day.year, day.month, day.day]]}
    if citation.abstract:
        item["abstract"] = citation.abstract
    if citation.doi:
        item["DOI"] = citation.doi
    if citation.arxiv:
        item["publisher"] = "arXiv"
        item["number"] = f"arXiv:{citation.arxiv}"
    return item


def csl_json(papers: Iterable[Paper]) -> str:
    return json.dumps([csl_item(citation_of(p)) for p in papers], ensure_ascii=False, indent=2)


def export(papers: Sequence[Paper], fmt: str) -> str:
    """The papers in ``fmt`` (one of FORMATS)."""
    if fmt == "bibtex":
        return bibtex(papers)
    if fmt == "ris":
        return ris(papers)
    if fmt == "csl-json":
        return csl_json(papers) + "\n"
    raise ValueError(f"unknown citation format {fmt!r}")


# --- on the web page ------------------------------------------------------------------------


def highwire_meta(paper: Paper, base_url: str) -> list[tuple[str, str]]:
    """(name, content) of the Highwire Press ``citation_*`` meta tags Zotero and Google Scholar
    read; the page's autoescaping makes each content a safe attribute."""
    citation = citation_of(paper)
    tags = [("citation_title", citation.title)]
    tags += [("citation_author", name) for name in citation.authors]
    if citation.published:
        tags.append(("citation_publication_date", citation.published.strftime("%Y/%m/%d")))
    if citation.online:
        tags.append(("citation_online_date", citation.online.strftime("%Y/%m/%d")))
    if citation.arxiv:
        tags.append(("citation_arxiv_id", citation.arxiv))
        tags.append(("citation_technical_report_institution", "arXiv"))
    if citation.doi:
        tags.append(("citation_doi", citation.doi))
    if citation.pdf_url:
        tags.append(("citation_pdf_url", citation.pdf_url))
    tags.append(("citation_abstract_html_url", paper_page(base_url, paper.id)))
    return tags


def coins(paper: Paper) -> str:
    """The OpenURL (Z39.88-2004) context object of a COinS span's title, URL-encoded (the
    page escapes it again as an attribute)."""
    citation = citation_of(paper)
    pairs = [
        ("ctx_ver", "Z39.88-2004"),
        ("rft_val_fmt", "info:ofi/fmt:kev:mtx:journal"),
        ("rft.genre", "article" if citation.doi else "preprint"),
        ("rft.atitle", citation.title),
    ]
    pairs += [("rft.au", name) for name in citation.authors]
    if citation.published:
        pairs.append(("rft.date", citation.published.isoformat()))
    if citation.arxiv:
        pairs.append(("rft.jtitle", "arXiv"))
        pairs.append(("rft_id", f"info:arxiv/{citation.arxiv}"))
    if citation.doi:
        pairs.append(("rft_id", f"info:doi/{citation.doi}"))
    pairs.append(("rft_id", citation.url))
    return urlencode(pairs)
