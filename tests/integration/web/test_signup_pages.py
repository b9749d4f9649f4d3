"""Signup and double opt-in through the real app in process (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine

from digest.paper_store import ingest
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.papers import Paper
from subscribers import store
from tests.web_site import Clock, Site


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    return Site(settings, engine, Clock(now))


def people(engine: Engine) -> list[store.Subscriber]:
    with engine.connect() as connection:
        return list(store.iter_subscribers(connection))


def test_signup_sends_one_confirmation_and_confirm_activates_with_consent(site: Site) -> None:
    status, page = site.signup("Ada@Example.org", suggested=["vision transformers"])
    assert status == 200 and "Check your inbox" in page
    (person,) = people(site.engine)
    assert person.email == "ada@example.org" and person.status == "pending"
    assert person.topics == ("graph neural networks", "diffusion models", "vision transformers")
    assert (person.hour, person.timezone) == (7, "Europe/Paris")
    notice = site.mailer.last("confirm", "ada@example.org")
    assert len(site.mailer.sent) == 1

    page = site.client.get(site.path_of(notice.links["confirm"]))
    assert page.status_code == 200 and "Confirm my subscription" in page.text
    assert people(site.engine)[0].status == "pending"  # a link scanner's GET changes nothing
    status, page = site.confirm(notice.links["confirm"], site.client)
    assert status == 200 and "You are subscribed" in page
    (person,) = people(site.engine)
    assert person.status == "active" and person.confirmed_at is not None
    with site.engine.connect() as connection:
        (consent,) = [e for e in store.events(connection, person.id) if e["is_consent"]]
    assert consent["kind"] == "confirm" and consent["ip"] == "testclient"
    assert consent["user_agent"] and "ada@example.org" in consent["consent_text"]
    assert "daily at 07:00 Europe/Paris" in consent["consent_text"]
    welcome = site.mailer.last("welcome", "ada@example.org")
    assert set(welcome.links) >= {"preview", "preferences", "unsubscribe"}

    again = site.client.get(site.path_of(notice.links["confirm"]))  # the same link again
    assert again.status_code == 200 and "already subscribed" in again.text
    assert len([n for n in site.mailer.sent if n.kind == "welcome"]) == 1


def test_duplicate_signup_looks_the_same_and_sends_nothing_to_active(site: Site) -> None:
    first = site.signup("ada@example.org")
    site.confirm(site.mailer.last("confirm").links["confirm"])
    sent_before = len(site.mailer.sent)
    again = site.signup("ada@example.org", topics="something else")
    new = site.signup("bob@example.org")
    assert first[0] == again[0] == new[0] == 200
    assert again[1].replace("ada@", "x@") == new[1].replace("bob@", "x@")
    sent = [(n.kind, n.to) for n in site.mailer.sent[sent_before:]]
    assert sent == [("manage", "ada@example.org"), ("confirm", "bob@example.org")]
    assert people(site.engine)[0].topics == ("graph neural networks", "diffusion models")


def test_pending_signup_again_gets_a_fresh_link_that_confirms_its_own_choices(site: Site) -> None:
    site.signup("ada@example.org")
    site.signup("ada@example.org", frequency="weekly", weekday="4")
    assert [n.kind for n in site.mailer.sent] == ["confirm", "confirm"]
    assert people(site.engine)[0].frequency == "daily"  # nothing changes before a confirm
    site.confirm(site.mailer.sent[1].links["confirm"])
    assert people(site.engine)[0].frequency == "weekly"


def test_forgotten_address_gets_a_confirmation_and_comes_back_only_by_confirming(
    site: Site, now: datetime
) -> None:
    with transaction(site.engine) as connection:
        store.suppress(connection, "gone@example.org", "forget", now)
    status, page = site.signup("gone@example.org")
    assert status == 200 and "Check your inbox" in page
    assert "forget" not in page  # the page a stranger sees says nothing of the address
    (person,) = people(site.engine)
    assert person.status == "pending"
    with site.engine.connect() as connection:
        assert store.is_suppressed(connection, "gone@example.org")
    notice = site.mailer.last("confirm", "gone@example.org")
    assert "asked us earlier to forget it" in notice.facts["returning"]
    status, page = site.confirm(notice.links["confirm"])
    assert status == 200 and "You are subscribed" in page
    with site.engine.connect() as connection:
        assert not store.is_suppressed(connection, "gone@example.org")
    assert people(site.engine)[0].status == "active"


def test_missing_or_foreign_csrf_token_is_refused(site: Site) -> None:
    fields = {"email": "ada@example.org", "topics": "x", "frequency": "daily", "hour": "8"}
    site.clock.advance(10)
    assert site.client.post("/", data=fields).status_code == 403
    other = site.new_browser()
    stolen = site.form_fields("/", other)  # a token made for another browser's cookie
    site.clock.advance(10)
    assert site.client.post("/", data=fields | stolen).status_code == 403
    assert site.mailer.sent == [] and people(site.engine) == []


def test_expired_csrf_token_is_refused(site: Site) -> None:
    status, _ = site.signup("ada@example.org", wait=7 * 3600)
    assert status == 403 and site.mailer.sent == []


def test_honeypot_is_dropped_silently_and_an_instant_submission_is_asked_again(
    site: Site,
) -> None:
    status, page = site.signup("bot@example.org", website="http://spam.example")
    assert status == 200 and "Check your inbox" in page
    status, page = site.signup("fast@example.org", wait=0.5)
    assert status == 200 and "That was fast! Please check your details and press" in page
    assert 'value="fast@example.org"' in page  # what they typed is still there
    assert site.mailer.sent == [] and people(site.engine) == []


def test_rate_limit_per_address(site: Site) -> None:
    limit = site.settings.web.signup_per_address_per_day
    for _ in range(limit):
        assert site.signup("ada@example.org")[0] == 200
    assert site.signup("ADA@example.org")[0] == 429
    assert len(site.mailer.sent) == limit
    site.clock.advance(86400)
    assert site.signup("ada@example.org")[0] == 200


def test_rate_limit_per_ip(site: Site) -> None:
    limit = site.settings.web.signup_per_ip_per_hour
    for n in range(limit):
        assert site.signup(f"p{n}@example.org", wait=5)[0] == 200
    status, page = site.signup("late@example.org")
    assert status == 429 and "Too many" in page
    assert len(site.mailer.sent) == limit


def test_ten_thousand_character_topic_is_refused_politely(site: Site) -> None:
    status, page = site.signup("ada@example.org", topics="a" * 10_000)
    assert status == 422 and "limit is 200" in page
    assert "aaaa" * 100 in page  # the text is kept in the form for fixing
    assert site.mailer.sent == [] and people(site.engine) == []


def test_oversized_body_is_refused(site: Site) -> None:
    status, _ = site.signup("ada@example.org", topics="a" * 100_000)
    assert status == 413


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "ada@example.org\r\nBcc: victim@example.net"),
        ("email", "ada@example.org\nSubject: hi"),
        ("email", '"Ada\r\nBcc: x@example.net" <ada@example.org>'),
        ("topics", "neural\x00networks\rBcc: x@example.net"),
        ("timezone", "Europe/Paris\r\nBcc: x@example.net"),
        ("timezone", "../../etc/passwd"),
        ("hour", "7\r\nBcc: x@example.net"),
        ("frequency", "daily\r\nBcc: x@example.net"),
        ("weekday", "1\r\nBcc: x@example.net"),
    ],
)
def test_header_injection_in_any_field_is_refused(site: Site, field: str, value: str) -> None:
    status, page = site.signup(**({"email": "ada@example.org"} | {field: value}))
    assert status == 422, page
    assert site.mailer.sent == [] and people(site.engine) == []


def test_line_breaks_in_suggestions_are_folded_away(site: Site) -> None:
    status, _ = site.signup(suggested="gnn\r\nBcc: x@example.net")
    assert status == 200
    (person,) = people(site.engine)
    assert "gnn Bcc: x@example.net" in person.topics
    assert [n.to for n in site.mailer.sent] == ["ada@example.org"]


def test_every_typed_string_is_escaped(site: Site) -> None:
    evil = "<script>alert(1)</script>"
    status, page = site.signup("ada@example.org", topics=evil + "\n" + "x" * 300)
    assert status == 422
    assert evil not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_invalid_address_is_explained(site: Site) -> None:
    status, page = site.signup("not-an-address")
    assert status == 422 and "Please check your email address." in page
    assert 'aria-invalid="true" aria-describedby="email-error"' in page


@pytest.mark.parametrize("problem", ["forged", "expired", "wrong purpose", "garbage", "revoked"])
def test_bad_confirmation_links_do_nothing(site: Site, problem: str) -> None:
    site.signup("ada@example.org")
    url = site.mailer.last("confirm").links["confirm"]
    token = url.rsplit("/", 1)[1]
    person = people(site.engine)[0]
    if problem == "forged":
        token = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    elif problem == "expired":
        site.clock.advance(site.settings.web.confirm_token_days * 86400 + 1)
    elif problem == "wrong purpose":
        token = site.client.app.state.web.signer.make(
            "preferences", person.id, now=site.clock(), extra={"v": 1}
        )
    elif problem == "garbage":
        token = "../../etc/passwd"
    elif problem == "revoked":
        with transaction(site.engine) as connection:
            store.update_fields(connection, person.id, site.clock(), token_version=2)
    page = site.client.get(f"/confirm/{token}")
    assert page.status_code in (400, 404) and "Confirm my subscription" not in page.text
    posted = site.client.post(f"/confirm/{token}", data=site.form_fields("/"))
    assert posted.status_code in (400, 404)
    assert people(site.engine)[0].status == "pending"


def test_confirm_post_needs_csrf(site: Site) -> None:
    site.signup("ada@example.org")
    path = site.path_of(site.mailer.last("confirm").links["confirm"])
    assert site.client.post(path, data={}).status_code == 403
    assert people(site.engine)[0].status == "pending"


def test_security_headers_on_every_page(site: Site) -> None:
    for path in ("/", "/archive", "/confirm/nonsense", "/no-such-page"):
        headers = site.client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "'unsafe-inline'" not in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


def test_topic_suggestions_come_from_the_papers_in_the_store(site: Site, now: datetime) -> None:
    ingest(
        site.engine,
        [
            Paper("2401.00001", "Diffusion models for graphs", "We study diffusion models."),
            Paper("2401.00002", "Faster diffusion models", "Diffusion models are slow."),
        ],
        now,
    )
    page = site.new_browser().get("/").text
    assert 'name="suggested" value="diffusion models"' in page


def test_signup_seeds_liked_papers_and_says_the_same_for_a_subscribed_address(
    site: Site,
) -> None:
    ingest(site.engine, [Paper("2406.00001", "Graph networks for molecules", "A.")], site.clock())
    papers = "https://arxiv.org/abs/2406.00001v2\nA title nobody has <b>seen</b>"
    status, first = site.signup("ada@example.org", papers=papers)
    assert status == 200 and (
        "Confirming will like 1 paper: “Graph networks for molecules”. Not found (1):" in first
    )
    assert "A title nobody has &lt;b&gt;seen&lt;/b&gt;" in first
    (person,) = people(site.engine)
    assert person.examples == ()  # liked once the address's owner confirms

    site.confirm(site.mailer.last("confirm").links["confirm"])
    (person,) = people(site.engine)
    assert [(e.paper_id, e.vote) for e in person.examples] == [("2406.00001", 1)]
    ingest(site.engine, [Paper("2406.00002", "Another one", "B.")], site.clock())
    site.clock.advance(3600)
    status, again = site.signup("ada@example.org", papers="2406.00002")
    assert status == 200 and "Confirming will like 1 paper: “Another one”." in again  # as anyone
    (person,) = people(site.engine)
    assert [e.paper_id for e in person.examples] == ["2406.00001"]  # a stranger changed nothing
