"""The welcome mail's "View in browser" (a /view/<token> without an issue: the next digest) and
its JSON show the same plan: papers, order, topic headings and reasons, parsed from each."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from digest.paper_store import ingest
from digest.web.signup_pages import links_for
from digest.web.state import Web
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.papers import Paper
from subscribers import store
from tests.e2e.test_view_is_the_mail import Shown, _MailParser, differ, json_of_page, shown_by
from tests.web_site import Clock, Site

PAPERS = [
    Paper(f"2411.0020{i}", title, abstract, upvotes=10 + i)
    for i, (title, abstract) in enumerate(
        [
            ("Graph neural networks for molecules", "Message passing graph neural networks."),
            ("Diffusion models for images", "A diffusion model for image generation."),
            ("Deeper graph neural networks", "We train graph neural networks deeper."),
            ("Latent diffusion at scale", "Diffusion in latent space for images."),
            ("Graph neural networks on hypergraphs", "Graph neural networks for hypergraphs."),
        ]
    )
]


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    return Site(settings, engine, Clock(now))


def test_the_next_digest_preview_and_its_json_show_one_plan(site: Site, now: datetime) -> None:
    ingest(site.engine, PAPERS, now - timedelta(hours=2))
    with transaction(site.engine) as connection:
        person_id = store.add(
            connection,
            "ada@example.org",
            now - timedelta(days=2),
            topics=("graph neural networks", "diffusion"),
            status="active",
        )
        person = store.get(connection, person_id)
    web: Web = site.client.app.state.web
    view = site.path_of(links_for(web, person).view_in_browser)
    page = site.client.get(view)
    assert page.status_code == 200, page.text
    shown = shown_by(_MailParser(), page.text)
    assert len(shown.cards) >= 3
    assert {c.heading for c in shown.cards} >= {"graph neural networks", "diffusion"}
    assert all(c.why for c in shown.cards)
    answer = site.client.get(f"{view}.json")
    assert answer.status_code == 200, answer.text
    data = Shown(json_of_page(answer.json()).cards, shown.lead_label)
    assert data == shown, differ(data, shown)
