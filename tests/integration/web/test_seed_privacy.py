"""Seeds are a subscriber's private examples, never public papers (issue 22, items 3 and 9),
through the web app in process (both databases): the anonymous signup form's "papers you like",
the preferences page's seed list, a source's later sighting of the real paper, forget."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from digest.ingest import ingest_locations
from digest.paper_store import SEEDED_FIRST_SEEN, get_papers, upsert
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.papers import Paper
from subscribers import store
from subscribers.links import SubscriberLinks
from subscribers.model import Subscriber
from tests.conftest import SAMPLE_PAGES, Cli
from tests.web_site import Clock, Site, hidden_fields

UNUSED_ID = "2599.00042"  # no source has a paper with this id
SEED_TITLE = "Spiking neurons as event driven language models"
SEED_BIBTEX = (
    f"@article{{madeup, title={{{SEED_TITLE}}}, author={{Nobody Real}}, eprint={{{UNUSED_ID}}},"
    " archivePrefix={arXiv}, abstract={Spiking neural networks (SNNs) are energy efficient."
    " We train a spiking neural network language model with binary, event-driven spiking"
    " activation units and spiking neurons, and show that spiking neural networks generate"
    " text with far less energy than a transformer.}}"
)
REAL_TITLE = "Memory for dynamic graph neural networks at scale"
REAL_ABSTRACT = "What the source says about it: dynamic graph neural networks with memory."


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    ranking = settings.ranking.model_copy(update={"semantic": "off"})  # lexical: fast
    return Site(settings.model_copy(update={"ranking": ranking}), engine, Clock(now))


def pool(site: Site) -> None:
    """The sample papers, first seen now (an issue's pool)."""
    sources = site.settings.sources
    ingest_locations(site.engine, [str(p) for p in SAMPLE_PAGES], "page", sources, site.clock())


def person_at(site: Site, email: str) -> Subscriber:
    with site.engine.connect() as connection:
        found = store.find(connection, email)
    assert found is not None
    return found


def count(site: Site, table: str) -> int:
    with site.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def links(site: Site, person: Subscriber) -> SubscriberLinks:
    signer = site.client.app.state.web.signer
    return SubscriberLinks(
        site.settings.app.base_url, signer, person.id, person.token_version, None, site.clock()
    )


def preview(site: Site, person: Subscriber) -> str:
    """The subscriber's next digest as /view/<t> shows it (what a send would deliver)."""
    page = site.client.get(site.path_of(links(site, person).view_in_browser))
    assert page.status_code == 200
    return page.text


def test_an_anonymous_bibtex_seed_creates_no_paper_and_teaches_only_its_subscriber(
    site: Site, tmp_path: Path
) -> None:
    pool(site)
    papers_before = count(site, "papers")
    status, page = site.signup("ada@example.org", topics="hypergraphs", papers=SEED_BIBTEX)
    assert status == 200
    assert "Confirming will like 1 paper: “" in page
    assert "” (1 from your list, kept for you only)." in page
    assert site.client.get(f"/paper/{UNUSED_ID}").status_code == 404
    assert count(site, "papers") == papers_before
    assert person_at(site, "ada@example.org").examples == ()  # nothing before her click

    site.confirm(site.mailer.last("confirm").links["confirm"])
    (seed,) = person_at(site, "ada@example.org").examples  # with her only
    assert seed.seed is not None and seed.seed.title == SEED_TITLE
    site.signup("bob@example.org", topics="hypergraphs")
    site.confirm(site.mailer.last("confirm", "bob@example.org").links["confirm"])
    ada = preview(site, person_at(site, "ada@example.org"))
    bob = preview(site, person_at(site, "bob@example.org"))
    assert f"like: {SEED_TITLE}" in ada  # the private seed lifts the spiking papers for her
    assert "Spiking" in ada and SEED_TITLE not in bob

    site.clock.advance(3600)  # then a source brings the real paper behind the made-up id
    later = site.clock()
    ingest_locations(site.engine, [str(hf_listing(tmp_path))], "hf", site.settings.sources, later)
    page = site.client.get(f"/paper/{UNUSED_ID}").text
    assert REAL_TITLE in page and SEED_TITLE not in page and "Nobody Real" not in page
    with site.engine.connect() as connection:
        assert get_papers(connection, [UNUSED_ID])[UNUSED_ID].first_seen == later  # new


def hf_listing(tmp_path: Path) -> Path:
    """A Hugging Face daily-papers listing with the real paper behind the made-up id."""
    entry = {
        "paper": {
            "id": UNUSED_ID,
            "authors": [{"name": "Real Author"}],
            "publishedAt": "2024-06-05T10:00:00.000Z",
            "title": REAL_TITLE,
            "summary": REAL_ABSTRACT,
            "upvotes": 5,
        },
        "publishedAt": "2024-06-06T00:00:00.000Z",
        "title": REAL_TITLE,
        "numComments": 0,
    }
    path = tmp_path / "daily.json"
    path.write_text(json.dumps([entry]), encoding="utf-8")
    return path


def test_a_source_wins_over_a_paper_a_seed_list_typed_before_the_fix(
    site: Site, tmp_path: Path
) -> None:
    """A database from before the fix holds a seed-made paper (made-up text, first seen 1970).
    The source's sighting replaces its text and first-seen time, and it is sent as new."""
    pool(site)
    typed = Paper(
        UNUSED_ID,
        "A made-up title",
        "A made-up abstract that is much longer than the real one. " * 10,
        authors=("Nobody Real",),
        sources=("seed",),
    )
    with transaction(site.engine) as connection:
        upsert(connection, [typed], SEEDED_FIRST_SEEN)
    site.signup("ada@example.org", topics="dynamic graph neural networks")
    site.confirm(site.mailer.last("confirm").links["confirm"])
    site.clock.advance(3600)
    later = site.clock()
    ingest_locations(site.engine, [str(hf_listing(tmp_path))], "hf", site.settings.sources, later)

    page = site.client.get(f"/paper/{UNUSED_ID}")
    assert page.status_code == 200 and REAL_TITLE in page.text
    assert "A made-up" not in page.text and "Nobody Real" not in page.text
    assert REAL_ABSTRACT in page.text
    with site.engine.connect() as connection:
        stored = get_papers(connection, [UNUSED_ID])[UNUSED_ID]
    assert stored.first_seen == later and stored.sources == ("hf",)
    assert REAL_TITLE in preview(site, person_at(site, "ada@example.org"))  # new: sent


def test_the_answer_is_the_same_whoever_the_address_is(site: Site) -> None:
    """Unknown, pending and active addresses: the same status, page and visible effects."""
    site.signup("pending@example.org")
    site.signup("active@example.org")
    site.confirm(site.mailer.last("confirm", "active@example.org").links["confirm"])
    site.clock.advance(3600)
    answers = {}
    for email in ("newcomer@example.org", "pending@example.org", "active@example.org"):
        status, page = site.signup(email, papers=SEED_BIBTEX)
        paper = site.client.get(f"/paper/{UNUSED_ID}").status_code
        answers[email] = (status, page.replace(email, "ADDRESS"), paper)
    assert len(set(answers.values())) == 1, answers
    assert next(iter(answers.values()))[2] == 404
    assert person_at(site, "pending@example.org").examples == ()  # until its link is clicked
    assert person_at(site, "active@example.org").examples == ()  # a stranger changed nothing
    site.confirm(site.mailer.last("confirm", "pending@example.org").links["confirm"])
    assert [e.seed is not None for e in person_at(site, "pending@example.org").examples] == [True]


def test_forget_and_forget_this_remove_private_seeds(site: Site, cli: Cli) -> None:
    site.signup("ada@example.org", papers=SEED_BIBTEX)
    site.confirm(site.mailer.last("confirm").links["confirm"])
    exported = json.loads(cli("subscribers", "export", "ada@example.org").stdout)
    (example,) = exported["examples"]
    assert example["seed"]["title"] == SEED_TITLE and example["seed"]["arxiv"] == UNUSED_ID

    person = person_at(site, "ada@example.org")
    path = site.path_of(links(site, person).preferences)
    page = site.client.get(path).text
    assert SEED_TITLE in page  # listed under what the digest learned
    site.client.post(
        f"{path}/forget",
        data={"csrf_token": hidden_fields(page)["csrf_token"], "paper": example["paper"]},
    )
    assert person_at(site, "ada@example.org").examples == ()

    site.client.post(
        f"{path}/seed",
        data={"csrf_token": hidden_fields(site.client.get(path).text)["csrf_token"]}
        | {"papers": SEED_BIBTEX},
    )
    assert count(site, "private_examples") == 1
    cli("subscribers", "forget", "ada@example.org", "--yes")
    assert count(site, "private_examples") == 0 and count(site, "papers") == 0


def test_twenty_seed_lists_cannot_grow_the_database_past_the_cap(site: Site) -> None:
    site.signup("ada@example.org")
    site.confirm(site.mailer.last("confirm").links["confirm"])
    person = person_at(site, "ada@example.org")
    path = site.path_of(links(site, person).preferences)
    cap, per_list = 200, 50  # the defaults of ranking.examples_max and ranking.seed_list_max
    for n in range(20):
        bibtex = "\n".join(
            f"@article{{k{n}x{k}, title={{Made-up paper {n}.{k}}}, abstract={{Text {k}.}}}}"
            for k in range(per_list + 10)
        )
        token = hidden_fields(site.client.get(path).text)["csrf_token"]
        site.clock.advance(1)
        answer = site.client.post(f"{path}/seed", data={"csrf_token": token, "papers": bibtex})
        assert answer.status_code == 200
    assert count(site, "papers") == 0
    assert f"Only the first {per_list} papers of a list are read: 10 more" in answer.text
    assert count(site, "private_examples") == cap
    kept = [e.seed.title for e in person_at(site, "ada@example.org").examples if e.seed]
    assert kept[-1] == f"Made-up paper 19.{per_list - 1}"  # the newest stay
    assert "Made-up paper 0.0" not in kept  # the oldest were pruned
