"""Your digest anywhere, through the real `digest` command and a real uvicorn server: a "feed
only" subscriber gets no mail from `digest run --once` but their Atom feed lists the issue's
picks; a mailed subscriber's feed and JSON view show the same papers, order and why lines as
their mail; conditional GETs answer 304; a new feed URL revokes the old one; the feed stops on
unsubscribe and forget and never opens for a token made for anything else."""

from __future__ import annotations

import email
import email.policy
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html import unescape
from pathlib import Path

import feedparser
import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, select

from digest.sending.notice_mail import NoticeMailer
from digest.sending.sink import SinkHandler, SmtpServer
from digest.sending.transports.smtp import SmtpTransport
from digest.web.app import create_app
from papercore.config import load_settings
from papercore.db.schema import deliveries, subscribers
from subscribers.links import SubscriberLinks
from subscribers.tokens import Signer
from tests.conftest import SAMPLE_PAGES, Cli

pytestmark = pytest.mark.slow
SECRET = "test-secret-key-0123456789abcdef0123456789"


@dataclass
class Served:
    cli: Cli
    engine: Engine
    base_url: str
    sink: SinkHandler
    env: dict[str, str]

    def export(self, address: str) -> dict[str, object]:
        result = self.cli("subscribers", "export", address, env=self.env)
        data: dict[str, object] = json.loads(result.stdout)
        return data


@pytest.fixture
def served(cli: Cli, engine: Engine, database_url: str, tmp_path: Path) -> Iterator[Served]:
    sink = SinkHandler()
    smtp = SmtpServer(sink).start()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    settings = load_settings(
        None,
        database={"url": database_url},
        app={"data_dir": tmp_path / "data", "base_url": base_url},
        smtp={"host": "127.0.0.1", "port": smtp.port},
        web={"secret_key": SECRET},
        ranking={"semantic": "off"},
    )
    app = create_app(settings, engine, NoticeMailer(settings, SmtpTransport(settings.smtp)))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    env = {
        "DIGEST_APP__BASE_URL": base_url,
        "DIGEST_SMTP__PORT": str(smtp.port),
        "DIGEST_SOURCES__PAGES": json.dumps([str(p) for p in SAMPLE_PAGES]),
    }
    try:
        yield Served(cli, engine, base_url, sink, env)
    finally:
        server.should_exit = True
        thread.join(10)
        smtp.stop()


def run_once(live: Served) -> None:
    topics = ("--topic", "language models", "--topic", "neural networks")
    live.cli("subscribe", "mailed@example.org", "--confirmed", *topics, env=live.env)
    live.cli("subscribe", "feeder@example.org", "--confirmed", "--frequency", "feed", *topics)
    with live.engine.begin() as connection:  # joined two days ago: due now, whatever the hour
        connection.execute(
            subscribers.update().values(confirmed_at=datetime.now(UTC) - timedelta(days=2))
        )
    live.cli("run", "--dev", "--once", env=live.env, timeout=300)


def ledger(live: Served, address: str) -> tuple[str, list[str], list[list[str]]]:
    with live.engine.connect() as connection:
        row = connection.execute(
            select(deliveries.c.status, deliveries.c.paper_ids, deliveries.c.why)
            .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
            .where(subscribers.c.email == address)
        ).one()
    layout = row.why or {}  # the plan's layout: its mode, topics, why lines and headings
    return row.status, list(row.paper_ids), [list(w) for w in layout.get("why", [])]


def mail_html(live: Served, address: str) -> str:
    (received,) = [m for m in live.sink.received if address in m.recipients]
    parsed = email.message_from_bytes(received.data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    part = parsed.get_body(("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def test_feed_only_gets_no_mail_and_feeds_show_what_mail_shows(served: Served) -> None:
    live = served
    run_once(live)
    assert [list(m.recipients) for m in live.sink.received] == [["mailed@example.org"]]

    status, filed, why = ledger(live, "feeder@example.org")
    assert status == "filed" and filed and len(why) == len(filed) and all(why)

    feeder = live.export("feeder@example.org")
    feed_url = str(feeder["feed_url"])
    assert feed_url.startswith(f"{live.base_url}/feed/") and feed_url.endswith(".atom")
    with httpx.Client(timeout=30) as http:
        answer = http.get(feed_url)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/atom+xml")
        parsed = feedparser.parse(answer.content)
        assert not parsed.bozo, parsed.bozo_exception
        assert parsed.version == "atom10"
        (entry,) = parsed.entries
        body = entry.content[0].value
        positions = [body.find("/feedback/") for _ in filed]
        assert all(p >= 0 for p in positions)
        assert body.count("More like this") == len(filed) == body.count("Less like this")

        # Conditional GET: the same ETag or the Last-Modified date answer 304 with no body.
        etag, modified = answer.headers["etag"], answer.headers["last-modified"]
        same = http.get(feed_url, headers={"If-None-Match": etag})
        assert same.status_code == 304 and same.content == b""
        assert http.get(feed_url, headers={"If-Modified-Since": modified}).status_code == 304
        old = "Mon, 01 Jan 2001 00:00:00 GMT"
        assert http.get(feed_url, headers={"If-Modified-Since": old}).status_code == 200
        assert http.get(feed_url, headers={"If-None-Match": '"other"'}).status_code == 200

        # The feedback links are landing pages: opening one records nothing.
        more = re.findall(r'href="([^"]*/feedback/[^"]+)"', unescape(body))[0]
        assert http.get(unescape(more)).status_code == 200
        assert feeder["examples"] == live.export("feeder@example.org")["examples"] == []

        # The mailed subscriber's feed shows the mail's papers, in order, with its why lines.
        status, sent, why = ledger(live, "mailed@example.org")
        assert status == "sent" and sent and len(why) == len(sent)
        html = unescape(mail_html(live, "mailed@example.org"))
        mailed_feed = feedparser.parse(
            http.get(str(live.export("mailed@example.org")["feed_url"])).content
        )
        (entry,) = mailed_feed.entries
        content = unescape(entry.content[0].value)
        for lines in why:
            line = " · ".join(lines)
            assert line in html and line in content

        # The JSON view of the mailed issue: the same papers, order and reasons.
        view = re.findall(r'href="([^"]*/view/[^"]+)"', html)[0]
        issue = http.get(f"{view}.json")
        assert issue.status_code == 200 and issue.headers["content-type"] == "application/json"
        data = issue.json()
        assert set(data) == {"issue", "papers"}
        assert set(data["issue"]) == {"id", "date", "frequency", "url"}
        assert [p["id"] for p in data["papers"]] == sent
        assert [p["why"] for p in data["papers"]] == why
        for paper in data["papers"]:
            assert set(paper) == {"id", "title", "authors", "links", "summary", "why", "heading"}
            assert isinstance(paper["title"], str) and paper["title"]
            assert all(isinstance(a, str) for a in paper["authors"])
            assert {"paper", "more_like_this", "less_like_this"} <= set(paper["links"])
            assert isinstance(paper["summary"], str)
        assert http.get(f"{view}x.json").status_code == 404


def test_new_feed_url_revokes_the_old_and_the_feed_ends_with_the_subscription(
    served: Served,
) -> None:
    live = served
    run_once(live)
    exported = live.export("feeder@example.org")
    old_url = str(exported["feed_url"])
    subscriber_id = int(str(exported["id"]))
    signer = Signer(SECRET)
    now = datetime.now(UTC)
    links = SubscriberLinks(live.base_url, signer, subscriber_id, 1, None, now)
    with httpx.Client(timeout=30, follow_redirects=True) as http:
        assert http.get(old_url).status_code == 200
        # Tokens for anything else never open a feed.
        view_token = links.view_in_browser.rsplit("/", 1)[1]
        assert http.get(f"{live.base_url}/feed/{view_token}.atom").status_code == 404
        other = signer.make("feed", subscriber_id + 100, now=now, extra={"f": 1})
        assert http.get(f"{live.base_url}/feed/{other}.atom").status_code == 404

        page = http.get(links.preferences)
        assert page.status_code == 200 and old_url in page.text
        assert "Copy feed URL" in page.text and 'value="feed" checked' in page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        renewed = http.post(
            f"{links.preferences}/feed",
            data={"csrf_token": csrf.group(1)},
        )
        assert renewed.status_code == 200 and "new address" in renewed.text
        new_url = str(live.export("feeder@example.org")["feed_url"])
        assert new_url != old_url and new_url in renewed.text
        assert http.get(old_url).status_code == 404
        assert http.get(new_url).status_code == 200

        live.cli("subscribers", "remove", "feeder@example.org")
        assert http.get(new_url).status_code == 404
        live.cli("subscribers", "forget", "feeder@example.org", "--yes")
        assert http.get(new_url).status_code == 404
