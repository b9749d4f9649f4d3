"""Heavy page work is off the event loop, and each card is built once per request (issue 22:
/issue/N held every other page for 15 s, and the feed built each card three times)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from digest.compose.cards import CardView, card_view
from digest.compose.plan import DigestPlan, PlannedCard
from digest.issues import open_issue, set_status
from digest.paper_store import ingest
from digest.sending.ledger.feed import file_for_feed
from digest.web.signup_pages import links_for
from digest.web.state import Web
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.papers import Paper
from subscribers import store
from subscribers.links import feed_link
from subscribers.model import Subscriber
from tests.web_site import Clock, Site

HUGE = "A. " * 15_000  # the 45 KB abstract that held the loop for 15 s
PAPERS = [
    Paper("2411.00101", "Graph neural networks at scale", HUGE, upvotes=30),
    Paper(
        "2411.00102", "Diffusion models for molecules", "We propose a diffusion model.", upvotes=20
    ),
    Paper("2411.00103", "Robots that learn to grasp", "A robotic policy for grasping.", upvotes=10),
]
WAIT = 20.0  # seconds a step may take before the test fails (never a fixed sleep)


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    return Site(settings, engine, Clock(now))


def web_of_site(site: Site) -> Web:
    web: Web = site.client.app.state.web
    return web


def published_issue(site: Site, now: datetime) -> int:
    ingest(site.engine, PAPERS, now)
    with transaction(site.engine) as connection:
        issue = open_issue(connection, now.date(), "daily", now)
        set_status(connection, issue.id, "done", now)
    return issue.id


def test_a_slow_issue_page_does_not_hold_other_requests(site: Site, now: datetime) -> None:
    number = published_issue(site, now)
    web = web_of_site(site)
    entered, release = threading.Event(), threading.Event()
    asset = web.env.globals["asset"]

    def held_asset(name: str) -> Any:
        # the first render (the issue page's) stops here until the test lets it go
        if not entered.is_set():
            entered.set()
            release.wait(WAIT)
        return asset(name)

    web.env.globals["asset"] = held_asset

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=site.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            issue = asyncio.create_task(http.get(f"/issue/{number}"))
            assert await asyncio.to_thread(entered.wait, WAIT)
            other = await asyncio.wait_for(http.get("/privacy"), WAIT)
            assert other.status_code == 200
            assert not issue.done()  # the other page was answered while the issue rendered
            release.set()
            page = await asyncio.wait_for(issue, WAIT)
            assert page.status_code == 200 and "Graph neural networks at scale" in page.text

    try:
        asyncio.run(scenario())
    finally:
        release.set()


def counting(web: Web) -> Counter[str]:
    built: Counter[str] = Counter()

    def build(paper: Paper) -> CardView:
        built[paper.id] += 1
        return card_view(paper)

    web.card_view = build
    return built


def subscriber_with_two_issues(site: Site, now: datetime) -> tuple[Subscriber, list[int]]:
    ingest(site.engine, PAPERS, now)
    numbers = []
    with transaction(site.engine) as connection:
        person_id = store.add(
            connection, "ada@example.org", now, topics=("graphs",), status="active"
        )
        for day, picks in enumerate(([0, 1], [1, 2])):
            issue = open_issue(connection, now.date().replace(day=1 + day), "daily", now)
            cards = tuple(PlannedCard(PAPERS[i], ("matches: graphs",)) for i in picks)
            chosen = DigestPlan("personal", ("graphs",), cards)
            assert file_for_feed(connection, issue.id, person_id, chosen, now)
            numbers.append(issue.id)
    with site.engine.connect() as connection:
        return store.get(connection, person_id), numbers


def test_the_feed_builds_each_card_once(site: Site, now: datetime) -> None:
    person, _ = subscriber_with_two_issues(site, now)
    web = web_of_site(site)
    built = counting(web)
    url = feed_link(web.base_url, web.signer, person.id, person.feed_version, now)
    feed = site.client.get(site.path_of(url))
    assert feed.status_code == 200 and "Diffusion models for molecules" in feed.text
    # three papers in two issues (one in both): each card once, not once per use
    assert built == {paper.id: 1 for paper in PAPERS}


def test_the_json_view_builds_each_card_once(site: Site, now: datetime) -> None:
    person, numbers = subscriber_with_two_issues(site, now)
    web = web_of_site(site)
    built = counting(web)
    view = links_for(web, person, numbers[1]).view_in_browser
    answer = site.client.get(site.path_of(view) + ".json")
    assert answer.status_code == 200
    assert [p["id"] for p in answer.json()["papers"]] == [PAPERS[1].id, PAPERS[2].id]
    assert built == {PAPERS[1].id: 1, PAPERS[2].id: 1}
