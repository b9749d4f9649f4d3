"""One character never stops a digest (issue 22, item 2): a title with U+FFFF / U+FFFE ingested
with the real `digest ingest`, or stored before text hygiene existed, is sent to everyone by
the real `digest send`, and `/archive`, `/issue/<n>`, the Atom feed and the JSON view answer;
a card that cannot be rendered is dropped with a warning and the rest of the issue is sent."""

from __future__ import annotations

import email
import email.policy
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from digest.compose.environment import builtin_templates_dir
from digest.issues import Issue, latest_issue
from digest.sending import ledger
from digest.sending.sink import Received, SinkHandler, SmtpServer
from papercore.config import Settings, load_settings
from papercore.db.engine import transaction
from papercore.db.schema import papers
from papercore.papers import paper_id_for, title_hash
from subscribers import store
from subscribers.links import SubscriberLinks, feed_link
from subscribers.tokens import Signer
from tests.conftest import SAMPLE_PAGES, Cli
from tests.web_site import Clock, Site

pytestmark = pytest.mark.slow

SECRET = "test-secret-key-0123456789abcdef0123456789"
BAD_TITLE = "Noncharacters\uffff break simple\ufffe architectures"
SHOWN_TITLE = "Noncharacters break simple architectures"
READERS = {
    "ada@example.org": ["simple architectures", "noncharacters"],
    "grace@example.org": ["diffusion models"],
    "trend@example.org": [],  # the trending digest
}
# settings a real send accepts (no example domains, https links); the mail stays local
SEND_ENV = {
    "DIGEST_APP__BASE_URL": "https://digest.lab.internal",
    "DIGEST_SENDER__FROM_ADDRESS": "digest@lab.internal",
    "DIGEST_SENDER__UNSUBSCRIBE_MAILTO": "unsubscribe@lab.internal",
}


def _page(folder: Path, title: str, abstract: str) -> Path:
    """A listing page (the sample pages' format) with one paper, listed on the newest sample
    page's day (Jun 6): the trending digest keeps only papers listed near the newest listing."""
    path = folder / f"page_{title_hash(title)[:8]}.txt"
    page = f"Daily Papers\n\nJun 6\n\n{title}\n\n{abstract}\n\n• 3 authors\n"
    path.write_text(page, encoding="utf-8")
    return path


def _readers(engine: Engine, now: datetime) -> dict[str, int]:
    with transaction(engine) as connection:
        return {
            address: store.add(connection, address, now, topics=topics, status="active")
            for address, topics in READERS.items()
        }


def _send(cli: Cli, env: dict[str, str] | None = None) -> tuple[SinkHandler, str]:
    """`digest send` for today through a local SMTP sink; (what it received, stderr)."""
    relay = SinkHandler()
    with SmtpServer(relay) as server:
        today = datetime.now(UTC).date().isoformat()
        extra = SEND_ENV | {"DIGEST_SMTP__PORT": str(server.port)} | (env or {})
        result = cli("send", "--date", today, env=extra, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return relay, result.stderr


def _body(message: Received) -> str:
    parsed = email.message_from_bytes(message.data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    parts = [p.get_content() for p in parsed.walk() if p.get_content_maintype() == "text"]
    return "\n".join(parts)


def _sent_to_everyone(engine: Engine, relay: SinkHandler) -> Issue:
    """Everyone got one message and the issue is done (nothing paused, nothing pending)."""
    assert sorted(r for m in relay.received for r in m.recipients) == sorted(READERS)
    with engine.connect() as connection:
        issue = latest_issue(connection)
        assert issue is not None
        rows = ledger.list_deliveries(connection, issue.id)
    assert issue.status == "done", issue
    assert {r.email: r.status for r in rows} == dict.fromkeys(READERS, "sent")
    return issue


def _site(settings: Settings, engine: Engine) -> Site:
    return Site(settings, engine, Clock(datetime.now(UTC)))


def _pages_answer(site: Site, issue: Issue, subscriber_id: int, shown: str) -> None:
    """The archive, the issue page, the reader's Atom feed and JSON view answer and parse."""
    archive = site.client.get("/archive")
    assert archive.status_code == 200, archive.text
    page = site.client.get(f"/issue/{issue.id}")
    assert page.status_code == 200, page.text
    assert "\uffff" not in page.text and "\ufffe" not in page.text
    now = site.clock()
    signer = Signer.from_settings(site.settings.web)
    with site.engine.connect() as connection:
        person = store.get(connection, subscriber_id)
    feed = site.client.get(
        site.path_of(
            feed_link(site.settings.app.base_url, signer, person.id, person.feed_version, now)
        )
    )
    assert feed.status_code == 200, feed.text
    root = ET.fromstring(feed.content)  # well-formed XML
    assert shown in ET.tostring(root, encoding="unicode")
    links = SubscriberLinks(
        site.settings.app.base_url, signer, person.id, person.token_version, issue.id, now
    )
    view = site.client.get(site.path_of(links.view_in_browser) + ".json")
    assert view.status_code == 200, view.text
    titles = [p["title"] for p in json.loads(view.content)["papers"]]
    assert shown in titles


def test_a_noncharacter_title_from_a_source_is_sent_to_everyone_and_every_page_answers(
    cli: Cli, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    abstract = "We show that simple architectures beat deep ones on noncharacters."
    cli("ingest", *map(str, SAMPLE_PAGES), str(_page(tmp_path, BAD_TITLE, abstract)))
    ids = _readers(engine, datetime.now(UTC))
    relay, _ = _send(cli)
    issue = _sent_to_everyone(engine, relay)
    ada = next(m for m in relay.received if "ada@example.org" in m.recipients)
    assert SHOWN_TITLE in _body(ada) or SHOWN_TITLE in ada.subject
    listed = json.loads(cli("papers", "list", "--json").stdout)
    assert SHOWN_TITLE in [p["title"] for p in listed]
    _pages_answer(_site(settings, engine), issue, ids["ada@example.org"], SHOWN_TITLE)


def test_a_paper_stored_before_text_hygiene_stops_nothing(
    cli: Cli, engine: Engine, settings: Settings
) -> None:
    """A row written by an older version, straight into the table, still carrying U+FFFF."""
    cli("ingest", *map(str, SAMPLE_PAGES))
    now = datetime.now(UTC)
    with transaction(engine) as connection:
        connection.execute(
            insert(papers).values(
                id=paper_id_for(BAD_TITLE, None),
                title_key=title_hash(BAD_TITLE),
                title=BAD_TITLE,
                abstract="Simple architectures\ufffe win, in noncharacters\uffff too.",
                ai_summary="\ufdd0",
                authors=["Ada\uffff Lovelace"],
                sources=["page"],
                first_seen=now,
            )
        )
    ids = _readers(engine, now)
    relay, _ = _send(cli)
    issue = _sent_to_everyone(engine, relay)
    ada = next(m for m in relay.received if "ada@example.org" in m.recipients)
    assert SHOWN_TITLE in _body(ada) or SHOWN_TITLE in ada.subject
    listed = json.loads(cli("papers", "list", "--json").stdout)
    assert SHOWN_TITLE in [p["title"] for p in listed]
    _pages_answer(_site(settings, engine), issue, ids["ada@example.org"], SHOWN_TITLE)


def _breaking_templates(folder: Path) -> Path:
    """An operator's templates folder whose card is invalid MJML for one paper's title."""
    card = (builtin_templates_dir() / "email" / "partials" / "card.mjml.j2").read_text()
    partials = folder / "email" / "partials"
    partials.mkdir(parents=True)
    broken = '{% if "Unrenderable" in card.title %}</mj-column>{% endif %}\n'
    (partials / "card.mjml.j2").write_text(broken + card, encoding="utf-8")
    return folder


def test_a_card_that_cannot_be_rendered_is_dropped_with_a_warning_and_the_rest_is_sent(
    cli: Cli, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    title = "Unrenderable simple architectures for diffusion models"
    page = _page(tmp_path, title, "Simple architectures and diffusion models, together.")
    cli("ingest", *map(str, SAMPLE_PAGES), str(page))
    ids = _readers(engine, datetime.now(UTC))
    templates = _breaking_templates(tmp_path / "templates")
    relay, stderr = _send(cli, {"DIGEST_TEMPLATES__DIR": str(templates)})
    issue = _sent_to_everyone(engine, relay)
    assert "card dropped" in stderr and paper_id_for(title, None) in stderr
    assert all("Unrenderable" not in _body(m) for m in relay.received)
    assert all(len(_body(m)) > 500 for m in relay.received)  # the other papers are there
    with engine.connect() as connection:
        shown = {
            pid
            for sid in ids.values()
            for pid in ledger.papers_delivered(connection, issue.id, sid)
        }
    assert shown and paper_id_for(title, None) not in shown  # what they got is what is recorded
    settings = load_settings(
        None,
        database={"url": database_url},
        app={"data_dir": tmp_path / "data", "base_url": "https://digest.example.org"},
        web={"secret_key": SECRET},
        templates={"dir": templates},
    )
    site = _site(settings, engine)
    assert site.client.get("/archive").status_code == 200
    page_of_issue = site.client.get(f"/issue/{issue.id}")
    assert page_of_issue.status_code == 200 and "Unrenderable" not in page_of_issue.text


def test_cli_subscribe_and_import_store_clean_text(cli: Cli, tmp_path: Path) -> None:
    """`digest subscribe` (an argument that is not UTF-8 arrives as a lone surrogate) and
    `digest subscribers import` keep no noncharacter, lone surrogate or invisible character."""
    cli(
        "subscribe",
        "ada@example.org",
        "--topic",
        "graph\uffff neural networks",
        "--author",
        "Grace\u202e Hopper",
        "--name",
        "Ada \udcffLovelace",  # the byte 0xff on the command line
        "--confirmed",
    )
    table = tmp_path / "people.csv"
    table.write_text(
        "email,topics,name\ngrace@example.org,diff\ufffeusion models;\ufdd0robots,Grace\uffff\n",
        encoding="utf-8",
    )
    cli("subscribers", "import", str(table), "--consent", "Signed\uffff up at the booth")
    ada = json.loads(cli("subscribers", "export", "ada@example.org").stdout)
    grace = json.loads(cli("subscribers", "export", "grace@example.org").stdout)
    assert ada["name"] == "Ada Lovelace" and grace["name"] == "Grace"
    exported = json.dumps([ada, grace], ensure_ascii=False)
    assert "graph neural networks" in exported and "Grace Hopper" in exported
    assert "diffusion models" in exported and "robots" in exported
    assert "Signed up at the booth" in exported
    assert not any(ch in exported for ch in "\uffff\ufffe\ufdd0\u202e\udcff")
