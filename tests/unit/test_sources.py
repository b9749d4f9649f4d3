"""Each parser on real sample data and on broken input."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from digest.sources import arxiv, detect, hf_daily, listing_page, parse
from digest.sources.fetch import Document
from papercore.errors import ParseError
from papercore.papers import title_hash
from tests.conftest import FIXTURES, NOW, SAMPLE_PAGES


def page(text: str, name: str = "page.txt") -> Document:
    return Document(name, text.encode("utf-8"))


HEADER = (
    "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\n"
    "byAK and the research community\n\n"
)
ABSTRACT = "We study things. " * 30


def test_the_five_sample_pages_hold_288_distinct_papers() -> None:
    counts, keys = [], set()
    for path in SAMPLE_PAGES:
        papers = listing_page.parse(Document(str(path), path.read_bytes()), NOW)
        counts.append(len(papers))
        keys |= {p.key for p in papers}
    assert counts == [62, 76, 52, 57, 91]
    assert len(keys) == 288


def test_page_with_metadata_reads_authors_dates_and_page_date() -> None:
    papers = listing_page.parse(Document("p", SAMPLE_PAGES[1].read_bytes()), NOW)
    first = papers[0]
    assert first.title == "LeYOLO, New Scalable and Efficient CNN Architecture for Object Detection"
    assert first.author_count == 4
    assert first.published == date(2024, 6, 20)
    assert first.posted_at == datetime(2026, 11, 6, tzinfo=UTC)  # "Nov 6": the current year
    assert first.abstract.startswith("Computational efficiency in deep neural networks")
    assert first.id.startswith("t:")


def test_date_without_a_year_is_this_year_and_page_without_metadata_works() -> None:
    text = (
        HEADER
        + "Mar 12\n\nA Title\n\n"
        + ABSTRACT
        + "\n\n  • 1 author\n·\nMay 24\n\nB Title\n\n"
        + ABSTRACT
        + "\n"
    )
    a, b = listing_page.parse(page(text), NOW)
    assert a.published == date(2026, 5, 24) and a.author_count == 1
    assert b.published is None and b.author_count is None


def test_page_without_header_or_date_still_parses() -> None:
    papers = listing_page.parse(page("Only Title\n\n" + ABSTRACT), NOW)
    assert [p.title for p in papers] == ["Only Title"]
    assert papers[0].posted_at is None


def test_truncated_page_names_the_line_of_the_title_without_abstract() -> None:
    text = HEADER + "Mar 12\n\nA Title\n\n" + ABSTRACT + "\n\nCut Off Title\n"
    with pytest.raises(ParseError) as caught:
        listing_page.parse(page(text, "cut.txt"), NOW)
    assert caught.value.line == 15
    assert str(caught.value).startswith("cut.txt:15: title 'Cut Off Title' has no abstract")


def test_missing_title_line_is_caught_as_a_misaligned_paragraph() -> None:
    text = (
        HEADER + "Mar 12\n\nA Title\n\n" + ABSTRACT + "\n\n" + ABSTRACT + "\n\nNext\n\n" + ABSTRACT
    )
    with pytest.raises(
        ParseError, match=r"page.txt:15: expected a paper title, found a \d+-character"
    ):
        listing_page.parse(page(text), NOW)


def test_metadata_where_a_title_belongs_is_an_error() -> None:
    with pytest.raises(ParseError, match="expected a paper title"):
        listing_page.parse(page(HEADER + "Mar 12\n\n·\n\nTitle\n\n" + ABSTRACT), NOW)


def test_invalid_calendar_date_is_an_error() -> None:
    text = HEADER + "A Title\n\n" + ABSTRACT + "\n\n·\nFeb 30, 2024\n"
    with pytest.raises(ParseError, match="invalid date 'Feb 30, 2024'"):
        listing_page.parse(page(text), NOW)


@pytest.mark.parametrize(
    "data, why",
    [
        (b"Title\n\nabstract\n\x00\x01\x02garbage", "binary data"),
        (b"Title\n\n\xff\xfe\xfa not utf8", "not valid UTF-8"),
        (bytes(range(256)) * 4, "binary data"),
    ],
)
def test_binary_garbage_is_a_one_line_error(data: bytes, why: str) -> None:
    with pytest.raises(ParseError) as caught:
        listing_page.parse(Document("junk.bin", data), NOW)
    assert why in str(caught.value)
    assert "\n" not in str(caught.value)


def test_empty_page_is_an_error() -> None:
    with pytest.raises(ParseError, match="no papers found"):
        listing_page.parse(page(HEADER + "Mar 12\n"), NOW)


# Hugging Face daily papers


def hf_document() -> Document:
    path = FIXTURES / "hf_daily.json"
    return Document(str(path), path.read_bytes())


def test_hf_items_become_papers_with_counts_and_links() -> None:
    pres, wireless, deps = hf_daily.parse(hf_document(), NOW)
    assert pres.id == "2402.03142"
    assert pres.title == "PRES: Toward Scalable Memory-Based Dynamic Graph Neural Networks"
    assert pres.authors == ("Junwei Su", "Difan Zou", "Chuan Wu")
    assert (pres.upvotes, pres.comments) == (42, 3)
    assert pres.code_url == "https://github.com/jwsu825/MDGNN_BS"
    assert pres.published == date(2024, 2, 5)
    assert pres.posted_at == datetime(2024, 2, 6, tzinfo=UTC)
    assert pres.page_url == "https://huggingface.co/papers/2402.03142"
    assert pres.ai_summary and pres.ai_summary.startswith("PRES trains")
    assert wireless.authors == ("Ada Lovelace", "Grace Hopper")  # hidden author left out
    assert wireless.code_url is None  # missing is not zero
    assert deps.authors == () and deps.author_count is None


def test_hf_items_give_the_thumbnail_and_project_page_when_https() -> None:
    pres, wireless, _ = hf_daily.parse(hf_document(), NOW)
    assert pres.thumbnail_url == (
        "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2402.03142.png"
    )
    assert pres.project_url is None and wireless.thumbnail_url is None  # missing stays None
    items = (
        '[{"paper": {"id": "2401.00001", "title": "A", "projectPage": " https://a.example.org/ "},'
        ' "thumbnail": "http://cdn.example.org/a.png"},'
        ' {"paper": {"id": "2401.00002", "title": "B", "projectPage": "javascript:alert(1)"},'
        ' "thumbnail": "https://cdn.example.org/b\\".png"},'
        ' {"paper": {"id": "2401.00003", "title": "C", "projectPage": 7}, "thumbnail": "/b.png"}]'
    )
    a, b, c = hf_daily.parse(Document("hf.json", items.encode()), NOW)
    assert a.project_url == "https://a.example.org/"
    assert a.thumbnail_url is None  # not https: dropped
    assert (b.project_url, b.thumbnail_url) == (None, None)
    assert (c.project_url, c.thumbnail_url) == (None, None)


def test_hf_invalid_json_names_the_line() -> None:
    with pytest.raises(ParseError) as caught:
        hf_daily.parse(Document("hf.json", b'[\n {"paper": {"id": "1"}},\n oops\n]'), NOW)
    assert caught.value.line == 3
    assert "invalid JSON" in str(caught.value)


@pytest.mark.parametrize(
    "item, why",
    [
        ("{}", "item 1: has no 'paper' object"),
        ('{"paper": {"title": "T"}}', "item 1: paper.id is missing"),
        ('{"paper": {"id": "2401.00001"}}', "item 1: paper.title is missing"),
        ('{"paper": {"id": "2401.00001", "title": "T", "upvotes": "many"}}', "paper.upvotes"),
        (
            '{"paper": {"id": "2401.00001", "title": "T", "publishedAt": "yesterday"}}',
            "invalid timestamp",
        ),
    ],
)
def test_hf_items_with_missing_or_bad_fields_fail(item: str, why: str) -> None:
    with pytest.raises(ParseError, match=why):
        hf_daily.parse(Document("hf.json", f"[{item}]".encode()), NOW)


def test_hf_object_instead_of_array_fails() -> None:
    with pytest.raises(ParseError, match="expected a JSON array"):
        hf_daily.parse(Document("hf.json", b'{"error": "rate limited"}'), NOW)


# arXiv Atom


def arxiv_document() -> Document:
    path = FIXTURES / "arxiv.xml"
    return Document(str(path), path.read_bytes())


def test_arxiv_entries_strip_versions_and_whitespace() -> None:
    first, second = arxiv.parse(arxiv_document(), NOW)
    assert first.id == "2510.01234"
    assert first.title == "Spectrum Sharing for Dense Wireless Networks with Federated Scheduling"
    assert first.abstract.startswith("We study spectrum sharing")
    assert first.authors == ("Ada Lovelace", "Grace Hopper")
    assert first.published == date(2025, 10, 1)
    assert first.page_url == "https://arxiv.org/abs/2510.01234"
    assert second.authors == ("Vint Cerf",)


def test_arxiv_entry_missing_id_names_its_line() -> None:
    text = (
        (FIXTURES / "arxiv.xml")
        .read_text()
        .replace("<id>http://arxiv.org/abs/2510.07777v1</id>", "")
    )
    with pytest.raises(ParseError) as caught:
        arxiv.parse(Document("feed.xml", text.encode()), NOW)
    assert "entry has no <id>" in str(caught.value)
    assert (
        caught.value.line == text[: text.index("<entry", text.index("<entry") + 1)].count("\n") + 1
    )


def test_arxiv_entry_missing_title_fails() -> None:
    text = (
        (FIXTURES / "arxiv.xml")
        .read_text()
        .replace("<title>Congestion Control for Low-Earth-Orbit Satellite Links</title>", "")
    )
    with pytest.raises(ParseError, match="entry has no <title>"):
        arxiv.parse(Document("feed.xml", text.encode()), NOW)


def test_arxiv_error_feed_reports_the_api_error() -> None:
    feed = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/api/errors#x</id>'
        "<title>Error</title><summary>incorrect id format for 1234</summary></entry></feed>"
    )
    with pytest.raises(ParseError, match="arXiv API error: incorrect id format"):
        arxiv.parse(Document("feed.xml", feed.encode()), NOW)


def test_arxiv_truncated_xml_names_the_line() -> None:
    text = (FIXTURES / "arxiv.xml").read_text()[:1500]
    with pytest.raises(ParseError, match=r"feed.xml:\d+: invalid XML"):
        arxiv.parse(Document("feed.xml", text.encode()), NOW)


def test_arxiv_refuses_entity_declarations() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><feed>&lol;</feed>'
    with pytest.raises(ParseError, match="document type declarations"):
        arxiv.parse(Document("bomb.xml", bomb.encode()), NOW)


def test_format_detection() -> None:
    assert detect(hf_document()) == "hf"
    assert detect(arxiv_document()) == "arxiv"
    assert detect(Document("p", SAMPLE_PAGES[0].read_bytes())) == "page"
    assert len(parse(hf_document(), "auto", NOW)) == 3


def test_same_title_in_two_sources_has_the_same_key() -> None:
    hf_titles = {p.key for p in hf_daily.parse(hf_document(), NOW)}
    page_titles = {
        p.key for p in listing_page.parse(Document("p", SAMPLE_PAGES[1].read_bytes()), NOW)
    }
    assert (
        title_hash("PRES: Toward Scalable Memory-Based Dynamic Graph Neural Networks")
        in hf_titles & page_titles
    )
    assert (
        title_hash("DεpS: Delayed ε-Shrinking for Faster Once-For-All Training")
        in hf_titles & page_titles
    )


def test_hf_item_errors_name_the_line_the_item_starts_on() -> None:
    text = (
        '[\n  {"paper": {"id": "2401.00001", "title": "Fine"}},\n\n  {"paper":\n   {"id": "x"}}\n]'
    )
    with pytest.raises(ParseError) as caught:
        hf_daily.parse(Document("hf.json", text.encode()), NOW)
    assert str(caught.value) == "hf.json:4: item 2: paper.title is missing"
