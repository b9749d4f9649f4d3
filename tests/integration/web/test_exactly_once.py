"""Issue 22, items 7 and 8: confirm, unsubscribe and feedback act once however many identical
requests race (eight browsers posting at the same moment to the real uvicorn server that
`digest serve` runs), and each confirmation link confirms the signup it was mailed for. SQLite
and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import datetime

import httpx
import pytest
from sqlalchemy import Engine, func, select

from digest.paper_store import ingest
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.db.schema import outbox
from papercore.papers import Paper
from subscribers import store
from subscribers.links import SubscriberLinks
from subscribers.tokens import Signer
from tests.integration.web.test_proxies import served
from tests.web_site import Clock, Site, hidden_fields

BROWSERS = 8


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    return Site(settings, engine, Clock(now))


def at_once(base: str, path: str, data: dict[str, str] | None = None) -> list[tuple[int, str]]:
    """BROWSERS browsers each open ``path`` (for their own CSRF token, unless ``data`` is given),
    then all post it at the same moment; their answers."""
    browsers = [httpx.Client(base_url=base, timeout=60) for _ in range(BROWSERS)]
    forms = []
    for browser in browsers:
        if data is None:
            page = browser.get(path)
            assert page.status_code == 200, page.text
            forms.append(hidden_fields(page.text))
        else:
            forms.append(data)
    start = threading.Barrier(BROWSERS)
    answers: list[tuple[int, str]] = [(0, "")] * BROWSERS

    def post(k: int) -> None:
        start.wait()
        answer = browsers[k].post(path, data=forms[k])
        answers[k] = (answer.status_code, answer.text)

    threads = [threading.Thread(target=post, args=(k,)) for k in range(BROWSERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for browser in browsers:
        browser.close()
    return answers


def queued(engine: Engine, kind: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(outbox).where(outbox.c.kind == kind)
            ).scalar_one()
        )


def events_of(engine: Engine, email: str, kind: str) -> list[dict[str, object]]:
    with engine.connect() as connection:
        person = store.get_by_email(connection, email)
        return [e for e in store.events(connection, person.id) if e["kind"] == kind]


def test_eight_simultaneous_confirms_subscribe_once(
    site: Site, settings: Settings, engine: Engine, now: datetime
) -> None:
    site.signup("ada@example.org")
    link = site.mailer.last("confirm", "ada@example.org").links["confirm"]
    with served(settings, engine, now) as base:
        answers = at_once(base, site.path_of(link))
    assert [code for code, _ in answers] == [200] * BROWSERS
    pages = [page for _, page in answers]
    assert sum("You are subscribed" in page for page in pages) == 1
    assert sum("You are already subscribed" in page for page in pages) == BROWSERS - 1
    consents = [e for e in events_of(engine, "ada@example.org", "confirm") if e["is_consent"]]
    assert len(consents) == 1
    assert queued(engine, "welcome") == 1
    with engine.connect() as connection:
        assert store.get_by_email(connection, "ada@example.org").status == "active"


def test_eight_simultaneous_unsubscribes_unsubscribe_once_and_say_goodbye_once(
    settings: Settings, engine: Engine, now: datetime
) -> None:
    with transaction(engine) as connection:
        ada = store.add(connection, "ada@example.org", now, topics=["graphs"], status="active")
    links = SubscriberLinks(
        settings.app.base_url, Signer.from_settings(settings.web), ada, 1, None, now
    )
    path = links.unsubscribe.removeprefix(settings.app.base_url)
    with served(settings, engine, now) as base:
        by_button = at_once(base, path)  # the page's button: each posts its own CSRF token
        by_header = at_once(base, path, {"List-Unsubscribe": "One-Click"})
    assert [code for code, _ in by_button + by_header] == [200] * 2 * BROWSERS
    assert len(events_of(engine, "ada@example.org", "unsubscribe")) == 1
    assert queued(engine, "unsubscribed") == 1


def test_eight_simultaneous_clicks_on_more_like_this_are_one_vote(
    settings: Settings, engine: Engine, now: datetime
) -> None:
    ingest(engine, [Paper("2406.00001", "Graph networks for molecules", "A.")], now)
    with transaction(engine) as connection:
        ada = store.add(connection, "ada@example.org", now, topics=["graphs"], status="active")
    links = SubscriberLinks(
        settings.app.base_url, Signer.from_settings(settings.web), ada, 1, 1, now
    )
    path = links.feedback("2406.00001", more=True).removeprefix(settings.app.base_url)
    with served(settings, engine, now) as base:
        answers = at_once(base, path)
    assert [code for code, _ in answers] == [200] * BROWSERS
    assert len(events_of(engine, "ada@example.org", "feedback")) == 1
    with engine.connect() as connection:
        person = store.get_by_email(connection, "ada@example.org")
    assert [(e.paper_id, e.vote) for e in person.examples] == [("2406.00001", 1)]


def test_a_stranger_resubmitting_a_pending_address_changes_nothing_her_link_confirms(
    site: Site,
) -> None:
    ingest(site.engine, [Paper("2406.00001", "Graph networks for molecules", "A.")], site.clock())
    site.signup("alice@example.org")  # graph neural networks, diffusion models; daily 07:00 Paris
    hers = site.mailer.last("confirm", "alice@example.org").links["confirm"]
    stranger = site.new_browser()
    status, _ = site.signup(
        "alice@example.org",
        client=stranger,
        topics="crypto giveaways",
        frequency="weekly",
        weekday="2",
        hour="3",
        timezone="Pacific/Kiritimati",
        papers="2406.00001",
    )
    assert status == 200
    theirs = site.mailer.last("confirm", "alice@example.org").links["confirm"]
    assert theirs != hers  # the stranger's link went to Alice's inbox too, and only there

    page = site.client.get(site.path_of(hers)).text
    assert "graph neural networks; diffusion models" in page and "crypto" not in page
    assert "daily at 07:00 Europe/Paris" in page and "Kiritimati" not in page
    status, page = site.confirm(hers)
    assert status == 200 and "You are subscribed" in page
    with site.engine.connect() as connection:
        alice = store.get_by_email(connection, "alice@example.org")
        (consent,) = [e for e in store.events(connection, alice.id) if e["is_consent"]]
    assert alice.topics == ("graph neural networks", "diffusion models")
    assert (alice.frequency, alice.hour, alice.timezone) == ("daily", 7, "Europe/Paris")
    assert alice.examples == ()  # the stranger's seed list was never applied
    text = str(consent["consent_text"])
    assert "graph neural networks; diffusion models" in text and "crypto" not in text
    assert "daily at 07:00 Europe/Paris" in text

    later = site.client.get(site.path_of(theirs))  # the stranger's link, later: nothing to do
    assert later.status_code == 200 and "already subscribed" in later.text
    with site.engine.connect() as connection:
        assert store.get_by_email(connection, "alice@example.org").topics == alice.topics


def test_each_pending_link_confirms_its_own_submission(site: Site) -> None:
    site.signup("ada@example.org", topics="first choice")
    site.signup("ada@example.org", topics="second choice", hour="9")
    first, second = [n.links["confirm"] for n in site.mailer.sent]
    assert "second choice" in site.client.get(site.path_of(second)).text
    site.confirm(first)
    with site.engine.connect() as connection:
        ada = store.get_by_email(connection, "ada@example.org")
    assert (ada.topics, ada.hour) == (("first choice",), 7)


@pytest.mark.parametrize(
    ("status", "reason", "told"),
    [
        ("bounced", "bounce", "bounced earlier"),
        ("unsubscribed", "complaint", "reported as spam"),
        ("unsubscribed", "unsubscribe", "You had unsubscribed"),
    ],
)
def test_a_suppressed_address_comes_back_through_a_confirmed_double_opt_in(
    site: Site, now: datetime, status: str, reason: str, told: str
) -> None:
    with transaction(site.engine) as connection:
        gone = store.add(connection, "gone@example.org", now, topics=["old"], status="active")
        store.update_fields(connection, gone, now, status=status)
        store.suppress(connection, "gone@example.org", reason, now)
    code, page = site.signup("gone@example.org")
    _, new = site.signup("new@example.org")
    assert code == 200 and page.replace("gone@", "x@") == new.replace("new@", "x@")  # no leak
    notice = site.mailer.last("confirm", "gone@example.org")
    assert told in notice.facts["returning"]
    with site.engine.connect() as connection:
        assert store.is_suppressed(connection, "gone@example.org")  # until they confirm
    landing = site.client.get(site.path_of(notice.links["confirm"])).text
    assert told in landing and "Confirming resumes your digest" in landing
    code, page = site.confirm(notice.links["confirm"])
    assert code == 200 and "You are subscribed" in page and "now resumes" in page
    with site.engine.connect() as connection:
        person = store.get_by_email(connection, "gone@example.org")
        assert not store.is_suppressed(connection, "gone@example.org")
    assert person.status == "active" and person.topics == (
        "graph neural networks",
        "diffusion models",
    )
    site.mailer.last("welcome", "gone@example.org")
