"""Issue 23, items 3-7 and 9 over HTTP (both databases): a dead link's "send me a new link"
mails what the address needs and says the same for every address; signup is Post/Redirect/Get;
a stale link of a subscriber's says where they stand (a forged one says nothing); the welcome
mail's preview link tells an unsubscribed reader so; a city resolves to its time zone; a form
comes back exactly as typed; resubscribing asks whether to keep what the digest learned."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine

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

ADA = "ada@example.org"


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    return Site(settings, engine, Clock(now))


def subscribed(site: Site, email: str = ADA, **fields: str) -> Subscriber:
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
    return NoticeMailer(site.settings, RecordingTransport(), clock=site.clock).render(notice).text


def unsubscribe_by_page(site: Site, person: Subscriber) -> None:
    path = site.path_of(links(site, person).unsubscribe)
    fields = hidden_fields(site.client.get(path).text)
    assert site.client.post(path, data=fields).status_code == 200


def ask_for_new_link(site: Site, email: str) -> str:
    """Use the dead-link page's form like a person: returns the page they end on."""
    dead = site.client.get("/confirm/nonsense")
    assert dead.status_code == 400 and 'action="/link"' in dead.text
    form = hidden_fields(dead.text) | {"email": email}
    sent = site.client.post("/link", data=form, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/link/sent"
    page = site.client.get("/link/sent")
    assert page.status_code == 200
    return page.text


def test_send_me_a_new_link_mails_what_each_address_needs_and_says_the_same(site: Site) -> None:
    subscribed(site, ADA)
    site.signup("bob@example.org")
    site.signup("bob@example.org", frequency="weekly", weekday="4")  # his newest choice
    gone = subscribed(site, "dave@example.org")
    unsubscribe_by_page(site, gone)
    before = len(site.mailer.sent)

    pages = {e: ask_for_new_link(site, e) for e in (ADA, "bob@example.org", "carol@example.org")}
    pages["dave@example.org"] = ask_for_new_link(site, "dave@example.org")
    assert len(set(pages.values())) == 1  # a stranger learns nothing about the address
    assert "If this address is on our list, we have mailed it a link" in pages[ADA]
    assert "confirmation link is on its way" not in pages[ADA]
    sent = [(n.kind, n.to) for n in site.mailer.sent[before:]]
    assert sent == [("manage", ADA), ("confirm", "bob@example.org")]

    manage = rendered_text(site, "manage", ADA)  # the mail the relay gets
    assert "/preferences/" in manage and "Manage my subscription" in manage
    confirm = site.mailer.last("confirm", "bob@example.org")
    status, page = site.confirm(confirm.links["confirm"])
    assert status == 200 and "You are subscribed" in page
    with site.engine.connect() as connection:
        bob = store.get_by_email(connection, "bob@example.org")
    assert (bob.status, bob.frequency, bob.weekday) == ("active", "weekly", 4)


def test_send_me_a_new_link_needs_the_pages_form_and_a_real_address(site: Site) -> None:
    subscribed(site, ADA)
    before = len(site.mailer.sent)
    forged = site.client.post("/link", data={"form_token": "x.y", "email": ADA})
    assert forged.status_code == 403 and "Send me a new link" in forged.text
    fields = hidden_fields(site.client.get("/confirm/nonsense").text)
    bad = site.client.post("/link", data=fields | {"email": "not an address"})
    assert bad.status_code == 422
    assert site.client.get("/?email=ada@example.org").text.count(ADA) == 0  # no prefill by GET
    assert len(site.mailer.sent) == before


def test_signup_redirects_so_a_refresh_sends_nothing_again(site: Site) -> None:
    fields = site.form_fields("/") | {
        "email": ADA,
        "topics": "graph neural networks",
        "frequency": "daily",
        "weekday": "0",
        "hour": "7",
        "timezone": "Europe/Paris",
    }
    site.clock.advance(10)
    posted = site.client.post("/", data=fields, follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"] == "/signup/sent"
    for _ in range(3):  # refresh, refresh, back-and-forward: each a GET of the sent page
        page = site.client.get("/signup/sent")
        assert page.status_code == 200 and ADA in page.text and "Check your inbox" in page.text
    assert [(n.kind, n.to) for n in site.mailer.sent] == [("confirm", ADA)]


def test_welcome_preview_link_tells_an_unsubscribed_reader_the_truth(site: Site) -> None:
    person = subscribed(site)
    preview = site.path_of(site.mailer.last("welcome", ADA).links["preview"])
    unsubscribe_by_page(site, person)
    page = site.client.get(preview)
    assert "You unsubscribed on" in page.text and "Subscribe again" in page.text
    assert "comes on schedule" not in page.text and "first one" not in page.text


def test_an_old_preferences_link_says_they_unsubscribed_and_a_forged_one_says_nothing(
    site: Site, now: datetime
) -> None:
    person = subscribed(site)
    old = site.path_of(links(site, person).preferences)
    site.clock.advance(86400)
    unsubscribe_by_page(site, person)
    page = site.client.get(old)
    day = f"{site.clock():%A %-d %B %Y}"
    assert f"You unsubscribed on {day}" in page.text and "Subscribe again" in page.text
    assert "invalid" not in page.text

    site.signup(ADA)  # signing up again revokes the old links: it is now "replaced"
    page = site.client.get(old)
    assert "This link was replaced" in page.text and "have not confirmed yet" in page.text

    token = old.rsplit("/", 1)[1]
    forged = f"/preferences/{token[:-2]}{'AA' if token[-2:] != 'AA' else 'BB'}"
    page = site.client.get(forged)
    assert page.status_code == 400 and "This link does not work" in page.text
    assert "You unsubscribed" not in page.text and "not confirmed yet" not in page.text
    assert "This link was replaced" not in page.text


def test_a_city_is_read_as_its_time_zone_and_a_shared_name_offers_choices(site: Site) -> None:
    site.signup(ADA, timezone="Berlin")
    with site.engine.connect() as connection:
        assert store.get_by_email(connection, ADA).timezone == "Europe/Berlin"
    status, page = site.signup("bob@example.org", timezone="Eastern")
    assert status == 422
    assert "Canada/Eastern" in page and "US/Eastern" in page and "Pick one" in page
    assert 'id="error-summary"' in page and 'href="#timezone"' in page


def test_a_form_with_too_many_topics_comes_back_exactly_as_typed(site: Site) -> None:
    typed = "\n".join(f"topic number {i} about something" for i in range(300))
    status, page = site.signup(ADA, topics=typed)
    assert status == 422 and "the limit is 50" in page
    shown = page.split('name="topics"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    assert shown.replace("\r\n", "\n").strip("\n") == typed
    person = subscribed(site, "bob@example.org")
    path = site.path_of(links(site, person).preferences)
    form = hidden_fields(site.client.get(path).text) | {
        "topics": typed,
        "frequency": "daily",
        "hour": "7",
        "timezone": "Europe/Paris",
    }
    page = site.client.post(path, data=form)
    assert page.status_code == 422 and "the limit is 50" in page.text
    assert typed in page.text.replace("\r\n", "\n")


@pytest.mark.parametrize("keep", [True, False])
def test_resubscribing_asks_whether_to_keep_what_it_learned_and_says_what_happened(
    site: Site, keep: bool
) -> None:
    person = subscribed(site)
    ingest(site.engine, [Paper("2406.00001", "Graph networks for molecules", "A.")], site.clock())
    with transaction(site.engine) as connection:
        store.put_examples(connection, person.id, {"2406.00001": 1}, site.clock(), keep=50)
    unsubscribe_by_page(site, person)
    site.signup(ADA, topics="protein folding")
    path = site.path_of(site.mailer.last("confirm", ADA).links["confirm"])
    page = site.client.get(path).text
    assert "Keep what you taught it" in page and "you marked 1 paper" in page
    fields = hidden_fields(page)
    if keep:
        fields["keep_learned"] = "yes"  # the box as the page ticks it
    done = site.client.post(path, data=fields).text
    with site.engine.connect() as connection:
        now = store.get(connection, person.id)
    assert now.topics == ("protein folding",)
    assert len(now.examples) == (1 if keep else 0)
    said = "kept what it learned from the 1 paper" if keep else "starts fresh: it forgot the 1"
    assert said in done
    assert said in " ".join(rendered_text(site, "welcome", ADA).split())


def test_an_old_confirmation_link_after_unsubscribing_says_so(site: Site) -> None:
    site.signup(ADA)
    link = site.mailer.last("confirm", ADA).links["confirm"]
    site.confirm(link)
    with site.engine.connect() as connection:
        person = store.get_by_email(connection, ADA)
    unsubscribe_by_page(site, person)
    page = site.client.get(site.path_of(link))
    assert "You unsubscribed on" in page.text and "Subscribe again" in page.text
    with site.engine.connect() as connection:
        assert store.get(connection, person.id).status == "unsubscribed"  # nothing changed
