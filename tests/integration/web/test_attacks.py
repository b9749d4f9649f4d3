"""Attacks from the issue 15 audit, each through the real app in process (both databases)."""

from __future__ import annotations

import base64
from datetime import datetime

import pytest
from sqlalchemy import Engine

from digest.paper_store import ingest
from papercore.config import Settings
from papercore.papers import Paper
from subscribers import store
from subscribers.links import SubscriberLinks
from subscribers.model import Subscriber
from tests.web_site import Clock, Site

RIGHT = "Basic " + base64.b64encode(b"operator:op-secret").decode()
PAPER = Paper(
    "2406.00001",
    "Graph neural networks for molecule generation",
    "We train graph neural networks to generate molecules.",
)


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    settings.web.operator_password = type(settings.web.operator_password)("op-secret")
    settings.web.operator_free_failures = 5
    settings.web.operator_failures_per_hour = 8
    return Site(settings, engine, Clock(now))


def subscribed(site: Site, email: str = "ada@example.org") -> Subscriber:
    site.signup(email)
    site.confirm(site.mailer.last("confirm", email).links["confirm"])
    with site.engine.connect() as connection:
        person = store.find(connection, email)
    assert person is not None and person.status == "active"
    return person


def links(site: Site, person: Subscriber) -> SubscriberLinks:
    signer = site.client.app.state.web.signer
    base = site.settings.app.base_url
    return SubscriberLinks(base, signer, person.id, person.token_version, None, site.clock())


def test_a_forged_host_never_reaches_a_redirect(site: Site) -> None:
    response = site.client.get(
        "/archive/", headers={"Host": "evil.example"}, follow_redirects=False
    )
    assert response.status_code in (301, 307, 308)
    assert "evil.example" not in response.headers["location"]
    assert response.headers["location"].endswith("://digest.example.org/archive")


@pytest.mark.parametrize("tamper", ["!", "%0A", "==", "=", " ", "A"])
def test_a_signature_spelled_differently_is_refused(site: Site, tamper: str) -> None:
    person = subscribed(site)
    path = site.path_of(links(site, person).unsubscribe)
    assert site.client.get(path).status_code == 200
    payload, mac = path.rsplit(".", 1)
    for spot in (0, len(mac) // 2, len(mac)):
        forged = f"{payload}.{mac[:spot]}{tamper}{mac[spot:]}"
        page = site.client.get(forged)
        assert page.status_code in (400, 404), (tamper, spot)  # 404: no route for the path
        assert "Unsubscribe" not in page.text or "does not work" in page.text
    # the last character of 24 base64 characters carries no spare bits; of 18 bytes it does not
    # matter: a different last character is another signature and must fail
    swapped = f"{payload}.{mac[:-1]}{'B' if mac[-1] != 'B' else 'C'}"
    assert site.client.get(swapped).status_code == 400


def test_a_non_ascii_mailbox_is_refused_at_the_form(site: Site) -> None:
    status, page = site.signup("jürgen@bücher.example")
    assert status == 422 and "non-ASCII characters before the @" in page
    assert "Check your inbox" not in page and not site.mailer.sent
    with site.engine.connect() as connection:
        assert store.find(connection, "jürgen@bücher.example") is None


@pytest.mark.parametrize("typed", ["user@bücher.example", "user@xn--bcher-kva.example"])
def test_an_international_domain_is_mailed_in_its_ascii_form(site: Site, typed: str) -> None:
    status, page = site.signup(typed)
    assert status == 200 and "Check your inbox" in page
    notice = site.mailer.last("confirm")
    assert notice.to == "user@xn--bcher-kva.example" and notice.to.isascii()


def test_an_empty_one_click_post_unsubscribes_nobody(site: Site) -> None:
    person = subscribed(site)
    path = site.path_of(links(site, person).unsubscribe)
    bare = site.new_browser()
    for body in (b"", b"List-Unsubscribe=Yes", b"x=1"):
        response = bare.post(
            path, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert response.status_code == 400 and "Nothing changed" in response.text
    with site.engine.connect() as connection:
        assert store.get(connection, person.id).status == "active"
    done = bare.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200
    with site.engine.connect() as connection:
        assert store.get(connection, person.id).status == "unsubscribed"


def test_the_operator_preview_carries_no_live_subscriber_links(site: Site, now: datetime) -> None:
    ingest(site.engine, [PAPER], now)
    person = subscribed(site)
    page = site.client.get(
        f"/operator/preview?subscriber={person.email}", headers={"Authorization": RIGHT}
    )
    assert page.status_code == 200 and "molecule" in page.text.lower()
    for kind in ("feedback", "unsubscribe", "preferences", "view"):
        assert f"digest.example.org/{kind}/" not in page.text, kind
    assert 'href="#preview"' in page.text  # the links are there, inert
