"""Issue 15, the rest of errors and security: a change of address is told to the old address and
asked of the new one in its own words; preferences links expire; every notice is saved in the
same transaction as the change it tells about (both databases)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from digest.sending import outbox
from digest.sending.notice_mail import NoticeMailer
from digest.sending.transports.recording import RecordingTransport
from papercore.config import Settings
from subscribers import store
from subscribers.links import SubscriberLinks
from subscribers.model import Subscriber
from tests.web_site import Clock, Site, hidden_fields

OLD, NEW = "ada@example.org", "ada@new.example.org"


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    return Site(settings, engine, Clock(now))


def subscribed(site: Site, email: str = OLD) -> Subscriber:
    site.signup(email)
    site.confirm(site.mailer.last("confirm", email).links["confirm"])
    with site.engine.connect() as connection:
        person = store.find(connection, email)
    assert person is not None and person.status == "active"
    return person


def preferences_url(site: Site, person: Subscriber) -> str:
    signer = site.client.app.state.web.signer  # the app's: its preferences links expire
    links = SubscriberLinks(
        site.settings.app.base_url, signer, person.id, person.token_version, None, site.clock()
    )
    return links.preferences


def move(site: Site, person: Subscriber, to: str) -> None:
    path = site.path_of(preferences_url(site, person))
    data = hidden_fields(site.client.get(path).text) | {
        "topics": "\n".join(person.topics),
        "frequency": person.frequency,
        "weekday": str(person.weekday),
        "hour": str(person.hour),
        "timezone": person.timezone,
        "email": to,
    }
    assert site.client.post(path, data=data).status_code == 200


def text_of(settings: Settings, site: Site, kind: str, to: str) -> str:
    """The plain-text part of the notice as the relay would get it."""
    mailer = NoticeMailer(settings, RecordingTransport(), clock=site.clock)
    return mailer.render(site.mailer.last(kind, to)).text  # type: ignore[arg-type]


def test_a_change_of_address_asks_the_new_one_in_its_own_words_and_tells_the_old_one(
    site: Site, settings: Settings
) -> None:
    person = subscribed(site)
    move(site, person, NEW)
    asked = text_of(settings, site, "confirm_address", NEW)
    assert "move an existing" in asked and "Confirm my new address" in asked
    assert "asked to receive" not in asked  # not the signup wording
    assert not [n for n in site.mailer.sent if n.kind == "confirm" and n.to == NEW]
    assert not [n for n in site.mailer.sent if n.kind == "address_moved"]  # nothing moved yet

    status, page = site.confirm(site.mailer.last("confirm_address", NEW).links["confirm"])
    assert status == 200 and NEW in page
    told = text_of(settings, site, "address_moved", OLD)
    assert "moved to a***@new.example.org" in told
    assert NEW not in told  # the old inbox learns where it went, not the whole address
    assert "Subscribe this address again" in told


def test_a_preferences_link_expires_after_the_configured_days_and_offers_a_new_one(
    site: Site, settings: Settings
) -> None:
    settings.web.preferences_token_days = 30
    site = Site(settings, site.engine, site.clock)  # the app reads the setting when built
    person = subscribed(site)
    path = site.path_of(preferences_url(site, person))
    site.clock.advance(29 * 86400)
    assert site.client.get(path).status_code == 200
    site.clock.advance(2 * 86400)
    page = site.client.get(path)
    assert page.status_code == 400 and "This link does not work" in page.text
    assert "send me a new link" in page.text.lower()


REFUSE = {
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'full'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'full'; END; "
        "$$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse()",
    ],
}


ALLOW = {
    "sqlite": ["DROP TRIGGER IF EXISTS refuse"],
    "postgresql": ["DROP TRIGGER IF EXISTS refuse ON outbox", "DROP FUNCTION IF EXISTS refuse()"],
}


@pytest.fixture
def refuse_outbox(engine: Engine) -> Iterator[Callable[[], None]]:
    """Makes every outbox write fail when called, as a full disk or a lost connection would
    (undone afterwards: the PostgreSQL database outlives the test)."""

    def run(statements: dict[str, list[str]]) -> None:
        with engine.begin() as connection:
            for statement in statements[engine.dialect.name]:
                connection.exec_driver_sql(statement)

    yield lambda: run(REFUSE)
    run(ALLOW)


def test_a_signup_whose_mail_cannot_be_saved_is_not_saved_either(
    site: Site, refuse_outbox: Callable[[], None]
) -> None:
    refuse_outbox()
    client = TestClient(site.client.app, raise_server_exceptions=False)
    status, page = site.signup("grace@example.org", client=client)
    assert status == 500 and "Something went wrong" in page
    with site.engine.connect() as connection:
        assert store.find(connection, "grace@example.org") is None  # no pending row, no mail
        assert outbox.counts(connection)["pending"] == 0


def test_an_unsubscribe_whose_goodbye_cannot_be_saved_keeps_the_subscription(
    site: Site, refuse_outbox: Callable[[], None]
) -> None:
    person = subscribed(site)
    signer = site.client.app.state.web.signer
    links = SubscriberLinks(
        site.settings.app.base_url, signer, person.id, person.token_version, None, site.clock()
    )
    path = site.path_of(links.unsubscribe)
    fields = hidden_fields(site.client.get(path).text)
    refuse_outbox()
    client = TestClient(site.client.app, raise_server_exceptions=False)
    client.cookies = site.client.cookies
    assert client.post(path, data=fields).status_code == 500
    with site.engine.connect() as connection:
        assert store.get(connection, person.id).status == "active"
