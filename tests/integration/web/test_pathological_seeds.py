"""Issue 22 (web attacks, finding 3): a pathological BibTeX seed list (60 KB of ``@a{``) is parsed
off the event loop, adds no warning per unreadable block to the log, gets a small page that
names the first unreadable blocks and counts the rest, and is stored in a signup submission only
as that capped list. Through the real app."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import pytest
from sqlalchemy import Engine, Text, cast, func, select

from papercore.config import Settings
from papercore.db.schema import signup_submissions
from subscribers import paper_list
from subscribers.paper_list import PaperList
from tests.integration.web.test_seed_privacy import links, person_at
from tests.web_site import Clock, Site, hidden_fields

PATHOLOGICAL = "@a{" * 20_000  # 60 KB


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    ranking = settings.ranking.model_copy(update={"semantic": "off"})
    return Site(settings.model_copy(update={"ranking": ranking}), engine, Clock(now))


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each BibTeX parse, whether it ran on a thread with a running event loop."""
    on_loop: list[bool] = []
    parse = paper_list.parse_bibtex

    def watched(text: str, where: str = "") -> PaperList:
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)
        return parse(text, where)

    monkeypatch.setattr(paper_list, "parse_bibtex", watched)
    return on_loop


def test_a_pathological_seed_list_is_parsed_off_the_loop_quietly_and_summarised(
    site: Site, parses: list[bool], caplog: pytest.LogCaptureFixture
) -> None:
    site.signup("ada@example.org")
    site.confirm(site.mailer.last("confirm").links["confirm"])
    path = site.path_of(links(site, person_at(site, "ada@example.org")).preferences)
    plain = site.client.get(path).text
    token = hidden_fields(plain)["csrf_token"]
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        answer = site.client.post(
            f"{path}/seed",
            data={"csrf_token": token, "papers": ""},
            files={"papers_file": ("papers.bib", PATHOLOGICAL.encode(), "text/plain")},
        )
    assert answer.status_code in (200, 422)
    assert parses == [False]  # in a worker thread, not on the event loop
    assert len(caplog.records) < 10, [r.getMessage() for r in caplog.records[:5]]
    assert len(answer.text) < len(plain) + 5_000  # was 1 MB: 20,000 blocks listed
    assert answer.text.count("could not be read") <= paper_list.MAX_UNREADABLE + 1
    assert "more could not be read" in answer.text


def test_an_anonymous_pathological_seed_is_stored_only_as_the_capped_list(
    site: Site, engine: Engine, parses: list[bool], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        status, page = site.signup("eve@example.org", papers="@a(" * 6_500)  # 19.5 KB
    assert status == 200
    assert parses == [False]
    assert len(caplog.records) < 20, [r.getMessage() for r in caplog.records[:5]]
    assert len(page) < 20_000
    with engine.connect() as connection:
        stored = connection.execute(
            select(func.max(func.length(cast(signup_submissions.c.seeds, Text))))
        ).scalar_one()
    assert stored is not None and stored < 2_000
