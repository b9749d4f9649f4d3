"""Text hygiene (papercore.text): what comes out is one clean line that XML 1.0, MJML and UTF-8
all carry, whatever went in."""

from __future__ import annotations

import json
import sys
import unicodedata
import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from papercore.papers import Paper, clean_paper, is_title_id, paper_id_for
from papercore.text import clean_block, clean_text, is_noncharacter

# What broke the MJML compiler, the feed or UTF-8, and what hides or reverses text.
HOSTILE = [
    "\uffff", "\ufffe", "\ufdd0", "\ufdef", "\U0001fffe", "\U0010ffff", "\x00", "\x1f", "\x7f",
    "\x85", "\ud800", "\udfff", "\udcff", "\u202e", "\u2066", "\u200b", "\ufeff", "\u2028",
    "\u2029", "\r", "\t", "<", "&", "]", ">",
]  # fmt: skip
ANY_TEXT = st.text(st.one_of(st.characters(exclude_categories=()), st.sampled_from(HOSTILE)))


def xml_char(ch: str) -> bool:
    """XML 1.0 section 2.2's Char production, minus the noncharacters it discourages."""
    code = ord(ch)
    allowed = (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )
    return allowed and not is_noncharacter(code)


def test_the_characters_that_stopped_a_digest_are_removed() -> None:
    assert clean_text("Graph\uffff networks\ufffe") == "Graph networks"
    assert clean_text("\ufdd0A\U0001fffe B\U0010ffff") == "A B"
    assert clean_text("lone \ud800surrogate\udfff") == "lone surrogate"
    assert clean_text("\x00nul\x1fand\x7fdel") == "nul and del"


def test_a_surrogate_pair_becomes_the_character_it_encodes() -> None:
    assert clean_text("smile \ud83d\ude00") == "smile \U0001f600"


def test_what_clean_did_before_is_kept() -> None:
    assert clean_text("  a\n\tb  ") == "a b"
    assert clean_text("evil\u202e txt.exe") == "evil txt.exe"  # a bidi override
    assert clean_text("zero\u200bwidth\ufeff") == "zerowidth"
    assert clean_text("family \U0001f468\u200d\U0001f469") == "family \U0001f468\u200d\U0001f469"
    assert clean_text("e\u0301") == "\u00e9"  # NFC
    assert clean_text("line\u2028break\u2029end") == "line break end"
    assert clean_text(None) == "" and clean_text("\uffff") == ""


def test_a_block_keeps_its_lines_and_controls_for_its_reader_to_refuse() -> None:
    assert (
        clean_block("@article{a,\r\n  title={X\uffff}\r\n}\ud800") == "@article{a,\n  title={X}\n}"
    )
    assert clean_block("tab\there \x00\U0010ffff") == "tab\there \x00"


def test_control_and_format_characters_live_only_in_the_planes_scanned() -> None:
    """papercore.text scans planes 0, 1 and 14 for them (fast); this checks every plane."""
    elsewhere = [
        hex(code)
        for code in range(0x20000, sys.maxunicode + 1)
        if code < 0xE0000 or code >= 0xE1000
        if unicodedata.category(chr(code)) in ("Cc", "Cf", "Zl", "Zp")
    ]
    assert elsewhere == []


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_clean_text_gives_one_line_xml_and_json_carry(raw: str) -> None:
    cleaned = clean_text(raw)
    assert all(xml_char(ch) for ch in cleaned)
    assert "\n" not in cleaned and cleaned == cleaned.strip()
    assert clean_text(cleaned) == cleaned  # idempotent
    cleaned.encode("utf-8")
    assert json.loads(json.dumps(cleaned, ensure_ascii=False)) == cleaned
    root = ET.fromstring(f"<t>{cleaned.replace('&', '&amp;').replace('<', '&lt;')}</t>")
    assert (root.text or "") == cleaned


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT)
def test_clean_block_leaves_no_noncharacter_or_lone_surrogate(raw: str) -> None:
    cleaned = clean_block(raw)
    assert not any(is_noncharacter(ord(ch)) for ch in cleaned) and "\r" not in cleaned
    cleaned.encode("utf-8")
    assert clean_block(cleaned) == cleaned


def test_a_paper_is_cleaned_field_by_field_and_its_title_id_follows_its_title() -> None:
    raw = "Noisy\uffff title"
    paper = Paper(
        paper_id_for(raw, None),
        raw,
        "An abstract\ufffe with \ud800 junk",
        authors=("Ada\u202e Lovelace", "\uffff"),
        ai_summary="\ufdd0",
        code_url="https://github.com/x/\uffffy",
        page_url="https://example.org/p",
    )
    cleaned = clean_paper(paper)
    assert cleaned.title == "Noisy title" and cleaned.abstract == "An abstract with junk"
    assert cleaned.authors == ("Ada Lovelace",) and cleaned.ai_summary is None
    assert cleaned.code_url is None and cleaned.page_url == "https://example.org/p"
    assert is_title_id(cleaned.id) and cleaned.id == paper_id_for("Noisy title", None)
    assert clean_paper(paper, keep_id=True).id == paper.id  # a stored row keeps its key
    assert clean_paper(cleaned) is cleaned  # nothing to do: the same object
