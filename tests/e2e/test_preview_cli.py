"""``digest preview`` through the real entry point, and the --serve page in a browser."""

from __future__ import annotations

import json
import re
import subprocess
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from digest.compose.cards import https
from digest.sending.sink import SinkHandler, SmtpServer
from tests.conftest import DIGEST, SAMPLE_PAGES, Cli
from tests.integration.personal.test_preview import listing

pytestmark = pytest.mark.slow
LEXICAL = {"DIGEST_RANKING__SEMANTIC": "off"}  # loading the embedding model is not under test


def test_preview_writes_the_next_digest_without_touching_the_database(
    cli: Cli, tmp_path: Path
) -> None:
    cli.env |= LEXICAL
    cli("ingest", *map(str, SAMPLE_PAGES))
    cli("subscribers", "add", "reader@example.com", "--topic", "graph neural networks", check=False)
    target = tmp_path / "preview.html"
    result = cli("preview", "--topic", "graph neural networks", "--output", str(target))
    assert "issue 1 for preview@example.org" in result.stdout
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "/unsubscribe/" in html
    parsed = BytesParser(policy=policy.default).parsebytes(target.with_suffix(".eml").read_bytes())
    assert parsed["Subject"] and parsed.get_content_type() == "multipart/alternative"
    again = cli("preview", "--topic", "graph neural networks", "--output", str(target))
    assert "issue 1 " in again.stdout  # nothing was written: still the next issue


def test_preview_of_a_subscriber_is_what_digest_send_then_delivers(
    cli: Cli, tmp_path: Path
) -> None:
    cli.env |= LEXICAL
    cli("ingest", *map(str, SAMPLE_PAGES))
    people = {
        "ada@example.org": ["graph neural networks", "molecule generation"],
        "bob@example.org": ["speech recognition"],
        "cy@example.org": [],  # the trending digest
    }
    for email, topics in people.items():
        cli("subscribe", email, *(a for t in topics for a in ("--topic", t)), "--confirmed")
    previews = {}
    for email in people:
        target = tmp_path / f"{email}.html"
        shown = cli("preview", "--subscriber", email, "--output", str(target))
        assert f"issue 1 for {email}" in shown.stdout
        previews[email] = listing(target.with_suffix(".eml").read_bytes())
        ranked = json.loads(cli("rank", "--subscriber", email, "--json").stdout)
        links = [line for line in previews[email] if line.startswith("Read: ")]
        expected = [f"Read: {https(p['link'])}" for p in ranked]
        if people[email]:  # the same picks, the top pick leading (the rest grouped by topic)
            assert sorted(expected) == sorted(links) and expected[0] == links[0]
        else:  # the trending digest: recent ones, the top one leading, the rest by theme
            assert links and set(links) <= set(expected) and links[0] == expected[0]
    handler = SinkHandler()
    with SmtpServer(handler) as server:
        cli("send", "--dev", env={"DIGEST_SMTP__PORT": str(server.port)})
    delivered = {m.recipients[0]: listing(m.data) for m in handler.received}
    assert delivered == previews and all(previews.values())


def test_preview_serve_page_shows_html_text_headers_and_mobile(cli: Cli) -> None:
    cli.env |= LEXICAL
    cli("ingest", *map(str, SAMPLE_PAGES))
    process = subprocess.Popen(
        [DIGEST, "preview", "--serve", "--port", "0"],
        cwd=cli.workdir,
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, line
        chromium = Path("/usr/bin/chromium")
        if not chromium.exists():
            pytest.skip("needs /usr/bin/chromium")
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(chromium),
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                ],
            )
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(url.group(0), timeout=120_000)
            assert "Subject:" in page.inner_text("#headers")
            assert "List-Unsubscribe" in page.inner_text("#headers")
            assert "KB" in page.inner_text("#size")
            assert page.inner_text("#text").strip()
            assert page.eval_on_selector("iframe.mobile", "e => e.clientWidth") <= 375
            page.wait_for_timeout(500)  # the four frames finish loading
            backgrounds = page.eval_on_selector_all(
                "iframe",
                "els => els.map(e => [e.className, e.contentWindow.getComputedStyle("
                "e.contentDocument.body).backgroundColor])",
            )
            light = {bg for cls, bg in backgrounds if "light" in cls}
            dark = {bg for cls, bg in backgrounds if "dark" in cls}
            assert len(backgrounds) == 4 and len(light) == 1 and len(dark) == 1  # both widths
            assert light != dark, backgrounds
            page.goto(url.group(0) + "?template=confirm")
            assert "Confirm" in page.inner_text("#text")
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=20)
