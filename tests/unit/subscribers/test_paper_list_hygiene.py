"""Every text a list of liked papers yields (lines, BibTeX, Zotero CSV) has been through the one
text cleaner: no noncharacter, lone surrogate or control character reaches seeding."""

from __future__ import annotations

import pytest

from subscribers.paper_list import Cited, read_paper_list

BAD = "\uffff\ufffe\ufdd0\ud800\x1f\u202e"
BIBTEX = (
    "@article{key" + BAD + ",\n"
    "  title = {Graph" + BAD + " networks},\n"
    "  author = {Ada" + BAD + " Lovelace and \uffff},\n"
    "  abstract = {An abstract" + BAD + " here.},\n"
    "}\n"
)
ZOTERO = (
    '"Item Type","Title","Author","Abstract Note","Url"\n'
    '"journalArticle","Graph'
    + BAD
    + ' networks","Lovelace'
    + BAD
    + ', Ada","An abstract'
    + BAD
    + ' here.",""\n'
)
LINES = "Graph" + BAD + " networks\n"


def _texts(cited: Cited) -> list[str]:
    return [cited.label, cited.title, cited.abstract, *cited.authors]


@pytest.mark.parametrize("listed", [BIBTEX, ZOTERO, LINES], ids=["bibtex", "zotero", "lines"])
def test_every_text_a_list_yields_is_clean(listed: str) -> None:
    found = read_paper_list(listed)
    assert found.cited
    for cited in found.cited:
        for text in _texts(cited):
            assert not any(ch in text for ch in BAD), repr(text)
            text.encode("utf-8")
        assert "Graph networks" in (cited.title or cited.label)
