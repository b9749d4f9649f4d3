"""Preferences, unsubscribe, feedback, archive and operator pages, in process (both databases)."""

from __future__ import annotations

import base64
from datetime import datetime

import pytest
from sqlalchemy import Engine

from digest.paper_store import ingest
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.papers import Paper
from subscribers import store
from subscribers.links import SubscriberLinks
from subscribers.model import Subscriber
from tests.web_site import Clock, Site, hidden_fields

PAPER = Paper(
    "2406.00001",
    "Graph neural networks for molecule generation",
    "We train graph neural networks to generate molecules. Molecule generation with graph "
    "neural networks beats baselines.",
    authors=("Ada Lovelace",),
)
OTHER = Paper(
    "2406.00002",
    "Speech recognition with tiny transformers",
    "Speech recognition on phones with tiny transformers.",
)


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    settings.web.operator_password = type(settings.web.operator_password)("op-secret")
    return Site(settings, engine, Clock(now))


def subscribed(site: Site, email: str = "ada@example.org", **fields: str) -> Subscriber:
    site.signup(email, **fields)
    site.confirm(site.mailer.last("confirm", email).links["confirm"])
    with site.engine.connect() as connection:
        person = store.find(connection, email)
    assert person is not None and person.status == "active"
    return person


def links(site: Site, person: Subscriber, issue: int | None = None) -> SubscriberLinks:
    signer = site.client.app.state.web.signer
    return SubscriberLinks(
        site.settings.app.base_url, signer, person.id, person.token_version, issue, site.clock()
    )


def reload(site: Site, person: Subscriber) -> Subscriber:
    with site.engine.connect() as connection:
        return store.get(connection, person.id)


def save_preferences(site: Site, person: Subscriber, **changes: str) -> tuple[int, str]:
    path = site.path_of(links(site, person).preferences)
    page = site.client.get(path)
    assert page.status_code == 200
    data = hidden_fields(page.text) | {
        "topics": "\n".join(person.topics),
        "authors": "\n".join(person.authors),
        "mutes": "\n".join(person.mutes),
        "frequency": person.frequency,
        "weekday": str(person.weekday),
        "hour": str(person.hour),
        "timezone": person.timezone,
        "email": "",
    }
    response = site.client.post(path, data=data | changes)
    return response.status_code, response.text


def test_preferences_change_topics_schedule_and_pause(site: Site) -> None:
    person = subscribed(site)
    status, page = save_preferences(
        site,
        person,
        topics="protein folding\ngraph neural networks",
        authors="Ada Lovelace",
        mutes="benchmark",
        frequency="weekly",
        weekday="4",
        hour="18",
        timezone="America/New_York",
        paused="yes",
    )
    assert status == 200 and "Saved." in page
    after = reload(site, person)
    assert after.topics == ("protein folding", "graph neural networks")
    assert (after.authors, after.mutes) == (("Ada Lovelace",), ("benchmark",))
    assert (after.frequency, after.weekday, after.hour) == ("weekly", 4, 18)
    assert (after.timezone, after.status) == ("America/New_York", "paused")
    save_preferences(site, after)  # unticked
    assert reload(site, person).status == "active"


def test_preferences_keep_learned_weights(site: Site) -> None:
    person = subscribed(site)
    with transaction(site.engine) as connection:
        store.set_interests(
            connection, person.id, "topic", person.topics, {"graph neural networks": 2.5}
        )
    save_preferences(site, reload(site, person), topics="graph neural networks\nnew topic")
    weights = {i.phrase: i.weight for i in reload(site, person).interests}
    assert weights == {"graph neural networks": 2.5, "new topic": 1.0}


def test_preferences_refuse_bad_input_and_missing_csrf(site: Site) -> None:
    person = subscribed(site)
    status, page = save_preferences(site, person, timezone="Mars/Olympus", topics="x" * 10_000)
    assert status == 422 and "We do not know this time zone" in page and "limit is 200" in page
    path = site.path_of(links(site, person).preferences)
    assert site.client.post(path, data={"topics": "stolen"}).status_code == 403
    assert reload(site, person).topics == person.topics


def test_address_change_needs_confirmation_and_revokes_old_links(site: Site) -> None:
    person = subscribed(site)
    old = links(site, person)
    status, page = save_preferences(site, person, email="ada@new.example.org")
    assert status == 200 and "click the link we sent there" in page
    assert reload(site, person).email == "ada@example.org"  # not yet
    notice = site.mailer.last("confirm_address", "ada@new.example.org")
    status, page = site.confirm(notice.links["confirm"])
    assert status == 200 and "ada@new.example.org" in page
    after = reload(site, person)
    assert after.email == "ada@new.example.org" and after.token_version == 2
    for url in (old.preferences, old.unsubscribe, old.view_in_browser):
        assert site.client.get(site.path_of(url)).status_code == 400
    assert site.client.get(site.path_of(links(site, after).preferences)).status_code == 200


def test_address_change_to_a_taken_address_sends_nothing(site: Site) -> None:
    person = subscribed(site)
    subscribed(site, "bob@example.org")
    before = len(site.mailer.sent)
    status, page = save_preferences(site, person, email="bob@example.org")
    assert status == 200 and "click the link we sent there" in page  # says the same
    assert len(site.mailer.sent) == before


def test_one_click_unsubscribe_is_immediate_idempotent_and_needs_no_csrf(site: Site) -> None:
    person = subscribed(site)
    path = site.path_of(links(site, person).unsubscribe)
    bare = site.new_browser()  # no cookies at all, like a mail provider's server
    for _ in range(2):
        response = bare.post(
            path,
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 200 and "unsubscribed" in response.text
    assert reload(site, person).status == "unsubscribed"
    with site.engine.connect() as connection:
        kinds = [e["kind"] for e in store.events(connection, person.id)]
    assert kinds.count("unsubscribe") == 1
    assert [n.kind for n in site.mailer.sent].count("unsubscribed") == 0  # nobody clicked


def test_unsubscribe_page_has_one_button_and_says_goodbye(site: Site) -> None:
    person = subscribed(site)
    path = site.path_of(links(site, person).unsubscribe)
    page = site.client.get(path)
    assert page.status_code == 200 and page.text.count("Unsubscribe</button>") == 1
    assert reload(site, person).status == "active"  # a GET changes nothing
    response = site.client.post(path, data=hidden_fields(page.text))
    assert response.status_code == 200 and reload(site, person).status == "unsubscribed"
    assert site.mailer.last("unsubscribed", "ada@example.org").links["signup"].endswith("/")


def test_coming_back_needs_a_new_opt_in(site: Site) -> None:
    person = subscribed(site)
    first_confirm = site.mailer.last("confirm").links["confirm"]
    one_click = {"List-Unsubscribe": "One-Click"}
    site.client.post(site.path_of(links(site, person).unsubscribe), data=one_click)
    site.signup("ada@example.org")
    again = reload(site, person)
    assert again.status == "pending" and again.token_version == 2
    assert site.client.get(site.path_of(first_confirm)).status_code == 400  # old link revoked
    site.confirm(site.mailer.last("confirm").links["confirm"])
    assert reload(site, person).status == "active"


@pytest.mark.parametrize("purpose", ["preferences", "unsubscribe", "feedback", "view"])
def test_forged_expired_and_wrong_purpose_tokens(site: Site, purpose: str) -> None:
    person = subscribed(site)
    signer = site.client.app.state.web.signer
    extra = {"v": 1, "paper": PAPER.id, "d": 1, "i": None}
    good = signer.make(purpose, person.id, now=site.clock(), extra=extra)
    wrong = signer.make("confirm", person.id, now=site.clock(), extra=extra)
    expired = signer.make(purpose, person.id, now=site.clock(), ttl_seconds=60, extra=extra)
    other_secret = type(signer)("another-secret-entirely-0123456789")
    forged = other_secret.make(purpose, person.id, now=site.clock(), extra=extra)
    site.clock.advance(120)
    for token in (wrong, expired, forged, good[:-2] + "xx", "", "a.b.c"):
        response = site.client.get(f"/{purpose}/{token}")
        assert response.status_code in (400, 404), token
    assert site.client.post(f"/unsubscribe/{forged}", data={}).status_code == 400
    assert reload(site, person).status == "active"


def examples_of(site: Site, person: Subscriber) -> list[tuple[str, int]]:
    return [(e.paper_id, e.vote) for e in reload(site, person).examples]


def test_a_feedback_get_records_nothing_and_its_button_records_one_example(site: Site) -> None:
    ingest(site.engine, [PAPER, OTHER], site.clock())
    person = subscribed(site, topics="graph neural networks\nspeech recognition")
    more = site.path_of(links(site, person, issue=4).feedback(PAPER.id, True))
    less = site.path_of(links(site, person, issue=4).feedback(PAPER.id, False))
    for path in (more, less, more):  # a scanner fetching every link, both directions
        page = site.client.get(path)
        assert page.status_code == 200 and PAPER.title in page.text
    assert "More like this:" in site.client.get(more).text
    assert "Less like this:" in site.client.get(less).text
    assert examples_of(site, person) == []
    assert '<script src="/static/feedback.js?v=' in page.text  # presses the button for a person

    done = site.client.post(more, data=hidden_fields(site.client.get(more).text))
    assert done.status_code == 200 and "more papers like this" in done.text
    assert examples_of(site, person) == [(PAPER.id, 1)]
    site.client.post(more, data=hidden_fields(site.client.get(more).text))  # a repeat
    assert examples_of(site, person) == [(PAPER.id, 1)]
    done = site.client.post(less, data=hidden_fields(site.client.get(less).text))
    assert "fewer papers like this" in done.text
    assert examples_of(site, person) == [(PAPER.id, -1)]  # the later click replaces
    with site.engine.connect() as connection:
        events = [
            e["detail"] for e in store.events(connection, person.id) if e["kind"] == "feedback"
        ]
    assert [(e["d"], e["issue"]) for e in events] == [(1, 4), (-1, 4)]
    assert reload(site, person).topics == ("graph neural networks", "speech recognition")


def test_a_feedback_post_without_the_page_token_records_nothing(site: Site) -> None:
    ingest(site.engine, [PAPER], site.clock())
    person = subscribed(site)
    path = site.path_of(links(site, person).feedback(PAPER.id, True))
    refused = site.new_browser().post(path, data={})
    assert refused.status_code == 403 and "press the button again" in refused.text
    assert examples_of(site, person) == []


def test_feedback_on_an_unknown_paper_is_a_bad_link(site: Site) -> None:
    person = subscribed(site)
    url = links(site, person).feedback("9999.99999", False)
    assert site.client.get(site.path_of(url)).status_code == 400
    assert site.client.post(site.path_of(url), data={}).status_code == 400


def post_on_preferences(
    site: Site,
    person: Subscriber,
    action: str,
    files: dict[str, tuple[str, bytes]] | None = None,
    **fields: str,
) -> tuple[int, str]:
    path = site.path_of(links(site, person).preferences)
    token = hidden_fields(site.client.get(path).text)["csrf_token"]
    response = site.client.post(
        f"{path}/{action}", data={"csrf_token": token} | fields, files=files
    )
    return response.status_code, response.text


@pytest.mark.parametrize("action", ["", "/feed", "/forget", "/reset", "/seed"])
def test_a_preferences_link_changes_nothing_once_they_unsubscribed(site: Site, action: str) -> None:
    ingest(site.engine, [PAPER], site.clock())
    person = subscribed(site)
    with transaction(site.engine) as connection:
        store.put_examples(connection, person.id, {PAPER.id: 1}, site.clock(), 50)
    path = site.path_of(links(site, person).preferences)
    form = hidden_fields(site.client.get(path).text)  # the page open in a tab
    site.client.post(
        site.path_of(links(site, person).unsubscribe), data={"List-Unsubscribe": "One-Click"}
    )
    before = reload(site, person)
    assert site.client.get(path).status_code == 400
    response = site.client.post(
        path + action, data=form | {"paper": PAPER.id, "papers": OTHER.id, "topics": "x"}
    )
    assert response.status_code == 400
    assert reload(site, person) == before


def test_preferences_list_forget_and_reset_what_was_learned(site: Site) -> None:
    ingest(site.engine, [PAPER, OTHER], site.clock())
    person = subscribed(site)
    with transaction(site.engine) as connection:
        store.put_examples(connection, person.id, {PAPER.id: 1, OTHER.id: -1}, site.clock(), 50)
    page = site.client.get(site.path_of(links(site, person).preferences)).text
    assert PAPER.title in page and OTHER.title in page and "+ more" in page and "− less" in page
    assert site.clock().strftime("%-d %b %Y") in page

    status, page = post_on_preferences(site, person, "forget", paper=OTHER.id)
    assert status == 200 and "Forgotten." in page and OTHER.title not in page
    assert examples_of(site, person) == [(PAPER.id, 1)]
    status, page = post_on_preferences(site, person, "reset")
    assert status == 200 and "forgot 1 paper" in page and "Nothing yet" in page
    assert examples_of(site, person) == [] and reload(site, person).topics

    forged = site.new_browser().post(
        site.path_of(links(site, person).preferences) + "/reset", data={"csrf_token": "x"}
    )
    assert forged.status_code == 403


def test_preferences_seed_from_a_pasted_list_and_an_uploaded_bibtex(site: Site) -> None:
    ingest(site.engine, [PAPER, OTHER], site.clock())
    person = subscribed(site)
    status, page = post_on_preferences(
        site,
        person,
        "seed",
        papers=f"{PAPER.id}\nSpeech recognition with tiny transformers\nA paper nobody stored",
    )
    assert status == 200 and "Liked 2 papers: “Graph neural" in page and ". Not found (1):" in page
    assert "<li>A paper nobody stored</li>" in page
    assert sorted(examples_of(site, person)) == [(PAPER.id, 1), (OTHER.id, 1)]

    bib = b"@article{x, title={Brand <new> work}, abstract={New things.}, eprint={2501.00042}}"
    status, page = post_on_preferences(
        site, person, "seed", files={"papers_file": ("library.bib", bib)}
    )
    assert status == 200 and "Liked 1 paper: “Brand &lt;new&gt; work” (1 from your" in page
    assert "Brand &lt;new&gt; work" in page  # the file's text is escaped
    (seed,) = [e.seed for e in reload(site, person).examples if e.seed is not None]
    assert (seed.title, seed.arxiv) == ("Brand <new> work", "2501.00042")
    assert site.client.get("/paper/2501.00042").status_code == 404  # in no public store

    status, page = post_on_preferences(site, person, "seed", papers="  ")
    assert status == 422 and "paste or upload papers" in page


def test_operator_pages_need_the_password(site: Site) -> None:
    subscribed(site)
    assert site.client.get("/operator").status_code == 401
    wrong = base64.b64encode(b"operator:nope").decode()
    assert (
        site.client.get("/operator", headers={"Authorization": f"Basic {wrong}"}).status_code == 401
    )
    right = base64.b64encode(b"operator:op-secret").decode()
    page = site.client.get("/operator", headers={"Authorization": f"Basic {right}"})
    assert page.status_code == 200 and '<td>active</td><td class="num">1</td>' in page.text


def test_operator_pages_are_off_without_a_password(
    settings: Settings, engine: Engine, now: datetime
) -> None:
    site = Site(settings, engine, Clock(now))
    right = base64.b64encode(b"operator:").decode()
    assert (
        site.client.get("/operator", headers={"Authorization": f"Basic {right}"}).status_code == 404
    )


def test_archive_lists_nothing_before_the_first_issue(site: Site) -> None:
    page = site.client.get("/archive")
    assert page.status_code == 200 and "No issue has been sent yet" in page.text
    assert site.client.get("/issue/1").status_code == 404


def test_operator_preview_and_subscriber_view(site: Site, now: datetime) -> None:
    ingest(site.engine, [PAPER, OTHER], now)
    person = subscribed(site, topics="graph neural networks")
    right = base64.b64encode(b"operator:op-secret").decode()
    assert site.client.get("/operator/preview").status_code == 401
    page = site.client.get(
        "/operator/preview?topic=speech+recognition", headers={"Authorization": f"Basic {right}"}
    )
    assert page.status_code == 200 and "Speech recognition" in page.text
    assert "script-src" not in page.headers["content-security-policy"]
    view = site.client.get(site.path_of(links(site, person).view_in_browser))
    assert view.status_code == 200 and "molecule generation" in view.text.lower()
