"""Feedback links survive mail scanners: a digest goes out through a real SMTP server, every link
in it is fetched with plain GETs as a scanner does (both "more" and "less" of each paper), and the
profile is unchanged; then a person's one click in headless Chromium records exactly one example,
and without script the page's button does the same."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from html import unescape

import httpx
import pytest

from papercore.db.engine import transaction
from subscribers import store
from subscribers.tokens import Signer
from tests.e2e.test_browser_life import (  # noqa: F401  (world is a fixture)
    ADDRESS,
    CHROMIUM,
    World,
    send_daily_issue,
    world,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def the_digest(live: World) -> EmailMessage:
    (received,) = [m for m in live.sink.received if ADDRESS in m.recipients]
    parsed = email.message_from_bytes(received.data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def links_in(message: EmailMessage) -> tuple[str, set[str]]:
    html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
    assert html_part is not None and text_part is not None
    html = str(html_part.get_content())  # type: ignore[attr-defined]
    text = str(text_part.get_content())  # type: ignore[attr-defined]
    found = {unescape(h) for h in re.findall(r'href="([^"]+)"', html)}
    found |= set(re.findall(r"https?://[^\s<>\"]+", text))
    found |= set(re.findall(r"<(https?://[^>]+)>", str(message["List-Unsubscribe"] or "")))
    return html, found


def feedback_claims(live: World, url: str) -> tuple[str, int]:
    signer = Signer(live.settings.web.secret_key.get_secret_value())
    claims = signer.read(url.rsplit("/", 1)[1], "feedback", now=datetime.now(UTC))
    return str(claims.extra["paper"]), int(claims.extra["d"])


def snapshot(live: World) -> tuple[object, ...]:
    with live.engine.connect() as connection:
        person = store.get_by_email(connection, ADDRESS)
        kinds = [e["kind"] for e in store.events(connection, person.id)]
    return person.status, person.interests, person.examples, kinds


def test_a_scanner_changes_nothing_and_a_click_records_one_example(
    world: World,  # noqa: F811  (the fixture from test_browser_life)
) -> None:
    from playwright.sync_api import sync_playwright

    with transaction(world.engine) as connection:
        store.add(
            connection,
            ADDRESS,
            datetime.now(UTC),
            topics=["diffusion models", "language models", "reinforcement learning"],
            status="active",
        )
    send_daily_issue(world, datetime.now(UTC))
    html, links = links_in(the_digest(world))
    ours = sorted(link for link in links if link.startswith(world.base_url))
    feedback = [link for link in ours if "/feedback/" in link]
    votes = {feedback_claims(world, link) for link in feedback}
    papers = {paper for paper, _ in votes}
    assert len(papers) >= 3 and votes == {(p, d) for p in papers for d in (1, -1)}
    assert any("/unsubscribe/" in link for link in ours)

    before = snapshot(world)
    with httpx.Client(follow_redirects=True, timeout=10) as scanner:
        for _ in range(2):
            for link in ours:
                response = scanner.get(link, headers={"User-Agent": "SafeLinks-Scanner/1.0"})
                assert response.status_code == 200, link
    assert snapshot(world) == before
    assert before[2] == ()  # no examples

    more = next(link for link in feedback if feedback_claims(world, link)[1] == 1)
    liked, _ = feedback_claims(world, more)
    less = next(
        link
        for link in feedback
        if feedback_claims(world, link) not in ((liked, 1), (liked, -1))
        and feedback_claims(world, link)[1] == -1
    )
    disliked, _ = feedback_claims(world, less)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page()
        page.set_content(html)  # the message as a mail client shows it
        page.click(f'a[href="{more}"]')
        page.wait_for_selector("text=more papers like this")
        with world.engine.connect() as connection:
            person = store.get_by_email(connection, ADDRESS)
        assert [(e.paper_id, e.vote) for e in person.examples] == [(liked, 1)]

        no_script = browser.new_context(java_script_enabled=False).new_page()
        no_script.goto(less)
        assert no_script.locator("text=Less like this:").count() == 1
        with world.engine.connect() as connection:
            assert len(store.get_by_email(connection, ADDRESS).examples) == 1
        no_script.click("button[type=submit]")
        no_script.wait_for_selector("text=fewer papers like this")
        browser.close()
    with world.engine.connect() as connection:
        person = store.get_by_email(connection, ADDRESS)
    assert sorted((e.paper_id, e.vote) for e in person.examples) == sorted(
        [(liked, 1), (disliked, -1)]
    )
    assert person.interests == before[1]  # typed topics untouched
