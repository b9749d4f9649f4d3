"""Seeding from a pasted or uploaded list on the preferences page: the lines an entry that was not
read is named by, the papers a summary names, and what the BibTeX parser says (both databases)."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
from sqlalchemy import Engine

from digest.paper_store import ingest
from papercore.config import Settings
from papercore.papers import Paper
from tests.integration.web.test_account_pages import post_on_preferences, subscribed
from tests.web_site import Clock, Site

STORED = [
    Paper("2406.00001", "Graph neural networks for <molecule> generation", "Graphs."),
    Paper("2406.00002", "Speech recognition with tiny transformers", "Speech."),
    Paper("2406.00003", "Diffusion models for tables", "Tables."),
    Paper("2406.00004", "Retrieval for long contexts", "Retrieval."),
    Paper("2406.00005", "Sparse attention at scale", "Attention."),
]
# The broken entry ("broken", no closing brace) starts on line 8 as an editor counts lines.
LIBRARY = "\n".join(
    [
        "% exported from a reference manager",
        "",
        "@article{graphs,",
        "  title={Graph neural networks for <molecule> generation},",
        "  eprint={2406.00001}",
        "}",
        "",
        "@article{broken, title={Speech recognition with tiny transformers}",
        "",
        "@article{tables, title={Diffusion models for tables}, eprint={2406.00003}}",
    ]
)
BROKEN = "BibTeX entry broken at line 8 of the {} was not read: it is not closed"


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    return Site(settings, engine, Clock(now))


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode(),
        lambda text: text.replace("\n", "\r\n").encode(),
        lambda text: b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode(),
        lambda text: text.replace("\n", "\r").encode(),
    ],
    ids=["lf", "crlf", "bom-crlf", "cr"],
)
def test_an_uploaded_file_and_pasted_text_name_the_same_line(site: Site, encode: object) -> None:
    assert callable(encode)
    ingest(site.engine, STORED, site.clock())
    person = subscribed(site)
    status, pasted = post_on_preferences(site, person, "seed", papers=LIBRARY)
    assert status == 200 and BROKEN.format("pasted text") in pasted
    status, uploaded = post_on_preferences(
        site, person, "seed", files={"papers_file": ("library.bib", encode(LIBRARY))}
    )
    assert status == 200 and BROKEN.format("uploaded file") in uploaded
    assert "line 9" not in uploaded


def test_the_summary_names_the_papers_it_liked_escaped_and_short(site: Site) -> None:
    ingest(site.engine, STORED, site.clock())
    person = subscribed(site)
    status, page = post_on_preferences(site, person, "seed", papers="2406.00001")
    assert status == 200
    assert "Liked 1 paper: “Graph neural networks for &lt;molecule&gt; generation”." in page
    assert "<molecule>" not in page
    status, page = post_on_preferences(
        site, person, "seed", papers="\n".join(p.id for p in STORED)
    )
    assert status == 200 and (
        "Liked 5 papers: “Graph neural networks for &lt;molecule&gt; generation”,"
        " “Speech recognition with tiny transformers”, “Diffusion models for tables”"
        " and 2 more."
    ) in page


def test_parser_warnings_become_lines_on_the_page_never_raw_log_lines(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    ingest(site.engine, STORED, site.clock())
    person = subscribed(site)
    bib = LIBRARY + "\n@article{graphs, title={Same key again}}\n@article{t, title={A}, title={B}}"
    with caplog.at_level(logging.DEBUG):
        status, page = post_on_preferences(
            site, person, "seed", files={"papers_file": ("library.bib", bib.encode())}
        )
    assert status == 200
    assert BROKEN.format("uploaded file") in page
    assert "BibTeX entry graphs at line 11 of the uploaded file was not read: an earlier" in page
    assert "BibTeX entry t at line 12 of the uploaded file was not read: it has more" in page
    assert "Liked 2 papers: “Graph neural networks" in page
    raw = [r for r in caplog.records if r.name.startswith("bibtexparser")]
    assert raw == [] and "aborted on line" not in caplog.text and "Same key" not in caplog.text
