"""Issue 23, item 2: what the preferences page promises about the next digest is the scheduler's
own answer. "Your first digest" only until the first one came; a "feed only" reader is never
promised an email; a slot that is due now is promised for now, not for tomorrow."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from papercore.config import Settings
from papercore.db.engine import transaction
from subscribers import store
from subscribers.links import SubscriberLinks
from subscribers.model import Subscriber
from tests.web_site import Clock, Site


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    return Site(settings, engine, Clock(now))


def subscribed(site: Site, email: str, **fields: str) -> Subscriber:
    site.signup(email, topics="graph neural networks", **fields)
    site.confirm(site.mailer.last("confirm", email).links["confirm"])
    with site.engine.connect() as connection:
        return store.get_by_email(connection, email)


def promise_on_preferences(site: Site, person: Subscriber) -> str:
    web = site.client.app.state.web  # type: ignore[attr-defined]
    link = SubscriberLinks(
        web.base_url, web.signer, person.id, person.token_version, None, site.clock()
    ).preferences
    page = site.client.get(site.path_of(link))
    assert page.status_code == 200
    found = re.search(r'<p class="lead">.*?</strong>\.\s*(.*?)</p>', page.text, re.S)
    assert found is not None, page.text
    return " ".join(found.group(1).split())


def test_after_the_first_digest_the_page_promises_the_next_one(site: Site) -> None:
    # the test clock is Saturday 21 November 2026, 12:00 UTC; 07:00 Paris is tomorrow
    person = subscribed(site, "ada@example.org", hour="7", timezone="Europe/Paris")
    first = "Your first digest comes on Sunday 22 November at 07:00 (Europe/Paris)."
    assert promise_on_preferences(site, person) == first
    site.clock.advance(86400)  # Sunday 12:00 UTC: the 07:00 digest went out
    with transaction(site.engine) as connection:
        store.mark_digest_received(connection, [(person.id, site.clock())])
    assert promise_on_preferences(site, person) == (
        "Your next digest comes on Monday 23 November at 07:00 (Europe/Paris)."
    )


def test_a_feed_only_reader_is_not_promised_an_email(site: Site) -> None:
    person = subscribed(site, "feed@example.org", hour="7", timezone="Europe/Paris")
    with transaction(site.engine) as connection:
        store.update_fields(connection, person.id, site.clock(), frequency="feed")
        person = store.get_by_email(connection, "feed@example.org")
    said = promise_on_preferences(site, person)
    assert "not by email" in said
    assert said == (
        "Your first digest goes to your feed, not by email, on Sunday 22 November at 07:00 "
        "(Europe/Paris)."
    )


def test_a_slot_that_is_due_now_is_promised_for_now_not_tomorrow(site: Site) -> None:
    # Joined at 12:00 UTC for 13:00 UTC: at 14:00 the scheduler's next pass sends today's digest
    # (the slot began after they joined); the page must not jump to tomorrow.
    person = subscribed(site, "late@example.org", hour="13", timezone="UTC")
    site.clock.advance(2 * 3600)
    assert promise_on_preferences(site, person) == (
        "Your first digest comes on Saturday 21 November at 13:00 (UTC)."
    )
    site.clock.advance(timedelta(days=1).total_seconds())
    with transaction(site.engine) as connection:
        store.mark_digest_received(connection, [(person.id, site.clock())])
    assert promise_on_preferences(site, person).startswith("Your next digest comes on Monday")
