"""An erased subscriber's links (preferences, unsubscribe, feed) must never open or change the
account of whoever signs up next: every signed link names a subscriber id, and SQLite without
AUTOINCREMENT gives the highest deleted id to the next row (issue 22, outside tester S1)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Engine

from papercore.config import Settings
from papercore.db.engine import transaction
from subscribers import store
from subscribers.links import SubscriberLinks, feed_link
from subscribers.model import Subscriber
from subscribers.rights import forget
from tests.web_site import Clock, Site

MALLORY = "mallory@attacker.example.net"
FRANK = "frank@victim.example.net"


def _subscribed(site: Site, email: str) -> Subscriber:
    site.signup(email)
    site.confirm(site.mailer.last("confirm", email).links["confirm"])
    with site.engine.connect() as connection:
        person = store.find(connection, email)
    assert person is not None and person.status == "active"
    return person


def test_an_erased_subscribers_links_do_not_open_the_next_subscribers_account(
    settings: Settings, engine: Engine, now: datetime
) -> None:
    site = Site(settings, engine, Clock(now))
    mallory = _subscribed(site, MALLORY)
    signer = site.client.app.state.web.signer  # type: ignore[attr-defined]
    base = site.settings.app.base_url
    old = SubscriberLinks(base, signer, mallory.id, mallory.token_version, None, site.clock())
    old_feed = feed_link(base, signer, mallory.id, 1, site.clock())
    with transaction(engine) as connection:
        assert forget(connection, MALLORY, now)
    frank = _subscribed(site, FRANK)
    assert frank.id != mallory.id

    preferences = site.client.get(urlsplit(old.preferences).path)
    assert FRANK not in preferences.text and preferences.status_code >= 400
    feed = site.client.get(urlsplit(old_feed).path)
    assert FRANK not in feed.text and feed.status_code >= 400
    site.client.post(urlsplit(old.unsubscribe).path, data={"List-Unsubscribe": "One-Click"})
    with engine.connect() as connection:
        assert store.get_by_email(connection, FRANK).status == "active"
