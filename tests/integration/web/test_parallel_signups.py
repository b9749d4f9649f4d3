"""Issue 22 (web attacks, finding 1): simultaneous signups of one new address through the real
uvicorn server never fail (a 500 for an unknown address, never for a known one, told who is
subscribed): the insert decides who creates the row, a lost race is a submission of its own.
SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
from datetime import datetime

import httpx
from sqlalchemy import Engine, func, select

from papercore.config import Settings
from papercore.db.schema import subscribers
from tests.integration.web.test_account_pages import save_preferences, subscribed
from tests.integration.web.test_exactly_once import BROWSERS, queued
from tests.integration.web.test_proxies import served
from tests.web_site import Clock, Site, hidden_fields


def signups_at_once(base: str, email: str) -> list[tuple[int, str]]:
    """BROWSERS browsers each open the signup form, then all send it at the same moment."""
    browsers = [httpx.Client(base_url=base, timeout=60) for _ in range(BROWSERS)]
    forms = [
        hidden_fields(browser.get("/").text)
        | {
            "email": email,
            "topics": "graphs",
            "frequency": "daily",
            "weekday": "0",
            "hour": "7",
            "timezone": "UTC",
            "website": "",
        }
        for browser in browsers
    ]
    start = threading.Barrier(BROWSERS)
    answers: list[tuple[int, str]] = [(0, "")] * BROWSERS

    def post(k: int) -> None:
        start.wait()
        answer = browsers[k].post("/", data=forms[k])
        # signup answers with a 303 to its "check your inbox" page (Post/Redirect/Get)
        answers[k] = (answer.status_code, answer.headers.get("location", "") or answer.text)

    threads = [threading.Thread(target=post, args=(k,)) for k in range(BROWSERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for browser in browsers:
        browser.close()
    return answers


def test_eight_simultaneous_signups_of_a_new_address_all_get_the_same_page(
    settings: Settings, engine: Engine, now: datetime
) -> None:
    settings.web.signup_min_seconds = 0
    with served(settings, engine, now) as base:
        answers = signups_at_once(base, "new@example.org")
    codes = [code for code, _ in answers]
    assert set(codes) <= {303, 429}, [page[-400:] for _, page in answers]  # never a 500
    assert codes.count(303) >= 1
    pages = {re.sub(r'value="[^"]{20,}"', "", p) for code, p in answers if code == 303}
    assert pages == {"/signup/sent"}
    with engine.connect() as connection:
        rows = connection.execute(
            select(func.count()).where(subscribers.c.email == "new@example.org")
        ).scalar_one()
    assert rows == 1
    assert 1 <= queued(engine, "confirm") <= settings.web.signup_per_address_per_day


def test_simultaneous_address_changes_to_one_address_move_exactly_one(
    settings: Settings, engine: Engine, now: datetime
) -> None:
    site = Site(settings, engine, Clock(now))
    people = [subscribed(site, f"p{k}@example.org") for k in range(BROWSERS)]
    for person in people:
        status, _ = save_preferences(site, person, email="taken@example.org")
        assert status == 200
    confirms = [n.links["confirm"] for n in site.mailer.sent if n.kind == "confirm_address"]
    assert len(confirms) == BROWSERS
    with served(settings, engine, site.clock()) as base:
        browsers = [httpx.Client(base_url=base, timeout=60) for _ in range(BROWSERS)]
        paths = [site.path_of(url) for url in confirms]
        forms = [hidden_fields(b.get(p).text) for b, p in zip(browsers, paths, strict=True)]
        start = threading.Barrier(BROWSERS)
        codes = [0] * BROWSERS

        def post(k: int) -> None:
            start.wait()
            codes[k] = browsers[k].post(paths[k], data=forms[k]).status_code

        threads = [threading.Thread(target=post, args=(k,)) for k in range(BROWSERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        for browser in browsers:
            browser.close()
    assert 500 not in codes and 0 not in codes, codes
    with engine.connect() as connection:
        moved = connection.execute(
            select(func.count()).where(subscribers.c.email == "taken@example.org")
        ).scalar_one()
    assert moved == 1
