"""Issue 15, flow and design: no silent dead ends. A known address gets a "manage" mail, the
welcome mail repeats the topics and says when the first digest comes, suggestions come from
this week's papers on both forms, dead links offer a new one, unsubscribe offers gentler
choices, saving redirects, static files cache, the archive shows the trending digest."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from digest.issues import open_issue, set_status
from digest.paper_store import ingest
from digest.sending.notice_mail import NoticeMailer
from digest.sending.transports.recording import RecordingTransport
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.papers import Paper
from subscribers import store
from subscribers.links import SubscriberLinks
from subscribers.model import Subscriber
from tests.web_site import Clock, Site, hidden_fields

HOT = Paper(
    "2411.00001", "Sparse autoencoders find features", "Sparse autoencoders at scale.", upvotes=90
)
NICHE = Paper("2411.00002", "Graph neural networks for molecules", "Graph neural networks.")


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    return Site(settings, engine, Clock(now))


def subscribed(site: Site, email: str = "ada@example.org", **fields: str) -> Subscriber:
    site.signup(email, **fields)
    site.confirm(site.mailer.last("confirm", email).links["confirm"])
    with site.engine.connect() as connection:
        return store.get_by_email(connection, email)


def links(site: Site, person: Subscriber) -> SubscriberLinks:
    web = site.client.app.state.web  # type: ignore[attr-defined]
    return SubscriberLinks(
        web.base_url, web.signer, person.id, person.token_version, None, site.clock()
    )


def rendered_text(site: Site, kind: str, to: str) -> str:
    """The plain-text body of the newest notice of ``kind``, as the real mailer renders it."""
    notice = site.mailer.last(kind, to)  # type: ignore[arg-type]
    message = NoticeMailer(site.settings, RecordingTransport(), clock=site.clock).render(notice)
    return message.text


def test_signup_with_an_active_or_paused_address_mails_a_manage_link(site: Site) -> None:
    person = subscribed(site, topics="graph neural networks")
    status, page = site.signup("ada@example.org", topics="something else")
    assert status == 200 and "Check your inbox" in page
    manage = site.mailer.last("manage", "ada@example.org")
    assert site.path_of(manage.links["preferences"]).startswith("/preferences/")
    text = rendered_text(site, "manage", "ada@example.org")
    assert "already subscribed" in text and "Manage my subscription" in text
    assert "graph neural networks" in text and "Your first digest comes on" in text

    path = site.path_of(links(site, person).preferences)
    form = hidden_fields(site.client.get(path).text) | {"paused": "yes", "hour": "7"}
    form |= {"topics": "graph neural networks", "timezone": "Europe/Paris", "frequency": "daily"}
    assert site.client.post(path, data=form).status_code == 200
    site.clock.advance(86400 * 2)  # the per-address signup budget is a day
    site.signup("ada@example.org")
    paused = " ".join(rendered_text(site, "manage", "ada@example.org").split())
    assert "It is already subscribed, and your digest is paused." in paused
    assert "Your digest is paused: nothing comes until you resume it." in paused


def test_welcome_mail_repeats_the_topics_and_says_when_the_first_digest_comes(
    site: Site,
) -> None:
    site.signup("ada@example.org", topics="graph neural networks", hour="7")
    _, page = site.confirm(site.mailer.last("confirm").links["confirm"])
    assert "graph neural networks" in page and "Your first digest comes on" in page
    welcome = site.mailer.last("welcome", "ada@example.org")
    assert welcome.facts["topics"] == ["graph neural networks"]
    # the test clock is Saturday 21 November 2026, 12:00 UTC; 07:00 Paris is tomorrow
    first = "Your first digest comes on Sunday 22 November at 07:00 (Europe/Paris)."
    assert welcome.facts["first_digest"] == first
    text = rendered_text(site, "welcome", "ada@example.org")
    assert "Choose your topics" not in text and first in text
    assert "See a preview of your first digest:\n" + welcome.links["preview"] in text
    assert "Your topics: graph neural networks." in text


def test_suggestions_on_both_forms_come_from_this_weeks_papers(site: Site, now: datetime) -> None:
    old = [Paper(f"old{i}", "Protein folding with language models") for i in range(3)]
    ingest(site.engine, old, now - timedelta(days=20))
    fresh = [Paper(f"new{i}", f"Sparse autoencoders for topic {i}") for i in range(3)]
    ingest(site.engine, fresh, now - timedelta(days=1))
    signup_page = site.client.get("/").text
    assert 'value="sparse autoencoders"' in signup_page
    assert "protein folding" not in signup_page and "language models" not in signup_page
    person = subscribed(site, topics="graph neural networks")
    path = site.path_of(links(site, person).preferences)
    page = site.client.get(path).text
    assert "Or pick from this week's papers" in page and 'value="sparse autoencoders"' in page
    form = hidden_fields(page) | {"topics": "graph neural networks", "frequency": "daily"}
    form |= {"hour": "7", "timezone": "Europe/Paris", "suggested": "sparse autoencoders"}
    site.client.post(path, data=form)
    with site.engine.connect() as connection:
        topics = store.get(connection, person.id).topics
    assert topics == ("graph neural networks", "sparse autoencoders")


def test_saving_preferences_redirects_and_errors_mark_their_field(site: Site) -> None:
    person = subscribed(site)
    path = site.path_of(links(site, person).preferences)
    form = hidden_fields(site.client.get(path).text)
    form |= {"topics": "x", "frequency": "daily", "hour": "9", "timezone": "Europe/Paris"}
    response = site.client.post(path, data=form, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"https://digest.example.org{path}?saved=yes"
    assert "Saved." in site.client.get(f"{path}?saved=yes").text
    form = hidden_fields(site.client.get(path).text) | {"timezone": "Mars/Olympus", "hour": "9"}
    page = site.client.post(path, data=form, follow_redirects=False)
    assert page.status_code == 422
    assert 'aria-invalid="true" aria-describedby="timezone-error"' in page.text
    assert '<p class="error" id="timezone-error">We do not know this time zone.' in page.text


@pytest.mark.parametrize("choice", ["pause", "weekly"])
def test_unsubscribe_offers_pause_and_weekly_instead(site: Site, choice: str) -> None:
    person = subscribed(site)
    path = site.path_of(links(site, person).unsubscribe)
    page = site.client.get(path).text
    assert "Pause my digest" in page and "Weekly instead" in page
    token = hidden_fields(page)["csrf_token"]
    done = site.client.post(f"{path}/instead", data={"csrf_token": token, "instead": choice})
    assert done.status_code == 200
    with site.engine.connect() as connection:
        now = store.get(connection, person.id)
    if choice == "pause":
        assert "Your digest is paused" in done.text and now.status == "paused"
    else:
        assert "now weekly" in done.text and (now.status, now.frequency) == ("active", "weekly")
    forged = site.client.post(f"{path}/instead", data={"instead": "pause"})
    assert forged.status_code == 403


def test_static_files_are_cacheable_and_linked_by_content_hash(site: Site) -> None:
    page = site.client.get("/")
    assert page.headers["cache-control"] == "no-store"
    css = re.search(r'href="(/static/site\.css\?v=[0-9a-f]{10})"', page.text)
    assert css is not None
    response = site.client.get(css.group(1))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_signup_links_a_privacy_notice(site: Site) -> None:
    assert '<a href="/privacy">How we handle your data</a>' in site.client.get("/").text
    privacy = site.client.get("/privacy")
    assert privacy.status_code == 200 and "What we keep" in privacy.text


def test_a_public_issue_is_the_trending_digest_of_its_day(site: Site, now: datetime) -> None:
    ingest(site.engine, [HOT, NICHE], now)
    with transaction(site.engine) as connection:
        issue = open_issue(connection, now.date(), "daily", now)
        set_status(connection, issue.id, "done", now)  # sent to nobody: no personal copy to show
    archive = site.client.get("/archive").text
    assert (
        f'href="/issue/{issue.id}"' in archive
        and "<li>Sparse autoencoders find features</li>" in archive
    )
    page = site.client.get(f"/issue/{issue.id}")
    assert page.status_code == 200
    assert "Get your own digest" in page.text and f"No. {issue.id}" in page.text
    assert page.text.index(HOT.title) < page.text.index(NICHE.title)
