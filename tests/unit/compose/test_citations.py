"""Citations of a paper (BibTeX, RIS, CSL-JSON, Highwire meta, COinS), read back by parsers:
the same title, authors and ids come out as went in, hostile text included."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from urllib.parse import parse_qs

import bibtexparser
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from digest.compose.cards import paper_page
from digest.compose.citations import bibtex, coins, csl_json, highwire_meta, ris
from digest.compose.text import clean
from papercore.papers import Paper

HOSTILE_TITLE = 'Evil {unbalanced \\ title "q" <script>alert(1)</script>\n} 50% $x_1$ & #2 ~'
HOSTILE_AUTHORS = ("Ada {Love}lace", "Rob and Bob", 'Eve "<script>" \\x', "Line\nBreak")
# what every surface shows of them: one line, LaTeX read as text (compose.text.clean)
CLEAN_AUTHORS = tuple(clean(name) for name in HOSTILE_AUTHORS)
CLEAN_TITLE = clean(HOSTILE_TITLE)

HOSTILE = Paper(
    "2411.00042",
    HOSTILE_TITLE,
    "An abstract\nover two lines } with { braces.",
    authors=HOSTILE_AUTHORS,
    published=date(2024, 11, 5),
    posted_at=datetime(2024, 11, 4, 18, tzinfo=UTC),
)
OLD_STYLE = Paper(
    "hep-th/9901001", "Old strings", authors=("E. Witten",), published=date(1999, 1, 4)
)
WITH_DOI = Paper(
    "t:0123456789abcdef01234567",
    "A journal paper",
    page_url="https://doi.org/10.1145/3366423.3380000",
    authors=("Grace Hopper",),
    published=date(2020, 4, 20),
)

_DB = get_default_latex_context_db()
_DB.add_context_category(
    "braces",
    macros=[MacroTextSpec("textbraceleft", "{"), MacroTextSpec("textbraceright", "}")],
    prepend=True,
)
_TEXT = LatexNodes2Text(latex_context=_DB)


def literal(tex: str) -> str:
    """What a TeX reader shows for a value (bibtexparser took off the enclosing braces)."""
    return _TEXT.latex_to_text(tex)


def parsed(text: str) -> dict[str, dict[str, str]]:
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    return {
        entry.key: {"@type": entry.entry_type} | {f.key: str(f.value) for f in entry.fields}
        for entry in library.entries
    }


def test_bibtex_reads_back_with_the_same_title_authors_and_eprint() -> None:
    entries = parsed(bibtex([HOSTILE, OLD_STYLE, WITH_DOI]))
    assert len(entries) == 3
    entry = entries["2411.00042"]
    assert entry["@type"] == "misc"
    assert entry["eprint"] == "2411.00042" and entry["archivePrefix"] == "arXiv"
    assert literal(entry["title"]) == CLEAN_TITLE
    # the authors split where BibTeX splits them: at " and " outside braces
    names = _split_authors(entry["author"])
    assert [literal(n) for n in names] == list(CLEAN_AUTHORS)
    assert entry["year"] == "2024"
    old = entries["hep-th_9901001"]
    assert old["eprint"] == "hep-th/9901001" and old["primaryClass"] == "hep-th"
    journal = entries["t:0123456789abcdef01234567"]
    assert journal["@type"] == "article" and journal["doi"] == "10.1145/3366423.3380000"
    assert "eprint" not in journal


def _split_authors(value: str) -> list[str]:
    names, depth, start = [], 0, 0
    i = 0
    while i < len(value):
        ch = value[i]
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0 and value.startswith(" and ", i):
            names.append(value[start:i])
            i += 5
            start = i
            continue
        i += 1
    names.append(value[start:])
    return [n[1:-1] if n.startswith("{") and n.endswith("}") else n for n in names]


def test_every_brace_in_the_bibtex_is_balanced_whatever_the_title() -> None:
    for title in ["}" * 5, "{" * 5, "\\", "a}b{c", "@misc{x, title={y}}"]:
        text = bibtex([Paper("2411.00001", title)])
        depth = 0
        for ch in text:
            depth += {"{": 1, "}": -1}.get(ch, 0)
            assert depth >= 0, text
        assert depth == 0, text
        (entry,) = parsed(text).values()
        assert literal(entry["title"]) == (clean(title) or "(untitled)")


def test_ris_is_one_field_per_line() -> None:
    text = ris([HOSTILE, WITH_DOI])
    records: list[list[tuple[str, str]]] = [[]]
    for line in text.splitlines():
        if not line:
            continue
        tag, sep, value = line[:2], line[2:6], line[6:]
        assert sep == "  - " and tag.isalnum() and tag.isupper(), line
        records[-1].append((tag, value))
        if tag == "ER":
            records.append([])
    assert records.pop() == []
    first, second = (dict_of(r) for r in records)
    assert first["TY"] == ["UNPB"] and first["TI"] == [CLEAN_TITLE]
    assert first["AU"] == list(CLEAN_AUTHORS)
    assert first["PY"] == ["2024"] and first["DA"] == ["2024/11/05"]
    assert first["AB"] == ["An abstract over two lines } with { braces."]
    assert first["UR"] == ["https://arxiv.org/abs/2411.00042"]
    assert second["TY"] == ["JOUR"] and second["DO"] == ["10.1145/3366423.3380000"]


def dict_of(record: list[tuple[str, str]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for tag, value in record:
        found.setdefault(tag, []).append(value)
    return found


def test_csl_json_has_the_csl_fields() -> None:
    items = json.loads(csl_json([HOSTILE, WITH_DOI]))
    first, second = items
    assert first["type"] == "article" and first["title"] == CLEAN_TITLE
    assert first["author"][0] == {"family": "{Love}lace", "given": "Ada"}
    assert first["issued"] == {"date-parts": [[2024, 11, 5]]}
    assert first["number"] == "arXiv:2411.00042" and first["URL"].endswith("2411.00042")
    assert second["type"] == "article-journal" and second["DOI"] == "10.1145/3366423.3380000"


def test_meta_tags_and_coins_name_every_author() -> None:
    tags = highwire_meta(HOSTILE, "https://digest.example.org")
    assert [v for k, v in tags if k == "citation_author"] == list(CLEAN_AUTHORS)
    assert ("citation_title", CLEAN_TITLE) in tags
    assert ("citation_online_date", "2024/11/04") in tags
    assert ("citation_pdf_url", "https://arxiv.org/pdf/2411.00042") in tags
    query = parse_qs(coins(HOSTILE), strict_parsing=True)
    assert query["ctx_ver"] == ["Z39.88-2004"] and query["rft.atitle"] == [CLEAN_TITLE]
    assert query["rft.au"] == list(CLEAN_AUTHORS)
    assert "info:arxiv/2411.00042" in query["rft_id"]


def test_every_card_of_the_mail_links_its_bibtex_in_html_and_text() -> None:
    from tests.compose_support import links, paper, pick, prepared, subscriber

    papers = [paper(i) for i in range(4)] + [paper(9, id="hep-th/9901001")]
    message = prepared(papers).message(subscriber(), [pick(p) for p in papers], links(subscriber()))
    for found in papers:
        url = paper_page("https://digest.example.org", found.id) + ".bib"
        assert f'<a href="{url}"' in message.html and ">Cite</a>" in message.html
        assert f"Cite: {url}" in message.text
    assert message.html.count(">Cite</a>") == len(papers)
